/*
 * Figures the monitor reads from shared memory: a connection table per
 * worker (for /connz) and a statistics block per process (sublist figures
 * for /subsz), both written by one process and read by any other without
 * locks, so the monitor never makes a worker wait; and a mailbox per
 * worker through which the monitor asks for subscription lists (below).
 *
 * The table and the block are seqlocks.  The writer makes a sequence number odd, writes the
 * fields, makes it even again; a reader copies the fields between two
 * loads of the sequence number and keeps the copy only if both loads saw
 * the same even value.  A reader retries a bounded number of times and
 * then gives up (-1), so a writer that died in the middle of a write
 * costs the monitor one skipped entry, never a hang.  A writer never
 * waits for anything.
 *
 * Neither structure holds a pointer: the memory is mapped at different
 * addresses in different processes (and a respawned writer re-attaches
 * to what its predecessor left, see conntab_reset()).
 */
#ifndef NATSD_STATS_H
#define NATSD_STATS_H

#include <netinet/in.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One client connection as /connz shows it.  Fixed size, no pointers;
 * strings are NUL-terminated and cut (at a UTF-8 character boundary) to
 * fit, see stats_strcpy().  Times are wall-clock nanoseconds since the
 * epoch, as /connz prints them.
 */
struct conn_info {
	uint64_t	cid;
	uint64_t	start;
	uint64_t	last_activity;
	uint64_t	pending_bytes;
	uint64_t	in_msgs;
	uint64_t	out_msgs;
	uint64_t	in_bytes;
	uint64_t	out_bytes;
	uint32_t	num_subs;
	uint32_t	worker;		/* index of the worker serving it */
	uint16_t	port;
	char		ip[INET6_ADDRSTRLEN];
	char		name[64];
	char		lang[32];
	char		version[32];
};

struct conntab;
struct conn_slot;

/*
 * Bytes of shared memory a table of nslots connections needs, and its
 * set-up by the creator of the mapping before any process uses it.  mem
 * must be 64-byte aligned (mmap() is); it returns mem as the table.
 */
size_t		 conntab_footprint(uint32_t nslots);
/* mem: zeroed (a fresh anonymous mapping), 64-byte aligned. */
struct conntab	*conntab_init(void *mem, uint32_t nslots);

/*
 * Writer side: the one process that owns the table.
 *
 * conntab_alloc() hands out a free slot in O(1), or NULL when all are in
 * use.  The slot stays invisible to readers until its first
 * conntab_update(), which publishes every field at once (and each later
 * one replaces them all); conntab_free() hides it again and returns it
 * for reuse.  Freeing a slot that is not allocated is a bug and aborts.
 *
 * conntab_reset() is for a respawned writer: every slot its predecessor
 * left becomes free, whatever state the predecessor died in.
 */
struct conn_slot *conntab_alloc(struct conntab *);
void		 conntab_update(struct conn_slot *, const struct conn_info *);
void		 conntab_free(struct conn_slot *);
void		 conntab_reset(struct conntab *);
uint32_t	 conntab_slot_index(const struct conn_slot *);

/*
 * Reader side: any process.
 *
 * conntab_read() copies slot i: 1 with a consistent copy in *out if the
 * connection is in use, 0 if the slot is free (or i is out of range), -1
 * if no consistent copy could be had in a bounded number of tries (the
 * writer is in the middle of a write it does not finish; skip it).
 *
 * Readers scan 0 .. conntab_hwm() - 1: every slot ever handed out since
 * init (or reset) lies below the high-water mark, and freed slots are
 * reused before new ones, so the range stays as small as the peak number
 * of connections.
 */
int		 conntab_read(const struct conntab *, uint32_t i,
		    struct conn_info *out);
uint32_t	 conntab_nslots(const struct conntab *);
uint32_t	 conntab_hwm(const struct conntab *);

/*
 * A process's sublist figures, as /subsz sums them over workers.  updated
 * is the wall-clock time (ns since the epoch) of the figures, set by the
 * writer; 0 means never written.
 */
struct statblock_info {
	uint64_t	num_subscriptions;
	uint64_t	num_cache;
	uint64_t	num_inserts;
	uint64_t	num_removes;
	uint64_t	num_matches;
	uint64_t	cache_hits;
	uint64_t	max_fanout;
	uint64_t	total_fanout;	/* over cache fills, for avg_fanout */
	uint64_t	cache_fills;
	uint64_t	updated;
};

#define STATBLOCK_WORDS	10	/* sizeof(struct statblock_info) / 8 */

/*
 * Complete here so that it can sit inside another shared structure (one
 * per process).  Its fields belong to stats.c: use the functions.
 */
struct statblock {
	_Alignas(64) _Atomic uint64_t seq;
	_Atomic uint64_t	 words[STATBLOCK_WORDS];
};

void		 statblock_init(struct statblock *);
/* Owner only.  Never waits. */
void		 statblock_write(struct statblock *,
		    const struct statblock_info *);
/* Any process: 0 with a consistent copy in *out, -1 if none could be had. */
int		 statblock_read(const struct statblock *,
		    struct statblock_info *out);

/*
 * Subscription dumps, for /connz?subs=1.  A connection's subscriptions
 * live in its worker's private memory, too many and too changeable for a
 * table; so the monitor leaves a request in the worker's mailbox and
 * wakes it, the worker answers at its next loop turn (between two
 * batches of client work, never waiting), and the monitor polls for the
 * answer from its event loop, giving up after a deadline of its own.
 *
 * One round at a time per mailbox.  The monitor opens a round (writes
 * the cids it wants, then bumps req with a store-release) only when the
 * previous one was answered (ans == req); the worker writes the answer
 * only while a round is open (req != ans) and closes it by storing ans =
 * req with a store-release.  So every byte of the mailbox has exactly
 * one writer at any moment and no seqlock is needed.  A worker that dies
 * mid-answer leaves the round open; its successor answers it.
 *
 * The answer is a sequence of 8-byte aligned records: a connection
 * (cid, how many subscriptions follow) and its subscriptions (subject,
 * queue group, sid, messages delivered, auto-unsubscribe max).  When the
 * data area is full the worker stops where it is and says the answer was
 * truncated; a connection cut in the middle is marked partial.
 *
 * SUBSDUMP_DATA_SIZE: at 50 to 100 bytes a subscription, 1 MB holds
 * 10,000 to 20,000 of them, the subjects of a default /connz page (1024
 * connections) of up to 10 subscriptions each.  The pages of the area
 * cost nothing until a large answer first touches them.
 */
#define SUBSDUMP_DATA_SIZE	(1024 * 1024)
#define SUBSDUMP_MAX_CIDS	4096	/* asked by cid; more: every connection */

struct subsdump;

/* Shared-memory bytes of one mailbox; mem: zeroed, 64-byte aligned. */
size_t		 subsdump_footprint(void);
struct subsdump	*subsdump_init(void *mem);

/* One subscription, as written and as read back.  queue: NULL if none. */
struct subsdump_sub {
	const char	*subject;
	size_t		 subject_len;
	const char	*queue;
	size_t		 queue_len;
	const char	*sid;
	size_t		 sid_len;
	uint64_t	 msgs;		/* delivered */
	uint64_t	 max;		/* auto-unsubscribe after; 0: never */
};

/*
 * Monitor side.  subsdump_req() is the last round asked (0: none yet);
 * subsdump_idle() says whether it was answered, and only then may the
 * monitor read the answer or open the next round.  subsdump_ask() opens
 * round req + 1 for the connections cids[0 .. n-1], sorted ascending (n
 * above SUBSDUMP_MAX_CIDS, or cids NULL: every connection), and returns
 * its number; the caller then wakes the worker.
 */
uint64_t	 subsdump_req(const struct subsdump *);
bool		 subsdump_idle(const struct subsdump *);
uint64_t	 subsdump_ask(struct subsdump *, const uint64_t *cids,
		    size_t n);

/*
 * Reading an answer (when idle).  subsdump_answer() gives its bytes, in
 * the mailbox until the next round is asked, so a caller that keeps them
 * copies them: 0, or -1 if the length the worker wrote is impossible.
 * subsdump_reader_init() starts a reader over such bytes.
 * subsdump_next_conn() moves to the next connection (skipping what is
 * left of the current one): 1 with its cid, the number of subscriptions
 * that follow and whether it was cut short, 0 at the end, -1 on a
 * malformed record.  subsdump_next_sub() reads the current connection's
 * next subscription: 1, 0 when it has no more, -1 if malformed.  The
 * strings point into the bytes and are not NUL-terminated.  A reader is a
 * plain value: a copy taken after subsdump_next_conn() reads that
 * connection again later.
 */
struct subsdump_reader {
	const unsigned char	*p;
	const unsigned char	*end;
	uint32_t		 left;	/* subscriptions of the current connection */
};

int		 subsdump_answer(const struct subsdump *, const void **data,
		    size_t *len, bool *truncated);
void		 subsdump_reader_init(struct subsdump_reader *,
		    const void *data, size_t len);
int		 subsdump_next_conn(struct subsdump_reader *, uint64_t *cid,
		    uint32_t *nsubs, bool *partial);
int		 subsdump_next_sub(struct subsdump_reader *,
		    struct subsdump_sub *);

/*
 * Worker side.  subsdump_pending() is the check for every loop turn: one
 * relaxed load and a compare.  When it is true the worker calls
 * subsdump_begin(), then for each connection subsdump_wants() names,
 * subsdump_put_conn() and subsdump_put_sub() for each subscription,
 * stopping at the first false (the area is full), and finally
 * subsdump_end(), which publishes the answer.
 */
struct subsdump_writer {
	struct subsdump	*d;
	uint64_t	 seq;		/* the round answered */
	size_t		 off;		/* bytes written */
	size_t		 conn_off;	/* the open connection record */
	uint32_t	 nsubs;		/* its subscriptions so far */
	uint32_t	 ncids;		/* asked for, in d's cids[] */
	bool		 all;		/* asked for every connection */
	bool		 in_conn;
	bool		 full;
};

bool		 subsdump_pending(const struct subsdump *);
void		 subsdump_begin(struct subsdump *, struct subsdump_writer *);
bool		 subsdump_wants(const struct subsdump_writer *, uint64_t cid);
bool		 subsdump_put_conn(struct subsdump_writer *, uint64_t cid);
bool		 subsdump_put_sub(struct subsdump_writer *,
		    const struct subsdump_sub *);
void		 subsdump_end(struct subsdump_writer *);

/*
 * Copy len bytes of src (not necessarily NUL-terminated) into a field of
 * dstsize bytes, cutting at a UTF-8 character boundary so that the JSON
 * the monitor prints stays valid, and NUL-terminating.  Returns the bytes
 * copied.  CONN_INFO_SET(&info, name, s, len) fills a conn_info field.
 */
size_t		 stats_strcpy(char *dst, size_t dstsize, const char *src,
		    size_t len);
#define CONN_INFO_SET(ci, field, src, len)				\
	stats_strcpy((ci)->field, sizeof((ci)->field), (src), (len))

/* Wall-clock nanoseconds since the epoch (CLOCK_REALTIME). */
uint64_t	 stats_wall_ns(void);
/*
 * Seqlock retries this process's reads needed so far (a figure for the
 * monitor's own /metrics, and for the tests).
 */
uint64_t	 stats_read_retries(void);

#endif
