/*
 * /connz: the clients of every worker, from the workers' connection
 * tables in shared memory, sorted and paged as nats-server does it
 * (?sort=, ?offset=, ?limit= defaulting to 1024, ?cid=), each with the
 * worker that serves it.
 *
 * Workers refresh a connection's entry at most every 250 ms (and when it
 * opens), so per-connection figures can be up to 250 ms behind the
 * /varz counters, which are exact at every moment.  Reading a table
 * never makes its worker wait: an entry being rewritten is retried a
 * bounded number of times and then skipped for this request.
 *
 * ?subs=1 (subscriptions_list, the subjects) and ?subs=detail
 * (subscriptions_list_detail: subject, qgroup, sid, msgs, max, cid, as
 * nats-server 2.9's SubDetail) need what only the workers hold.  The
 * reply is then built in two steps: the page as above, then a request
 * to each worker with connections on it, through its mailbox in the
 * mesh (stats.h), and a wake-up.  The reply waits, without holding up
 * the event loop, until every asked worker has answered (a worker
 * answers at its next loop turn, typically within microseconds) or
 * SUBS_DEADLINE_MS passed: a worker that is hung, stopped or dead costs
 * its connections their lists, never the whole reply.  As in
 * nats-server, a connection without subscriptions has no list at all.
 *
 * A mailbox carries one round at a time.  Requests that arrive while a
 * round is out wait for the next, which asks for the connections of
 * every request still waiting; each answer is copied out of the mailbox
 * as soon as it is seen, so the next round can go out at once.
 *
 * natsd keeps no closed connections, so state=closed and state=all are
 * refused.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "log.h"
#include "mesh.h"
#include "monitor.h"
#include "natsd.h"
#include "stats.h"
#include "util.h"

#define CONNZ_DEFAULT_LIMIT	1024
#define SUBS_DEADLINE_MS	250	/* longest a reply waits for a worker */
#define SUBS_POLL_MS		2	/* how often it looks for answers */

enum subs_mode { SUBS_NONE, SUBS_LIST, SUBS_DETAIL };

/* One connection in a copied answer: a reader at its first subscription. */
struct dump_ent {
	uint64_t		 cid;
	struct subsdump_reader	 r;
};

/* What this process knows of a worker's mailbox. */
struct dump_state {
	bool		 init;
	bool		 open;		/* a round is out */
	bool		 warned;	/* its lateness was logged */
	uint64_t	 asked;		/* the last round asked */
	uint64_t	 got;		/* the round copied below; 0: none */
	unsigned char	*buf;		/* the copy */
	size_t		 cap;
	struct dump_ent	*idx;		/* its connections, by cid */
	size_t		 nidx, idxcap;
};

/* A /connz reply waiting for the workers' answers. */
struct connz_wait {
	TAILQ_ENTRY(connz_wait)	 entry;
	struct evhttp_request	*req;
	char			*callback;
	json_t			*reply;
	json_t			*list;		/* reply's connections */
	uint64_t		*cids;		/* the rows, in page order */
	uint32_t		*workers;
	size_t			 n;
	uint64_t		 need[MAX_WORKERS];	/* round; 0: no rows */
	uint32_t		 epoch[MAX_WORKERS];	/* the worker asked */
	int64_t			 deadline;	/* CLOCK_MONOTONIC ms */
	enum subs_mode		 subs;
};

TAILQ_HEAD(connz_waits, connz_wait);

static struct {
	struct mon		*mon;
	struct event		*ev_poll;
	struct connz_waits	 waits;
	struct dump_state	 w[MAX_WORKERS];
} cz = { .waits = TAILQ_HEAD_INITIALIZER(cz.waits) };

enum sort_key {
	BY_CID, BY_START, BY_SUBS, BY_PENDING, BY_MSGS_TO, BY_MSGS_FROM,
	BY_BYTES_TO, BY_BYTES_FROM, BY_LAST, BY_IDLE, BY_UPTIME
};

/*
 * nats-server's sort options.  cid and start sort ascending, uptime too
 * (the newest connections first, as nats-server orders them); every other
 * key puts the largest first (most subscriptions, most bytes, the most
 * recent activity for last, the most idle for idle).  nats-server 2.9
 * orders idle by last_activity - start; natsd uses the idle time it
 * shows, as later nats-server versions do.
 */
static const struct {
	const char	*name;
	enum sort_key	 key;
} sorts[] = {
	{ "cid", BY_CID },
	{ "start", BY_START },
	{ "subs", BY_SUBS },
	{ "pending", BY_PENDING },
	{ "msgs_to", BY_MSGS_TO },
	{ "msgs_from", BY_MSGS_FROM },
	{ "bytes_to", BY_BYTES_TO },
	{ "bytes_from", BY_BYTES_FROM },
	{ "last", BY_LAST },
	{ "idle", BY_IDLE },
	{ "uptime", BY_UPTIME },
};

/* a before b: -1; descending keys compare b with a. */
#define CMP(x, y)	((x) < (y) ? -1 : (x) > (y))

static int
conn_cmp(const void *pa, const void *pb, void *arg)
{
	const struct conn_info	*a = pa, *b = pb;
	enum sort_key		 key = *(const enum sort_key *)arg;
	int			 c;

	switch (key) {
	case BY_START:
		c = CMP(a->start, b->start);
		break;
	case BY_UPTIME:		/* shortest up: latest start */
		c = CMP(b->start, a->start);
		break;
	case BY_SUBS:
		c = CMP(b->num_subs, a->num_subs);
		break;
	case BY_PENDING:
		c = CMP(b->pending_bytes, a->pending_bytes);
		break;
	case BY_MSGS_TO:
		c = CMP(b->out_msgs, a->out_msgs);
		break;
	case BY_MSGS_FROM:
		c = CMP(b->in_msgs, a->in_msgs);
		break;
	case BY_BYTES_TO:
		c = CMP(b->out_bytes, a->out_bytes);
		break;
	case BY_BYTES_FROM:
		c = CMP(b->in_bytes, a->in_bytes);
		break;
	case BY_LAST:
		c = CMP(b->last_activity, a->last_activity);
		break;
	case BY_IDLE:		/* most idle: oldest activity */
		c = CMP(a->last_activity, b->last_activity);
		break;
	default:
		c = 0;
		break;
	}
	/* Equal keys in cid order, so pages do not shift between requests. */
	return c != 0 ? c : CMP(a->cid, b->cid);
}

/*
 * Every live worker's connections into a malloc'd array (*out, NULL when
 * there are none); returns how many.  cid > 0 keeps only that one.
 */
static size_t
collect(struct mon *mon, uint64_t cid, struct conn_info **out)
{
	struct conn_info	*v = NULL, *nv;
	struct conntab		*t;
	size_t			 n = 0, cap = 0;
	uint32_t		 i, hwm;
	int			 w;

	for (w = 0; w < mesh_nworkers(mon->m); w++) {
		/* A dead worker's table is stale until its successor resets it. */
		if (!atomic_load(&mesh_peer(mon->m, w)->alive))
			continue;
		t = mesh_conntab(mon->m, w);
		hwm = conntab_hwm(t);
		if (n + hwm > cap) {
			if ((nv = reallocarray(v, n + hwm, sizeof(*v))) == NULL)
				break;
			v = nv;
			cap = n + hwm;
		}
		for (i = 0; i < hwm; i++)
			if (conntab_read(t, i, &v[n]) == 1 &&
			    (cid == 0 || v[n].cid == cid))
				n++;
	}
	*out = v;
	return n;
}

#define SET(o, k, v)	json_object_set_new((o), (k), (v))
#define INT(v)		json_integer((json_int_t)(v))

static json_t *
conn_json(const struct conn_info *ci, int64_t now)
{
	json_t	*o;
	char	 tb[MON_TIME_LEN], db[MON_DUR_LEN];

	if ((o = json_object()) == NULL)
		return NULL;
	SET(o, "cid", INT(ci->cid));
	SET(o, "kind", json_string("Client"));
	SET(o, "type", json_string("nats"));
	SET(o, "ip", json_string(ci->ip));
	SET(o, "port", INT(ci->port));
	SET(o, "start", json_string(fmt_time((int64_t)ci->start, tb,
	    sizeof(tb))));
	SET(o, "last_activity", json_string(fmt_time(
	    (int64_t)ci->last_activity, tb, sizeof(tb))));
	SET(o, "uptime", json_string(fmt_uptime(now - (int64_t)ci->start, db,
	    sizeof(db))));
	SET(o, "idle", json_string(fmt_uptime(now - (int64_t)ci->last_activity,
	    db, sizeof(db))));
	SET(o, "pending_bytes", INT(ci->pending_bytes));
	SET(o, "in_msgs", INT(ci->in_msgs));
	SET(o, "out_msgs", INT(ci->out_msgs));
	SET(o, "in_bytes", INT(ci->in_bytes));
	SET(o, "out_bytes", INT(ci->out_bytes));
	SET(o, "subscriptions", INT(ci->num_subs));
	/* Left out when the client did not say, as nats-server does. */
	if (ci->name[0] != '\0')
		SET(o, "name", json_string(ci->name));
	if (ci->lang[0] != '\0')
		SET(o, "lang", json_string(ci->lang));
	if (ci->version[0] != '\0')
		SET(o, "version", json_string(ci->version));
	SET(o, "worker", INT(ci->worker));
	return o;
}

/* ------------------------------------------------------------------ */
/* Subscriptions, from the workers */

/*
 * A JSON string of len bytes.  Subjects and sids are what clients sent;
 * bytes that are not UTF-8 would make the whole reply unprintable, so
 * such a string is shown with '?' in their place.
 */
static json_t *
jstr(const char *p, size_t len)
{
	json_t	*j;
	char	*q;
	size_t	 i;

	if ((j = json_stringn(p, len)) != NULL || (q = malloc(len)) == NULL)
		return j;
	for (i = 0; i < len; i++)
		q[i] = (unsigned char)p[i] < 0x80 ? p[i] : '?';
	j = json_stringn(q, len);
	free(q);
	return j;
}

static int
ent_cmp(const void *pa, const void *pb)
{
	const struct dump_ent *a = pa, *b = pb;

	return CMP(a->cid, b->cid);
}

static struct dump_state *
dump_state(int w)
{
	struct dump_state	*ds = &cz.w[w];
	struct subsdump		*d = mesh_subsdump(cz.mon->m, w);

	/*
	 * A monitor that starts again takes the mailbox as its predecessor
	 * left it: a round still out is waited for before another is asked.
	 */
	if (!ds->init) {
		ds->init = true;
		ds->asked = subsdump_req(d);
		ds->open = !subsdump_idle(d);
	}
	return ds;
}

/* Copy worker w's answer out of its mailbox and index it by cid. */
static void
dump_take(int w, struct dump_state *ds)
{
	struct subsdump		*d = mesh_subsdump(cz.mon->m, w);
	struct subsdump_reader	 r;
	struct dump_ent		*ne;
	const void		*data;
	unsigned char		*nb;
	uint64_t		 cid;
	uint32_t		 nsubs;
	size_t			 len;
	bool			 truncated, partial;
	int			 rv;

	ds->open = false;
	ds->got = ds->asked;
	ds->nidx = 0;
	if (subsdump_answer(d, &data, &len, &truncated) == -1) {
		log_warnx("/connz: worker %d answered with an impossible "
		    "length; its subscriptions are left out", w);
		return;
	}
	if (truncated)
		log_warnx("/connz: worker %d's subscriptions did not fit in "
		    "%d bytes; some connections are listed without them", w,
		    SUBSDUMP_DATA_SIZE);
	if (len > ds->cap) {
		if ((nb = realloc(ds->buf, len)) == NULL) {
			log_warn("/connz: %zu bytes for worker %d's "
			    "subscriptions", len, w);
			return;
		}
		ds->buf = nb;
		ds->cap = len;
	}
	if (len > 0)
		memcpy(ds->buf, data, len);
	subsdump_reader_init(&r, ds->buf, len);
	while ((rv = subsdump_next_conn(&r, &cid, &nsubs, &partial)) == 1) {
		if (ds->nidx == ds->idxcap) {
			ne = reallocarray(ds->idx, ds->idxcap ?
			    ds->idxcap * 2 : 64, sizeof(*ne));
			if (ne == NULL) {
				log_warn("/connz: index of worker %d's "
				    "subscriptions", w);
				break;
			}
			ds->idx = ne;
			ds->idxcap = ds->idxcap ? ds->idxcap * 2 : 64;
		}
		ds->idx[ds->nidx].cid = cid;
		ds->idx[ds->nidx++].r = r;
	}
	if (rv == -1)
		log_warnx("/connz: worker %d's answer is malformed after %zu "
		    "connections; the rest is left out", w, ds->nidx);
	if (ds->nidx > 1)
		qsort(ds->idx, ds->nidx, sizeof(*ds->idx), ent_cmp);
}

static const struct dump_ent *
dump_find(const struct dump_state *ds, uint64_t cid)
{
	struct dump_ent key = { .cid = cid };

	if (ds->nidx == 0)
		return NULL;
	return bsearch(&key, ds->idx, ds->nidx, sizeof(*ds->idx), ent_cmp);
}

static bool
worker_gone(int w, uint32_t epoch)
{
	struct mesh_peer *p = mesh_peer(cz.mon->m, w);

	return !atomic_load(&p->alive) || atomic_load(&p->epoch) != epoch;
}

/* Has the wait everything it can get from worker w? */
static bool
wait_has(const struct connz_wait *cw, int w)
{
	return cw->need[w] == 0 || cz.w[w].got >= cw->need[w] ||
	    worker_gone(w, cw->epoch[w]);
}

static int
u64_cmp(const void *pa, const void *pb)
{
	const uint64_t *a = pa, *b = pb;

	return CMP(*a, *b);
}

/*
 * Ask worker w for the connections of every waiting reply that has rows
 * there, those already served by an earlier round too: the copy they
 * will read from is replaced by this round's answer.
 */
static void
dump_ask(int w, struct dump_state *ds)
{
	struct subsdump		*d = mesh_subsdump(cz.mon->m, w);
	struct connz_wait	*cw;
	uint64_t		*v = NULL, *nv;
	size_t			 n = 0, cap = 0, i, k;

	TAILQ_FOREACH(cw, &cz.waits, entry) {
		if (cw->need[w] == 0)
			continue;
		for (i = 0; i < cw->n; i++) {
			if (cw->workers[i] != (uint32_t)w)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nv = reallocarray(v, cap,
				    sizeof(*v))) == NULL) {
					/* Ask for everyone instead. */
					free(v);
					v = NULL;
					n = SIZE_MAX;
					goto ask;
				}
				v = nv;
			}
			v[n++] = cw->cids[i];
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), u64_cmp);
	for (i = k = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	n = k;
ask:
	ds->asked = subsdump_ask(d, v, n);
	ds->open = true;
	ds->warned = false;
	free(v);
	/*
	 * Unconditionally, not mesh_wake(): the worker does not look at its
	 * mailbox before it sleeps, so only a write to its eventfd is sure
	 * to reach it.  Rounds are rare; the syscall costs nothing that
	 * matters.
	 */
	mesh_kick(cz.mon->m, w);
}

/* Open a round for each idle live worker some waiting reply needs. */
static void
dump_pump(void)
{
	struct connz_wait	*cw;
	struct dump_state	*ds;
	int			 w;

	for (w = 0; w < mesh_nworkers(cz.mon->m); w++) {
		ds = &cz.w[w];
		if (!ds->init || ds->open ||
		    !atomic_load(&mesh_peer(cz.mon->m, w)->alive))
			continue;
		TAILQ_FOREACH(cw, &cz.waits, entry)
			if (!wait_has(cw, w))
				break;
		if (cw != NULL)
			dump_ask(w, ds);
	}
}

/* Copy the answers that came in. */
static void
dump_poll(int64_t now)
{
	struct connz_wait	*cw;
	struct dump_state	*ds;
	int			 w;

	for (w = 0; w < mesh_nworkers(cz.mon->m); w++) {
		ds = &cz.w[w];
		if (!ds->init || !ds->open)
			continue;
		if (subsdump_idle(mesh_subsdump(cz.mon->m, w))) {
			dump_take(w, ds);
			continue;
		}
		if (ds->warned)
			continue;
		/* Late for a reply that now goes without: say so once. */
		TAILQ_FOREACH(cw, &cz.waits, entry)
			if (now >= cw->deadline && !wait_has(cw, w))
				break;
		if (cw != NULL) {
			log_warnx("/connz: worker %d did not list its "
			    "subscriptions within %d ms; its connections are "
			    "shown without them", w, SUBS_DEADLINE_MS);
			ds->warned = true;
		}
	}
}

/* A connection's subscriptions as the reply shows them. */
static json_t *
subs_json(const struct dump_ent *e, enum subs_mode mode)
{
	struct subsdump_reader	 r = e->r;
	struct subsdump_sub	 sd;
	json_t			*list, *o;

	if ((list = json_array()) == NULL)
		return NULL;
	while (subsdump_next_sub(&r, &sd) == 1) {
		if (mode == SUBS_LIST) {
			json_array_append_new(list, jstr(sd.subject,
			    sd.subject_len));
			continue;
		}
		if ((o = json_object()) == NULL)
			break;
		SET(o, "subject", jstr(sd.subject, sd.subject_len));
		if (sd.queue != NULL)
			SET(o, "qgroup", jstr(sd.queue, sd.queue_len));
		SET(o, "sid", jstr(sd.sid, sd.sid_len));
		SET(o, "msgs", INT(sd.msgs));
		if (sd.max != 0)
			SET(o, "max", INT(sd.max));
		SET(o, "cid", INT(e->cid));
		json_array_append_new(list, o);
	}
	return list;
}

static void
wait_free(struct connz_wait *cw)
{
	json_decref(cw->reply);
	free(cw->callback);
	free(cw->cids);
	free(cw->workers);
	free(cw);
}

/* Fill in the lists the workers gave and send the reply. */
static void
wait_finish(struct connz_wait *cw)
{
	const struct dump_ent	*e;
	struct mon_reply	 r;
	json_t			*list;
	size_t			 i;
	uint32_t		 w;

	for (i = 0; i < cw->n; i++) {
		w = cw->workers[i];
		if (w >= MAX_WORKERS || cw->need[w] == 0 ||
		    cz.w[w].got < cw->need[w] ||
		    (e = dump_find(&cz.w[w], cw->cids[i])) == NULL)
			continue;
		if ((list = subs_json(e, cw->subs)) == NULL)
			continue;
		/* Left out when empty, as nats-server's omitempty does. */
		if (json_array_size(list) == 0) {
			json_decref(list);
			continue;
		}
		SET(json_array_get(cw->list, i), cw->subs == SUBS_LIST ?
		    "subscriptions_list" : "subscriptions_list_detail", list);
	}
	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.json = cw->reply;
	cw->reply = NULL;
	http_reply(cw->req, &r, cw->callback);
	wait_free(cw);
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct timeval		 tv = { 0, SUBS_POLL_MS * 1000 };
	struct connz_wait	*cw, *next;
	int64_t			 now = now_ms();
	int			 w;

	dump_poll(now);
	TAILQ_FOREACH_SAFE(cw, &cz.waits, entry, next) {
		for (w = 0; w < mesh_nworkers(cz.mon->m); w++)
			if (!wait_has(cw, w))
				break;
		if (w == mesh_nworkers(cz.mon->m) || now >= cw->deadline) {
			TAILQ_REMOVE(&cz.waits, cw, entry);
			wait_finish(cw);
		}
	}
	dump_pump();
	if (!TAILQ_EMPTY(&cz.waits))
		evtimer_add(cz.ev_poll, &tv);
}

/*
 * Keep the reply o (its connections in list, rows v[0 .. n-1]) until the
 * workers have listed the rows' subscriptions.  -1 when that cannot be
 * arranged: the caller then sends it as it is.
 */
static int
wait_start(struct mon_request *rq, json_t *o, json_t *list,
    const struct conn_info *v, size_t n, enum subs_mode subs)
{
	struct timeval		 tv = { 0, SUBS_POLL_MS * 1000 };
	struct connz_wait	*cw;
	struct dump_state	*ds;
	size_t			 i;
	uint32_t		 w;

	cz.mon = rq->mon;
	if (cz.ev_poll == NULL &&
	    (cz.ev_poll = evtimer_new(rq->mon->base, on_poll, NULL)) == NULL)
		return -1;
	if ((cw = calloc(1, sizeof(*cw))) == NULL)
		return -1;
	cw->cids = reallocarray(NULL, n, sizeof(*cw->cids));
	cw->workers = reallocarray(NULL, n, sizeof(*cw->workers));
	if (cw->cids == NULL || cw->workers == NULL || (rq->callback != NULL &&
	    (cw->callback = strdup(rq->callback)) == NULL)) {
		wait_free(cw);
		return -1;
	}
	cw->req = rq->req;
	cw->reply = o;
	cw->list = list;
	cw->n = n;
	cw->subs = subs;
	cw->deadline = now_ms() + SUBS_DEADLINE_MS;
	for (i = 0; i < n; i++) {
		w = v[i].worker;
		cw->cids[i] = v[i].cid;
		cw->workers[i] = w;
		/* Out of range only in a corrupt row: asked of nobody. */
		if (w >= (uint32_t)mesh_nworkers(rq->mon->m) ||
		    cw->need[w] != 0)
			continue;
		/* The first round asked after this request arrived. */
		ds = dump_state((int)w);
		cw->need[w] = ds->asked + 1;
		cw->epoch[w] = atomic_load(&mesh_peer(rq->mon->m,
		    (int)w)->epoch);
	}
	TAILQ_INSERT_TAIL(&cz.waits, cw, entry);
	dump_pump();
	if (!evtimer_pending(cz.ev_poll, NULL))
		evtimer_add(cz.ev_poll, &tv);
	return 0;
}

void
connz_shutdown(void)
{
	struct connz_wait	*cw;
	int			 w;

	/* The HTTP servers free the requests themselves. */
	while ((cw = TAILQ_FIRST(&cz.waits)) != NULL) {
		TAILQ_REMOVE(&cz.waits, cw, entry);
		wait_free(cw);
	}
	if (cz.ev_poll != NULL)
		event_free(cz.ev_poll);
	cz.ev_poll = NULL;
	for (w = 0; w < MAX_WORKERS; w++) {
		free(cz.w[w].buf);
		free(cz.w[w].idx);
	}
	memset(cz.w, 0, sizeof(cz.w));
}

int
connz_handle(struct mon_request *rq, struct mon_reply *r)
{
	struct mon		*mon = rq->mon;
	struct conn_info	*v;
	enum sort_key		 key = BY_CID;
	json_t			*o, *list, *c;
	const char		*sort, *state, *subs_s;
	char			 tb[MON_TIME_LEN];
	long long		 offset, limit, cid;
	size_t			 n, i, from, to;
	enum subs_mode		 subs;
	int			 yes;

	if ((sort = http_query_str(rq, "sort")) != NULL && *sort != '\0') {
		for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
			if (strcmp(sort, sorts[i].name) == 0)
				break;
		if (i == sizeof(sorts) / sizeof(sorts[0])) {
			if (strcmp(sort, "stop") == 0 ||
			    strcmp(sort, "reason") == 0)
				return http_error(r, 400, "sort by %s only "
				    "valid on closed connections", sort);
			return http_error(r, 400, "invalid sorting option: "
			    "%.64s", sort);
		}
		key = sorts[i].key;
	}
	if ((subs_s = http_query_str(rq, "subs")) != NULL &&
	    strcasecmp(subs_s, "detail") == 0)
		subs = SUBS_DETAIL;
	else if (http_query_bool(rq, "subs", 0, &yes, r) == -1)
		return -1;
	else
		subs = yes ? SUBS_LIST : SUBS_NONE;
	if (http_query_int(rq, "offset", 0, &offset, r) == -1 ||
	    http_query_int(rq, "limit", CONNZ_DEFAULT_LIMIT, &limit, r) == -1 ||
	    http_query_int(rq, "cid", 0, &cid, r) == -1)
		return -1;
	if ((state = http_query_str(rq, "state")) != NULL && *state != '\0' &&
	    strcmp(state, "open") != 0) {
		if (strcmp(state, "closed") == 0 || strcmp(state, "all") == 0 ||
		    strcmp(state, "any") == 0)
			return http_error(r, 400, "state=%s: natsd does not "
			    "keep closed connections", state);
		return http_error(r, 400, "invalid connection state: %.64s",
		    state);
	}
	if (offset < 0)
		offset = 0;
	if (limit <= 0)
		limit = CONNZ_DEFAULT_LIMIT;
	if (cid < 0)
		cid = 0;

	n = collect(mon, (uint64_t)cid, &v);
	if (n > 1)
		qsort_r(v, n, sizeof(*v), conn_cmp, &key);
	from = (size_t)offset < n ? (size_t)offset : n;
	to = (unsigned long long)limit < n - from ? from + (size_t)limit : n;

	if ((o = json_object()) == NULL || (list = json_array()) == NULL) {
		json_decref(o);
		free(v);
		return http_error(r, 500, "out of memory");
	}
	SET(o, "server_id", json_string(mesh_server_id(mon->m)));
	SET(o, "now", json_string(fmt_time(rq->now_ns, tb, sizeof(tb))));
	SET(o, "num_connections", INT(to - from));
	SET(o, "total", INT(n));
	SET(o, "offset", INT(offset));
	SET(o, "limit", INT(limit));
	SET(o, "connections", list);
	for (i = from; i < to; i++) {
		/* A row that cannot be built keeps its place: a null. */
		if ((c = conn_json(&v[i], rq->now_ns)) == NULL)
			c = json_null();
		json_array_append_new(list, c);
	}
	if (subs != SUBS_NONE && to > from &&
	    wait_start(rq, o, list, &v[from], to - from, subs) == 0) {
		free(v);
		return 1;
	}
	free(v);
	r->json = o;
	return 0;
}
