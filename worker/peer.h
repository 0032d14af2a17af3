/*
 * The worker's side of the mesh: its view of every other peer (alive,
 * synced, the interest it declared), the rings to and from it, and the
 * per-ring backlog used when a ring is full.
 */
#ifndef NATSD_PEER_H
#define NATSD_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include <stdint.h>

struct client;
struct sub;

/*
 * What a peer's records mean to this process.  A worker delivers a
 * peer's messages to its clients; the router passes them on to routes
 * and sums the workers' interest for the routes.
 */
struct peer_hooks {
	void	(*msg)(const struct rec *);
	/* A peer's interest changed weight (0: none); NULL: not needed. */
	void	(*interest)(const struct sub *, uint32_t old_weight,
		    uint32_t new_weight);
};
extern struct peer_hooks peer_hooks;

void	peer_init(void);
/* After peer_init: announce this incarnation on every ring. */
void	peer_hello_all(void);
/* Local interest changed: count (subject, queue) up or down, tell peers. */
void	peer_interest_add(const char *subject, size_t slen, const char *queue,
	    size_t qlen);
void	peer_interest_del(const char *subject, size_t slen, const char *queue,
	    size_t qlen);
/*
 * Send a message to peer `slot' with the queue groups it must serve.
 * Returns true if the publisher should be paused (ring backed up or the
 * peer congested).
 */
bool	peer_send_msg(int slot, const struct proto_frame *, const struct proto_slice *queues,
	    unsigned nqueues);
int	peer_slot(const void *owner);
/* Handle liveness changes the master announced. */
void	peer_check_gen(void);
/* Consume records from every inbound ring; true if any ring still has more. */
bool	peer_drain(void);
/* Before sleeping: retry backlogs, publish rings, wake consumers. */
void	peer_flush(void);
/* Any inbound ring with published records? (the re-check before sleep) */
bool	peer_pending(void);
/* Do we hold the interest of every live peer? (before accepting clients) */
bool	peer_synced_all(void);
/* Total bytes waiting in backlogs. */
size_t	peer_backlog_bytes(void);
bool	peer_congested_any(void);
/* Periodic: hung-peer detection. */
void	peer_tick(void);
void	peer_shutdown(void);

#endif
