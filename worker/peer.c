/*
 * The worker's side of the mesh.
 *
 * Interest: a worker counts its clients' subscriptions per (subject,
 * queue).  A plain subject is announced to the peers when its count goes
 * 0 -> 1 and withdrawn on 1 -> 0; a queue group is announced with its
 * member count as weight, re-announced on every change.  What peers
 * announce is stored in the worker's one sublist as SUB_PEER entries, so a
 * single match finds local subscribers and interested peers together.
 *
 * Liveness and resync: a (re)started peer sends HELLO(epoch) on each of
 * its rings; whoever reads it forgets what it knew of that peer and answers
 * DUMP followed by its whole interest.  Reading a DUMP likewise resets the
 * sender's interest before the full set.  Records from a peer that is not
 * synced (it died: the master bumped its epoch) are ignored until its next
 * HELLO or DUMP, so nothing an old incarnation said survives it.
 *
 * Flow control: a record that does not fit in a ring goes to that ring's
 * backlog (order is kept: once a backlog exists everything queues behind
 * it) and the publisher is paused by the caller.  A peer whose ring has
 * not moved for write_deadline while we hold a backlog is hung: its
 * backlog is dropped and counted.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/cdefs.h>
#include <sys/tree.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "log.h"
#include "natsd.h"
#include "peer.h"
#include "ring.h"
#include "subject.h"
#include "worker.h"

#define DRAIN_BUDGET	8192	/* records per ring per loop turn */

struct interest {
	RB_ENTRY(interest)	 entry;
	const char		*subject;
	size_t			 slen;
	const char		*queue;	/* NULL: plain */
	size_t			 qlen;
	uint32_t		 count;
	char			 buf[];
};

struct pint {
	struct sub		 s;
	RB_ENTRY(pint)		 entry;
	char			 buf[];
};

struct blrec {
	STAILQ_ENTRY(blrec)	 entry;
	size_t			 len;
	char			 data[];
};

struct peer {
	int			 slot;
	bool			 up;		/* we talk to it */
	bool			 synced;	/* its records are current */
	uint32_t		 epoch;
	struct ring_producer	 out;
	struct ring_consumer	 in;
	bool			 out_dirty;
	STAILQ_HEAD(, blrec)	 backlog;
	size_t			 backlog_bytes;
	uint64_t		 head_seen;
	int64_t			 stalled_since;
	bool			 hung;
	RB_HEAD(pint_tree, pint) interest;
};

static int
interest_cmp(struct interest *a, struct interest *b)
{
	return subject_queue_cmp(a->subject, a->slen, a->queue, a->qlen,
	    b->subject, b->slen, b->queue, b->qlen);
}

static int
pint_cmp(struct pint *a, struct pint *b)
{
	return subject_queue_cmp(a->s.subject, a->s.subject_len, a->s.queue,
	    a->s.queue_len, b->s.subject, b->s.subject_len, b->s.queue,
	    b->s.queue_len);
}

RB_HEAD(interest_tree, interest);
RB_GENERATE_STATIC(interest_tree, interest, entry, interest_cmp)
RB_GENERATE_STATIC(pint_tree, pint, entry, pint_cmp)

static struct interest_tree	 local_interest = RB_INITIALIZER(&local_interest);
struct peer_hooks		 peer_hooks = { deliver_from_peer, NULL };
static struct peer		 peers[MAX_WORKERS + 1];
static uint32_t			 gen_seen;

void
peer_init(void)
{
	struct peer	*p;
	int		 i;

	gen_seen = atomic_load(mesh_gen(wk.mesh));
	/* Attach every inbound ring first, then say hello (see peer_hello). */
	for (i = 0; i < wk.npeers; i++) {
		p = &peers[i];
		p->slot = i;
		STAILQ_INIT(&p->backlog);
		RB_INIT(&p->interest);
		if (i == wk.slot)
			continue;
		ring_consumer_attach(&p->in, mesh_ring(wk.mesh, i, wk.slot),
		    true);
		ring_producer_attach(&p->out, mesh_ring(wk.mesh, wk.slot, i));
	}
}

int
peer_slot(const void *owner)
{
	return ((const struct peer *)owner)->slot;
}

/*
 * Put one record on p's ring, or in its backlog if the ring is full or a
 * backlog already exists (records must stay in order).  Returns false if
 * it went to the backlog.
 */
static bool
peer_put(struct peer *p, const void *rec, size_t len)
{
	struct blrec	*b;
	void		*dst;

	if (p->hung) {
		atomic_fetch_add_explicit(&wk.self->stats.ring_drops, 1,
		    memory_order_relaxed);
		return true;
	}
	if (STAILQ_EMPTY(&p->backlog) &&
	    (dst = ring_reserve(&p->out, len)) != NULL) {
		memcpy(dst, rec, len);
		ring_commit(&p->out, len);
		p->out_dirty = true;
		return true;
	}
	if ((b = malloc(sizeof(*b) + len)) == NULL)
		fatal("backlog record");
	b->len = len;
	memcpy(b->data, rec, len);
	if (STAILQ_EMPTY(&p->backlog)) {
		p->head_seen = ring_head(p->out.r);
		p->stalled_since = wk.now;
	}
	STAILQ_INSERT_TAIL(&p->backlog, b, entry);
	p->backlog_bytes += len;
	/* Ask the consumer to wake us when it frees space. */
	atomic_store(mesh_space_wanted(wk.mesh, wk.slot, p->slot), 1);
	return false;
}

static void
peer_send_interest(struct peer *p, enum rec_type type,
    const struct interest *in)
{
	char	 stackbuf[512], *buf = stackbuf;
	size_t	 n = rec_interest_size(in->slen, in->qlen);

	if (n > sizeof(stackbuf) && (buf = malloc(n)) == NULL)
		fatal("interest record");
	n = rec_put_interest(buf, type, in->subject, in->slen, in->queue,
	    in->qlen, in->queue ? in->count : 1);
	peer_put(p, buf, n);
	if (buf != stackbuf)
		free(buf);
}

static void
interest_announce(enum rec_type type, const struct interest *in)
{
	int i;

	for (i = 0; i < wk.npeers; i++)
		if (peers[i].up)
			peer_send_interest(&peers[i], type, in);
}

static struct interest *
interest_find(const char *subject, size_t slen, const char *queue,
    size_t qlen)
{
	struct interest key;

	key.subject = subject;
	key.slen = slen;
	key.queue = queue;
	key.qlen = qlen;
	return RB_FIND(interest_tree, &local_interest, &key);
}

void
peer_interest_add(const char *subject, size_t slen, const char *queue,
    size_t qlen)
{
	struct interest *in;

	if ((in = interest_find(subject, slen, queue, qlen)) == NULL) {
		if ((in = calloc(1, sizeof(*in) + slen + qlen + 2)) == NULL)
			fatal("interest");
		memcpy(in->buf, subject, slen);
		in->subject = in->buf;
		in->slen = slen;
		if (queue != NULL) {
			memcpy(in->buf + slen + 1, queue, qlen);
			in->queue = in->buf + slen + 1;
			in->qlen = qlen;
		}
		RB_INSERT(interest_tree, &local_interest, in);
	}
	in->count++;
	if (in->count == 1 || in->queue != NULL)
		interest_announce(REC_SUB, in);
}

void
peer_interest_del(const char *subject, size_t slen, const char *queue,
    size_t qlen)
{
	struct interest *in;

	if ((in = interest_find(subject, slen, queue, qlen)) == NULL)
		fatalx("interest for %.*s not counted", (int)slen, subject);
	if (--in->count > 0) {
		if (in->queue != NULL)
			interest_announce(REC_SUB, in);
		return;
	}
	interest_announce(REC_UNSUB, in);
	RB_REMOVE(interest_tree, &local_interest, in);
	free(in);
}

/* Forget everything a peer told us: its interest and what we owe it. */
static void
peer_forget(struct peer *p)
{
	struct pint	*pi, *next;
	struct blrec	*b;

	RB_FOREACH_SAFE(pi, pint_tree, &p->interest, next) {
		RB_REMOVE(pint_tree, &p->interest, pi);
		if (peer_hooks.interest != NULL)
			peer_hooks.interest(&pi->s, pi->s.weight, 0);
		if (sublist_remove(wk.sl, &pi->s) == -1)
			fatalx("peer %d interest %s missing from sublist",
			    p->slot, pi->s.subject);
		free(pi);
	}
	while ((b = STAILQ_FIRST(&p->backlog)) != NULL) {
		STAILQ_REMOVE_HEAD(&p->backlog, entry);
		free(b);
	}
	p->backlog_bytes = 0;
	p->hung = false;
}

static void
peer_down(struct peer *p)
{
	if (p->up || p->synced)
		log_debug("peer %d is gone, dropping its interest", p->slot);
	peer_forget(p);
	p->up = p->synced = false;
}

/* Tell a (re)started peer everything: DUMP, then our whole interest. */
static void
peer_send_dump(struct peer *p)
{
	struct interest	*in;
	char		 rec[16];
	size_t		 n;

	n = rec_put_dump(rec, p->epoch, wk.epoch);
	peer_put(p, rec, n);
	RB_FOREACH(in, interest_tree, &local_interest)
		peer_send_interest(p, REC_SUB, in);
}

static uint32_t
shm_epoch(int slot)
{
	return atomic_load(&mesh_peer(wk.mesh, slot)->epoch);
}

void
peer_check_gen(void)
{
	uint32_t	 g = atomic_load(mesh_gen(wk.mesh));
	int		 i;

	if (g == gen_seen)
		return;
	gen_seen = g;
	for (i = 0; i < wk.npeers; i++)
		if (i != wk.slot && (peers[i].up || peers[i].synced) &&
		    shm_epoch(i) != peers[i].epoch)
			peer_down(&peers[i]);
}

static void
peer_sub_record(struct peer *p, const struct rec *r)
{
	struct pint	 key, *pi;
	const char	*q = r->queue.len ? r->queue.p : NULL;

	key.s.subject = r->subject.p;
	key.s.subject_len = r->subject.len;
	key.s.queue = q;
	key.s.queue_len = r->queue.len;
	pi = RB_FIND(pint_tree, &p->interest, &key);
	if (r->type == REC_UNSUB) {
		if (pi == NULL)
			return;
		RB_REMOVE(pint_tree, &p->interest, pi);
		if (peer_hooks.interest != NULL)
			peer_hooks.interest(&pi->s, pi->s.weight, 0);
		sublist_remove(wk.sl, &pi->s);
		free(pi);
		return;
	}
	if (pi != NULL) {
		/* A queue weight update; cached match results see it at once. */
		uint32_t old = pi->s.weight;

		pi->s.weight = r->weight ? r->weight : 1;
		if (peer_hooks.interest != NULL && old != pi->s.weight)
			peer_hooks.interest(&pi->s, old, pi->s.weight);
		return;
	}
	if ((pi = calloc(1, sizeof(*pi) + r->subject.len + r->queue.len + 2))
	    == NULL)
		fatal("peer interest");
	memcpy(pi->buf, r->subject.p, r->subject.len);
	pi->s.subject = pi->buf;
	pi->s.subject_len = r->subject.len;
	if (q != NULL) {
		memcpy(pi->buf + r->subject.len + 1, q, r->queue.len);
		pi->s.queue = pi->buf + r->subject.len + 1;
		pi->s.queue_len = r->queue.len;
	}
	pi->s.owner = p;
	pi->s.kind = SUB_PEER;
	pi->s.weight = r->weight ? r->weight : 1;
	if (sublist_insert(wk.sl, &pi->s) == -1) {
		log_warnx("peer %d sent invalid interest \"%s\"", p->slot,
		    pi->s.subject);
		free(pi);
		return;
	}
	RB_INSERT(pint_tree, &p->interest, pi);
	if (peer_hooks.interest != NULL)
		peer_hooks.interest(&pi->s, 0, pi->s.weight);
}

static void
peer_record(struct peer *p, const void *data, size_t len)
{
	struct rec r;

	if (rec_get(data, len, &r) == -1)
		fatalx("malformed record (%zu bytes) from peer %d", len,
		    p->slot);
	switch (r.type) {
	case REC_HELLO:
		if (r.epoch != shm_epoch(p->slot))
			return;		/* from an incarnation already dead */
		peer_forget(p);
		p->epoch = r.epoch;
		p->up = p->synced = true;
		log_debug("peer %d (epoch %u) said hello", p->slot, r.epoch);
		peer_send_dump(p);
		return;
	case REC_DUMP:
		if (r.epoch != wk.epoch || r.epoch2 != shm_epoch(p->slot))
			return;
		peer_forget(p);
		p->epoch = r.epoch2;
		p->up = p->synced = true;
		return;
	case REC_SUB:
	case REC_UNSUB:
		if (p->synced)
			peer_sub_record(p, &r);
		return;
	case REC_MSG:
		if (p->synced)
			peer_hooks.msg(&r);
		return;
	}
}

bool
peer_drain(void)
{
	struct peer	*p;
	const void	*data;
	size_t		 len;
	int		 i, n;
	bool		 more = false;

	for (i = 0; i < wk.npeers; i++) {
		if (i == wk.slot)
			continue;
		p = &peers[i];
		for (n = 0; n < DRAIN_BUDGET &&
		    (data = ring_peek(&p->in, &len)) != NULL; n++) {
			peer_record(p, data, len);
			ring_consume(&p->in);
		}
		if (n == 0)
			continue;
		if (n == DRAIN_BUDGET)
			more = true;
		ring_release(&p->in);
		/* Pairs with the store in the producer's peer_put(). */
		if (atomic_load(mesh_space_wanted(wk.mesh, i, wk.slot)) &&
		    atomic_exchange(mesh_space_wanted(wk.mesh, i, wk.slot), 0))
			mesh_kick(wk.mesh, i);
	}
	return more;
}

static void
peer_backlog_retry(struct peer *p)
{
	struct blrec	*b;
	void		*dst;

	while ((b = STAILQ_FIRST(&p->backlog)) != NULL) {
		if ((dst = ring_reserve(&p->out, b->len)) == NULL) {
			atomic_store(mesh_space_wanted(wk.mesh, wk.slot,
			    p->slot), 1);
			/* Re-check after asking, or a wake-up could be lost. */
			atomic_thread_fence(memory_order_seq_cst);
			if ((dst = ring_reserve(&p->out, b->len)) == NULL)
				return;
		}
		memcpy(dst, b->data, b->len);
		ring_commit(&p->out, b->len);
		p->out_dirty = true;
		STAILQ_REMOVE_HEAD(&p->backlog, entry);
		p->backlog_bytes -= b->len;
		free(b);
	}
}

void
peer_flush(void)
{
	struct peer	*p;
	int		 i;

	for (i = 0; i < wk.npeers; i++) {
		p = &peers[i];
		if (i == wk.slot)
			continue;
		if (!STAILQ_EMPTY(&p->backlog))
			peer_backlog_retry(p);
		if (p->out_dirty) {
			ring_publish(&p->out);
			p->out_dirty = false;
			mesh_wake(wk.mesh, i);
		}
	}
}

bool
peer_pending(void)
{
	int i;

	for (i = 0; i < wk.npeers; i++)
		if (i != wk.slot && ring_pending(&peers[i].in))
			return true;
	return false;
}

bool
peer_synced_all(void)
{
	int i;

	for (i = 0; i < wk.npeers; i++)
		if (i != wk.slot && !peers[i].synced &&
		    atomic_load(&mesh_peer(wk.mesh, i)->alive))
			return false;
	return true;
}

size_t
peer_backlog_bytes(void)
{
	size_t	n = 0;
	int	i;

	for (i = 0; i < wk.npeers; i++)
		n += peers[i].backlog_bytes;
	return n;
}

bool
peer_congested_any(void)
{
	int i;

	for (i = 0; i < wk.npeers; i++)
		if (peers[i].up && atomic_load_explicit(
		    &mesh_peer(wk.mesh, i)->congested, memory_order_relaxed))
			return true;
	return false;
}

bool
peer_send_msg(int slot, const struct proto_frame *f,
    const struct proto_slice *queues, unsigned nqueues)
{
	struct peer	*p = &peers[slot];
	size_t		 n;
	void		*dst;
	char		*tmp;
	bool		 ok;

	n = rec_msg_size(f->subject.len, f->reply.len, f->total_len, queues,
	    nqueues);
	if (n > ring_max_record(p->out.r)) {
		log_warnx("message on \"%.*s\" (%zu bytes) is too large for "
		    "the mesh ring; raise ring_size", (int)f->subject.len,
		    f->subject.p, n);
		return false;
	}
	if (!p->hung && STAILQ_EMPTY(&p->backlog) &&
	    (dst = ring_reserve(&p->out, n)) != NULL) {
		rec_put_msg(dst, f->subject.p, f->subject.len, f->reply.p,
		    f->reply.len, f->payload, f->hdr_len, f->total_len, queues,
		    nqueues);
		ring_commit(&p->out, n);
		p->out_dirty = true;
		return atomic_load_explicit(&mesh_peer(wk.mesh, slot)->congested,
		    memory_order_relaxed) != 0;
	}
	if ((tmp = malloc(n)) == NULL)
		fatal("message record");
	rec_put_msg(tmp, f->subject.p, f->subject.len, f->reply.p,
	    f->reply.len, f->payload, f->hdr_len, f->total_len, queues,
	    nqueues);
	ok = peer_put(p, tmp, n);
	free(tmp);
	return !ok;
}

void
peer_tick(void)
{
	struct peer	*p;
	struct blrec	*b;
	uint64_t	 head, dropped;
	int		 i;

	for (i = 0; i < wk.npeers; i++) {
		p = &peers[i];
		if (i == wk.slot || !p->up)
			continue;
		if (p->hung && ring_head(p->out.r) != p->head_seen) {
			log_warnx("peer %d is making progress again", i);
			p->hung = false;
		}
		if (STAILQ_EMPTY(&p->backlog))
			continue;
		head = ring_head(p->out.r);
		if (head != p->head_seen) {
			p->head_seen = head;
			p->stalled_since = wk.now;
			continue;
		}
		if (wk.now - p->stalled_since < wk.s->write_deadline_ms)
			continue;
		dropped = 0;
		while ((b = STAILQ_FIRST(&p->backlog)) != NULL) {
			STAILQ_REMOVE_HEAD(&p->backlog, entry);
			free(b);
			dropped++;
		}
		p->backlog_bytes = 0;
		p->hung = true;
		atomic_fetch_add(&wk.self->stats.ring_drops, dropped);
		log_errorx("peer %d made no progress for %lld ms: dropped %llu "
		    "records", i, (long long)wk.s->write_deadline_ms,
		    (unsigned long long)dropped);
		/* Tell the master, which restarts a hung worker. */
		atomic_fetch_add(&mesh_peer(wk.mesh, i)->hung_reports, 1);
		if (kill(getppid(), SIGUSR2) == -1)
			log_warn("notify master");
	}
}

void
peer_hello_all(void)
{
	char	rec[16];
	size_t	n;
	int	i;

	/*
	 * Only to peers already alive: one that is not yet attaches its
	 * rings before it sets alive and says hello, so it will greet us.
	 */
	n = rec_put_hello(rec, wk.epoch);
	for (i = 0; i < wk.npeers; i++)
		if (i != wk.slot &&
		    atomic_load(&mesh_peer(wk.mesh, i)->alive))
			peer_put(&peers[i], rec, n);
}

void
peer_shutdown(void)
{
	int i;

	for (i = 0; i < wk.npeers; i++)
		if (i != wk.slot)
			peer_forget(&peers[i]);
}
