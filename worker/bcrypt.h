/*
 * bcrypt checks off the worker's event loop.  A bcrypt check takes tens of
 * milliseconds; run inline, a burst of wrong passwords would stall every
 * client of the worker.  So each worker forks, on first need, a helper
 * process ("natsd: worker N bcrypt") that holds no client socket and
 * does nothing but passwd_check(); requests and answers travel over a
 * socketpair the worker polls like any other fd.  A helper that dies is
 * forked again and the checks it held are retried.
 */
#ifndef NATSD_BCRYPT_H
#define NATSD_BCRYPT_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*bcrypt_done_fn)(void *arg, bool ok);

/*
 * Queue a check of password against hash; done(arg, ok) is called later
 * from bcrypt_ready() unless the ticket is cancelled first.  Returns a
 * ticket (never 0), or 0 if the helper cannot be started (the caller
 * then refuses the client).
 */
uint64_t	bcrypt_submit(const char *hash, const char *password,
		    bcrypt_done_fn done, void *arg);
/* The client went away: never call its done. */
void		bcrypt_cancel(uint64_t ticket);
/* The fd to poll for answers, or -1 while no helper runs. */
int		bcrypt_fd(void);
/* The fd is readable (or broken): deliver the answers that are in. */
void		bcrypt_ready(void);
/* Checks queued and not yet answered (for tests and the stop path). */
unsigned	bcrypt_pending(void);
/* Stop the helper (worker exit). */
void		bcrypt_shutdown(void);

#endif
