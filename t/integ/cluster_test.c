/*
 * Clustering end to end: three servers on loopback, each with two
 * workers when natsd, joined by routes.  A full mesh from one seed
 * (gossip); a message published on one node reaching subscribers on
 * the others on every worker exactly once; queue groups spanning nodes
 * served once per message; UNSUB and a closing connection retracting
 * interest across the route; request/reply and headers across nodes;
 * route authorization; a killed router respawned and the mesh back; a
 * mixed cluster of natsd and nats-server; TLS on routes; a routes list
 * added by SIGHUP without dropping clients; /routez; --no_advertise.
 *
 * Every wait is bounded.  Interest crosses a route asynchronously, so
 * before counting messages a test proves the interest has arrived: a
 * subscriber's sync subject, subscribed after its real subscriptions
 * and so travelling behind them on the same route, is published until
 * a copy comes back.  Routes never forward to routes (one hop), so a
 * message from B reaching a subscriber on C proves a direct B-C route.
 *
 * Every expectation was checked against nats-server 2.9 (NATSD=
 * /usr/sbin/nats-server); what only natsd has (the router process) is
 * skipped there.  The mixed cluster uses $NATS_SERVER (default
 * /usr/sbin/nats-server) beside $NATSD.
 */
#include "config.h"

#include <sys/types.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/certs.h"
#include "../lib/harness.h"
#include "../tap.h"
#include "../lib/points.h"

#define T		HARNESS_TIMEOUT_MS
#define WORKERS		HARNESS_NODE_WORKERS
#define CLUSTER		HARNESS_CLUSTER
#define ROUTE_MS	10000	/* a route forms (or interest crosses) within */
#define NEVER_MS	2000	/* what must not cross, does not within */
#define QUIET_MS	300	/* no duplicate follows the last message */
#define RELOAD_MS	5000	/* a reload is applied within */
#define PICK_MAX	16	/* connections opened to cover the workers */
#define SYNC_SID	"999"
#define NFAN		20	/* messages for the fan-out test */
#define NQUEUE		300	/* messages for the queue group tests */
#define NBATCH		20	/* queue messages per retraction probe */

#define NATS_SERVER_BIN	"/usr/sbin/nats-server"

static int	 natsd;		/* $NATSD is natsd, not nats-server */

static char *
route_url(int port)
{
	return harness_asprintf("nats://127.0.0.1:%d", port);
}

/*
 * Clients get an async INFO whenever the cluster changes (connect_urls):
 * the readers below skip them where conn_*() would see an unexpected
 * line.
 */
static int
is_info(const char *line)
{
	return strncmp(line, "INFO ", 5) == 0;
}

static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - harness_now_ms();

	return left > 0 ? (int)left : 0;
}

/* A harness message reader, called past async INFOs within ms. */
static int
past_info(int (*reader)(struct conn *, struct msg *, int), struct conn *c,
    struct msg *m, int ms)
{
	int64_t	deadline = harness_now_ms() + ms;
	int	r;

	while ((r = reader(c, m, left_ms(deadline))) == 1 && is_info(c->line))
		;
	return r;
}

/* conn_read_msg() past async INFOs. */
static int
read_msg(struct conn *c, struct msg *m, int ms)
{
	return past_info(conn_read_msg, c, m, ms);
}

/* conn_next_msg() past async INFOs: -1 quietly when nothing comes. */
static int
next_msg(struct conn *c, struct msg *m, int ms)
{
	return past_info(conn_next_msg, c, m, ms);
}

/* Nothing but async INFOs for ms: conn_quiet() for clients. */
static int
quiet(struct conn *c, int ms)
{
	int64_t		 deadline = harness_now_ms() + ms;
	struct msg	 m = { 0 };
	int		 r, good = 1;

	while (left_ms(deadline) > 0) {
		r = conn_next_msg(c, &m, left_ms(deadline));
		if (r == 1 && is_info(c->line))
			continue;
		if (r == -1 && !c->eof)
			break;
		diag("expected silence, got %s", r == 0 ? m.subject :
		    r == 1 ? c->line : "EOF");
		good = 0;
		break;
	}
	msg_free(&m);
	return good;
}

/* The next message is subject on sid 1 with payload. */
static int
expect_msg(struct conn *c, const char *subject, const char *payload)
{
	struct msg	m = { 0 };
	int		good;

	if (read_msg(c, &m, T) != 0) {
		diag("expected MSG %s, got %s", subject, c->eof ? "EOF" :
		    c->line != NULL ? c->line : "nothing");
		return 0;
	}
	good = strcmp(m.subject, subject) == 0 && strcmp(m.sid, "1") == 0 &&
	    strcmp(m.payload, payload) == 0;
	if (!good)
		diag("got MSG %s sid %s \"%s\", want %s sid 1 \"%s\"",
		    m.subject, m.sid, m.payload, subject, payload);
	msg_free(&m);
	return good;
}

/*
 * Prove the server at pub's port routes sub's interest: sub subscribes
 * to a fresh subject (after its real subscriptions, so on natsd and on
 * nats-server alike the new interest travels behind theirs), pub
 * publishes it until a copy arrives.  Then UNSUB and PING: stragglers
 * up to the PONG are swallowed, later ones cannot come.  Any other
 * message on sub is a failure.
 */
static int
sync_interest(struct conn *pub, struct conn *sub)
{
	static unsigned	 seq;
	int64_t		 deadline = harness_now_ms() + ROUTE_MS;
	struct msg	 m = { 0 };
	char		 subj[64];
	int		 got = 0, r;

	snprintf(subj, sizeof(subj), "_sync.%u", ++seq);
	if (conn_send(sub, "SUB %s " SYNC_SID "\r\n", subj) == -1 ||
	    !conn_flush(sub, T))
		return 0;
	while (!got && harness_now_ms() < deadline) {
		if (conn_send(pub, "PUB %s 4\r\nsync\r\n", subj) == -1)
			break;
		r = next_msg(sub, &m, 50);
		if (r == 0 && strcmp(m.sid, SYNC_SID) == 0) {
			got = 1;
		} else if (r == 0) {
			diag("sync: unexpected MSG %s sid %s", m.subject,
			    m.sid);
			break;
		} else if (r == 1) {
			diag("sync: unexpected \"%s\"", sub->line);
			break;
		} else if (sub->eof)
			break;
	}
	if (!got)
		diag("sync: %s never crossed from port %d to port %d", subj,
		    pub->port, sub->port);
	if (conn_send(sub, "UNSUB " SYNC_SID "\r\nPING\r\n") == -1)
		got = 0;
	while (got) {
		r = read_msg(sub, &m, T);
		if (r == 1 && strcmp(sub->line, "PONG") == 0)
			break;
		if (r == 0 && strcmp(m.sid, SYNC_SID) == 0)
			continue;
		diag("sync: unexpected %s", r == 0 ? m.subject : r == 1 ?
		    sub->line : "timeout");
		got = 0;
	}
	msg_free(&m);
	return got;
}

/*
 * n connections to port spread over the workers (natsd gives a new
 * connection to the worker with fewer clients; the INFO names it):
 * n / WORKERS on each.  Against nats-server any n connections do.
 */
static int
open_spread(int port, struct conn **cs, int n)
{
	struct conn	*spare[PICK_MAX], *c;
	int		 have[WORKERS] = { 0 }, nspare = 0, k = 0, tries;

	for (tries = 0; k < n && tries < PICK_MAX; tries++) {
		if ((c = client_new(port, NULL)) == NULL)
			break;
		if (c->worker < 0) {
			cs[k++] = c;
		} else if (c->worker < WORKERS &&
		    have[c->worker] < n / WORKERS) {
			have[c->worker]++;
			cs[k++] = c;
		} else
			spare[nspare++] = c;
	}
	while (nspare > 0)
		conn_free(spare[--nspare]);
	if (k < n) {
		diag("only %d of %d connections to port %d spread over the "
		    "workers", k, n, port);
		while (k > 0)
			conn_free(cs[--k]);
		return -1;
	}
	return 0;
}

/*
 * Read n messages on c, sid "1", payloads "m0".."m{n-1}" in order, then
 * nothing for QUIET_MS: each delivered exactly once.
 */
static int
got_each_once(struct conn *c, int n)
{
	struct msg	 m = { 0 };
	char		 want[32];
	int		 i, good = 1;

	for (i = 0; good && i < n; i++) {
		snprintf(want, sizeof(want), "m%d", i);
		if (read_msg(c, &m, T) != 0) {
			diag("message %d of %d never came", i, n);
			good = 0;
		} else if (strcmp(m.sid, "1") != 0 || m.len != strlen(want) ||
		    memcmp(m.payload, want, m.len) != 0) {
			diag("message %d: sid %s payload \"%s\", want \"%s\"",
			    i, m.sid, m.payload, want);
			good = 0;
		}
	}
	msg_free(&m);
	return good && quiet(c, QUIET_MS);
}

static void
free_conns(struct conn **cs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		conn_free(cs[i]);
		cs[i] = NULL;
	}
}

/* ---------------------------------------------------------------- */

/* The server_id a client of the node sees in INFO (to free), or NULL. */
static char *
server_id(struct node *n)
{
	struct conn	*c;
	const char	*id;
	char		*out = NULL;

	if ((c = conn_open(n->s->port)) == NULL)
		return NULL;
	if ((id = json_string_value(json_object_get(c->info, "server_id"))) !=
	    NULL)
		out = strdup(id);
	conn_free(c);
	return out;
}

/*
 * A's /routez: one route to each of B and C, named by their server_id,
 * with nats-server's fields, and traffic counted both ways (the probes
 * crossed every route).
 */
static void
routez_detail(struct node *n)
{
	static const char *const keys[] = { "rid", "remote_id",
	    "did_solicit", "ip", "port", "pending_size", "in_msgs",
	    "out_msgs", "in_bytes", "out_bytes", "subscriptions", NULL };
	json_t	*o, *r, *route;
	char	*id;
	size_t	 i, k;
	int	 good;

	if ((o = harness_http_json(n[0].mport, "/routez")) == NULL) {
		ok(0, "routez: A's /routez");
		return;
	}
	for (k = 1; k < 3; k++) {
		id = server_id(&n[k]);
		route = NULL;
		json_array_foreach(json_object_get(o, "routes"), i, r)
			if (id != NULL && json_is_string(json_object_get(r,
			    "remote_id")) && strcmp(json_string_value(
			    json_object_get(r, "remote_id")), id) == 0)
				route = r;
		ok(route != NULL, "routez: A has a route whose remote_id is "
		    "%s's server_id %s", n[k].label, id != NULL ? id : "?");
		free(id);
		if (route == NULL)
			continue;
		good = 1;
		for (i = 0; keys[i] != NULL; i++)
			if (json_object_get(route, keys[i]) == NULL) {
				diag("route to %s: no \"%s\"", n[k].label,
				    keys[i]);
				good = 0;
			}
		ok(good, "routez: A's route to %s has nats-server's fields",
		    n[k].label);
		good = 1;
		for (i = 6; i < 10; i++)
			if (json_integer_value(json_object_get(route,
			    keys[i])) <= 0) {
				diag("route to %s: %s is not positive",
				    n[k].label, keys[i]);
				good = 0;
			}
		ok(good, "routez: A's route to %s counted messages both ways",
		    n[k].label);
	}
	json_decref(o);
	/* /varz counts them too, with the cluster's listen port. */
	if ((o = harness_http_json(n[0].mport, "/varz")) == NULL) {
		ok(0, "varz: A's /varz");
		return;
	}
	is_int(json_integer_value(json_object_get(o, "routes")), 2,
	    "varz: A counts 2 routes");
	ok(json_is_object(json_object_get(o, "cluster")) &&
	    json_integer_value(json_object_get(json_object_get(o, "cluster"),
	    "cluster_port")) > 0, "varz: cluster block with cluster_port");
	json_decref(o);
}

/*
 * 1. B and C know only A; gossip must give them a direct route to each
 * other.  Every ordered pair carries messages; each monitor shows two
 * routes.
 */
static void
test_mesh(struct node *n)
{
	json_t	*o;
	int64_t	 deadline;
	int	 i, nroutes;

	node_mesh_ok(n, 3, -1, NULL, ROUTE_MS,
	    "mesh: a message from %s reaches %s");
	for (i = 0; i < 3; i++) {
		deadline = harness_now_ms() + ROUTE_MS;
		nroutes = -1;
		for (;;) {
			if ((o = harness_http_json(n[i].mport, "/routez")) !=
			    NULL) {
				nroutes = (int)json_integer_value(
				    json_object_get(o, "num_routes"));
				json_decref(o);
			}
			if (nroutes == 2 || harness_now_ms() >= deadline)
				break;
			harness_nap(100);
		}
		is_int(nroutes, 2, "mesh: /routez of %s shows 2 routes",
		    n[i].label);
	}
	routez_detail(n);
}

/*
 * 2. A message published on A reaches every subscriber on A, B and C,
 * connections on both workers of each, exactly once and in order; once
 * from a publisher on each of A's workers (each worker routes what its
 * clients publish, and learns the routes' interest on its own).
 */
static void
test_fanout(struct node *n)
{
	struct conn	*subs[3][4] = { { NULL } }, *pubs[2] = { NULL };
	int		 i, k, p, good;

	if (open_spread(n[0].s->port, pubs, 2) == -1) {
		ok(0, "fan-out: publishers on both workers of A");
		return;
	}
	for (k = 0; k < 3; k++) {
		if (open_spread(n[k].s->port, subs[k], 4) == -1) {
			ok(0, "fan-out: 4 subscribers on %s over both workers",
			    n[k].label);
			continue;
		}
		for (i = 0; i < 4; i++) {
			good = conn_send(subs[k][i], "SUB fan.x 1\r\n") == 0 &&
			    sync_interest(pubs[0], subs[k][i]) &&
			    sync_interest(pubs[1], subs[k][i]);
			ok(good, "fan-out: both of A's workers know subscriber "
			    "%d on %s (worker %d)", i, n[k].label,
			    subs[k][i]->worker);
		}
	}
	for (p = 0; p < 2; p++) {
		for (i = 0; i < NFAN; i++)
			conn_send(pubs[p], "PUB fan.x %d\r\nm%d\r\n",
			    snprintf(NULL, 0, "m%d", i), i);
		ok(conn_flush(pubs[p], T), "fan-out: A (worker %d) took %d "
		    "messages", pubs[p]->worker, NFAN);
		for (k = 0; k < 3; k++)
			for (i = 0; i < 4; i++)
				if (subs[k][i] != NULL)
					ok(got_each_once(subs[k][i], NFAN),
					    "fan-out: from A's worker %d, "
					    "subscriber %d on %s (worker %d) "
					    "got each of %d messages once, in "
					    "order", pubs[p]->worker, i,
					    n[k].label, subs[k][i]->worker,
					    NFAN);
	}
	for (k = 0; k < 3; k++)
		free_conns(subs[k], 4);
	free_conns(pubs, 2);
}

/*
 * Publish count queue messages "0".."count-1" on pub, then read the
 * members until every message has arrived and QUIET_MS passes without
 * another (or a second passes without any, some being lost); per[] gets
 * what each member received.  Returns how many messages did not arrive
 * exactly once (0 is success), explained when verbose.
 */
static int
queue_round(struct conn *pub, const char *subject, struct conn **members,
    int nmem, int *per, int count, int verbose)
{
	struct msg	 m = { 0 };
	int		*seen, total = 0, bad = 0, i, r, idle;
	int64_t		 deadline, last;
	char		*end;
	long		 v;

	if ((seen = calloc((size_t)count, sizeof(*seen))) == NULL)
		abort();
	for (i = 0; i < nmem; i++)
		per[i] = 0;
	for (i = 0; i < count; i++)
		conn_send(pub, "PUB %s %d\r\n%d\r\n", subject,
		    snprintf(NULL, 0, "%d", i), i);
	if (!conn_flush(pub, T))
		bad++;
	deadline = harness_now_ms() + ROUTE_MS;
	last = harness_now_ms();
	while (harness_now_ms() < deadline) {
		idle = 1;
		for (i = 0; i < nmem; i++) {
			if (members[i] == NULL)
				continue;
			r = next_msg(members[i], &m, 5);
			if (r == 1) {
				diag("queue: unexpected \"%s\"",
				    members[i]->line);
				bad++;
				continue;
			}
			if (r != 0)
				continue;
			idle = 0;
			v = strtol(m.payload, &end, 10);
			if (*end != '\0' || v < 0 || v >= count) {
				diag("queue: bad payload \"%s\"", m.payload);
				bad++;
				continue;
			}
			seen[v]++;
			per[i]++;
			total++;
		}
		if (!idle)
			last = harness_now_ms();
		else if (harness_now_ms() - last >= (total >= count ?
		    QUIET_MS : 1000))
			break;
	}
	for (i = 0; i < count; i++)
		if (seen[i] != 1) {
			if (verbose && bad < 5)
				diag("queue: message %d delivered %d times",
				    i, seen[i]);
			bad++;
		}
	msg_free(&m);
	free(seen);
	return bad;
}

/*
 * 3. A queue group with two members on each node: each of 300 messages
 * from A is delivered once in the whole cluster, and members on every
 * node get some (nats-server 2.9 picks among local and remote members
 * alike).  With A's members gone, B and C share the messages.
 */
static void
test_queue(struct node *n)
{
	struct conn	*mem[6] = { NULL }, *pub;
	int		 per[6], i, k, good, bsum, csum;

	if ((pub = client_new(n[0].s->port, NULL)) == NULL) {
		ok(0, "queue: publisher on A");
		return;
	}
	for (k = 0; k < 3; k++) {
		if (open_spread(n[k].s->port, mem + 2 * k, 2) == -1) {
			ok(0, "queue: members on %s", n[k].label);
			goto out;
		}
		for (i = 2 * k; i < 2 * k + 2; i++) {
			good = conn_send(mem[i], "SUB q.x grp 1\r\n") == 0 &&
			    sync_interest(pub, mem[i]);
			ok(good, "queue: A knows member %d on %s (worker %d)",
			    i, n[k].label, mem[i]->worker);
		}
	}
	is_int(queue_round(pub, "q.x", mem, 6, per, NQUEUE, 1), 0,
	    "queue: %d messages from A, each delivered once in the cluster",
	    NQUEUE);
	diag("queue: per member A %d %d, B %d %d, C %d %d", per[0], per[1],
	    per[2], per[3], per[4], per[5]);
	ok(per[0] + per[1] > 0 && per[2] + per[3] > 0 && per[4] + per[5] > 0,
	    "queue: members on every node served some");

	/* A's members leave; B and C get everything, both some. */
	for (i = 0; i < 2; i++) {
		ok(conn_send(mem[i], "UNSUB 1\r\n") == 0 &&
		    conn_flush(mem[i], T), "queue: member %d on A leaves", i);
		conn_free(mem[i]);
		mem[i] = NULL;
	}
	is_int(queue_round(pub, "q.x", mem, 6, per, NQUEUE, 1), 0,
	    "queue: without A's members, %d messages from A each delivered "
	    "once", NQUEUE);
	bsum = per[2] + per[3];
	csum = per[4] + per[5];
	diag("queue: per member B %d %d, C %d %d", per[2], per[3], per[4],
	    per[5]);
	ok(bsum > 0 && csum > 0, "queue: members on B (%d) and on C (%d) "
	    "both served some", bsum, csum);
out:
	free_conns(mem, 6);
	conn_free(pub);
}


/*
 * Publish queue messages on pub in batches until a whole batch reaches
 * member: the publisher's node no longer gives another node a share,
 * so that node's interest is gone.  Bounded by ROUTE_MS.
 */
static int
retracted(struct conn *pub, const char *subject, struct conn *member)
{
	int64_t	 deadline = harness_now_ms() + ROUTE_MS;
	int	 per[1], batches = 0;

	while (harness_now_ms() < deadline) {
		batches++;
		if (queue_round(pub, subject, &member, 1, per, NBATCH, 0) == 0)
			return 1;
	}
	diag("after %d batches of %d, %s still loses messages elsewhere",
	    batches, NBATCH, subject);
	return 0;
}

/*
 * Whether a route in the node's /routez?subs=1 lists subject: 1, 0, or
 * -1 when the monitor does not answer.
 */
static int
routez_lists(struct node *n, const char *subject)
{
	json_t	*o, *r, *v;
	size_t	 i, j;
	int	 found = 0;

	if ((o = harness_http_json(n->mport, "/routez?subs=1")) == NULL)
		return -1;
	json_array_foreach(json_object_get(o, "routes"), i, r)
		json_array_foreach(json_object_get(r, "subscriptions_list"),
		    j, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), subject) == 0)
				found = 1;
	json_decref(o);
	return found;
}

/* Wait (bounded) until routez_lists() says want. */
static int
routez_wait(struct node *n, const char *subject, int want)
{
	int64_t	deadline = harness_now_ms() + ROUTE_MS;
	int	r;

	for (;;) {
		if ((r = routez_lists(n, subject)) == want)
			return 1;
		if (r == -1 || harness_now_ms() >= deadline)
			break;
		harness_nap(100);
	}
	diag("/routez?subs=1 of %s %s %s", n->label, want ? "never listed" :
	    "still lists", subject);
	return 0;
}

/* A subscriber on sub's subject gets nothing for QUIET_MS. */
static int
nothing_for(struct conn *c)
{
	return quiet(c, QUIET_MS);
}

/*
 * 4. UNSUB on B and the close of B's subscriber's connection retract
 * its interest on A: a queue group shared by B and C then sends every
 * message from A to C (a message given to B would be lost there), and
 * A's /routez no longer lists B's subject.  A plain subscriber on B
 * gets nothing after its UNSUB while one on C still does.
 */
static void
test_retract(struct node *n)
{
	struct conn	*pub, *qb = NULL, *qc = NULL, *sb = NULL, *wit = NULL;
	struct conn	*both[2];
	int		 per[2], good;

	if ((pub = client_new(n[0].s->port, NULL)) == NULL ||
	    (qb = client_new(n[1].s->port, NULL)) == NULL ||
	    (qc = client_new(n[2].s->port, NULL)) == NULL ||
	    (sb = client_new(n[1].s->port, NULL)) == NULL ||
	    (wit = client_new(n[2].s->port, NULL)) == NULL) {
		ok(0, "retract: clients on A, B and C");
		goto out;
	}
	good = conn_send(qb, "SUB r.x rgrp 1\r\n") == 0 &&
	    conn_send(qc, "SUB r.x rgrp 1\r\n") == 0 &&
	    conn_send(sb, "SUB u.x 1\r\nSUB rz.b 2\r\n") == 0 &&
	    conn_send(wit, "SUB u.x 1\r\n") == 0 &&
	    sync_interest(pub, qb) && sync_interest(pub, qc) &&
	    sync_interest(pub, sb) && sync_interest(pub, wit);
	ok(good, "retract: A knows the subscribers on B and C");
	both[0] = qb;
	both[1] = qc;
	good = queue_round(pub, "r.x", both, 2, per, 5 * NBATCH, 1) == 0;
	ok(good && per[0] > 0 && per[1] > 0, "retract: the queue group's "
	    "members on B (%d) and C (%d) share %d messages from A", per[0],
	    per[1], 5 * NBATCH);
	ok(routez_wait(&n[0], "rz.b", 1), "retract: A's /routez lists B's "
	    "subscription");

	ok(conn_send(qb, "UNSUB 1\r\n") == 0 && conn_flush(qb, T) &&
	    conn_send(sb, "UNSUB 1\r\nUNSUB 2\r\n") == 0 && conn_flush(sb, T),
	    "retract: UNSUB on B");
	ok(retracted(pub, "r.x", qc), "retract: after UNSUB on B, A gives "
	    "every queue message to C");
	ok(nothing_for(qb), "retract: B's former member gets nothing");
	ok(conn_send(pub, "PUB u.x 3\r\nyes\r\n") == 0 &&
	    expect_msg(wit, "u.x", "yes"),
	    "retract: C's subscriber still gets u.x");
	ok(nothing_for(sb), "retract: B's unsubscribed client gets nothing");
	ok(routez_wait(&n[0], "rz.b", 0), "retract: UNSUB on B removes the "
	    "subscription from A's /routez");

	/* The same retraction by closing the connection. */
	conn_free(qb);
	if ((qb = client_new(n[1].s->port, NULL)) == NULL) {
		ok(0, "retract: a new member on B");
		goto out;
	}
	good = conn_send(qb, "SUB r.x rgrp 1\r\nSUB rz.c 2\r\n") == 0 &&
	    sync_interest(pub, qb);
	ok(good, "retract: A knows B's new member");
	ok(routez_wait(&n[0], "rz.c", 1), "retract: A's /routez lists the "
	    "new member's subscription");
	conn_free(qb);
	qb = NULL;
	ok(retracted(pub, "r.x", qc), "retract: once B's member closes its "
	    "connection, A gives every queue message to C");
	ok(routez_wait(&n[0], "rz.c", 0), "retract: the closed connection's "
	    "subscription leaves A's /routez");
out:
	conn_free(pub);
	conn_free(qb);
	conn_free(qc);
	conn_free(sb);
	conn_free(wit);
}

/*
 * 5. Request/reply across nodes: a requester on rq with its _INBOX
 * subscription, a responder on rs; ten round trips.
 */
static void
test_request(struct node *rq, struct node *rs)
{
	struct conn	*req, *rsp = NULL;
	struct msg	 m = { 0 };
	char		 inbox[64], want[32];
	int		 i, good;

	if ((req = client_new(rq->s->port, NULL)) == NULL ||
	    (rsp = client_new(rs->s->port, NULL)) == NULL) {
		ok(0, "request %s -> %s: clients", rq->label, rs->label);
		goto out;
	}
	good = conn_send(req, "SUB _INBOX.t5%s.* 1\r\n", rq->label) == 0 &&
	    conn_send(rsp, "SUB svc.echo workers 1\r\n") == 0 &&
	    sync_interest(req, rsp) && sync_interest(rsp, req);
	ok(good, "request %s -> %s: both sides' interest crossed", rq->label,
	    rs->label);
	for (i = 0; good && i < 10; i++) {
		snprintf(inbox, sizeof(inbox), "_INBOX.t5%s.%d", rq->label, i);
		snprintf(want, sizeof(want), "ping %d", i);
		good = conn_send(req, "PUB svc.echo %s %zu\r\n%s\r\n", inbox,
		    strlen(want), want) == 0 &&
		    read_msg(rsp, &m, T) == 0;
		if (!good)
			break;
		if (strcmp(m.subject, "svc.echo") != 0 ||
		    strcmp(m.reply, inbox) != 0 ||
		    strcmp(m.payload, want) != 0) {
			diag("request %d: got %s reply %s \"%s\"", i,
			    m.subject, m.reply, m.payload);
			good = 0;
			break;
		}
		snprintf(want, sizeof(want), "pong %d", i);
		good = conn_send(rsp, "PUB %s %zu\r\n%s\r\n", m.reply,
		    strlen(want), want) == 0 &&
		    expect_msg(req, inbox, want);
	}
	ok(good, "request %s -> %s: 10 requests answered across the route",
	    rq->label, rs->label);
out:
	msg_free(&m);
	conn_free(req);
	conn_free(rsp);
}

/*
 * 6. Headers across nodes: HPUB on from; a headers client on to gets
 * the HMSG with the same header block, one without headers the body.
 */
static void
test_headers(struct node *from, struct node *to)
{
	static const char hdr[] = "NATS/1.0\r\nX-Test: one\r\nX-Two: 2\r\n\r\n";
	static const char body[] = "body";
	struct conn	*pub, *hs = NULL, *ns = NULL;
	struct msg	 m = { 0 };
	int		 good;

	if ((pub = client_new(from->s->port, NULL)) == NULL ||
	    (hs = client_new(to->s->port, NULL)) == NULL ||
	    (ns = client_new(to->s->port, "{\"headers\":false}")) == NULL) {
		ok(0, "headers %s -> %s: clients", from->label, to->label);
		goto out;
	}
	good = conn_send(hs, "SUB hdr.x 1\r\n") == 0 &&
	    conn_send(ns, "SUB hdr.x 1\r\n") == 0 &&
	    sync_interest(pub, hs) && sync_interest(pub, ns);
	ok(good, "headers %s -> %s: interest crossed", from->label,
	    to->label);
	ok(conn_send(pub, "HPUB hdr.x reply.h %zu %zu\r\n%s%s\r\n",
	    strlen(hdr), strlen(hdr) + strlen(body), hdr, body) == 0 &&
	    conn_flush(pub, T), "headers %s -> %s: HPUB", from->label,
	    to->label);
	good = read_msg(hs, &m, T) == 0;
	if (good && (!m.hmsg || m.hdr_len != strlen(hdr) ||
	    strcmp(m.headers, hdr) != 0 || strcmp(m.payload, body) != 0 ||
	    strcmp(m.reply, "reply.h") != 0)) {
		diag("got %s hdr_len %zu \"%s\" body \"%s\" reply %s",
		    m.hmsg ? "HMSG" : "MSG", m.hdr_len,
		    m.headers != NULL ? m.headers : "", m.payload, m.reply);
		good = 0;
	}
	ok(good, "headers %s -> %s: HMSG with the same headers, body and "
	    "reply", from->label, to->label);
	good = read_msg(ns, &m, T) == 0;
	if (good && (m.hmsg || strcmp(m.payload, body) != 0 ||
	    strcmp(m.reply, "reply.h") != 0)) {
		diag("got %s \"%s\" reply %s", m.hmsg ? "HMSG" : "MSG",
		    m.payload, m.reply);
		good = 0;
	}
	ok(good, "headers %s -> %s: a client without headers gets the body "
	    "only", from->label, to->label);
	ok(nothing_for(hs) && nothing_for(ns), "headers %s -> %s: once",
	    from->label, to->label);
out:
	msg_free(&m);
	conn_free(pub);
	conn_free(hs);
	conn_free(ns);
}

/*
 * Publish subject on pub every 50 ms until sub (already subscribed with
 * sid 1) gets it, bounded by ROUTE_MS.
 */
static int
arrives(struct conn *pub, struct conn *sub, const char *subject)
{
	int64_t		 deadline = harness_now_ms() + ROUTE_MS;
	struct msg	 m = { 0 };
	int		 got = 0;

	while (!got && harness_now_ms() < deadline) {
		if (conn_send(pub, "PUB %s 2\r\nhi\r\n", subject) == -1)
			break;
		if (next_msg(sub, &m, 50) == 0)
			got = strcmp(m.subject, subject) == 0;
		else if (sub->eof)
			break;
	}
	msg_free(&m);
	return got;
}

/*
 * 8. kill -9 of B's router: the master respawns it, it learns the
 * workers' interest again and the routes come back; a client of B that
 * stayed connected receives from A again.  natsd only.
 */
static void
test_router_kill(struct node *n)
{
	struct conn	*pub = NULL, *sub = NULL;
	int64_t		 deadline;
	pid_t		 old, now = -1;
	if (!n[1].natsd) {
		skip("router: nats-server has no router process");
		return;
	}
	if ((pub = client_new(n[0].s->port, NULL)) == NULL ||
	    (sub = client_new(n[1].s->port, NULL)) == NULL) {
		ok(0, "router: clients on A and B");
		goto out;
	}
	ok(conn_send(sub, "SUB k.x 1\r\n") == 0 && arrives(pub, sub, "k.x"),
	    "router: A -> B before the kill");
	old = server_child_titled(n[1].s, "natsd: router");
	ok(old > 0, "router: B has a \"natsd: router\" child");
	if (old <= 0)
		goto out;
	server_log_allow(n[1].s, "exited on signal 9");
	ok(kill(old, SIGKILL) == 0, "router: kill -9 %d", (int)old);
	deadline = harness_now_ms() + ROUTE_MS;
	while (harness_now_ms() < deadline) {
		now = server_child_titled(n[1].s, "natsd: router");
		if (now > 0 && now != old)
			break;
		harness_nap(50);
	}
	ok(now > 0 && now != old, "router: B's master respawned the router "
	    "(pid %d -> %d)", (int)old, (int)now);
	node_mesh_ok(n, 3, 1, NULL, ROUTE_MS,
	    "router: after the respawn %s -> %s");
	ok(conn_flush(sub, T), "router: B's client stayed connected");
	ok(arrives(pub, sub, "k.x"), "router: its subscription from before "
	    "the kill gets A's messages again");
out:
	conn_free(pub);
	conn_free(sub);
}

/* Tests 1-6 and 8 on three nodes of the server under test. */
static void
main_cluster(void)
{
	struct node	n[3];
	int		i;

	if (cluster_start3(n, NULL, 1, 0) == -1) {
		ok(0, "three nodes start");
		goto out;
	}
	test_mesh(n);
	test_fanout(n);
	test_queue(n);
	test_retract(n);
	test_request(&n[0], &n[2]);
	test_headers(&n[0], &n[1]);
	test_router_kill(n);
out:
	for (i = 2; i >= 0; i--)
		node_finish(&n[i], "cluster", NULL);
}

/*
 * 7. Route authorization on A: B with the right credentials in its
 * route URL forms the route, C with a wrong password never does, and A
 * logs the refusal.
 */
static void
route_auth(void)
{
	static const char *const allow_a[] = { "authentication error",
	    NULL };
	static const char *const allow_c[] = { "Authorization Violation",
	    "Error flushing", NULL };
	struct node	 n[3];
	char		*conf = NULL, *good_url = NULL, *bad_url = NULL;
	int		 i;

	memset(n, 0, sizeof(n));
	for (i = 0; i < 3; i++)
		n[i].cport = harness_free_port();
	conf = harness_asprintf("cluster {\n  name: %s\n"
	    "  listen: 127.0.0.1:%d\n  authorization {\n    user: ruser\n"
	    "    password: rpass\n    timeout: 2\n  }\n}\n", CLUSTER,
	    n[0].cport);
	good_url = harness_asprintf("nats://ruser:rpass@127.0.0.1:%d",
	    n[0].cport);
	bad_url = harness_asprintf("nats://ruser:wrong@127.0.0.1:%d",
	    n[0].cport);
	if (node_start(&n[0], "A", NULL, NULL, conf, 0) == -1 ||
	    node_start(&n[1], "B", NULL, good_url, NULL, 0) == -1 ||
	    node_start(&n[2], "C", NULL, bad_url, NULL, 0) == -1) {
		ok(0, "route auth: three nodes start");
		goto out;
	}
	ok(harness_route_probe(n[1].s->port, n[0].s->port, ROUTE_MS),
	    "route auth: B with the right password: B -> A");
	ok(harness_route_probe(n[0].s->port, n[1].s->port, ROUTE_MS),
	    "route auth: A -> B");
	ok(!harness_route_probe(n[2].s->port, n[0].s->port, NEVER_MS),
	    "route auth: C with a wrong password: nothing from C reaches A "
	    "in %d ms", NEVER_MS);
	ok(!harness_route_probe(n[0].s->port, n[2].s->port, 500),
	    "route auth: nor from A to C");
	ok(server_wait_log_icase(n[0].s, "authentication error", T),
	    "route auth: A logs the refused route");
out:
	node_finish(&n[2], "route auth", allow_c);
	node_finish(&n[1], "route auth", NULL);
	node_finish(&n[0], "route auth", allow_a);
	free(conf);
	free(good_url);
	free(bad_url);
}

/*
 * 7b. A reload changes the cluster's route password: new routes must use
 * the new one, and no client of either server is dropped.
 */
static void
reload_route_auth(void)
{
	static const char *const allow_a[] = { "authentication error",
	    NULL };
	static const char *const allow_old[] = { "Authorization Violation",
	    "Error flushing", "Error trying to connect", NULL };
	struct node	 n[4];
	struct conn	*ca = NULL, *cb = NULL;
	char		*conf1 = NULL, *conf2 = NULL, *url1 = NULL, *url2 = NULL;
	int		 i;

	memset(n, 0, sizeof(n));
	for (i = 0; i < 4; i++)
		n[i].cport = harness_free_port();
	conf1 = harness_asprintf("cluster {\n  name: %s\n"
	    "  listen: 127.0.0.1:%d\n  authorization {\n    user: ruser\n"
	    "    password: rpass\n  }\n}\n", CLUSTER, n[0].cport);
	conf2 = harness_asprintf("cluster {\n  name: %s\n"
	    "  listen: 127.0.0.1:%d\n  authorization {\n    user: ruser\n"
	    "    password: rpass2\n  }\n}\n", CLUSTER, n[0].cport);
	url1 = harness_asprintf("nats://ruser:rpass@127.0.0.1:%d", n[0].cport);
	url2 = harness_asprintf("nats://ruser:rpass2@127.0.0.1:%d",
	    n[0].cport);
	if (node_start(&n[0], "A", NULL, NULL, conf1, 0) == -1 ||
	    node_start(&n[1], "B", NULL, url1, NULL, 0) == -1) {
		ok(0, "reload auth: A and B start");
		goto out;
	}
	ok(harness_route_probe(n[1].s->port, n[0].s->port, ROUTE_MS),
	    "reload auth: B joins A with the first password");
	if ((ca = client_new(n[0].s->port, NULL)) == NULL ||
	    (cb = client_new(n[1].s->port, NULL)) == NULL) {
		ok(0, "reload auth: clients on A and B");
		goto out;
	}
	ok(server_reload(n[0].s, conf2, 1, RELOAD_MS),
	    "reload auth: SIGHUP A with a new route password");
	if (node_start(&n[2], "C", NULL, url2, NULL, 0) == -1 ||
	    node_start(&n[3], "D", NULL, url1, NULL, 0) == -1) {
		ok(0, "reload auth: C and D start");
		goto out;
	}
	ok(harness_route_probe(n[2].s->port, n[0].s->port, ROUTE_MS),
	    "reload auth: C with the new password joins A");
	ok(!harness_route_probe(n[3].s->port, n[0].s->port, NEVER_MS),
	    "reload auth: D with the old password does not");
	ok(conn_flush(ca, T) && conn_flush(cb, T),
	    "reload auth: A's and B's clients stayed connected");
out:
	conn_free(ca);
	conn_free(cb);
	node_finish(&n[3], "reload auth", allow_old);
	node_finish(&n[2], "reload auth", NULL);
	node_finish(&n[1], "reload auth", allow_old);
	node_finish(&n[0], "reload auth", allow_a);
	free(conf1);
	free(conf2);
	free(url1);
	free(url2);
}

/* Fill members[0..5] with two queue members per node on subject. */
static int
queue_members(struct node *n, struct conn *pub, const char *subject,
    struct conn **mem)
{
	int i, k;

	for (k = 0; k < 3; k++) {
		if (open_spread(n[k].s->port, mem + 2 * k, 2) == -1)
			return 0;
		for (i = 2 * k; i < 2 * k + 2; i++)
			if (conn_send(mem[i], "SUB %s mgrp 1\r\n", subject) ==
			    -1 || !sync_interest(pub, mem[i]))
				return 0;
	}
	return 1;
}

/*
 * 9. A mixed cluster: natsd A, nats-server B seeded with A, natsd C
 * seeded with B (so C learns A from nats-server's gossip).  Messages in
 * every direction, queue groups across both kinds of server, request/
 * reply and headers both ways.
 */
static void
mixed_cluster(void)
{
	const char	*ns = getenv("NATS_SERVER");
	const char	*bins[3], *names[3];
	char		 kind[3][32];
	struct node	 n[3];
	struct conn	*pub = NULL, *mem[6] = { NULL };
	int		 per[6], i;

	ns = ns != NULL && *ns != '\0' ? ns : NATS_SERVER_BIN;
	if (access(ns, X_OK) == -1) {
		skip("mixed: no %s", ns);
		return;
	}
	bins[0] = NULL;
	bins[1] = ns;
	bins[2] = NULL;
	if (cluster_start3(n, bins, 0, 1) == -1) {
		ok(0, "mixed: natsd, nats-server and natsd start");
		goto out;
	}
	for (i = 0; i < 3; i++) {
		snprintf(kind[i], sizeof(kind[i]), "%s (%s)", n[i].label,
		    n[i].natsd ? "natsd" : "nats-server");
		names[i] = kind[i];
	}
	node_mesh_ok(n, 3, -1, names, ROUTE_MS, "mixed: %s -> %s");
	for (i = 0; i < 2; i++) {
		if ((pub = client_new(n[i].s->port, NULL)) == NULL ||
		    !queue_members(n, pub, i == 0 ? "mq.a" : "mq.b", mem)) {
			ok(0, "mixed: queue members on every node known to %s",
			    n[i].label);
			goto out;
		}
		is_int(queue_round(pub, i == 0 ? "mq.a" : "mq.b", mem, 6, per,
		    NQUEUE, 1), 0, "mixed: %d queue messages from %s each "
		    "delivered once", NQUEUE, n[i].label);
		diag("mixed: per member A %d %d, B %d %d, C %d %d", per[0],
		    per[1], per[2], per[3], per[4], per[5]);
		free_conns(mem, 6);
		conn_free(pub);
		pub = NULL;
	}
	test_request(&n[0], &n[1]);
	test_request(&n[1], &n[0]);
	test_request(&n[2], &n[1]);
	test_headers(&n[0], &n[1]);
	test_headers(&n[1], &n[2]);
out:
	free_conns(mem, 6);
	conn_free(pub);
	for (i = 2; i >= 0; i--)
		node_finish(&n[i], "mixed", NULL);
}

/* The cluster block of a TLS node; routes_to 0 for none. */
static char *
tls_conf(int cport, int routes_to, const char *cert, const char *key,
    const char *ca)
{
	char *routes, *conf;

	routes = routes_to > 0 ? harness_asprintf("  routes = [ "
	    "nats://127.0.0.1:%d ]\n", routes_to) : harness_asprintf("%s", "");
	conf = harness_asprintf("cluster {\n  name: %s\n"
	    "  listen: 127.0.0.1:%d\n%s  tls {\n    cert_file: \"%s\"\n"
	    "    key_file: \"%s\"\n    ca_file: \"%s\"\n    verify: true\n"
	    "    timeout: 2\n  }\n}\n", CLUSTER, cport, routes, cert, key, ca);
	free(routes);
	return conf;
}

/*
 * 10. TLS on routes with verification both ways: B's route to A forms
 * and carries messages; C, whose certificate comes from a CA A does not
 * trust, never joins.
 */
static void
route_tls(void)
{
	static const char *const allow[] = { "TLS route handshake error",
	    "Error flushing", NULL };
	struct certs	*cs;
	struct node	 n[3];
	char		*conf[3] = { NULL, NULL, NULL };
	int		 i;

	memset(n, 0, sizeof(n));
	if ((cs = certs_make()) == NULL) {
		ok(0, "route tls: test certificates");
		return;
	}
	for (i = 0; i < 3; i++)
		n[i].cport = harness_free_port();
	conf[0] = tls_conf(n[0].cport, 0, cs->server_cert, cs->server_key,
	    cs->ca);
	conf[1] = tls_conf(n[1].cport, n[0].cport, cs->server_cert,
	    cs->server_key, cs->ca);
	conf[2] = tls_conf(n[2].cport, n[0].cport, cs->other_cert,
	    cs->other_key, cs->ca);
	if (node_start(&n[0], "A", NULL, NULL, conf[0], 0) == -1) {
		if (natsd)
			skip("route tls: natsd refuses a cluster tls block");
		else
			ok(0, "route tls: A starts");
		goto out;
	}
	if (node_start(&n[1], "B", NULL, NULL, conf[1], 0) == -1 ||
	    node_start(&n[2], "C", NULL, NULL, conf[2], 0) == -1) {
		ok(0, "route tls: B and C start");
		goto out;
	}
	ok(harness_route_probe(n[1].s->port, n[0].s->port, ROUTE_MS),
	    "route tls: B -> A over a verified TLS route");
	ok(harness_route_probe(n[0].s->port, n[1].s->port, ROUTE_MS),
	    "route tls: A -> B");
	ok(!harness_route_probe(n[2].s->port, n[0].s->port, NEVER_MS),
	    "route tls: C with an untrusted certificate: nothing from C "
	    "reaches A in %d ms", NEVER_MS);
	ok(server_wait_log_icase(n[0].s, "TLS route handshake error", T),
	    "route tls: A logs the refused handshake");
out:
	for (i = 2; i >= 0; i--)
		node_finish(&n[i], "route tls", allow);
	for (i = 0; i < 3; i++)
		free(conf[i]);
	certs_free(cs);
}

/*
 * Wait on a connected client for an async INFO whose connect_urls list
 * 127.0.0.1:port; other lines (PONGs, messages) are skipped.
 */
static int
async_info_lists(struct conn *c, int port)
{
	int64_t		 deadline = harness_now_ms() + ROUTE_MS;
	json_error_t	 jerr;
	const char	*line;
	json_t		*o;
	int		 found = 0;
	int		 left;

	while (!found && (left = (int)(deadline - harness_now_ms())) > 0) {
		if ((line = conn_read_line(c, left)) == NULL)
			break;
		if (strncmp(line, "INFO ", 5) != 0)
			continue;
		if ((o = json_loads(line + 5, 0, &jerr)) == NULL)
			continue;
		found = harness_lists_url(json_object_get(o, "connect_urls"),
		    port);
		json_decref(o);
	}
	return found;
}

/*
 * 12. A routes list added by SIGHUP: B starts with a cluster block but
 * no routes; its clients stay while the reload adds a route to A, which
 * forms; A's client gets an async INFO naming B.  Removing the route by
 * another reload takes it down.
 */
static void
reload_routes(void)
{
	struct node	 n[2];
	struct conn	*cb = NULL, *ca = NULL, *pub = NULL;
	char		*conf0 = NULL, *conf1 = NULL;

	memset(n, 0, sizeof(n));
	n[0].cport = harness_free_port();
	n[1].cport = harness_free_port();
	conf0 = harness_asprintf("cluster {\n  name: %s\n"
	    "  listen: 127.0.0.1:%d\n}\n", CLUSTER, n[1].cport);
	conf1 = harness_asprintf("cluster {\n  name: %s\n"
	    "  listen: 127.0.0.1:%d\n  routes = [\n"
	    "    nats://127.0.0.1:%d\n  ]\n}\n", CLUSTER, n[1].cport,
	    n[0].cport);
	if (node_start(&n[0], "A", NULL, NULL, NULL, 0) == -1 ||
	    node_start(&n[1], "B", NULL, NULL, conf0, 0) == -1) {
		ok(0, "reload: A and B start");
		goto out;
	}
	if ((cb = client_new(n[1].s->port, NULL)) == NULL ||
	    (ca = client_new(n[0].s->port, NULL)) == NULL ||
	    (pub = client_new(n[0].s->port, NULL)) == NULL) {
		ok(0, "reload: clients on A and B");
		goto out;
	}
	ok(conn_send(cb, "SUB rl.x 1\r\n") == 0 && conn_flush(cb, T),
	    "reload: B's client subscribes");
	ok(server_reload(n[1].s, conf1, 1, RELOAD_MS),
	    "reload: SIGHUP with a route to A");
	ok(harness_route_probe(n[0].s->port, n[1].s->port, ROUTE_MS),
	    "reload: the route forms: A -> B");
	ok(harness_route_probe(n[1].s->port, n[0].s->port, ROUTE_MS),
	    "reload: B -> A");
	ok(conn_flush(cb, T), "reload: B's client stayed connected");
	ok(arrives(pub, cb, "rl.x"), "reload: its subscription gets A's "
	    "messages");
	ok(async_info_lists(ca, n[1].s->port), "reload: A's client gets an "
	    "async INFO listing B's client URL");

	ok(server_reload(n[1].s, conf0, 2, RELOAD_MS),
	    "reload: SIGHUP without the route");
	ok(!harness_route_probe(n[0].s->port, n[1].s->port, NEVER_MS),
	    "reload: the route is gone: nothing from A reaches B");
	ok(conn_flush(cb, T), "reload: B's client is still connected");
out:
	conn_free(cb);
	conn_free(ca);
	conn_free(pub);
	node_finish(&n[1], "reload", NULL);
	node_finish(&n[0], "reload", NULL);
	free(conf0);
	free(conf1);
}

/* The connect_urls of a fresh client's INFO from the node (to decref). */
static json_t *
client_urls(struct node *n)
{
	struct conn	*c;
	json_t		*urls;

	if ((c = conn_open(n->s->port)) == NULL)
		return NULL;
	urls = json_object_get(c->info, "connect_urls");
	urls = urls != NULL ? json_incref(urls) : json_array();
	conn_free(c);
	return urls;
}

/*
 * --no_advertise on B: B takes part in the mesh, but its client URL is
 * in nobody's connect_urls, and its own clients get none.
 */
static void
no_advertise(void)
{
	static const char *const flag[] = { "--no_advertise", NULL };
	struct node	 n[3];
	json_t		*urls = NULL;
	char		*seed;
	int64_t		 deadline;
	int		 i, good;

	memset(n, 0, sizeof(n));
	for (i = 0; i < 3; i++)
		n[i].cport = harness_free_port();
	n[1].extra = flag;
	seed = route_url(n[0].cport);
	if (node_start(&n[0], "A", NULL, NULL, NULL, 0) == -1 ||
	    node_start(&n[1], "B", NULL, seed, NULL, 0) == -1 ||
	    node_start(&n[2], "C", NULL, seed, NULL, 0) == -1) {
		ok(0, "no_advertise: three nodes start");
		goto out;
	}
	ok(harness_route_probe(n[1].s->port, n[2].s->port, ROUTE_MS) &&
	    harness_route_probe(n[2].s->port, n[1].s->port, ROUTE_MS),
	    "no_advertise: B is in the mesh (B <-> C)");
	deadline = harness_now_ms() + ROUTE_MS;
	good = 0;
	while (!good && harness_now_ms() < deadline) {
		json_decref(urls);
		if ((urls = client_urls(&n[0])) == NULL)
			break;
		good = harness_lists_url(urls, n[2].s->port);
		if (!good)
			harness_nap(100);
	}
	ok(good, "no_advertise: A's clients learn C");
	ok(urls != NULL && !harness_lists_url(urls, n[1].s->port),
	    "no_advertise: A's clients are not told about B");
	json_decref(urls);
	urls = client_urls(&n[2]);
	ok(urls != NULL && harness_lists_url(urls, n[0].s->port) &&
	    !harness_lists_url(urls, n[1].s->port), "no_advertise: C's clients "
	    "learn A, not B");
	json_decref(urls);
	urls = client_urls(&n[1]);
	ok(urls != NULL && !harness_lists_url(urls, n[0].s->port) &&
	    !harness_lists_url(urls, n[2].s->port), "no_advertise: B's own "
	    "clients get no other server's URL");
out:
	json_decref(urls);
	for (i = 2; i >= 0; i--)
		node_finish(&n[i], "no_advertise", NULL);
	free(seed);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	natsd = !harness_is_nats_server(harness_server_bin());
	diag("server under test: %s", harness_server_bin());
	main_cluster();
	route_auth();
	reload_route_auth();
	mixed_cluster();
	route_tls();
	reload_routes();
	no_advertise();
	return done_testing();
}
