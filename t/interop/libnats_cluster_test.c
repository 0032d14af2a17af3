#include "config.h"

/*
 * Interop for clustering: the official NATS C client (libnats) against
 * a three-node cluster of the server named by $NATSD (two workers each
 * when natsd), joined from one seed.  A client given only node A's URL
 * learns B and C from INFO's connect_urls (checked on a raw connection
 * too); when A stops, libnats reconnects to B or C by itself and keeps
 * receiving what is published on another node; when that node stops
 * too, it moves to the last one.
 *
 * Every expectation holds against nats-server 2.9 (NATSD=
 * /usr/sbin/nats-server).  Every wait is bounded: libnats calls take
 * timeouts, callbacks bump a counter waited on with a deadline.
 */

#include <sys/types.h>

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
#include "../lib/points.h"

#define T		HARNESS_TIMEOUT_MS
#define ROUTE_MS	10000	/* a route forms (or interest crosses) within */
#define FAILOVER_MS	10000	/* libnats reconnects elsewhere within */
#define MSG_TIMEOUT_MS	3000
#define NDATA		100	/* messages counted after each failover */

static struct waiter	reconnects, disconnects;

/*
 * A raw connection's INFO from port lists both other ports in
 * connect_urls; retried on fresh connections, bounded.
 */
static int
info_lists(int port, int p1, int p2)
{
	int64_t		 deadline = harness_now_ms() + ROUTE_MS;
	struct conn	*c;
	json_t		*urls;
	int		 found = 0;

	while (!found && harness_now_ms() < deadline) {
		if ((c = conn_open(port)) == NULL)
			break;
		urls = json_object_get(c->info, "connect_urls");
		found = harness_lists_url(urls, p1) &&
		    harness_lists_url(urls, p2);
		if (!found && harness_now_ms() + 100 >= deadline) {
			char *t = json_dumps(c->info, JSON_COMPACT);

			diag("INFO: %s", t != NULL ? t : "?");
			free(t);
		}
		conn_free(c);
		if (!found)
			usleep(100 * 1000);
	}
	return found;
}

/* Whether libnats's list of discovered servers names the port. */
static int
discovered(natsConnection *nc, int port)
{
	char	**servers = NULL, want[48];
	int	  count = 0, i, found = 0;

	if (natsConnection_GetDiscoveredServers(nc, &servers, &count) !=
	    NATS_OK)
		return 0;
	snprintf(want, sizeof(want), "nats://127.0.0.1:%d", port);
	for (i = 0; i < count; i++) {
		if (strcmp(servers[i], want) == 0)
			found = 1;
		free(servers[i]);
	}
	free(servers);
	return found;
}

/* The port of the URL libnats is connected to, or -1. */
static int
connected_port(natsConnection *nc)
{
	char		 url[128];
	const char	*colon;

	if (natsConnection_GetConnectedUrl(nc, url, sizeof(url)) != NATS_OK ||
	    (colon = strrchr(url, ':')) == NULL)
		return -1;
	return atoi(colon + 1);
}

/*
 * Messages published on the node at port reach libnats's subscription:
 * first a probe, published until one arrives (the subscription crosses
 * a route after a reconnect), then NDATA messages, each once and in
 * order (leftover probes skipped).
 */
static int
delivered(int port, natsSubscription *sub)
{
	int64_t		 deadline = harness_now_ms() + ROUTE_MS;
	struct conn	*pub;
	natsMsg		*m = NULL;
	natsStatus	 st;
	char		 want[32];
	int		 got = 0, i;

	if ((pub = client_new(port, NULL)) == NULL)
		return 0;
	while (!got && harness_now_ms() < deadline) {
		if (conn_send(pub, "PUB fo.x 5\r\nprobe\r\n") == -1)
			break;
		if (natsSubscription_NextMsg(&m, sub, 50) == NATS_OK) {
			got = 1;
			natsMsg_Destroy(m);
		}
	}
	if (!got) {
		diag("nothing published on port %d arrived in %d ms", port,
		    ROUTE_MS);
		conn_free(pub);
		return 0;
	}
	for (i = 0; i < NDATA; i++)
		conn_send(pub, "PUB fo.x %d\r\nd%d\r\n",
		    snprintf(NULL, 0, "d%d", i), i);
	if (!conn_flush(pub, T)) {
		conn_free(pub);
		return 0;
	}
	conn_free(pub);
	for (i = 0; i < NDATA; ) {
		if ((st = natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS)) !=
		    NATS_OK) {
			diag("message d%d: %s", i, natsStatus_GetText(st));
			return 0;
		}
		snprintf(want, sizeof(want), "d%d", i);
		if (natsMsg_GetDataLength(m) == 5 &&
		    memcmp(natsMsg_GetData(m), "probe", 5) == 0) {
			natsMsg_Destroy(m);
			continue;
		}
		if ((size_t)natsMsg_GetDataLength(m) != strlen(want) ||
		    memcmp(natsMsg_GetData(m), want, strlen(want)) != 0) {
			diag("got \"%.*s\", want \"%s\"",
			    natsMsg_GetDataLength(m), natsMsg_GetData(m), want);
			natsMsg_Destroy(m);
			return 0;
		}
		natsMsg_Destroy(m);
		i++;
	}
	/* Nothing twice. */
	while ((st = natsSubscription_NextMsg(&m, sub, 300)) == NATS_OK) {
		if (natsMsg_GetDataLength(m) != 5 ||
		    memcmp(natsMsg_GetData(m), "probe", 5) != 0) {
			diag("extra message \"%.*s\"",
			    natsMsg_GetDataLength(m), natsMsg_GetData(m));
			natsMsg_Destroy(m);
			return 0;
		}
		natsMsg_Destroy(m);
	}
	return 1;
}

/* Connected to port, reconnecting by itself, its events counted. */
static natsConnection *
nc_connect(int port)
{
	struct nc_opts o = { .port = port, .reconnects = 200,
	    .disconnected = &disconnects, .reconnected = &reconnects };

	return nc_open(&o, NULL);
}

/*
 * Stop the node libnats is on; it must reconnect (the count-th time) to
 * one of the others by itself and receive what the node at pub_port
 * publishes.  Returns the index of the node it moved to, or -1.
 */
static int
failover(struct node *n, int on, natsConnection *nc, natsSubscription *sub,
    int count)
{
	int	port, i, to = -1;

	server_log_allow(n[on].s, "Error trying to connect to route");
	ok(server_stop(n[on].s) == 0, "failover %d: node %s stops", count,
	    n[on].label);
	ok(server_log_check(n[on].s) == 0, "failover %d: node %s log has no "
	    "unexpected errors", count, n[on].label);
	server_free(n[on].s);
	n[on].s = NULL;
	ok(waiter_wait(&reconnects, count, FAILOVER_MS) >= count,
	    "failover %d: libnats reconnected within %d ms", count,
	    FAILOVER_MS);
	port = connected_port(nc);
	for (i = 0; i < 3; i++)
		if (n[i].s != NULL && n[i].s->port == port)
			to = i;
	ok(to >= 0, "failover %d: libnats is on a live node (%s)", count,
	    to >= 0 ? n[to].label : "none");
	if (to < 0)
		return -1;
	/* Publish on another live node if there is one: across a route. */
	for (i = 0; i < 3; i++)
		if (n[i].s != NULL && i != to)
			break;
	if (i == 3)
		i = to;
	ok(delivered(n[i].s->port, sub), "failover %d: messages published "
	    "on %s reach the client on %s, each once, in order", count,
	    n[i].label, n[to].label);
	return to;
}

int
main(void)
{
	struct node		 n[3];
	natsConnection		*nc = NULL;
	natsSubscription	*sub = NULL;
	int			 i, on;

	signal(SIGPIPE, SIG_IGN);
	diag("server under test: %s", harness_server_bin());
	if (nats_Open(-1) != NATS_OK) {
		ok(0, "nats_Open");
		return done_testing();
	}
	waiter_init(&reconnects);
	waiter_init(&disconnects);
	if (cluster_start3(n, NULL, 0, 0) == -1) {
		ok(0, "three nodes start");
		goto out;
	}
	node_mesh_ok(n, 3, -1, NULL, ROUTE_MS, "mesh: %s -> %s");
	ok(info_lists(n[0].s->port, n[1].s->port, n[2].s->port),
	    "INFO from A lists B and C in connect_urls");

	if ((nc = nc_connect(n[0].s->port)) == NULL) {
		ok(0, "libnats connects to A");
		goto out;
	}
	ok(discovered(nc, n[1].s->port) && discovered(nc, n[2].s->port),
	    "libnats discovered B and C from A's INFO");
	ok(nc_subscribe_sync(&sub, nc, "fo.x") == NATS_OK,
	    "libnats subscribes on A");
	if (sub == NULL)
		goto out;
	ok(delivered(n[2].s->port, sub), "messages published on C reach the "
	    "client on A");
	if ((on = failover(n, 0, nc, sub, 1)) >= 0)
		failover(n, on, nc, sub, 2);
	ok(waiter_wait(&disconnects, 2, 1) >= 2, "libnats saw both "
	    "disconnects");
out:
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	for (i = 2; i >= 0; i--)
		node_finish(&n[i], NULL, NULL);
	waiter_free(&reconnects);
	waiter_free(&disconnects);
	nats_Close();
	return done_testing();
}
