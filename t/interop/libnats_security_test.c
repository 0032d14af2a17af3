#include "config.h"

/*
 * Interop for the security features: the official NATS C client
 * (libnats) against the server named by $NATSD with two workers.
 * Credentials in the URL (user:pass, token), options (user info, a
 * bcrypt-hashed password), the failures a client sees (authentication
 * refused, a permissions violation reported through the asynchronous
 * error callback), and TLS: the server verified against the test CA
 * and by name, a client certificate under verify, TLS with a password,
 * pub/sub and request/reply across connections (so across natsd's
 * workers), 512 KB payloads and 2,000 messages in order.
 *
 * Every expectation holds against nats-server 2.9 too (NATSD=
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

#include "../lib/certs.h"
#include "../lib/harness.h"
#include "../lib/interop.h"
#include "../tap.h"
#include "../lib/points.h"

#define MSG_TIMEOUT_MS	3000
#define CB_TIMEOUT_MS	5000
#define WORKERS		2
#define BIG		(512 * 1024)
#define NBIG		4
#define NORDER		2000
#define NREQ		50

static struct waiter	errs;		/* asynchronous errors */

/*
 * Connecting to url without reconnecting (a lost connection is a failure
 * here), asynchronous errors counted in errs.
 */
static void
opts_url(struct nc_opts *o, const char *url)
{
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->errors = &errs;
}

/* Connect to the URL made of fmt and port; *st gets the status. */
static natsConnection *
nc_url(const char *fmt, int port, natsStatus *st)
{
	struct nc_opts	o;
	char		url[256];

	snprintf(url, sizeof(url), fmt, port);
	opts_url(&o, url);
	return nc_open(&o, st);
}

/* The status of connecting to the URL made of fmt and port. */
static natsStatus
connect_status(const char *fmt, int port)
{
	natsStatus st;

	natsConnection_Destroy(nc_url(fmt, port, &st));
	return st;
}

/* Subscribe on a, publish on b, the message arrives intact on a. */
static int
roundtrip(natsConnection *a, natsConnection *b, const char *subj)
{
	natsSubscription	*sub = NULL;
	natsMsg			*m = NULL;
	natsStatus		 st;
	int			 good = 0;

	st = nc_subscribe_sync(&sub, a, subj);
	if (st == NATS_OK)
		st = natsConnection_PublishString(b, subj, "round trip");
	if (st == NATS_OK)
		st = natsConnection_Flush(b);
	if (st == NATS_OK)
		st = natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS);
	if (st == NATS_OK)
		good = natsMsg_GetDataLength(m) == 10 &&
		    memcmp(natsMsg_GetData(m), "round trip", 10) == 0;
	else
		diag("roundtrip %s: %s", subj, natsStatus_GetText(st));
	natsMsg_Destroy(m);
	natsSubscription_Destroy(sub);
	return good;
}

/*
 * What a user was refused (kind: "publish", "subscription") comes back
 * through the error callback as NATS_NOT_PERMITTED, with the server's
 * text.  Three points.
 */
static void
reported(const char *kind, const char *text)
{
	ok(waiter_wait(&errs, 1, CB_TIMEOUT_MS) >= 1,
	    "users: forbidden %s reported by the error callback", kind);
	is_int(errs.last, NATS_NOT_PERMITTED, "users: as NATS_NOT_PERMITTED");
	ok(strstr(errs.text, text) != NULL, "users: naming the subject (%s)",
	    errs.text);
}

/* Users: URL credentials, user info, bcrypt, refusals, permissions. */
static void
test_users(void)
{
	struct server		*s;
	struct nc_opts		 co;
	natsConnection		*a = NULL, *b = NULL, *lim = NULL;
	natsSubscription	*sub = NULL, *bad = NULL;
	natsMsg			*m = NULL;
	natsStatus		 st;
	char			*hash, *conf, url[128];
	const char		*allow[] = { "authentication error",
	    "Publish Violation", "Subscription Violation", NULL };

	if ((hash = harness_bcrypt("h-pass", "$2a$", 4)) == NULL) {
		ok(0, "users: bcrypt hash made");
		return;
	}
	conf = harness_asprintf("authorization {\n  users = [\n"
	    "    {user: alice, password: \"a-pass\"}\n"
	    "    {user: hash, password: \"%s\"}\n"
	    "    {user: limited, password: \"l-pass\", permissions: {\n"
	    "      publish: \"ok.>\"\n"
	    "      subscribe: [\"ok.>\", \"_INBOX.>\"]\n"
	    "    }}\n  ]\n}\n", hash);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL) {
		ok(0, "users: server starts");
		goto out;
	}

	a = nc_url("nats://alice:a-pass@127.0.0.1:%d", s->port, NULL);
	ok(a != NULL, "users: nats://alice:a-pass@ connects");
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", s->port);
	opts_url(&co, url);
	co.user = "hash";
	co.pass = "h-pass";
	b = nc_open(&co, NULL);
	ok(b != NULL, "users: SetUserInfo against a bcrypt hash connects");
	if (a != NULL && b != NULL) {
		ok(roundtrip(a, b, "users.x"), "users: hash to alice");
		ok(roundtrip(b, a, "users.y"), "users: alice to hash");
	}

	st = connect_status("nats://alice:wrong@127.0.0.1:%d", s->port);
	is_int(st, NATS_CONNECTION_AUTH_FAILED, "users: wrong password: "
	    "NATS_CONNECTION_AUTH_FAILED");
	ok(strstr(nc_last_error(), "Authorization Violation") != NULL,
	    "users: and the error names the Authorization Violation");
	st = connect_status("nats://nobody:a-pass@127.0.0.1:%d", s->port);
	is_int(st, NATS_CONNECTION_AUTH_FAILED, "users: unknown user: "
	    "NATS_CONNECTION_AUTH_FAILED");
	st = connect_status("nats://127.0.0.1:%d", s->port);
	is_int(st, NATS_CONNECTION_AUTH_FAILED, "users: no credentials: "
	    "NATS_CONNECTION_AUTH_FAILED");
	st = connect_status("nats://hash:h-pass-not@127.0.0.1:%d", s->port);
	is_int(st, NATS_CONNECTION_AUTH_FAILED, "users: wrong password for "
	    "the bcrypt user: NATS_CONNECTION_AUTH_FAILED");

	/* Violations come back asynchronously; the connection stays. */
	lim = nc_url("nats://limited:l-pass@127.0.0.1:%d", s->port, NULL);
	if (!ok(lim != NULL, "users: limited user connects"))
		goto stop;
	waiter_reset(&errs);
	st = natsConnection_PublishString(lim, "forbidden.x", "no");
	if (st == NATS_OK)
		st = natsConnection_Flush(lim);
	reported("publish", "Permissions Violation for Publish to "
	    "\"forbidden.x\"");

	waiter_reset(&errs);
	st = nc_subscribe_sync(&bad, lim, "forbidden.y");
	reported("subscription", "Permissions Violation for Subscription to "
	    "\"forbidden.y\"");
	ok(natsConnection_Status(lim) == NATS_CONN_STATUS_CONNECTED,
	    "users: the limited connection stays up");

	st = nc_subscribe_sync(&sub, lim, "ok.in");
	if (st == NATS_OK && a != NULL)
		st = natsConnection_PublishString(a, "ok.in", "allowed");
	if (st == NATS_OK && a != NULL)
		st = natsConnection_PublishString(a, "forbidden.y", "hidden");
	if (st == NATS_OK && a != NULL)
		st = natsConnection_Flush(a);
	if (st == NATS_OK)
		st = natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS);
	ok(st == NATS_OK && strcmp(natsMsg_GetSubject(m), "ok.in") == 0,
	    "users: the limited user still receives what it may");
	natsMsg_Destroy(m);
	m = NULL;
	if (bad != NULL)
		ok(natsSubscription_NextMsg(&m, bad, 200) != NATS_OK,
		    "users: nothing arrives on the refused subscription");
	else
		ok(1, "users: the refused subscription was not created");
	natsMsg_Destroy(m);
	if (a != NULL)
		ok(roundtrip(a, lim, "ok.back"), "users: the limited user may "
		    "publish ok.back");
	waiter_reset(&errs);
stop:
	natsSubscription_Destroy(sub);
	natsSubscription_Destroy(bad);
	natsConnection_Destroy(lim);
	natsConnection_Destroy(a);
	natsConnection_Destroy(b);
	server_finish(s, "users", allow);
out:
	free(conf);
	free(hash);
}

static void
test_token(void)
{
	struct server	*s;
	natsConnection	*a, *b;
	natsStatus	 st;
	const char	*allow[] = { "authentication error", NULL };

	if ((s = server_start_with(WORKERS, "authorization {\n"
	    "  token: \"T0k3n-42\"\n}\n", NULL)) == NULL) {
		ok(0, "token: server starts");
		return;
	}
	a = nc_url("nats://T0k3n-42@127.0.0.1:%d", s->port, NULL);
	b = nc_url("nats://T0k3n-42@127.0.0.1:%d", s->port, NULL);
	ok(a != NULL && b != NULL, "token: nats://T0k3n-42@ connects");
	if (a != NULL && b != NULL)
		ok(roundtrip(a, b, "tok.x"), "token: messages flow");
	natsConnection_Destroy(a);
	natsConnection_Destroy(b);
	st = connect_status("nats://T0k3n-43@127.0.0.1:%d", s->port);
	is_int(st, NATS_CONNECTION_AUTH_FAILED,
	    "token: wrong token: NATS_CONNECTION_AUTH_FAILED");
	server_finish(s, "token", allow);
}

/* A TLS connection to the server, verified against the test CA. */
static natsConnection *
nc_tls(int port, const struct certs *cs, const char *creds)
{
	struct nc_opts	co;
	char		url[256];

	snprintf(url, sizeof(url), "tls://%s127.0.0.1:%d",
	    creds != NULL ? creds : "", port);
	opts_url(&co, url);
	co.tls = 1;
	co.ca = cs->ca;
	co.host = "localhost";
	return nc_open(&co, NULL);
}

/*
 * Traffic over TLS.  Three connections: with two workers natsd puts the
 * second on the worker the first is not on (it balances by count), and
 * the third publisher covers the same-worker path either way.
 */
static void
tls_traffic(int port, const struct certs *cs, const char *creds)
{
	natsConnection		*nc[3] = { NULL, NULL, NULL }, *reqs[2];
	natsSubscription	*sub = NULL, *rsp = NULL;
	natsMsg			*m = NULL;
	natsStatus		 st = NATS_OK;
	unsigned char		*big;
	char			 buf[32];
	int			 i, k, good, inorder, n;

	for (i = 0; i < 3; i++)
		nc[i] = nc_tls(port, cs, creds);
	if (!ok(nc[0] != NULL && nc[1] != NULL && nc[2] != NULL,
	    "tls traffic: three TLS connections"))
		goto out;
	ok(roundtrip(nc[0], nc[1], "t.rt1") && roundtrip(nc[1], nc[0],
	    "t.rt2") && roundtrip(nc[0], nc[2], "t.rt3"),
	    "tls traffic: pub/sub both ways across connections");

	/* 512 KB messages, from two publishers, byte for byte. */
	if ((big = malloc(BIG)) == NULL)
		abort();
	st = nc_subscribe_sync(&sub, nc[0], "t.big");
	for (i = 0; i < NBIG && st == NATS_OK; i++) {
		for (k = 0; k < BIG; k++)
			big[k] = (unsigned char)(k * 7 + i);
		st = natsConnection_Publish(nc[1 + i % 2], "t.big", big, BIG);
		if (st == NATS_OK)
			st = natsConnection_Flush(nc[1 + i % 2]);
	}
	is_int(st, NATS_OK, "tls traffic: %d x 512 KB published", NBIG);
	for (i = 0, good = 0; i < NBIG && st == NATS_OK; i++) {
		if (natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS) !=
		    NATS_OK)
			break;
		/* Each publisher's own order holds; across two it may not. */
		for (n = 0; n < NBIG; n++) {
			if (natsMsg_GetDataLength(m) != BIG)
				break;
			for (k = 0; k < BIG; k++)
				big[k] = (unsigned char)(k * 7 + n);
			if (memcmp(natsMsg_GetData(m), big, BIG) == 0) {
				good++;
				break;
			}
		}
		natsMsg_Destroy(m);
		m = NULL;
	}
	is_int(good, NBIG, "tls traffic: %d x 512 KB received intact", NBIG);
	free(big);
	natsSubscription_Destroy(sub);
	sub = NULL;

	/* 2,000 small messages in order. */
	st = natsConnection_SubscribeSync(&sub, nc[0], "t.seq");
	if (st == NATS_OK)
		st = natsSubscription_SetPendingLimits(sub, NORDER * 2,
		    64 * 1024 * 1024);
	if (st == NATS_OK)
		st = natsConnection_Flush(nc[0]);
	for (i = 0; i < NORDER && st == NATS_OK; i++) {
		n = snprintf(buf, sizeof(buf), "%d", i);
		st = natsConnection_Publish(nc[1], "t.seq", buf, n);
	}
	if (st == NATS_OK)
		st = natsConnection_Flush(nc[1]);
	is_int(st, NATS_OK, "tls traffic: %d messages published", NORDER);
	for (i = 0, inorder = 1; i < NORDER; i++) {
		if (natsSubscription_NextMsg(&m, sub, MSG_TIMEOUT_MS) !=
		    NATS_OK)
			break;
		if (atoi(natsMsg_GetData(m)) != i)
			inorder = 0;
		natsMsg_Destroy(m);
		m = NULL;
	}
	is_int(i, NORDER, "tls traffic: %d messages received", NORDER);
	ok(inorder, "tls traffic: in order");
	natsSubscription_Destroy(sub);
	sub = NULL;

	/* Request/reply: responder on one connection, requester on another. */
	st = natsConnection_Subscribe(&rsp, nc[1], "t.svc", nc_echo, NULL);
	if (st == NATS_OK)
		st = natsConnection_Flush(nc[1]);
	reqs[0] = nc[2];
	reqs[1] = nc[1];
	good = st == NATS_OK ? nc_requests(reqs, 2, "t.svc", "q", NREQ,
	    MSG_TIMEOUT_MS) : 0;
	is_int(good, NREQ, "tls traffic: %d requests answered over TLS",
	    NREQ);
	natsSubscription_Destroy(rsp);
out:
	for (i = 0; i < 3; i++)
		natsConnection_Destroy(nc[i]);
}

static void
test_tls(const struct certs *cs)
{
	struct server	*s;
	struct nc_opts	 co;
	natsConnection	*nc;
	natsStatus	 st;
	char		*conf, url[128];
	const char	*allow[] = { "TLS handshake error", NULL };

	conf = harness_asprintf("tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n}\n", cs->server_cert, cs->server_key);
	s = server_start_with(WORKERS, conf, NULL);
	free(conf);
	if (s == NULL) {
		ok(0, "tls: server starts");
		return;
	}
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", s->port);
	opts_url(&co, url);
	co.tls = 1;
	co.ca = cs->ca;
	co.host = "localhost";
	nc = nc_open(&co, &st);
	ok(nc != NULL, "tls: SetSecure, CA trusted, server name localhost: "
	    "connected");
	natsConnection_Destroy(nc);

	co.host = "not-this-server.example";
	nc = nc_open(&co, &st);
	ok(nc == NULL, "tls: a wrong expected hostname fails (%s)",
	    natsStatus_GetText(st));
	natsConnection_Destroy(nc);

	co.host = "localhost";
	co.ca = NULL;
	nc = nc_open(&co, &st);
	ok(nc == NULL, "tls: without the test CA the server is not trusted "
	    "(%s)", natsStatus_GetText(st));
	natsConnection_Destroy(nc);

	co.skip_verify = 1;
	co.host = NULL;
	nc = nc_open(&co, &st);
	ok(nc != NULL, "tls: SkipServerVerification connects (%s)",
	    natsStatus_GetText(st));
	natsConnection_Destroy(nc);

	opts_url(&co, url);
	nc = nc_open(&co, &st);
	ok(nc == NULL, "tls: libnats without SetSecure sees tls_required "
	    "and does not go on (%s)", natsStatus_GetText(st));
	natsConnection_Destroy(nc);

	tls_traffic(s->port, cs, NULL);
	server_finish(s, "tls", allow);
}

/* verify: a client certificate is required; TLS with a bcrypt password. */
static void
test_tls_verify(const struct certs *cs)
{
	struct server	*s;
	struct nc_opts	 co;
	natsConnection	*nc;
	natsStatus	 st;
	char		*hash, *conf, url[128];
	const char	*allow[] = { "TLS handshake error",
	    "authentication error", NULL };

	if ((hash = harness_bcrypt("monkey", "$2a$", 4)) == NULL) {
		ok(0, "tls verify: bcrypt hash made");
		return;
	}
	conf = harness_asprintf("tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n  ca_file: \"%s\"\n  verify: true\n}\n"
	    "authorization {\n  user: derek\n  password: \"%s\"\n}\n",
	    cs->server_cert, cs->server_key, cs->ca, hash);
	s = server_start_with(WORKERS, conf, NULL);
	free(conf);
	free(hash);
	if (s == NULL) {
		ok(0, "tls verify: server starts");
		return;
	}
	snprintf(url, sizeof(url), "tls://derek:monkey@127.0.0.1:%d",
	    s->port);
	opts_url(&co, url);
	co.tls = 1;
	co.ca = cs->ca;
	co.host = "localhost";
	co.cert = cs->client_cert;
	co.key = cs->client_key;
	nc = nc_open(&co, &st);
	ok(nc != NULL, "tls verify: client certificate and password: "
	    "connected");
	natsConnection_Destroy(nc);

	co.cert = cs->other_cert;
	co.key = cs->other_key;
	nc = nc_open(&co, &st);
	ok(nc == NULL, "tls verify: a certificate from another CA is refused "
	    "(%s)", natsStatus_GetText(st));
	natsConnection_Destroy(nc);

	co.cert = co.key = NULL;
	nc = nc_open(&co, &st);
	ok(nc == NULL, "tls verify: no client certificate is refused (%s)",
	    natsStatus_GetText(st));
	natsConnection_Destroy(nc);

	snprintf(url, sizeof(url), "tls://derek:donkey@127.0.0.1:%d",
	    s->port);
	co.cert = cs->client_cert;
	co.key = cs->client_key;
	nc = nc_open(&co, &st);
	is_int(st, NATS_CONNECTION_AUTH_FAILED, "tls verify: good certificate, "
	    "wrong password: NATS_CONNECTION_AUTH_FAILED");
	natsConnection_Destroy(nc);
	server_finish(s, "tls verify", allow);
}

int
main(void)
{
	struct certs	*cs;
	const char	*bin;

	bin = harness_server_bin();
	if (strchr(bin, '/') != NULL && access(bin, X_OK) != 0) {
		printf("1..0 # SKIP %s is not an executable\n", bin);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	waiter_init(&errs);
	if (nats_Open(-1) != NATS_OK) {
		ok(0, "nats_Open");
		return done_testing();
	}
	diag("server %s, libnats %s", bin, nats_GetVersion());

	test_users();
	test_token();
	if ((cs = certs_make()) == NULL)
		ok(0, "test PKI made with openssl");
	else {
		test_tls(cs);
		test_tls_verify(cs);
		certs_free(cs);
	}
	is_int(waiter_wait(&errs, 1, 0), 0, "no unexpected asynchronous "
	    "client errors");
	nats_CloseAndWait(5000);
	waiter_free(&errs);
	return done_testing();
}
