#include "config.h"

/*
 * Interop tests: the official NATS C client (libnats) against the server
 * named by $NATSD.  Every test is written against what nats-server does, so
 * running with NATSD=/usr/sbin/nats-server must pass too; the only natsd-only
 * test (a killed worker) is skipped there.
 *
 * Every wait is bounded: libnats calls take timeouts, callbacks signal a
 * condition variable waited on with a deadline, and the shared harness
 * (t/lib/harness.h) starts and stops the server with bounded polls.
 */

#include <sys/types.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "../lib/harness.h"
#include "../lib/interop.h"
#include "../tap.h"

#define MSG_TIMEOUT_MS		2000
#define CB_TIMEOUT_MS		5000

static bool		 is_nats_server;
static struct waiter	 async_errors;

/*
 * Connects without reconnecting: outside the worker-kill test a lost
 * connection is a failure and should show up at once, not after retries.
 */
static natsConnection *
nc_connect(int port)
{
	struct nc_opts o = { .port = port, .timeout_ms = 2000,
	    .errors = &async_errors };

	return nc_open(&o, NULL);
}

/* Drains whatever a sync subscription still holds; returns how many. */
static int
drain_sub(natsSubscription *sub, int timeout_ms)
{
	natsMsg *m;
	int n = 0;

	while (n < 100000 &&
	    natsSubscription_NextMsg(&m, sub, timeout_ms) == NATS_OK) {
		natsMsg_Destroy(m);
		n++;
	}
	return n;
}

static void
test_pubsub(int port)
{
	static const char payload[] = "hello\r\nPUB x 1\r\n\0world";
	natsConnection *nc;
	natsSubscription *sub = NULL;
	natsMsg *m = NULL;
	natsStatus st;

	if (!ok((nc = nc_connect(port)) != NULL, "pubsub: connect"))
		return;
	st = nc_subscribe_sync(&sub, nc, "foo.bar");
	is_int(st, NATS_OK, "pubsub: subscribe and flush");
	st = natsConnection_Publish(nc, "foo.bar", payload, sizeof(payload));
	is_int(st, NATS_OK, "pubsub: publish");
	st = natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS);
	is_int(st, NATS_OK, "pubsub: message received");
	if (m != NULL) {
		is_str(natsMsg_GetSubject(m), "foo.bar", "pubsub: subject");
		ok(natsMsg_GetReply(m) == NULL, "pubsub: no reply subject");
		ok(natsMsg_GetDataLength(m) == sizeof(payload) &&
		    memcmp(natsMsg_GetData(m), payload, sizeof(payload)) == 0,
		    "pubsub: binary payload with CRLF and NUL intact");
		natsMsg_Destroy(m);
	}
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
}

/* One test point: the next message on sub has subject want. */
static void
expect_subject(natsSubscription *sub, const char *want, const char *name)
{
	natsMsg *m = NULL;

	if (natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS) != NATS_OK) {
		ok(0, "%s", name);
		diag("no message within %d ms", MSG_TIMEOUT_MS);
		return;
	}
	is_str(natsMsg_GetSubject(m), want, "%s", name);
	natsMsg_Destroy(m);
}

static void
test_wildcards(int port)
{
	static const char *pubs[] = {
		"foo.bar", "foo.bar.baz", "foo", "bar.foo", "foo.baz",
	};
	natsConnection *nc;
	natsSubscription *star = NULL, *gt = NULL;
	natsStatus st;
	size_t i;
	int pending;

	if (!ok((nc = nc_connect(port)) != NULL, "wildcards: connect"))
		return;
	st = natsConnection_SubscribeSync(&star, nc, "foo.*");
	if (st == NATS_OK)
		st = nc_subscribe_sync(&gt, nc, "foo.>");
	is_int(st, NATS_OK, "wildcards: subscribe foo.* and foo.>");
	for (i = 0; i < sizeof(pubs) / sizeof(pubs[0]) && st == NATS_OK; i++)
		st = natsConnection_PublishString(nc, pubs[i], pubs[i]);
	/*
	 * The PONG follows every MSG the server sent this connection for the
	 * publishes above, so after the flush the pending counts are final.
	 */
	if (st == NATS_OK)
		st = natsConnection_Flush(nc);
	is_int(st, NATS_OK, "wildcards: publish and flush");

	expect_subject(star, "foo.bar", "wildcards: * gets foo.bar");
	expect_subject(star, "foo.baz", "wildcards: * gets foo.baz");
	natsSubscription_GetPending(star, &pending, NULL);
	is_int(pending, 0, "wildcards: * matches nothing else");
	expect_subject(gt, "foo.bar", "wildcards: > gets foo.bar");
	expect_subject(gt, "foo.bar.baz", "wildcards: > gets foo.bar.baz");
	expect_subject(gt, "foo.baz", "wildcards: > gets foo.baz");
	natsSubscription_GetPending(gt, &pending, NULL);
	is_int(pending, 0, "wildcards: > does not match foo or bar.foo");

	natsSubscription_Destroy(star);
	natsSubscription_Destroy(gt);
	natsConnection_Destroy(nc);
}

#define QMEMBERS	3
#define QMSGS		300

/*
 * Three members on three connections (with natsd they may sit on different
 * workers) and a publisher on a fourth: every message must reach exactly
 * one member.
 */
static void
test_queue(int port)
{
	natsConnection *pub, *nc[QMEMBERS] = { NULL };
	natsSubscription *sub[QMEMBERS] = { NULL };
	unsigned char seen[QMSGS];
	char buf[32];
	natsMsg *m;
	natsStatus st = NATS_OK;
	int64_t deadline;
	int i, n, total = 0, dups = 0, bad = 0, per[QMEMBERS] = { 0 };

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < QMEMBERS; i++) {
		if ((nc[i] = nc_connect(port)) == NULL) {
			st = NATS_CONNECTION_CLOSED;
			break;
		}
		st = natsConnection_QueueSubscribeSync(&sub[i], nc[i],
		    "q.work", "workers");
		if (st == NATS_OK)
			st = natsConnection_Flush(nc[i]);
		if (st != NATS_OK)
			break;
	}
	is_int(st, NATS_OK, "queue: %d members subscribed", QMEMBERS);
	if (st != NATS_OK || (pub = nc_connect(port)) == NULL)
		goto out;
	for (i = 0; i < QMSGS && st == NATS_OK; i++) {
		n = snprintf(buf, sizeof(buf), "%d", i);
		st = natsConnection_Publish(pub, "q.work", buf, n);
	}
	if (st == NATS_OK)
		st = natsConnection_Flush(pub);
	is_int(st, NATS_OK, "queue: published %d messages", QMSGS);

	deadline = harness_now_ms() + 10000;
	while (total < QMSGS && harness_now_ms() < deadline) {
		for (i = 0; i < QMEMBERS; i++) {
			while (natsSubscription_NextMsg(&m, sub[i], 5) ==
			    NATS_OK) {
				n = atoi(natsMsg_GetData(m));
				if (n < 0 || n >= QMSGS)
					bad++;
				else if (seen[n]++)
					dups++;
				per[i]++;
				total++;
				natsMsg_Destroy(m);
			}
		}
	}
	/* A duplicate would arrive after the last original: look a little. */
	for (i = 0; i < QMEMBERS; i++)
		total += drain_sub(sub[i], 100);
	is_int(total, QMSGS, "queue: %d deliveries in total", QMSGS);
	is_int(dups, 0, "queue: no message delivered twice");
	is_int(bad, 0, "queue: no corrupt payloads");
	for (i = 0, n = 0; i < QMSGS; i++)
		n += seen[i] == 1;
	is_int(n, QMSGS, "queue: every message delivered once");
	diag("queue: members got %d, %d, %d", per[0], per[1], per[2]);
	natsConnection_Destroy(pub);
out:
	for (i = 0; i < QMEMBERS; i++) {
		natsSubscription_Destroy(sub[i]);
		natsConnection_Destroy(nc[i]);
	}
}

#define NREQ	100

static void
test_request(int port)
{
	natsConnection *rsp, *req = NULL;
	natsSubscription *sub = NULL;
	natsStatus st;

	rsp = nc_connect(port);
	if (!ok(rsp != NULL, "request: responder connects"))
		return;
	st = natsConnection_Subscribe(&sub, rsp, "svc.echo", nc_echo, NULL);
	if (st == NATS_OK)
		st = natsConnection_Flush(rsp);
	is_int(st, NATS_OK, "request: responder subscribed");
	if (st != NATS_OK || (req = nc_connect(port)) == NULL)
		goto out;
	is_int(nc_requests(&req, 1, "svc.echo", "ping ", NREQ, MSG_TIMEOUT_MS),
	    NREQ, "request: %d requests answered correctly", NREQ);
out:
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(req);
	natsConnection_Destroy(rsp);
}

static void
test_headers(int port)
{
	natsConnection *nc;
	natsSubscription *sub = NULL;
	natsMsg *out = NULL, *m = NULL;
	const char *v = NULL, **vals = NULL;
	natsStatus st;
	int n = 0;

	if (!ok((nc = nc_connect(port)) != NULL, "headers: connect"))
		return;
	ok(natsConnection_HasHeaderSupport(nc) == NATS_OK,
	    "headers: server announces header support");
	st = nc_subscribe_sync(&sub, nc, "hdr.test");
	if (st == NATS_OK)
		st = natsMsg_Create(&out, "hdr.test", NULL, "body", 4);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(out, "X-Single", "one value");
	if (st == NATS_OK)
		st = natsMsgHeader_Add(out, "X-Multi", "a");
	if (st == NATS_OK)
		st = natsMsgHeader_Add(out, "X-Multi", "b");
	if (st == NATS_OK)
		st = natsMsgHeader_Add(out, "X-Multi", "c c");
	if (st == NATS_OK)
		st = natsConnection_PublishMsg(nc, out);
	is_int(st, NATS_OK, "headers: message with headers published");
	natsMsg_Destroy(out);

	st = natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS);
	is_int(st, NATS_OK, "headers: message received");
	if (m != NULL) {
		ok(natsMsg_GetDataLength(m) == 4 &&
		    memcmp(natsMsg_GetData(m), "body", 4) == 0,
		    "headers: payload intact");
		st = natsMsgHeader_Get(m, "X-Single", &v);
		ok(st == NATS_OK && v != NULL && strcmp(v, "one value") == 0,
		    "headers: single value intact");
		st = natsMsgHeader_Values(m, "X-Multi", &vals, &n);
		ok(st == NATS_OK && n == 3 && strcmp(vals[0], "a") == 0 &&
		    strcmp(vals[1], "b") == 0 && strcmp(vals[2], "c c") == 0,
		    "headers: three values of one key intact and in order");
		free(vals);
		natsMsg_Destroy(m);
	}
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
}

static void
test_no_responders(int port)
{
	natsConnection *nc;
	natsMsg *reply = NULL;
	natsStatus st;
	int64_t t0, el;

	if (!ok((nc = nc_connect(port)) != NULL, "no responders: connect"))
		return;
	t0 = harness_now_ms();
	st = natsConnection_RequestString(&reply, nc, "nobody.listens.here",
	    "hello?", 5000);
	el = harness_now_ms() - t0;
	is_int(st, NATS_NO_RESPONDERS, "no responders: status");
	ok(el < 1000, "no responders: answered in %lld ms, not by timeout",
	    (long long)el);
	natsMsg_Destroy(reply);
	natsConnection_Destroy(nc);
}

static void
test_flush(int port)
{
	natsConnection *nc;
	natsStatus st = NATS_OK;
	int i;

	if (!ok((nc = nc_connect(port)) != NULL, "flush: connect"))
		return;
	is_int(natsConnection_FlushTimeout(nc, 1000), NATS_OK,
	    "flush: idle connection");
	for (i = 0; i < 1000 && st == NATS_OK; i++)
		st = natsConnection_PublishString(nc, "flush.nobody", "x");
	is_int(st, NATS_OK, "flush: 1000 publishes buffered");
	is_int(natsConnection_FlushTimeout(nc, 2000), NATS_OK,
	    "flush: after 1000 publishes");
	is_int(natsConnection_Buffered(nc), 0, "flush: nothing left buffered");
	natsConnection_Destroy(nc);
}

static void
test_server_info(int port)
{
	natsConnection *nc;
	char id[256] = "", url[256] = "", want[64];
	uint64_t cid = 0;
	natsStatus st;

	if (!ok((nc = nc_connect(port)) != NULL, "info: connect"))
		return;
	is_int(natsConnection_GetConnectedServerId(nc, id, sizeof(id)),
	    NATS_OK, "info: server id available");
	ok(id[0] != '\0', "info: server id non-empty (%s)", id);
	snprintf(want, sizeof(want), ":%d", port);
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	ok(strstr(url, want) != NULL, "info: connected url %s", url);
	ok(natsConnection_GetMaxPayload(nc) >= 1024 * 1024,
	    "info: max_payload %lld",
	    (long long)natsConnection_GetMaxPayload(nc));
	st = natsConnection_GetClientID(nc, &cid);
	ok(st == NATS_OK && cid > 0, "info: client id %llu",
	    (unsigned long long)cid);
	natsConnection_Destroy(nc);
}

#define NORDER	10000

/*
 * Publisher and subscriber on separate connections, so with natsd the
 * messages may cross the mesh; payload lengths vary so frames split at
 * many different places across reads.
 */
static void
test_order(int port)
{
	natsConnection *pub = NULL, *sc;
	natsSubscription *sub = NULL;
	char buf[320];
	natsMsg *m;
	natsStatus st;
	int64_t deadline;
	int i, n, got = 0, inorder = 0;

	if (!ok((sc = nc_connect(port)) != NULL, "order: subscriber connects"))
		return;
	st = nc_subscribe_sync(&sub, sc, "order.test");
	if (st != NATS_OK || (pub = nc_connect(port)) == NULL) {
		ok(0, "order: subscribe and connect publisher");
		goto out;
	}
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < NORDER && st == NATS_OK; i++) {
		n = snprintf(buf, sizeof(buf), "%d;", i);
		buf[n] = 'x';
		st = natsConnection_Publish(pub, "order.test", buf,
		    n + i % 300);
	}
	if (st == NATS_OK)
		st = natsConnection_FlushTimeout(pub, 10000);
	is_int(st, NATS_OK, "order: %d messages published", NORDER);

	deadline = harness_now_ms() + 30000;
	while (got < NORDER && harness_now_ms() < deadline &&
	    natsSubscription_NextMsg(&m, sub, 5000) == NATS_OK) {
		n = atoi(natsMsg_GetData(m));
		if (n == got && natsMsg_GetDataLength(m) ==
		    snprintf(buf, sizeof(buf), "%d;", n) + n % 300)
			inorder++;
		got++;
		natsMsg_Destroy(m);
	}
	is_int(got, NORDER, "order: all messages received");
	is_int(inorder, NORDER, "order: in publish order with right lengths");
out:
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(pub);
	natsConnection_Destroy(sc);
}

#define BIGLEN	(900 * 1024)

static void
test_big(int port)
{
	natsConnection *pub = NULL, *sc;
	natsSubscription *sub = NULL;
	natsMsg *m = NULL;
	natsStatus st;
	char *big;
	size_t i;

	if ((big = malloc(BIGLEN)) == NULL) {
		ok(0, "big: malloc");
		return;
	}
	for (i = 0; i < BIGLEN; i++)
		big[i] = (char)((i * 31 + 7) % 251);
	sc = nc_connect(port);
	pub = nc_connect(port);
	if (!ok(sc != NULL && pub != NULL, "big: connect"))
		goto out;
	st = nc_subscribe_sync(&sub, sc, "big.test");
	if (st == NATS_OK)
		st = natsConnection_Publish(pub, "big.test", big, BIGLEN);
	if (st == NATS_OK)
		st = natsConnection_FlushTimeout(pub, 5000);
	is_int(st, NATS_OK, "big: %d byte message published", BIGLEN);
	st = natsSubscription_NextMsg(&m, sub, 5000);
	is_int(st, NATS_OK, "big: message received");
	if (m != NULL) {
		ok(natsMsg_GetDataLength(m) == BIGLEN &&
		    memcmp(natsMsg_GetData(m), big, BIGLEN) == 0,
		    "big: payload intact");
		natsMsg_Destroy(m);
	}
out:
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(pub);
	natsConnection_Destroy(sc);
	free(big);
}

#define NFAN	200

struct fan {
	struct waiter	 w;
	int		 inorder;	/* callback thread only */
};

static void
on_fan(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	struct fan *f = arg;

	if (atoi(natsMsg_GetData(m)) == waiter_get(&f->w))
		f->inorder++;
	natsMsg_Destroy(m);
	waiter_bump(&f->w);
}

static void
test_fanout(int port)
{
	natsConnection *nc[2] = { NULL }, *pub = NULL;
	natsSubscription *sub[2] = { NULL };
	struct fan fan[2];
	natsStatus st = NATS_OK;
	char buf[16];
	int i, n;

	for (i = 0; i < 2; i++) {
		waiter_init(&fan[i].w);
		fan[i].inorder = 0;
	}
	for (i = 0; i < 2 && st == NATS_OK; i++) {
		if ((nc[i] = nc_connect(port)) == NULL) {
			st = NATS_CONNECTION_CLOSED;
			break;
		}
		st = natsConnection_Subscribe(&sub[i], nc[i], "fan.out", on_fan,
		    &fan[i]);
		if (st == NATS_OK)
			st = natsConnection_Flush(nc[i]);
	}
	is_int(st, NATS_OK, "fanout: two connections subscribed");
	if (st != NATS_OK || (pub = nc_connect(port)) == NULL)
		goto out;
	for (i = 0; i < NFAN && st == NATS_OK; i++) {
		n = snprintf(buf, sizeof(buf), "%d", i);
		st = natsConnection_Publish(pub, "fan.out", buf, n);
	}
	if (st == NATS_OK)
		st = natsConnection_Flush(pub);
	is_int(st, NATS_OK, "fanout: %d messages published", NFAN);
	for (i = 0; i < 2; i++) {
		is_int(waiter_wait(&fan[i].w, NFAN, CB_TIMEOUT_MS), NFAN,
		    "fanout: connection %d got every message", i);
	}
	/* Look briefly for extra copies before reading the counters. */
	for (i = 0; i < 2; i++)
		natsConnection_FlushTimeout(nc[i], 1000);
	for (i = 0; i < 2; i++) {
		is_int(waiter_get(&fan[i].w), NFAN,
		    "fanout: connection %d got no duplicates", i);
	}
out:
	for (i = 0; i < 2; i++) {
		/* Destroying the subscription waits out its callback. */
		natsSubscription_Destroy(sub[i]);
		natsConnection_Destroy(nc[i]);
		if (st == NATS_OK)
			is_int(fan[i].inorder, NFAN,
			    "fanout: connection %d in order", i);
		waiter_free(&fan[i].w);
	}
	natsConnection_Destroy(pub);
}

/*
 * Finds which of the candidate pids holds the server side of the client
 * connection whose local port is cport: /proc/net/tcp maps the pair of
 * ports to a socket inode, /proc/PID/fd shows who has it open.
 */
static pid_t
socket_owner(const pid_t *pids, int npids, int sport, int cport)
{
	char line[512], path[PATH_MAX], link[64], want[64];
	unsigned long inode = 0, ino;
	unsigned int lport, rport;
	struct dirent *de;
	ssize_t n;
	FILE *fp;
	DIR *dir;
	int i;

	if ((fp = fopen("/proc/net/tcp", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line,
		    " %*d: %*x:%x %*x:%x %*x %*s %*s %*s %*d %*d %lu",
		    &lport, &rport, &ino) != 3)
			continue;
		if ((int)lport == sport && (int)rport == cport && ino != 0) {
			inode = ino;
			break;
		}
	}
	fclose(fp);
	if (inode == 0)
		return -1;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	for (i = 0; i < npids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pids[i]);
		if ((dir = opendir(path)) == NULL)
			continue;
		while ((de = readdir(dir)) != NULL) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%s",
			    (int)pids[i], de->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) == 0) {
				closedir(dir);
				return pids[i];
			}
		}
		closedir(dir);
	}
	return -1;
}

/* The pid serving nc: a natsd worker, or nats-server itself. */
static pid_t
conn_owner(struct server *s, natsConnection *nc)
{
	pid_t pids[64];
	char *ip = NULL;
	int n, cport = 0;

	if (natsConnection_GetLocalIPAndPort(nc, &ip, &cport) != NATS_OK)
		return -1;
	free(ip);
	if ((n = server_children(s, pids, 64)) == 0) {
		pids[0] = s->pid;
		n = 1;
	}
	return socket_owner(pids, n, s->port, cport);
}

/* Runs on both servers: it proves the /proc lookup the kill test uses. */
static void
test_owner_lookup(struct server *s)
{
	natsConnection *nc;
	pid_t owner;

	if (!ok((nc = nc_connect(s->port)) != NULL, "owner: connect"))
		return;
	owner = conn_owner(s, nc);
	ok(owner > 0, "owner: server side of the connection found in pid %d",
	    (int)owner);
	natsConnection_Destroy(nc);
}

struct recon {
	struct waiter	 disconnected;
	struct waiter	 reconnected;
};

/* Connected with r's callbacks; reconnecting by itself if told to. */
static natsConnection *
nc_watched(int port, bool reconnect, struct recon *r)
{
	struct nc_opts o = { .port = port, .timeout_ms = 2000,
	    .reconnects = reconnect ? 100 : 0, .errors = &async_errors,
	    .disconnected = &r->disconnected, .reconnected = &r->reconnected };

	return nc_open(&o, NULL);
}

/* Publishes one message on pub and expects it on sub within the timeout. */
static bool
roundtrip(natsConnection *pub, natsSubscription *sub, const char *subj,
    const char *data)
{
	natsMsg *m = NULL;
	bool ret;

	if (natsConnection_PublishString(pub, subj, data) != NATS_OK ||
	    natsConnection_FlushTimeout(pub, MSG_TIMEOUT_MS) != NATS_OK ||
	    natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS) != NATS_OK)
		return false;
	ret = strcmp(natsMsg_GetData(m), data) == 0;
	natsMsg_Destroy(m);
	return ret;
}

#define MAXTRY	32

/*
 * natsd only: kill -9 the worker serving connection A.  A must reconnect by
 * itself and work again; connection B on the other worker must not notice.
 */
static void
test_worker_kill(void)
{
	natsConnection *a = NULL, *b = NULL, *extra[MAXTRY] = { NULL };
	natsSubscription *suba = NULL, *subb = NULL;
	struct recon ra, rt[MAXTRY], *rb = NULL;
	struct server_opts so = { .workers = 2 };
	struct server *s = NULL;
	pid_t wa = -1, wb = -1;
	int i, nextra = 0;
	bool good;

	if (is_nats_server) {
		skip("%s", "worker kill: nats-server has no workers");
		return;
	}
	waiter_init(&ra.disconnected);
	waiter_init(&ra.reconnected);
	for (i = 0; i < MAXTRY; i++) {
		waiter_init(&rt[i].disconnected);
		waiter_init(&rt[i].reconnected);
	}
	s = server_start(&so);
	if (!ok(s != NULL, "worker kill: natsd --workers 2 started"))
		goto out;
	/* The master logs the worker it lost as an error; that one is due. */
	server_log_allow(s, "exited on signal 9");
	if ((a = nc_watched(s->port, true, &ra)) == NULL) {
		ok(0, "worker kill: connection A");
		goto out;
	}
	wa = conn_owner(s, a);
	if (!ok(wa > 0, "worker kill: A is served by worker pid %d", (int)wa))
		goto out;

	/*
	 * Which worker accepts is up to the kernel: connect until one lands
	 * on the other worker, bounded, and keep the misses open meanwhile so
	 * the same worker is not simply handed the next one again.  Each
	 * try has its own callback counters: closing a miss counts as its
	 * disconnect.
	 */
	for (i = 0; i < MAXTRY; i++) {
		if ((b = nc_watched(s->port, false, &rt[i])) == NULL)
			break;
		if ((wb = conn_owner(s, b)) > 0 && wb != wa) {
			rb = &rt[i];
			break;
		}
		extra[nextra++] = b;
		b = NULL;
	}
	for (i = 0; i < nextra; i++)
		natsConnection_Destroy(extra[i]);
	if (!ok(b != NULL, "worker kill: B is served by the other worker "
	    "(pid %d)", (int)wb))
		goto out;

	good = nc_subscribe_sync(&suba, a, "wk.a") == NATS_OK &&
	    nc_subscribe_sync(&subb, b, "wk.b") == NATS_OK;
	ok(good, "worker kill: A and B subscribed");
	if (!good)
		goto out;
	ok(roundtrip(a, subb, "wk.b", "a to b before"),
	    "worker kill: A to B across workers before the kill");
	ok(roundtrip(b, suba, "wk.a", "b to a before"),
	    "worker kill: B to A across workers before the kill");

	ok(kill(wa, SIGKILL) == 0, "worker kill: SIGKILL to worker %d",
	    (int)wa);
	/* B keeps working while A is away. */
	ok(roundtrip(b, subb, "wk.b", "b during"),
	    "worker kill: B to itself while A reconnects");
	ok(waiter_wait(&ra.reconnected, 1, CB_TIMEOUT_MS) >= 1,
	    "worker kill: A's reconnected callback fired");
	is_int(waiter_get(&ra.disconnected), 1,
	    "worker kill: A saw exactly one disconnect");
	/* The flush makes sure the replayed SUB reached the server. */
	is_int(natsConnection_FlushTimeout(a, MSG_TIMEOUT_MS), NATS_OK,
	    "worker kill: A flushes after reconnecting");
	ok(roundtrip(a, suba, "wk.a", "a after"),
	    "worker kill: A to itself after reconnecting");
	ok(roundtrip(a, subb, "wk.b", "a to b after"),
	    "worker kill: A to B after reconnecting");
	ok(roundtrip(b, suba, "wk.a", "b to a after"),
	    "worker kill: B to A after reconnecting (A's SUB replayed)");
	is_int(waiter_get(&rb->disconnected), 0,
	    "worker kill: B was never disconnected");
	is_int(natsConnection_Status(b), NATS_CONN_STATUS_CONNECTED,
	    "worker kill: B still connected");
	ok(server_alive(s), "worker kill: master survived");
out:
	natsSubscription_Destroy(suba);
	natsSubscription_Destroy(subb);
	natsConnection_Destroy(a);
	natsConnection_Destroy(b);
	if (s != NULL) {
		is_int(server_stop(s), 0, "worker kill: natsd stopped cleanly");
		is_int(server_log_check(s), 0,
		    "worker kill: no unexpected errors in the log");
		server_free(s);
	}
	waiter_free(&ra.disconnected);
	waiter_free(&ra.reconnected);
	for (i = 0; i < MAXTRY; i++) {
		waiter_free(&rt[i].disconnected);
		waiter_free(&rt[i].reconnected);
	}
}

int
main(void)
{
	struct server_opts so = { .workers = 2 };
	struct server *s;
	const char *bin;

	bin = harness_server_bin();
	if (strchr(bin, '/') != NULL && access(bin, X_OK) != 0) {
		printf("1..0 # SKIP %s is not an executable\n", bin);
		return 0;
	}
	is_nats_server = harness_is_nats_server(bin);
	signal(SIGPIPE, SIG_IGN);
	waiter_init(&async_errors);
	if (nats_Open(-1) != NATS_OK) {
		ok(0, "nats_Open");
		return done_testing();
	}
	diag("server %s, libnats %s", bin, nats_GetVersion());

	/* Two workers, so natsd's cross-worker delivery is exercised. */
	s = server_start(&so);
	if (ok(s != NULL, "server started")) {
		test_pubsub(s->port);
		test_wildcards(s->port);
		test_queue(s->port);
		test_request(s->port);
		test_headers(s->port);
		test_no_responders(s->port);
		test_flush(s->port);
		test_server_info(s->port);
		test_order(s->port);
		test_big(s->port);
		test_fanout(s->port);
		test_owner_lookup(s);
		ok(server_alive(s), "server still running");
		is_int(server_stop(s), 0, "server stopped cleanly");
		is_int(server_log_check(s), 0,
		    "no unexpected errors in the server log");
		server_free(s);
	}
	test_worker_kill();

	is_int(waiter_get(&async_errors), 0, "no asynchronous client errors");
	nats_CloseAndWait(5000);
	waiter_free(&async_errors);
	return done_testing();
}
