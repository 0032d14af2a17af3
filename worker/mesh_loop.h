/*
 * What every process on the mesh (the workers and the router) does in
 * its event loop besides its own sockets: signals, and waiting without
 * missing a peer's records.
 */
#ifndef NATSD_MESH_LOOP_H
#define NATSD_MESH_LOOP_H

#include <sys/epoll.h>

#include <stdbool.h>

/* TERM and INT stop, USR1 reopens the log, HUP reloads; PIPE ignored. */
void	mesh_loop_signals(void);
/*
 * After a wait: reopen the log on USR1, call reload on HUP.  True when
 * the process was told to stop.
 */
bool	mesh_loop_poll(void (*reload)(void));
/*
 * epoll_wait on wk.epfd for up to timeout ms, having told the peers we
 * sleep (and not sleeping if a ring already holds records); refreshes
 * wk.now.  Returns the events, 0 on timeout or a signal.
 */
int	mesh_loop_wait(struct epoll_event *, int max, int timeout);

#endif
