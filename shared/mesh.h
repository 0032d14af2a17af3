/*
 * The mesh: one anonymous shared mapping, created by the master before it
 * forks, holding an SPSC ring for every ordered pair of peers (workers
 * 0..N-1 and the router, slot N), each peer's wake-up state, per-process
 * stats slots and global counters.
 *
 * Wake-ups: a consumer about to sleep sets its `sleeping' flag, issues a
 * full fence and checks its rings once more; a producer, after publishing,
 * issues a full fence and writes the consumer's eventfd only if the flag is
 * set (clearing it).  The two fences make it impossible for both sides to
 * miss each other, so a busy ring costs no syscalls.
 *
 * Liveness: the master bumps a slot's epoch when its process dies and
 * raises `gen' so the other peers notice (see worker/peer.c).
 */
#ifndef NATSD_MESH_H
#define NATSD_MESH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "stats.h"

/* Counters a process publishes for the monitor; written only by their owner. */
struct mesh_stats {
	_Atomic uint64_t	in_msgs;
	_Atomic uint64_t	in_bytes;
	_Atomic uint64_t	out_msgs;
	_Atomic uint64_t	out_bytes;
	_Atomic uint64_t	connections;	/* current */
	_Atomic uint64_t	total_connections;
	_Atomic uint64_t	slow_consumers;
	_Atomic uint64_t	subscriptions;
	_Atomic uint64_t	ring_drops;	/* records dropped to hung peers */
};

struct mesh_peer {
	_Alignas(64) _Atomic uint32_t sleeping;	/* consumer is (about to be) in epoll_wait */
	_Atomic uint32_t	 epoch;		/* bumped by the master on each (re)start */
	_Atomic uint32_t	 alive;		/* 1 while a process serves the slot */
	_Atomic int32_t		 pid;
	_Atomic uint32_t	 congested;	/* a subscriber of this peer is backed up */
	_Atomic uint32_t	 nclients;	/* for accept balancing */
	_Atomic uint32_t	 hung_reports;	/* peers found it stuck (master acts) */
	_Atomic uint32_t	 accept_kick;	/* a peer stopped accepting: try accept */
	_Atomic uint32_t	 reload_ack;	/* last reload generation applied */
	_Atomic uint32_t	 serving;	/* synced with its peers, accepting */
	_Atomic uint32_t	 quiesced;	/* stopping: its backlogs are in the rings */
	int			 efd;		/* eventfd, created before fork */
	struct mesh_stats	 stats;
};

struct mesh;

/* conn_slots: each worker's connection table size (max_connections at start). */
struct mesh	*mesh_create(int nworkers, size_t ring_size, uint32_t conn_slots);
int		 mesh_nworkers(const struct mesh *);
int		 mesh_npeers(const struct mesh *);	/* nworkers + 1 (router) */
int		 mesh_router_slot(const struct mesh *);
/* The monitor's slot: reload acks and pid only, no rings. */
int		 mesh_monitor_slot(const struct mesh *);
/* Worker i's connection table and sublist stats, read by the monitor. */
struct conntab	*mesh_conntab(struct mesh *, int worker);
struct statblock *mesh_statblock(struct mesh *, int worker);
/* Worker i's subscription dump mailbox (/connz?subs=1, see stats.h). */
struct subsdump	*mesh_subsdump(struct mesh *, int worker);
int64_t		 mesh_start_wall_ns(const struct mesh *);
struct mesh_peer *mesh_peer(struct mesh *, int slot);
struct ring	*mesh_ring(struct mesh *, int from, int to);
/* Producer `from' is waiting for room on ring from->to. */
_Atomic uint32_t *mesh_space_wanted(struct mesh *, int from, int to);
_Atomic uint32_t *mesh_gen(struct mesh *);
uint64_t	 mesh_next_cid(struct mesh *);
/* Server id and name, chosen by the master, shared by every process. */
const char	*mesh_server_id(const struct mesh *);
void		 mesh_set_server_id(struct mesh *, const char *);

/*
 * Reload hand-over: the master publishes the new settings (JSON) with a
 * new generation, signals the children, and counts their reload_ack.
 * Returns the generation, or 0 if the blob does not fit.
 */
uint32_t	 mesh_reload_put(struct mesh *, const char *, size_t);
/*
 * A child's side of a round: when the master published settings that
 * slot has not applied, move *cur to *old (the caller frees it once
 * nothing points into it), put the new ones in *cur, reopen logging as
 * they say, and return the generation; 0 when there is nothing new.
 * mesh_reload_ack() then tells the master the round is applied.
 */
struct settings;
uint32_t	 mesh_reload_take(struct mesh *, int slot, struct settings *cur,
		    struct settings *old);
void		 mesh_reload_ack(struct mesh *, int slot, uint32_t gen);
uint32_t	 mesh_reload_gen(struct mesh *);

/*
 * The client URLs of the other cluster members (a JSON array, as INFO's
 * connect_urls), published by the router for the workers' INFO.  The
 * sequence moves on every change; get returns the length (0: none).
 */
#define MESH_URLS_MAX	8192
#define MESH_ROUTEZ_MAX	(256 * 1024)

struct mesh_blob {
	_Atomic uint32_t	 seq;
	uint32_t		 len;
	char			 data[MESH_ROUTEZ_MAX];
};

void		 mesh_cluster_urls_put(struct mesh *, const char *, size_t);
size_t		 mesh_cluster_urls_get(struct mesh *, uint32_t *seq, char *buf,
		    size_t cap);
uint32_t	 mesh_cluster_urls_seq(struct mesh *);
/* The router's cluster as JSON: {"cluster": name, "routes": [...]}. */
void		 mesh_routez_put(struct mesh *, const char *, size_t);
size_t		 mesh_routez_get(struct mesh *, char *buf, size_t cap);

/* Wake peer `slot' if it announced sleep (after a full fence). */
void		 mesh_wake(struct mesh *, int slot);
/* Unconditional wake (master telling workers about a death). */
void		 mesh_kick(struct mesh *, int slot);
void		 mesh_sleep_announce(struct mesh *, int self);
void		 mesh_sleep_cancel(struct mesh *, int self);

#endif
