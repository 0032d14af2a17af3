/*
 * The worker's side of /connz?subs=1: answers the monitor's requests for
 * the subscriptions of its connections (see the mailbox in stats.h).
 */
#ifndef NATSD_SUBSDUMP_H
#define NATSD_SUBSDUMP_H

/*
 * Once per loop turn.  Costs two loads when nothing was asked; when the
 * monitor asked, writes the subscriptions of the connections it named
 * (as many as fit) into the mailbox and publishes the answer.
 */
void	subsdump_serve(void);

#endif
