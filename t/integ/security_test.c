/*
 * Security end to end: authentication (user and password, token, a
 * users list with permissions, bcrypt hashes, the authentication
 * timeout, a burst of bad passwords), subject permissions, reload of
 * all of these, and TLS (plain INFO then handshake, client
 * certificates, the handshake timeout, TLS with a password, bad
 * certificate files).  natsd runs with two workers so that every check
 * that involves two clients can put them on different workers.
 *
 * Every expectation was checked against nats-server 2.9 (NATSD=
 * /usr/sbin/nats-server), which passes all of it except the points
 * skipped there: what only natsd promises (a token never in the log,
 * bcrypt checks that leave the event loop free).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../lib/certs.h"
#include "../lib/harness.h"
#include "../tap.h"
#include "../lib/points.h"

#define T		HARNESS_TIMEOUT_MS
#define WORKERS		2
#define RELOAD_MS	5000	/* a reload is applied within */
#define PICK_MAX	16	/* connections tried to land on a worker */

#define PASS		"s3cretPa55"
#define BADPASS		"Wr0ngPa55"
#define TOKEN		"S3Cr3T0k3n!"
#define BADTOKEN	"N0tTh3T0k3n"

#define ERR_AUTH	"-ERR 'Authorization Violation'"
#define ERR_AUTH_TIMEOUT "-ERR 'Authentication Timeout'"
#define ERR_PUB		"-ERR 'Permissions Violation for Publish to \"%s\"'"
#define ERR_SUB		"-ERR 'Permissions Violation for Subscription to " \
			    "\"%s\"'"

#define BURST		20	/* connections with a wrong password */
#define BURST_GOOD	4	/* authenticated clients measured meanwhile */
#define BURST_MS	20000	/* every wrong one refused within */
#define BURST_RTT_MS	50	/* a PING/PONG round trip stays under */

/* The 1.0.2 documentation's multi-user example, as written there. */
#define SEED_USERS \
	"authorization {\n" \
	"  ADMIN = {\n" \
	"    publish = \">\"\n" \
	"    subscribe = \">\"\n" \
	"  }\n" \
	"  REQUESTOR = {\n" \
	"    publish = [\"req.foo\", \"req.bar\"]\n" \
	"    subscribe = \"_INBOX.*\"\n" \
	"  }\n" \
	"  DEFAULT_PERMISSIONS = {\n" \
	"    publish = \"SANDBOX.*\"\n" \
	"    subscribe = [\"PUBLIC.>\", \"_INBOX.>\"]\n" \
	"  }\n" \
	"  FILTER = {\n" \
	"    publish = { allow: [\"foo.>\"], deny: [\"foo.bar\"] }\n" \
	"    subscribe = { allow: [\"foo.*\", \"bar.* q\"], " \
	    "deny: \"foo.bar\" }\n" \
	"  }\n" \
	"  PASS: abcdefghijklmnopqrstuvwxwz0123456789\n" \
	"  users = [\n" \
	"    {user: alice, password: foo, permissions: $ADMIN}\n" \
	"    {user: bob, password: bar, permissions: $REQUESTOR}\n" \
	"    {user: joe, password: $PASS}\n" \
	"    {user: quinn, password: q, permissions: $FILTER}\n" \
	"  ]\n" \
	"}\n"
#define ALICE	"{\"user\":\"alice\",\"pass\":\"foo\"}"
#define BOB	"{\"user\":\"bob\",\"pass\":\"bar\"}"
#define JOE	"{\"user\":\"joe\"," \
		    "\"pass\":\"abcdefghijklmnopqrstuvwxwz0123456789\"}"
#define QUINN	"{\"user\":\"quinn\",\"pass\":\"q\"}"

static int	 natsd;		/* the server under test is natsd */

static int
local_port(const struct conn *c)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	if (getsockname(c->fd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	return ntohs(sin.sin_port);
}

static int
info_true(const struct conn *c, const char *key)
{
	return c->info != NULL && json_is_true(json_object_get(c->info, key));
}

/*
 * Start the server of the test named what: its plain INFO must set key
 * and key2 (unless NULL) to true, one point named what and says.  NULL,
 * after a failed point, when the server does not start.
 */
static struct server *
start_info(const char *what, const char *config, const char *const *args,
    const char *key, const char *key2, const char *says)
{
	struct server	*s;
	struct conn	*c;

	if ((s = server_start_with(WORKERS, config, args)) == NULL) {
		ok(0, "%s: server starts", what);
		return NULL;
	}
	c = conn_open(s->port);
	ok(c != NULL && info_true(c, key) && (key2 == NULL ||
	    info_true(c, key2)), "%s: %s", what, says);
	conn_free(c);
	return s;
}

/*
 * A new connection sends text: it must get the Authorization Violation
 * and be closed.  With logtail, the log must also get the line that
 * names this client, "127.0.0.1:PORT - cid:N - authentication error"
 * followed by logtail.
 */
static int
refused(struct server *s, const char *text, const char *logtail)
{
	struct conn	*c;
	char		 want[256];
	int		 good;

	if ((c = conn_open(s->port)) == NULL)
		return 0;
	snprintf(want, sizeof(want), "127.0.0.1:%d - cid:%lld - "
	    "authentication error%s", local_port(c), (long long)c->client_id,
	    logtail != NULL ? logtail : "");
	good = conn_send(c, "%s", text) == 0 &&
	    conn_expect_line(c, ERR_AUTH, T) && conn_closed(c, T);
	if (good && logtail != NULL)
		good = server_wait_log(s, want, 1, T);
	conn_free(c);
	return good;
}

/* A verbose CONNECT (the protocol's default) answered +OK, then PONG. */
static int
accepted(int port, const char *connect_json)
{
	struct conn	*c;
	int		 good;

	if ((c = conn_open(port)) == NULL)
		return 0;
	good = conn_send(c, "CONNECT %s\r\nPING\r\n", connect_json) == 0 &&
	    conn_expect_line(c, "+OK", T) && conn_expect_line(c, "PONG", T);
	conn_free(c);
	return good;
}

/*
 * A client on worker w (same) or on any worker but w (!same).  Against
 * nats-server, or when w is unknown, any client does.  The connections
 * that land elsewhere stay open until the end: natsd gives the next
 * connection to the worker with fewer clients.
 */
static struct conn *
client_where(int port, const char *json, int w, int same)
{
	struct conn	*spare[PICK_MAX], *c = NULL;
	int		 n = 0, i;

	for (i = 0; i < PICK_MAX; i++) {
		if ((c = client_new(port, json)) == NULL)
			break;
		if (w < 0 || c->worker < 0 || (c->worker == w) == same)
			break;
		spare[n++] = c;
		c = NULL;
	}
	if (c == NULL)
		diag("no client %s worker %d in %d tries", same ? "on" :
		    "off", w, PICK_MAX);
	while (n > 0)
		conn_free(spare[--n]);
	return c;
}

/* Send text and expect the exact line want, then PING/PONG. */
static int
expect_after(struct conn *c, const char *text, const char *want)
{
	return conn_send(c, "%s", text) == 0 && conn_expect_line(c, want, T) &&
	    conn_ping(c, T);
}

/*
 * c sends text, a PUB or SUB on subject that it may not use: it gets the
 * -ERR of errfmt (ERR_PUB, ERR_SUB) for subject, copied to line, and
 * stays connected.
 */
static int
denied(struct conn *c, const char *text, const char *errfmt,
    const char *subject, char *line, size_t len)
{
	snprintf(line, len, errfmt, subject);
	return expect_after(c, text, line);
}

/* The line starts with prefix (reload's -ERR may carry a sid after). */
static int
expect_prefix(struct conn *c, const char *prefix, int timeout_ms)
{
	const char *line;

	if ((line = conn_read_line(c, timeout_ms)) == NULL) {
		diag("expected \"%s...\", got %s", prefix, c->eof ? "EOF" :
		    "nothing");
		return 0;
	}
	if (strncmp(line, prefix, strlen(prefix)) != 0) {
		diag("expected \"%s...\", got \"%s\"", prefix, line);
		return 0;
	}
	return 1;
}

/*
 * Authentication: user and password given by flags or by the file.
 * Runs with -DV so the trace of every CONNECT is in the log.
 */
static void
test_userpass(const char *what, const char *config, const char *const *args)
{
	struct server	*s;
	const char	*allow[] = { "authentication error", NULL };

	if ((s = start_info(what, config, args, "auth_required", NULL,
	    "INFO says auth_required")) == NULL)
		return;
	ok(accepted(s->port, "{\"user\":\"bob\",\"pass\":\"" PASS "\"}"),
	    "%s: right password: +OK, PONG", what);
	ok(refused(s, "CONNECT {\"user\":\"bob\",\"pass\":\"" BADPASS
	    "\"}\r\nPING\r\n", ""), "%s: wrong password refused, closed, "
	    "logged with the client's address and cid", what);
	ok(refused(s, "CONNECT {\"user\":\"bob\"}\r\nPING\r\n", ""),
	    "%s: no password refused", what);
	ok(refused(s, "CONNECT {\"user\":\"eve\",\"pass\":\"" PASS "\"}\r\n",
	    ""), "%s: wrong user refused", what);
	ok(refused(s, "CONNECT {}\r\nPING\r\n", ""), "%s: CONNECT {} refused",
	    what);
	ok(refused(s, "PING\r\n", ""), "%s: PING before CONNECT refused",
	    what);
	ok(refused(s, "SUB foo 1\r\n", ""), "%s: SUB before CONNECT refused",
	    what);
	ok(server_wait_log(s, "\"pass\":\"[REDACTED]\"", 1, T),
	    "%s: the CONNECT trace shows \"pass\":\"[REDACTED]\"", what);
	is_int(server_log_grep(s, PASS) + server_log_grep(s, BADPASS), 0,
	    "%s: no password, right or wrong, in the log", what);
	server_finish(s, what, allow);
}

static void
test_token(const char *what, const char *config, const char *const *args)
{
	struct server	*s;
	const char	*allow[] = { "authentication error", NULL };

	if ((s = start_info(what, config, args, "auth_required", NULL,
	    "INFO says auth_required")) == NULL)
		return;
	ok(accepted(s->port, "{\"auth_token\":\"" TOKEN "\"}"),
	    "%s: right token: +OK, PONG", what);
	ok(refused(s, "CONNECT {\"auth_token\":\"" BADTOKEN "\"}\r\n", ""),
	    "%s: wrong token refused and logged", what);
	ok(refused(s, "CONNECT {}\r\n", ""), "%s: no token refused", what);
	ok(refused(s, "CONNECT {\"user\":\"bob\",\"pass\":\"" TOKEN "\"}\r\n",
	    ""), "%s: the token as a password refused", what);
	if (natsd)
		is_int(server_log_grep(s, TOKEN) + server_log_grep(s, BADTOKEN),
		    0, "%s: no token, right or wrong, in the log", what);
	else
		skip("nats-server 2.9 traces auth_token in clear");
	server_finish(s, what, allow);
}

/*
 * The seed's users list with variables and permissions, plus a user
 * with allow/deny lists and a queue rule.
 */
static void
test_users(void)
{
	struct server	*s;
	struct conn	*spy[2] = { NULL, NULL }, *pa[2] = { NULL, NULL };
	struct conn	*bob = NULL, *joe = NULL, *quinn = NULL, *mate = NULL;
	char		 line[256];
	int		 i, w;
	const char	*allow[] = { "authentication error",
	    "Publish Violation", "Subscription Violation", NULL };

	if ((s = server_start_with(WORKERS, SEED_USERS, NULL)) == NULL) {
		ok(0, "users: server starts");
		return;
	}
	ok(accepted(s->port, ALICE), "users: alice (password foo) accepted");
	ok(accepted(s->port, BOB), "users: bob (password bar) accepted");
	ok(accepted(s->port, JOE), "users: joe (password from $PASS) accepted");
	ok(refused(s, "CONNECT {\"user\":\"x\",\"pass\":\"foo\"}\r\n",
	    " - User \"x\""), "users: unknown user refused, log says "
	    "authentication error - User \"x\"");
	ok(refused(s, "CONNECT {\"user\":\"bob\",\"pass\":\"foo\"}\r\n",
	    " - User \"bob\""), "users: bob with alice's password refused");
	ok(refused(s, "CONNECT {\"user\":\"joe\",\"pass\":\"$PASS\"}\r\n",
	    NULL), "users: the variable's name is not the password");

	/*
	 * Permissions.  alice (">" both ways) has a listener (spy) and a
	 * publisher (pa) on bob's worker (index 0) and on the other one
	 * (index 1); bob is REQUESTOR.
	 */
	bob = client_new(s->port, BOB);
	w = bob != NULL ? bob->worker : -1;
	for (i = 0; i < 2; i++) {
		spy[i] = client_where(s->port, ALICE, w, i == 0);
		pa[i] = client_where(s->port, ALICE, w, i == 0);
	}
	if (!ok(bob != NULL && spy[0] != NULL && spy[1] != NULL &&
	    pa[0] != NULL && pa[1] != NULL, "users: bob, and alice on bob's "
	    "worker and on the other"))
		goto out;
	conn_send(spy[0], "SUB > 1\r\n");
	conn_send(spy[1], "SUB > 1\r\n");
	ok(conn_ping(spy[0], T) && conn_ping(spy[1], T),
	    "users: alice may subscribe to >");

	ok(denied(bob, "PUB x 2\r\nno\r\n", ERR_PUB, "x", line, sizeof(line)),
	    "users: bob PUB x: %s, connection stays", line);
	ok(server_wait_log(s, "Publish Violation - User \"bob\", Subject "
	    "\"x\"", 1, T), "users: log says Publish Violation - User "
	    "\"bob\", Subject \"x\"");
	conn_send(bob, "PUB req.foo 3\r\nyes\r\n");
	ok(conn_ping(bob, T), "users: bob PUB req.foo accepted");
	ok(conn_expect_msg(spy[1], "req.foo", "1", "", "yes", T),
	    "users: req.foo reaches > on the other worker, x did not");
	ok(conn_expect_msg(spy[0], "req.foo", "1", "", "yes", T),
	    "users: and > on the same worker");
	conn_send(spy[0], "UNSUB 1\r\n");
	conn_send(spy[1], "UNSUB 1\r\n");
	ok(conn_ping(spy[0], T) && conn_ping(spy[1], T),
	    "users: and nothing else; listeners unsubscribe");

	ok(denied(bob, "SUB foo 1\r\n", ERR_SUB, "foo", line, sizeof(line)),
	    "users: bob SUB foo: %s, connection stays", line);
	ok(server_wait_log(s, "Subscription Violation - User \"bob\", Subject "
	    "\"foo\", SID 1", 1, T), "users: log says Subscription Violation "
	    "- User \"bob\", Subject \"foo\", SID 1");
	conn_send(bob, "SUB _INBOX.abc 2\r\n");
	ok(conn_ping(bob, T), "users: bob SUB _INBOX.abc accepted");
	conn_send(pa[1], "PUB _INBOX.abc 2\r\nok\r\nPUB foo 2\r\nno\r\n");
	ok(conn_ping(pa[1], T), "users: alice publishes anywhere");
	ok(conn_expect_msg(bob, "_INBOX.abc", "2", "", "ok", T) &&
	    conn_ping(bob, T), "users: bob gets _INBOX.abc only");

	/* joe has no permissions of his own: DEFAULT_PERMISSIONS apply. */
	joe = client_where(s->port, JOE, w, 0);
	if (ok(joe != NULL, "users: joe connected")) {
		conn_send(spy[0], "SUB SANDBOX.> 2\r\nSUB req.> 3\r\n");
		ok(conn_ping(spy[0], T), "users: alice listens on SANDBOX.> "
		    "and req.>");
		ok(denied(joe, "PUB req.foo 2\r\nno\r\n", ERR_PUB, "req.foo",
		    line, sizeof(line)), "users: joe PUB req.foo: %s", line);
		conn_send(joe, "PUB SANDBOX.a 2\r\nsb\r\n");
		ok(conn_ping(joe, T), "users: joe PUB SANDBOX.a (default "
		    "permissions) accepted");
		ok(conn_expect_msg(spy[0], "SANDBOX.a", "2", "", "sb", T),
		    "users: joe's SANDBOX.a reaches alice, req.foo did not");
		conn_send(joe, "SUB PUBLIC.> 1\r\nSUB _INBOX.> 2\r\n");
		ok(conn_ping(joe, T), "users: joe SUB PUBLIC.> and _INBOX.> "
		    "accepted");
		ok(denied(joe, "SUB SANDBOX.a 3\r\n", ERR_SUB, "SANDBOX.a",
		    line, sizeof(line)), "users: joe SUB SANDBOX.a: %s", line);
		conn_send(pa[0], "PUB PUBLIC.news 1\r\nn\r\n");
		ok(conn_ping(pa[0], T) && conn_expect_msg(joe, "PUBLIC.news",
		    "1", "", "n", T), "users: joe gets PUBLIC.news");
	}

	/*
	 * quinn: publish allow foo.> deny foo.bar; subscribe allow foo.*
	 * and "bar.* q" (queue q only), deny foo.bar.
	 */
	quinn = client_new(s->port, QUINN);
	if (!ok(quinn != NULL, "users: quinn connected"))
		goto out;
	ok(denied(quinn, "PUB foo.bar 2\r\nno\r\n", ERR_PUB, "foo.bar", line,
	    sizeof(line)), "users: quinn PUB foo.bar (denied): %s", line);
	ok(denied(quinn, "SUB foo.bar 1\r\n", ERR_SUB, "foo.bar", line,
	    sizeof(line)), "users: quinn SUB foo.bar (denied): %s", line);
	ok(server_wait_log(s, "Subscription Violation - User \"quinn\", "
	    "Subject \"foo.bar\", SID 1", 1, T), "users: log says Subscription "
	    "Violation - User \"quinn\", Subject \"foo.bar\", SID 1");
	ok(expect_after(quinn, "SUB bar.x r 2\r\n", "-ERR 'Permissions "
	    "Violation for Subscription to \"bar.x\" using queue \"r\"'"),
	    "users: quinn SUB bar.x r: ... using queue \"r\"");
	ok(server_wait_log(s, "Subscription Violation - User \"quinn\", "
	    "Subject \"bar.x\", Queue: \"r\", SID 2", 1, T),
	    "users: log names the queue: Queue: \"r\", SID 2");
	ok(denied(quinn, "SUB bar.x 3\r\n", ERR_SUB, "bar.x", line,
	    sizeof(line)), "users: quinn SUB bar.x without the queue: %s",
	    line);
	conn_send(quinn, "SUB bar.x q 4\r\nSUB foo.* 5\r\n");
	ok(conn_ping(quinn, T), "users: quinn SUB bar.x q and SUB foo.* "
	    "accepted");

	/*
	 * foo.* is allowed but foo.bar is denied: never delivered, from
	 * either worker.  One publisher shares quinn's worker.
	 */
	conn_send(pa[0], "PUB foo.bar 3\r\nbar\r\nPUB foo.baz 3\r\nbaz\r\n");
	ok(conn_ping(pa[0], T), "users: alice publishes foo.bar, foo.baz on "
	    "worker %d", pa[0]->worker);
	ok(conn_expect_msg(quinn, "foo.baz", "5", "", "baz", T),
	    "users: quinn (worker %d) gets foo.baz, not foo.bar",
	    quinn->worker);
	conn_send(pa[1], "PUB foo.bar 4\r\nbar2\r\nPUB foo.baz 4\r\nbaz2\r\n"
	    "PUB bar.x 3\r\nbrx\r\n");
	ok(conn_ping(pa[1], T), "users: alice publishes foo.bar, foo.baz, "
	    "bar.x on worker %d", pa[1]->worker);
	ok(conn_expect_msg(quinn, "foo.baz", "5", "", "baz2", T),
	    "users: quinn gets foo.baz, not foo.bar");
	ok(conn_expect_msg(quinn, "bar.x", "4", "", "brx", T),
	    "users: quinn's queue subscription bar.x q gets bar.x");
	ok(conn_ping(quinn, T), "users: and nothing else");
	conn_send(quinn, "PUB foo.baz 1\r\nq\r\n");
	ok(conn_expect_msg(quinn, "foo.baz", "5", "", "q", T) &&
	    conn_ping(quinn, T), "users: quinn PUB foo.baz accepted and "
	    "delivered to quinn's own foo.*");

	/*
	 * A queue group quinn shares with alice on quinn's worker: foo.bar
	 * is withheld from quinn, so alice's member gets every one of them
	 * (nats-server tries the next member too).
	 */
	for (i = 0; i < 16 && mate == NULL; i++) {
		if ((mate = client_new(s->port, ALICE)) != NULL &&
		    mate->worker != quinn->worker) {
			conn_free(mate);
			mate = NULL;
		}
	}
	if (!ok(mate != NULL, "users: alice on quinn's worker"))
		goto out;
	conn_send(quinn, "SUB foo.* g 6\r\n");
	conn_send(mate, "SUB foo.* g 1\r\n");
	ok(conn_ping(quinn, T) && conn_ping(mate, T),
	    "users: quinn and alice join queue group g on foo.*");
	for (i = 0; i < 20; i++)
		conn_send(pa[i % 2], "PUB foo.bar 1\r\n%d\r\n", i % 10);
	for (i = 0, w = 0; i < 20; i++) {
		struct msg m = { 0 };

		if (conn_read_msg(mate, &m, T) == 0 &&
		    strcmp(m.subject, "foo.bar") == 0)
			w++;
		msg_free(&m);
	}
	is_int(w, 20, "users: every foo.bar to group g reaches alice, from "
	    "both workers");
	ok(conn_ping(quinn, T), "users: and none reaches quinn");
out:
	conn_free(mate);
	for (i = 0; i < 2; i++) {
		conn_free(spy[i]);
		conn_free(pa[i]);
	}
	conn_free(bob);
	conn_free(joe);
	conn_free(quinn);
	server_finish(s, "users", allow);
}

/* bcrypt hashes as passwords and as a token; both $2a$ and $2b$. */
static void
test_bcrypt(void)
{
	struct server	*s;
	char		*h2a, *h2b, *ht, *conf;
	const char	*allow[] = { "authentication error", NULL };

	h2a = harness_bcrypt("pw-ann", "$2a$", 4);
	h2b = harness_bcrypt("pw-ben", "$2b$", 4);
	ht = harness_bcrypt(TOKEN, "$2a$", 4);
	if (!ok(h2a != NULL && h2b != NULL && ht != NULL,
	    "bcrypt: hashes made")) {
		free(h2a);
		free(h2b);
		free(ht);
		return;
	}
	diag("bcrypt: ann %s", h2a);
	conf = harness_asprintf("authorization {\n  users = [\n"
	    "    {user: ann, password: \"%s\"}\n"
	    "    {user: ben, password: \"%s\"}\n  ]\n}\n", h2a, h2b);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL)
		ok(0, "bcrypt: server starts");
	else {
		ok(accepted(s->port, "{\"user\":\"ann\",\"pass\":\"pw-ann\"}"),
		    "bcrypt: ann's password against a $2a$ hash accepted");
		ok(accepted(s->port, "{\"user\":\"ben\",\"pass\":\"pw-ben\"}"),
		    "bcrypt: ben's password against a $2b$ hash accepted");
		ok(refused(s, "CONNECT {\"user\":\"ann\",\"pass\":\"pw-ben\"}"
		    "\r\n", " - User \"ann\""),
		    "bcrypt: wrong password refused");
		free(conf);
		conf = harness_asprintf("CONNECT {\"user\":\"ann\","
		    "\"pass\":\"%s\"}\r\n", h2a);
		ok(refused(s, conf, NULL), "bcrypt: the hash itself as the "
		    "password refused");
		server_finish(s, "bcrypt users", allow);
	}
	free(conf);

	conf = harness_asprintf("authorization {\n  token: \"%s\"\n}\n", ht);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL)
		ok(0, "bcrypt token: server starts");
	else {
		ok(accepted(s->port, "{\"auth_token\":\"" TOKEN "\"}"),
		    "bcrypt token: right token accepted");
		ok(refused(s, "CONNECT {\"auth_token\":\"" BADTOKEN "\"}\r\n",
		    ""), "bcrypt token: wrong token refused");
		server_finish(s, "bcrypt token", allow);
	}
	free(conf);
	free(h2a);
	free(h2b);
	free(ht);
}

/* A client that says nothing, or half a CONNECT, is cut after 0.5 s. */
static void
test_auth_timeout(void)
{
	struct server	*s;
	struct conn	*idle[4], *slow, *good;
	int64_t		 t0, el, worst = 0;
	int		 i, n = 0, cut = 0;
	const char	*allow[] = { "Authentication Timeout",
	    "authentication error", NULL };

	s = server_start_with(WORKERS, "authorization {\n  user: bob\n"
	    "  password: " PASS "\n  timeout: 0.5\n}\n", NULL);
	if (s == NULL) {
		ok(0, "auth timeout: server starts");
		return;
	}
	good = client_new(s->port, "{\"user\":\"bob\",\"pass\":\"" PASS "\"}");
	ok(good != NULL, "auth timeout: a client authenticates in time");

	t0 = harness_now_ms();
	for (i = 0; i < 4; i++)
		if ((idle[n] = conn_open(s->port)) != NULL)
			n++;
	slow = conn_open(s->port);
	if (slow != NULL)
		conn_send(slow, "CONNECT {\"user\":\"bob\",\"pa");
	for (i = 0; i < n; i++) {
		if (conn_expect_line(idle[i], ERR_AUTH_TIMEOUT, 3000) &&
		    conn_closed(idle[i], 1000))
			cut++;
		conn_free(idle[i]);
	}
	worst = harness_now_ms() - t0;
	is_int(cut, 4, "auth timeout: 4 silent clients get %s and are "
	    "closed", ERR_AUTH_TIMEOUT);
	diag("auth timeout: the last silent client was cut after %lld ms",
	    (long long)worst);
	ok(worst >= 400 && worst < 3000, "auth timeout: after 0.5 s, within "
	    "3 s (%lld ms)", (long long)worst);
	ok(slow != NULL && conn_expect_line(slow, ERR_AUTH_TIMEOUT, 3000) &&
	    conn_closed(slow, 1000), "auth timeout: half a CONNECT line "
	    "(slowloris) is cut too");
	el = harness_now_ms() - t0;
	ok(el < 3000, "auth timeout: slowloris cut within 3 s (%lld ms)",
	    (long long)el);
	conn_free(slow);
	ok(good != NULL && conn_quiet(good, 600) && conn_ping(good, T),
	    "auth timeout: the authenticated client is not affected");
	conn_free(good);
	server_finish(s, "auth timeout", allow);
}

/*
 * 20 wrong passwords against a cost-10 bcrypt hash at once must not
 * stall the clients already in: their PING/PONG round trips stay far
 * below the time of one bcrypt check.
 */
static void
test_burst(void)
{
	struct server	*s;
	struct conn	*good[BURST_GOOD], *bad[BURST];
	char		*hash, *conf;
	const char	*line;
	int64_t		 t0, t1, rtt, max_rtt = 0, sum = 0, single;
	int		 ngood = 0, nbad = 0, done[BURST] = { 0 }, refusedn = 0;
	int		 samples = 0, i, w0 = 0, w1 = 0;
	const char	*allow[] = { "authentication error", NULL };

	t0 = harness_now_ms();
	hash = harness_bcrypt("burst-pass", "$2a$", 10);
	single = harness_now_ms() - t0;
	if (!ok(hash != NULL, "burst: cost-10 hash made in %lld ms",
	    (long long)single))
		return;
	conf = harness_asprintf("authorization {\n  user: bob\n"
	    "  password: \"%s\"\n}\n", hash);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL) {
		ok(0, "burst: server starts");
		free(conf);
		free(hash);
		return;
	}
	for (i = 0; i < BURST_GOOD; i++) {
		good[ngood] = client_new(s->port,
		    "{\"user\":\"bob\",\"pass\":\"burst-pass\"}");
		if (good[ngood] == NULL)
			break;
		if (good[ngood]->worker == 0)
			w0++;
		else if (good[ngood]->worker == 1)
			w1++;
		ngood++;
	}
	ok(ngood == BURST_GOOD, "burst: %d clients authenticated (%d on "
	    "worker 0, %d on worker 1)", ngood, w0, w1);
	for (i = 0; i < BURST; i++)
		if ((bad[nbad] = conn_open(s->port)) != NULL)
			nbad++;
	for (i = 0; i < nbad; i++)
		conn_send(bad[i], "CONNECT {\"user\":\"bob\","
		    "\"pass\":\"no-%d\"}\r\nPING\r\n", i);
	t0 = harness_now_ms();
	while (refusedn < nbad && harness_now_ms() - t0 < BURST_MS) {
		for (i = 0; i < ngood; i++) {
			t1 = harness_now_ms();
			if (!conn_ping(good[i], T)) {
				diag("burst: client %d lost its PONG", i);
				max_rtt = T;
				break;
			}
			rtt = harness_now_ms() - t1;
			sum += rtt;
			samples++;
			if (rtt > max_rtt)
				max_rtt = rtt;
		}
		for (i = 0; i < nbad; i++) {
			if (done[i])
				continue;
			if ((line = conn_read_line(bad[i], 0)) != NULL) {
				if (strcmp(line, ERR_AUTH) != 0)
					diag("burst: wrong password got \"%s\"",
					    line);
				else
					refusedn++;
				done[i] = 1;
			} else if (bad[i]->eof) {
				diag("burst: closed without -ERR");
				done[i] = 1;
			}
		}
		harness_nap(1);
	}
	t1 = harness_now_ms() - t0;
	diag("burst: one cost-10 check here: %lld ms; %d refused in %lld ms; "
	    "%d round trips meanwhile, max %lld ms, mean %.2f ms",
	    (long long)single, refusedn, (long long)t1, samples,
	    (long long)max_rtt, samples ? (double)sum / samples : 0.0);
	is_int(refusedn, BURST, "burst: all %d wrong passwords got %s within "
	    "%d s", BURST, ERR_AUTH, BURST_MS / 1000);
	ok(samples >= ngood, "burst: round trips measured during the burst");
	if (natsd)
		ok(max_rtt < BURST_RTT_MS, "burst: max PING/PONG round trip "
		    "%lld ms < %d ms while bcrypt runs", (long long)max_rtt,
		    BURST_RTT_MS);
	else
		skip("nats-server: max round trip %lld ms (not asserted)",
		    (long long)max_rtt);
	for (i = 0; i < nbad; i++)
		conn_free(bad[i]);
	for (i = 0; i < ngood; i++)
		conn_free(good[i]);
	server_finish(s, "burst", allow);
	free(conf);
	free(hash);
}

#define RELOAD_USERS \
	"authorization {\n  users = [\n" \
	"    {user: alice, password: a}\n" \
	"    {user: bob, password: b}\n" \
	"    {user: carol, password: c}\n" \
	"    {user: dave, password: d, permissions: " \
	    "{ publish: \"a.>\", subscribe: \"s.>\" }}\n" \
	"  ]\n}\n"
#define RELOAD_USERS2 \
	"authorization {\n  users = [\n" \
	"    {user: alice, password: a}\n" \
	"    {user: bob, password: b2}\n" \
	"    {user: dave, password: d, permissions: " \
	    "{ publish: [\"b.>\", \"s.>\"],\n" \
	    "      subscribe: [\"t.>\", \"s.y\"] }}\n" \
	"  ]\n}\n"

/*
 * Reload changes users: a changed password and a removed user close
 * those connections, changed permissions apply to the connection at
 * once, everyone else carries on.
 */
static void
test_reload_users(void)
{
	struct server	*s;
	struct conn	*alice, *alice2, *bob, *carol, *dave;
	char		 line[256];
	const char	*allow[] = { "authentication error",
	    "Publish Violation", "Subscription Violation", NULL };

	if ((s = server_start_with(WORKERS, RELOAD_USERS, NULL)) == NULL) {
		ok(0, "reload users: server starts");
		return;
	}
	alice = client_new(s->port, "{\"user\":\"alice\",\"pass\":\"a\"}");
	alice2 = client_where(s->port, "{\"user\":\"alice\",\"pass\":\"a\"}",
	    alice != NULL ? alice->worker : -1, 0);
	bob = client_where(s->port, "{\"user\":\"bob\",\"pass\":\"b\"}",
	    alice != NULL ? alice->worker : -1, 1);
	carol = client_new(s->port, "{\"user\":\"carol\",\"pass\":\"c\"}");
	dave = client_where(s->port, "{\"user\":\"dave\",\"pass\":\"d\"}",
	    alice != NULL ? alice->worker : -1, 0);
	if (!ok(alice != NULL && alice2 != NULL && bob != NULL &&
	    carol != NULL && dave != NULL, "reload users: alice on two "
	    "workers, bob, carol, dave connected"))
		goto out;
	conn_send(alice, "SUB > 1\r\n");
	conn_send(alice2, "SUB chat 1\r\n");
	conn_send(dave, "SUB s.x 1\r\nSUB s.y 2\r\n");
	ok(conn_ping(alice, T) && conn_ping(alice2, T) && conn_ping(dave, T),
	    "reload users: subscribed");
	conn_send(dave, "PUB a.1 1\r\n1\r\n");
	ok(conn_ping(dave, T) && conn_expect_msg(alice, "a.1", "1", "", "1", T),
	    "reload users: dave may publish a.1 before the reload");

	ok(server_reload(s, RELOAD_USERS2, 1, RELOAD_MS), "reload users: "
	    "bob's password changed, carol removed, dave's permissions "
	    "changed: applied");
	ok(conn_expect_line(bob, ERR_AUTH, T) && conn_closed(bob, T),
	    "reload users: bob (password changed) gets %s and is closed",
	    ERR_AUTH);
	ok(conn_closed(carol, T), "reload users: carol (removed) is closed");
	ok(expect_prefix(dave, "-ERR 'Permissions Violation for Subscription "
	    "to \"s.x\"", T), "reload users: dave is told s.x is no longer "
	    "allowed: %s", dave->line != NULL ? dave->line : "");
	ok(conn_ping(dave, T), "reload users: dave stays connected (nothing "
	    "about s.y, still allowed)");

	conn_send(alice, "PUB chat 2\r\nhi\r\n");
	ok(conn_expect_msg(alice, "chat", "1", "", "hi", T) &&
	    conn_ping(alice, T), "reload users: alice (unchanged) publishes "
	    "and hears herself");
	ok(conn_expect_msg(alice2, "chat", "1", "", "hi", T),
	    "reload users: and alice on the other worker hears it");

	ok(denied(dave, "PUB a.2 1\r\n2\r\n", ERR_PUB, "a.2", line,
	    sizeof(line)), "reload users: dave PUB a.2, allowed before, "
	    "now: %s", line);
	/* The user's name in the log outlives the settings it came from. */
	ok(server_wait_log(s, "Publish Violation - User \"dave\", "
	    "Subject \"a.2\"", 1, T), "reload users: log says Publish "
	    "Violation - User \"dave\", Subject \"a.2\"");
	conn_send(dave, "PUB b.3 1\r\n3\r\n");
	ok(conn_ping(dave, T) && conn_expect_msg(alice, "b.3", "1", "", "3", T),
	    "reload users: dave PUB b.3, refused before, now delivered");
	conn_send(alice, "PUB s.x 1\r\nx\r\nPUB s.y 1\r\ny\r\n");
	ok(conn_expect_msg(alice, "s.x", "1", "", "x", T) &&
	    conn_expect_msg(alice, "s.y", "1", "", "y", T) &&
	    conn_ping(alice, T), "reload users: alice publishes s.x and s.y");
	ok(conn_expect_msg(dave, "s.y", "2", "", "y", T),
	    "reload users: dave's removed s.x subscription gets nothing, s.y "
	    "still delivers");
	ok(conn_ping(dave, T), "reload users: nothing else for dave");
	ok(denied(dave, "SUB s.z 3\r\n", ERR_SUB, "s.z", line, sizeof(line)),
	    "reload users: dave SUB s.z now: %s", line);
	ok(server_wait_log(s, "Subscription Violation - User \"dave\", Subject "
	    "\"s.z\", SID 3", 1, T), "reload users: log says Subscription "
	    "Violation - User \"dave\", Subject \"s.z\", SID 3");
	conn_send(dave, "SUB t.x 4\r\n");
	ok(conn_ping(dave, T), "reload users: dave SUB t.x now accepted");

	ok(accepted(s->port, "{\"user\":\"bob\",\"pass\":\"b2\"}"),
	    "reload users: bob's new password works");
	ok(refused(s, "CONNECT {\"user\":\"bob\",\"pass\":\"b\"}\r\n", NULL),
	    "reload users: bob's old password is refused");
	ok(refused(s, "CONNECT {\"user\":\"carol\",\"pass\":\"c\"}\r\n", NULL),
	    "reload users: carol is refused");
out:
	conn_free(alice);
	conn_free(alice2);
	conn_free(bob);
	conn_free(carol);
	conn_free(dave);
	server_finish(s, "reload users", allow);
}

/* A server without authorization gets one: every client is cut. */
static void
test_reload_add_auth(void)
{
	struct server	*s;
	struct conn	*c1, *c2, *c;
	const char	*allow[] = { "authentication error", NULL };

	if ((s = server_start_with(WORKERS, "# no authorization yet\n",
	    NULL)) == NULL) {
		ok(0, "reload add auth: server starts");
		return;
	}
	c1 = client_new(s->port, NULL);
	c2 = client_where(s->port, NULL, c1 != NULL ? c1->worker : -1, 0);
	ok(c1 != NULL && c2 != NULL, "reload add auth: two clients without "
	    "credentials, on both workers");
	ok(server_reload(s, "authorization {\n  user: bob\n  password: "
	    PASS "\n}\n", 1, RELOAD_MS),
	    "reload add auth: authorization added");
	ok(c1 != NULL && conn_closed(c1, T), "reload add auth: the first "
	    "client is closed");
	ok(c2 != NULL && conn_closed(c2, T), "reload add auth: the second "
	    "client (other worker) is closed");
	c = conn_open(s->port);
	ok(c != NULL && info_true(c, "auth_required"),
	    "reload add auth: INFO now says auth_required");
	conn_free(c);
	ok(refused(s, "CONNECT {}\r\n", ""), "reload add auth: CONNECT {} "
	    "refused");
	ok(accepted(s->port, "{\"user\":\"bob\",\"pass\":\"" PASS "\"}"),
	    "reload add auth: bob gets in");
	conn_free(c1);
	conn_free(c2);
	server_finish(s, "reload add auth", allow);
}

/*
 * A TLS client exchange written out by hand (tls_probe sends CONNECT
 * {} only): INFO, handshake verifying the server against ca, send text,
 * return the first line back in out.  0, or -1 with the reason in out.
 */
static int
tls_exchange(int port, const char *ca, const char *text, char *out,
    size_t outlen)
{
	SSL_CTX			*ctx = NULL;
	SSL			*ssl = NULL;
	char			 buf[4096], *nl;
	size_t			 got = 0;
	int64_t			 deadline = harness_now_ms() + 3 * T;
	int			 fd, r, rv = -1;

	snprintf(out, outlen, "failed");
	if ((fd = harness_tcp_connect(port, T)) == -1) {
		snprintf(out, outlen, "connect: %s", strerror(errno));
		return -1;
	}
	/* The plain INFO line, a byte at a time: TLS follows it. */
	while (got < sizeof(buf) - 1 && harness_now_ms() < deadline) {
		if (read(fd, buf + got, 1) != 1) {
			snprintf(out, outlen, "INFO: %s", strerror(errno));
			goto done;
		}
		if (buf[got++] == '\n')
			break;
	}
	if (got < 5 || strncmp(buf, "INFO ", 5) != 0) {
		snprintf(out, outlen, "no INFO");
		goto done;
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(out, outlen, "SSL_CTX: %s",
		    ERR_reason_error_string(ERR_get_error()));
		goto done;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    "127.0.0.1") != 1 || SSL_connect(ssl) != 1) {
		snprintf(out, outlen, "handshake: %s",
		    ERR_reason_error_string(ERR_get_error()));
		goto done;
	}
	if (SSL_write(ssl, text, (int)strlen(text)) <= 0) {
		snprintf(out, outlen, "write failed");
		goto done;
	}
	got = 0;
	while (got < sizeof(buf) - 1 && harness_now_ms() < deadline) {
		if ((r = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 -
		    got))) <= 0) {
			snprintf(out, outlen, "read: closed");
			goto done;
		}
		got += (size_t)r;
		buf[got] = '\0';
		if ((nl = strstr(buf, "\r\n")) != NULL) {
			*nl = '\0';
			if ((size_t)(nl - buf) >= outlen)
				buf[outlen - 1] = '\0';
			memcpy(out, buf, strlen(buf) + 1);
			rv = 0;
			goto done;
		}
	}
	snprintf(out, outlen, "no line");
done:
	if (ssl != NULL)
		SSL_free(ssl);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	ERR_clear_error();
	close(fd);
	return rv;
}

/* Plain INFO, TLS handshake, old protocols refused, debug log lines. */
static void
test_tls_basic(const struct certs *cs, const char *what, const char *config,
    const char *const *args)
{
	struct server	*s;
	struct conn	*c;
	const char	*line;
	char		 err[512];
	int		 r, bad = 0;
	const char	*allow[] = { "TLS handshake error", NULL };

	if ((s = start_info(what, config, args, "tls_required", NULL,
	    "plain INFO says tls_required")) == NULL)
		return;
	r = tls_probe(s->port, cs->ca, NULL, NULL, 0, err, sizeof(err));
	if (!ok(r == 0, "%s: TLS client verifying the CA gets PONG", what))
		diag("%s", err);
	r = tls_probe(s->port, cs->ca, NULL, NULL, TLS1_1_VERSION, err,
	    sizeof(err));
	ok(r == -1, "%s: a client offering at most TLS 1.1 fails", what);
	diag("%s: TLS 1.1 client: %s", what, r == -1 ? err : "got in");
	ok(server_wait_log(s, "Starting TLS client connection handshake", 1, T),
	    "%s: debug log: Starting TLS client connection handshake", what);
	ok(server_wait_log(s, "TLS handshake complete", 1, T),
	    "%s: debug log: TLS handshake complete", what);
	ok(server_wait_log(s, "TLS version 1.3, cipher suite TLS_", 1, T),
	    "%s: debug log: TLS version 1.3, cipher suite TLS_...", what);

	/* Plain text where TLS is required does not get in. */
	if ((c = conn_open(s->port)) != NULL) {
		conn_send(c, "CONNECT {\"verbose\":true}\r\nPING\r\n");
		while ((line = conn_read_line(c, 3000)) != NULL)
			if (strstr(line, "PONG") != NULL ||
			    strstr(line, "+OK") != NULL)
				bad++;
		ok(c->eof && bad == 0, "%s: a plain-text CONNECT is closed "
		    "without an answer", what);
		conn_free(c);
	} else
		ok(0, "%s: plain connection", what);
	server_finish(s, what, allow);
}

static void
test_tls_verify(const struct certs *cs, const char *what, const char *config,
    const char *const *args)
{
	struct server	*s;
	char		 err[512];
	int		 r;
	const char	*allow[] = { "TLS handshake error", NULL };

	if ((s = start_info(what, config, args, "tls_required", "tls_verify",
	    "INFO says tls_required and tls_verify")) == NULL)
		return;
	r = tls_probe(s->port, cs->ca, NULL, NULL, 0, err, sizeof(err));
	ok(r == -1, "%s: no client certificate: refused", what);
	diag("%s: no certificate: %s", what, r == -1 ? err : "got in");
	r = tls_probe(s->port, cs->ca, cs->other_cert, cs->other_key, 0, err,
	    sizeof(err));
	ok(r == -1, "%s: certificate from an untrusted CA: refused", what);
	diag("%s: untrusted certificate: %s", what, r == -1 ? err : "got in");
	r = tls_probe(s->port, cs->ca, cs->client_cert, cs->client_key, 0, err,
	    sizeof(err));
	if (!ok(r == 0, "%s: trusted client certificate: PONG", what))
		diag("%s", err);
	server_finish(s, what, allow);
}

/* A client that never starts TLS is cut after tls.timeout. */
static void
test_tls_timeout(const struct certs *cs)
{
	struct server	*s;
	struct conn	*c;
	char		*conf, err[512];
	int64_t		 t0, el;
	const char	*allow[] = { "TLS handshake error",
	    "TLS handshake timeout", NULL };

	conf = harness_asprintf("tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n  timeout: 0.5\n}\n", cs->server_cert,
	    cs->server_key);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL) {
		ok(0, "tls timeout: server starts");
		free(conf);
		return;
	}
	t0 = harness_now_ms();
	c = conn_open(s->port);
	ok(c != NULL && conn_closed(c, 3000), "tls timeout: a client that "
	    "never starts TLS is closed");
	el = harness_now_ms() - t0;
	ok(el >= 400 && el < 3000, "tls timeout: after 0.5 s, within 3 s "
	    "(%lld ms)", (long long)el);
	conn_free(c);
	ok(tls_probe(s->port, cs->ca, NULL, NULL, 0, err, sizeof(err)) == 0,
	    "tls timeout: a prompt TLS client is served");
	server_finish(s, "tls timeout", allow);
	free(conf);
}

/* The seed's "Simple TLS config file": TLS plus a bcrypt password. */
static void
test_tls_auth(const struct certs *cs)
{
	struct server	*s;
	char		*hash, *conf, line[512];
	int		 r;
	const char	*allow[] = { "authentication error",
	    "TLS handshake error", NULL };

	if ((hash = harness_bcrypt("monkey", "$2a$", 4)) == NULL) {
		ok(0, "tls auth: hash made");
		return;
	}
	/* The hash unquoted, as the seed writes it. */
	conf = harness_asprintf("# Simple TLS config file\n"
	    "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  timeout: 2\n"
	    "}\n"
	    "authorization {\n  user: derek\n  password: %s\n  timeout: 1\n"
	    "}\n", cs->server_cert, cs->server_key, hash);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL) {
		ok(0, "tls auth: server starts");
		goto out;
	}
	r = tls_exchange(s->port, cs->ca, "CONNECT {\"user\":\"derek\","
	    "\"pass\":\"monkey\"}\r\nPING\r\n", line, sizeof(line));
	ok(r == 0 && strcmp(line, "+OK") == 0, "tls auth: derek over TLS "
	    "with the right password: +OK (%s)", line);
	r = tls_exchange(s->port, cs->ca, "CONNECT {\"user\":\"derek\","
	    "\"pass\":\"donkey\"}\r\nPING\r\n", line, sizeof(line));
	ok(r == 0 && strcmp(line, ERR_AUTH) == 0, "tls auth: wrong "
	    "password over TLS: %s (%s)", ERR_AUTH, line);
	r = tls_probe(s->port, cs->ca, NULL, NULL, 0, line, sizeof(line));
	ok(r == -1 && strstr(line, "Authorization Violation") != NULL,
	    "tls auth: CONNECT {} over TLS refused (%s)", line);
	server_finish(s, "tls auth", allow);
out:
	free(conf);
	free(hash);
}

/*
 * Run bin -t -c conf, bounded.  Returns the exit status (-1 if it did
 * not exit normally) with its output in out.
 */
static int
run_check(const char *conf, char *out, size_t outlen)
{
	const char	*bin = harness_server_bin();
	char		 tmpl[] = "/tmp/natsd-sec-out.XXXXXX";
	int64_t		 deadline;
	pid_t		 pid, r;
	ssize_t		 n;
	int		 fd, status = 0;

	out[0] = '\0';
	if ((fd = mkstemp(tmpl)) == -1) {
		diag("mkstemp: %s", strerror(errno));
		return -1;
	}
	unlink(tmpl);
	fflush(stdout);
	switch (pid = fork()) {
	case -1:
		diag("fork: %s", strerror(errno));
		close(fd);
		return -1;
	case 0:
		dup2(fd, 1);
		dup2(fd, 2);
		execlp(bin, bin, "-t", "-c", conf, (char *)NULL);
		_exit(127);
	}
	deadline = harness_now_ms() + 5000;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    harness_now_ms() < deadline)
		harness_nap(10);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		diag("%s -t did not exit in 5 s", bin);
	}
	if ((n = pread(fd, out, outlen - 1, 0)) > 0)
		out[n] = '\0';
	close(fd);
	return r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Bad certificate paths: -t says so; a reload to them keeps the old. */
static void
test_tls_bad(const struct certs *cs)
{
	struct server	*s;
	char		*good, *bad, out[4096], err[512], path[256];
	FILE		*f;
	int		 st;
	const char	*allow[] = { "reload failed", "failed to reload",
	    "TLS handshake error", NULL };

	bad = harness_asprintf("tls {\n"
	    "  cert_file: \"/nonexistent-natsd/cert.pem\"\n"
	    "  key_file: \"%s\"\n}\n", cs->server_key);
	good = harness_asprintf("tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n}\n", cs->server_cert, cs->server_key);
	snprintf(path, sizeof(path), "%s/bad.conf", cs->dir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(bad, f);
		fclose(f);
	}
	st = run_check(path, out, sizeof(out));
	out[strcspn(out, "\n")] = '\0';
	diag("tls bad: -t says: %s", out);
	is_int(st, 1, "tls bad: -t -c with a missing cert_file exits 1");
	ok(strstr(out, "/nonexistent-natsd/cert.pem") != NULL,
	    "tls bad: and names the file");
	unlink(path);

	if ((s = server_start_with(WORKERS, good, NULL)) == NULL) {
		ok(0, "tls bad: server starts");
		goto out;
	}
	server_write_conf(s, bad);
	kill(s->pid, SIGHUP);
	/* natsd says "reload failed", nats-server "Failed to reload". */
	ok(server_wait_log(s, natsd ? "reload failed" : "ailed to reload", 1,
	    RELOAD_MS), "tls bad: a reload to a missing cert_file fails");
	st = tls_probe(s->port, cs->ca, NULL, NULL, 0, err, sizeof(err));
	if (!ok(st == 0, "tls bad: clients still get in over TLS with the "
	    "old certificate"))
		diag("%s", err);
	server_finish(s, "tls bad", allow);
out:
	free(good);
	free(bad);
}

static void
test_tls(void)
{
	struct certs	*cs;
	char		*conf;

	if ((cs = certs_make()) == NULL) {
		ok(0, "test PKI made with openssl");
		return;
	}
	conf = harness_asprintf("tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n}\n", cs->server_cert, cs->server_key);
	test_tls_basic(cs, "tls file", conf, (const char *const[]){ "-D",
	    NULL });
	free(conf);
	test_tls_basic(cs, "tls flags", NULL, (const char *const[]){ "-D",
	    "--tls", "--tlscert", cs->server_cert, "--tlskey",
	    cs->server_key, NULL });

	conf = harness_asprintf("tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n  ca_file: \"%s\"\n  verify: true\n}\n",
	    cs->server_cert, cs->server_key, cs->ca);
	test_tls_verify(cs, "tls verify file", conf, NULL);
	free(conf);
	test_tls_verify(cs, "tls verify flags", NULL, (const char *const[]){
	    "--tlsverify", "--tlscert", cs->server_cert, "--tlskey",
	    cs->server_key, "--tlscacert", cs->ca, NULL });

	test_tls_timeout(cs);
	test_tls_auth(cs);
	test_tls_bad(cs);
	certs_free(cs);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	natsd = !harness_is_nats_server(harness_server_bin());

	test_userpass("user flags", NULL, (const char *const[]){ "-DV",
	    "--user", "bob", "--pass", PASS, NULL });
	test_userpass("user file", "authorization {\n  user: bob\n"
	    "  password: " PASS "\n}\n", (const char *const[]){ "-DV",
	    NULL });
	test_token("token flag", NULL, (const char *const[]){ "-DV", "--auth",
	    TOKEN, NULL });
	test_token("token file", "authorization {\n  token: \"" TOKEN "\"\n"
	    "}\n", (const char *const[]){ "-DV", NULL });
	test_users();
	test_bcrypt();
	test_auth_timeout();
	test_burst();
	test_reload_users();
	test_reload_add_auth();
	test_tls();
	return done_testing();
}
