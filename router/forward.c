/*
 * Forwarding between the mesh and the routes.
 *
 * Towards the routes, this server's interest is the sum of its workers'
 * (what each worker announced on the mesh, seen here through
 * peer_hooks.interest): a plain subject is announced with RS+ when the
 * first worker takes interest and withdrawn with RS- when the last one
 * leaves; a queue group is announced with the total of the workers'
 * member counts as its weight, again on every change.
 *
 * Towards the workers, the router's interest is every route's: each
 * (route, subject, queue) counts once in peer_interest_add(), so workers
 * send the router what any route wants, and choose the router for a
 * queue group in proportion to the routes that serve it.
 *
 * Messages: one from a worker is sent once to every route with matching
 * plain interest and to the routes chosen for the queue groups the
 * worker left to the router, one RMSG per route listing its groups.  One
 * from a route goes to the workers with interest, the groups it lists
 * served by one member across the workers; it never goes to another route.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/cdefs.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "log.h"
#include "natsd.h"
#include "peer.h"
#include "route.h"
#include "subject.h"
#include "util.h"
#include "worker.h"

#define SUB_ROUTE	3	/* struct sub kind: owner is a struct rstate */

/* The workers' interest, summed. */
struct agg {
	RB_ENTRY(agg)	 entry;
	const char	*subject;
	size_t		 slen;
	const char	*queue;		/* NULL: plain */
	size_t		 qlen;
	uint32_t	 nsubs;		/* worker entries behind it */
	uint32_t	 weight;	/* queue: summed member counts */
	char		 buf[];
};

/* One subject (and queue) a route asked for. */
struct rsub {
	struct sub	 s;
	RB_ENTRY(rsub)	 entry;
	char		 buf[];
};

/* What the router knows of one route. */
struct rstate {
	struct route		*r;
	RB_HEAD(rsub_tree, rsub) subs;
	size_t			 nsubs;
	bool			 paused;
	int64_t			 paused_at;
	LIST_ENTRY(rstate)	 entry;
	/* per message: marked for delivery, with the groups it serves */
	bool			 marked;
	unsigned		 nq;
	struct proto_slice	 q[REC_MAX_QUEUES];
};

static int
agg_cmp(struct agg *a, struct agg *b)
{
	return subject_queue_cmp(a->subject, a->slen, a->queue, a->qlen,
	    b->subject, b->slen, b->queue, b->qlen);
}

static int
rsub_cmp(struct rsub *a, struct rsub *b)
{
	return subject_queue_cmp(a->s.subject, a->s.subject_len, a->s.queue,
	    a->s.queue_len, b->s.subject, b->s.subject_len, b->s.queue,
	    b->s.queue_len);
}

RB_HEAD(agg_tree, agg);
RB_GENERATE_STATIC(agg_tree, agg, entry, agg_cmp)
RB_GENERATE_STATIC(rsub_tree, rsub, entry, rsub_cmp)

static struct agg_tree		 aggs = RB_INITIALIZER(&aggs);
static LIST_HEAD(, rstate)	 rstates = LIST_HEAD_INITIALIZER(rstates);
static struct sublist		*route_sl;	/* every route's interest */

/* Per message: which workers get a copy, and the groups each serves. */
static struct {
	bool			 marked;
	unsigned		 nq;
	struct proto_slice	 q[REC_MAX_QUEUES];
}				 wmarks[MAX_WORKERS + 1];

static void	forward_from_worker(const struct rec *);
static void	forward_worker_interest(const struct sub *, uint32_t,
		    uint32_t);

/* peer_hooks for the router: a worker's message, a worker's interest. */
void
forward_init(void)
{
	if ((route_sl = sublist_new()) == NULL)
		fatal("route sublist");
	peer_hooks.msg = forward_from_worker;
	peer_hooks.interest = forward_worker_interest;
}

static struct rstate *
rstate_find(const struct route *r)
{
	struct rstate *rs;

	LIST_FOREACH(rs, &rstates, entry)
		if (rs->r == r)
			return rs;
	return NULL;
}

/* Interest towards the routes */

static void
agg_announce(const struct agg *a, struct route *only)
{
	struct rstate *rs;

	LIST_FOREACH(rs, &rstates, entry) {
		if (only != NULL && rs->r != only)
			continue;
		if (a->nsubs == 0)
			route_send_unsub(rs->r, a->subject, a->slen, a->queue,
			    a->qlen);
		else
			route_send_sub(rs->r, a->subject, a->slen, a->queue,
			    a->qlen, a->queue != NULL ? a->weight : 0);
	}
}

static void
forward_worker_interest(const struct sub *s, uint32_t old_weight,
    uint32_t new_weight)
{
	struct agg	 key, *a;

	key.subject = s->subject;
	key.slen = s->subject_len;
	key.queue = s->queue;
	key.qlen = s->queue_len;
	if ((a = RB_FIND(agg_tree, &aggs, &key)) == NULL) {
		if (old_weight != 0 || new_weight == 0)
			return;
		if ((a = calloc(1, sizeof(*a) + s->subject_len +
		    s->queue_len + 2)) == NULL)
			fatal("interest");
		memcpy(a->buf, s->subject, s->subject_len);
		a->subject = a->buf;
		a->slen = s->subject_len;
		if (s->queue != NULL) {
			memcpy(a->buf + s->subject_len + 1, s->queue,
			    s->queue_len);
			a->queue = a->buf + s->subject_len + 1;
			a->qlen = s->queue_len;
		}
		RB_INSERT(agg_tree, &aggs, a);
	}
	if (old_weight == 0)
		a->nsubs++;
	else if (new_weight == 0)
		a->nsubs--;
	a->weight = a->weight - old_weight + new_weight;
	/* Plain interest is news only on the first and the last worker. */
	if (a->queue != NULL || (old_weight == 0 && a->nsubs == 1) ||
	    a->nsubs == 0)
		agg_announce(a, NULL);
	if (a->nsubs == 0) {
		RB_REMOVE(agg_tree, &aggs, a);
		free(a);
	}
}

/* Routes */

void
router_route_up(struct route *r)
{
	struct rstate	*rs;
	struct agg	*a;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		fatal("route state");
	rs->r = r;
	RB_INIT(&rs->subs);
	LIST_INSERT_HEAD(&rstates, rs, entry);
	RB_FOREACH(a, agg_tree, &aggs)
		agg_announce(a, r);
}

static void
rsub_drop(struct rstate *rs, struct rsub *x)
{
	RB_REMOVE(rsub_tree, &rs->subs, x);
	if (sublist_remove(route_sl, &x->s) == -1)
		fatalx("route interest %s missing from the sublist",
		    x->s.subject);
	peer_interest_del(x->s.subject, x->s.subject_len, x->s.queue,
	    x->s.queue_len);
	rs->nsubs--;
	free(x);
}

void
router_route_down(struct route *r)
{
	struct rstate	*rs;
	struct rsub	*x, *next;

	if ((rs = rstate_find(r)) == NULL)
		return;
	RB_FOREACH_SAFE(x, rsub_tree, &rs->subs, next)
		rsub_drop(rs, x);
	LIST_REMOVE(rs, entry);
	free(rs);
}

/* The route's interest in (subject, queue); *rsp: the route's, or NULL. */
static struct rsub *
rsub_find(struct route *r, const char *subject, size_t slen,
    const char *queue, size_t qlen, struct rstate **rsp)
{
	struct rsub key;

	if ((*rsp = rstate_find(r)) == NULL)
		return NULL;
	key.s.subject = subject;
	key.s.subject_len = slen;
	key.s.queue = qlen > 0 ? queue : NULL;
	key.s.queue_len = qlen;
	return RB_FIND(rsub_tree, &(*rsp)->subs, &key);
}

void
router_route_sub(struct route *r, const char *subject, size_t slen,
    const char *queue, size_t qlen, uint32_t weight)
{
	struct rstate	*rs;
	struct rsub	*x;

	if ((x = rsub_find(r, subject, slen, queue, qlen, &rs)) != NULL) {
		/* A queue weight update: picks among routes see it at once. */
		x->s.weight = weight ? weight : 1;
		return;
	}
	if (rs == NULL)
		return;
	if ((x = calloc(1, sizeof(*x) + slen + qlen + 2)) == NULL)
		fatal("route interest");
	memcpy(x->buf, subject, slen);
	x->s.subject = x->buf;
	x->s.subject_len = slen;
	if (qlen > 0) {
		memcpy(x->buf + slen + 1, queue, qlen);
		x->s.queue = x->buf + slen + 1;
		x->s.queue_len = qlen;
	}
	x->s.owner = rs;
	x->s.kind = SUB_ROUTE;
	x->s.weight = weight ? weight : 1;
	if (sublist_insert(route_sl, &x->s) == -1) {
		log_warnx("route %s: invalid interest \"%s\"",
		    route_remote_id(r), x->s.subject);
		free(x);
		return;
	}
	RB_INSERT(rsub_tree, &rs->subs, x);
	rs->nsubs++;
	peer_interest_add(x->s.subject, slen, x->s.queue, qlen);
}

void
router_route_unsub(struct route *r, const char *subject, size_t slen,
    const char *queue, size_t qlen)
{
	struct rstate	*rs;
	struct rsub	*x;

	if ((x = rsub_find(r, subject, slen, queue, qlen, &rs)) != NULL)
		rsub_drop(rs, x);
}

size_t
forward_route_subs(const struct route *r)
{
	struct rstate *rs = rstate_find(r);

	return rs != NULL ? rs->nsubs : 0;
}

void
forward_route_subjects(const struct route *r,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	struct rstate	*rs = rstate_find(r);
	struct rsub	*x;

	if (rs == NULL)
		return;
	RB_FOREACH(x, rsub_tree, &rs->subs)
		fn(arg, x->s.subject, x->s.queue);
}

/* Messages */

/* A member of group g, chosen in proportion to the weights. */
static struct sub *
pick_weighted(const struct sublist_qgroup *g)
{
	uint64_t	 total = 0, pick;
	size_t		 j;

	for (j = 0; j < g->n; j++)
		total += g->members[j]->weight;
	if (total == 0)
		return NULL;
	pick = total > UINT32_MAX ? random_below(UINT32_MAX) :
	    random_below((uint32_t)total);
	for (j = 0; j < g->n; j++) {
		if (pick < g->members[j]->weight)
			return g->members[j];
		pick -= g->members[j]->weight;
	}
	return g->members[g->n - 1];
}

static const struct sublist_qgroup *
group_find(const struct sublist_result *res, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < res->nqueues; i++)
		if (res->queues[i].name_len == len &&
		    memcmp(res->queues[i].name, name, len) == 0)
			return &res->queues[i];
	return NULL;
}

static void
forward_from_worker(const struct rec *m)
{
	const struct sublist_result	*res;
	const struct sublist_qgroup	*g;
	struct rstate			*rs;
	struct sub			*s;
	size_t				 i;
	unsigned			 q;

	res = sublist_match(route_sl, m->subject.p, m->subject.len);
	for (i = 0; i < res->nplain; i++)
		((struct rstate *)res->plain[i]->owner)->marked = true;
	for (q = 0; q < m->nqueues; q++) {
		g = group_find(res, m->queues[q].p, m->queues[q].len);
		if (g == NULL || (s = pick_weighted(g)) == NULL)
			continue;	/* the group left meanwhile */
		rs = s->owner;
		rs->marked = true;
		if (rs->nq < REC_MAX_QUEUES)
			rs->q[rs->nq++] = m->queues[q];
	}
	LIST_FOREACH(rs, &rstates, entry) {
		if (!rs->marked)
			continue;
		(void)route_send_msg(rs->r, m->subject.p, m->subject.len,
		    m->reply.p, m->reply.len, rs->q, rs->nq, m->payload,
		    m->hdr_len, m->total_len);
		rs->marked = false;
		rs->nq = 0;
	}
}

bool
router_route_msg(struct route *r, const struct proto_frame *f)
{
	const struct sublist_result	*res;
	const struct sublist_qgroup	*g;
	struct proto_slice		 names[REC_MAX_QUEUES];
	struct rstate			*rs;
	struct sub			*s;
	size_t				 i, nnames;
	int				 slot;
	bool				 pause = false;

	res = sublist_match(wk.sl, f->subject.p, f->subject.len);
	for (i = 0; i < res->nplain; i++)
		if (res->plain[i]->kind == SUB_PEER)
			wmarks[peer_slot(res->plain[i]->owner)].marked = true;
	nnames = proto_split_queues(&f->queues, names, REC_MAX_QUEUES);
	for (i = 0; i < nnames; i++) {
		g = group_find(res, names[i].p, names[i].len);
		if (g == NULL || (s = pick_weighted(g)) == NULL ||
		    s->kind != SUB_PEER)
			continue;
		slot = peer_slot(s->owner);
		wmarks[slot].marked = true;
		if (wmarks[slot].nq < REC_MAX_QUEUES)
			wmarks[slot].q[wmarks[slot].nq++] = names[i];
	}
	for (slot = 0; slot < mesh_nworkers(wk.mesh); slot++) {
		if (!wmarks[slot].marked)
			continue;
		if (peer_send_msg(slot, f, wmarks[slot].q, wmarks[slot].nq))
			pause = true;
		wmarks[slot].marked = false;
		wmarks[slot].nq = 0;
	}
	atomic_fetch_add_explicit(&wk.self->stats.in_msgs, 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&wk.self->stats.in_bytes, f->total_len,
	    memory_order_relaxed);
	if (pause && (rs = rstate_find(r)) != NULL && !rs->paused) {
		rs->paused = true;
		rs->paused_at = wk.now;
	}
	return pause;
}

void
forward_resume_due(void)
{
	struct rstate	*rs;
	bool		 clear = peer_backlog_bytes() == 0 &&
			    !peer_congested_any();

	LIST_FOREACH(rs, &rstates, entry)
		if (rs->paused && (clear || wk.now - rs->paused_at >= 100)) {
			rs->paused = false;
			route_resume(rs->r);
		}
}
