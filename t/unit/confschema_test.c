#include "config.h"

/*
 * Tests for the configuration schema (shared/conf.c): defaults, every
 * option type and alias, the blocks, errors naming file, line and
 * option, unknown options and variables, the command-line setter, the
 * checks between options, what this natsd refuses or does not serve
 * yet, and the reload classes.
 */

#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "natsd.h"
#include "settings.h"
#include "../tap.h"

static char	err[1024];

/* Settings from configuration text: the defaults, the text, applied. */
static int
load(const char *text, struct settings *s)
{
	cfg_t	*cfg = conf_new();

	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	if (conf_load_string(cfg, text, "t.conf", err, sizeof(err)) == -1 ||
	    conf_check(cfg, err, sizeof(err)) == -1) {
		conf_cfg_free(cfg);
		return -1;
	}
	settings_defaults(s);
	conf_apply(cfg, s);
	return 0;
}

static void
drop(struct settings *s)
{
	conf_cfg_free(s->cfg);
	s->cfg = NULL;
	settings_free(s);
}

/* The error a text gives, or "" when it loads. */
static const char *
error_of(const char *text)
{
	struct settings	s;

	if (load(text, &s) == 0) {
		drop(&s);
		return "";
	}
	return err;
}

static cfg_t *
sec(const struct settings *s, const char *name)
{
	return cfg_getsec(s->cfg, name);
}

static void
test_defaults(void)
{
	struct settings	 s;
	cfg_t		*auth, *tls, *cluster;

	ok(load("", &s) == 0, "an empty file loads");
	is_str(s.host, DEFAULT_HOST, "host defaults to 0.0.0.0");
	is_int(s.port, DEFAULT_PORT, "port defaults to 4222");
	ok(s.server_name == NULL, "no server_name by default");
	is_int(s.workers, 0, "workers default to 0 (online CPUs)");
	is_int(s.ring_size, DEFAULT_RING_SIZE, "ring_size default");
	ok(s.pid_file == NULL && s.log_file == NULL, "no pid or log file");
	ok(!s.debug && !s.trace && s.logtime && !s.syslog,
	    "debug, trace, syslog off, logtime on");
	ok(s.remote_syslog == NULL, "no remote_syslog");
	ok(s.http_port == 0 && s.https_port == 0 && s.http_host == NULL,
	    "monitoring off");
	is_int(s.max_payload, DEFAULT_MAX_PAYLOAD, "max_payload default");
	is_int(s.max_control_line, DEFAULT_MAX_CONTROL_LINE,
	    "max_control_line default");
	is_int(s.max_connections, DEFAULT_MAX_CONNECTIONS,
	    "max_connections default");
	is_int(s.max_pending, DEFAULT_MAX_PENDING, "max_pending default");
	is_int(s.ping_interval_ms, DEFAULT_PING_INTERVAL_MS,
	    "ping_interval default");
	is_int(s.ping_max, DEFAULT_PING_MAX, "ping_max default");
	is_int(s.write_deadline_ms, DEFAULT_WRITE_DEADLINE_MS,
	    "write_deadline default");
	ok(s.cfg != NULL, "settings keep the cfg_t");
	auth = sec(&s, "authorization");
	tls = sec(&s, "tls");
	cluster = sec(&s, "cluster");
	ok(cfg_getstr(auth, "user") == NULL && cfg_size(auth, "users") == 0,
	    "no authorization by default");
	is_int(cfg_getint(auth, "timeout"), DEFAULT_AUTH_TIMEOUT_MS,
	    "authorization timeout default");
	is_int(cfg_getint(tls, "timeout"), 2000, "tls timeout default 2s");
	ok(!cfg_getbool(tls, "verify"), "tls verify default false");
	is_int(cfg_getint(cluster, "port"), 0, "no cluster port by default");
	is_str(cfg_getstr(cluster, "host"), DEFAULT_HOST,
	    "cluster host default");
	ok(!conf_block_set(s.cfg, "authorization") &&
	    !conf_block_set(s.cfg, "tls") && !conf_block_set(s.cfg, "cluster"),
	    "no block counts as set");
	ok(conf_unsupported(&s, err, sizeof(err)) == 0,
	    "the defaults ask for nothing unsupported");
	drop(&s);
}

static void
test_scalars(void)
{
	struct settings	s;

	ok(load("port: 4333\nhost: 127.0.0.1\nserver_name: nats-1\n"
	    "workers: 3\nring_size: 16MB\npid_file: /run/natsd.pid\n"
	    "debug: true\ntrace: yes\nlogtime: off\nsyslog: on\n"
	    "log_file: \"/var/log/natsd.log\"\n"
	    "remote_syslog: \"udp://127.0.0.1:514\"\n"
	    "max_connections: 100\nmax_control_line: 512\n"
	    "max_payload: 64KB\nmax_pending: 32MB\nping_interval: \"30s\"\n"
	    "ping_max: 5\nwrite_deadline: \"1m30s\"\nhttp_port: 8222\n"
	    "https_port: 8443\n", &s) == 0, "every scalar option loads: %s",
	    err);
	is_int(s.port, 4333, "port");
	is_str(s.host, "127.0.0.1", "host");
	is_str(s.server_name, "nats-1", "server_name");
	is_int(s.workers, 3, "workers");
	is_int(s.ring_size, 16 * 1024 * 1024, "ring_size 16MB");
	is_str(s.pid_file, "/run/natsd.pid", "pid_file");
	ok(s.debug && s.trace && !s.logtime && s.syslog,
	    "booleans true, yes, off, on");
	is_str(s.log_file, "/var/log/natsd.log", "log_file");
	is_str(s.remote_syslog, "udp://127.0.0.1:514", "remote_syslog");
	is_int(s.max_connections, 100, "max_connections");
	is_int(s.max_control_line, 512, "max_control_line");
	is_int(s.max_payload, 65536, "max_payload 64KB");
	is_int(s.max_pending, 32 * 1024 * 1024, "max_pending 32MB");
	is_int(s.ping_interval_ms, 30000, "ping_interval \"30s\"");
	is_int(s.ping_max, 5, "ping_max");
	is_int(s.write_deadline_ms, 90000, "write_deadline \"1m30s\"");
	is_int(s.http_port, 8222, "http_port");
	is_str(s.http_host, "127.0.0.1", "http_host follows host");
	is_int(s.https_port, 8443, "https_port");
	is_str(s.https_host, "127.0.0.1", "https_host follows host");
	drop(&s);

	/* Durations: Go strings, unquoted "2m", integer and float seconds. */
	ok(load("ping_interval: 2m\nwrite_deadline: 3\n", &s) == 0,
	    "unquoted 2m and integer seconds");
	is_int(s.ping_interval_ms, 120000, "ping_interval: 2m is two minutes");
	is_int(s.write_deadline_ms, 3000, "write_deadline: 3 is 3 seconds");
	drop(&s);
	ok(load("ping_interval: 0.5\nwrite_deadline: \"500ms\"\n", &s) == 0,
	    "float seconds and milliseconds");
	is_int(s.ping_interval_ms, 500, "0.5 is 500ms");
	is_int(s.write_deadline_ms, 500, "\"500ms\"");
	drop(&s);

	/* Sizes: powers of 1000 and of 1024. */
	ok(load("max_payload: 1k\nmax_pending: 1MB\n", &s) == 0, "sizes");
	is_int(s.max_payload, 1000, "1k is 1000");
	is_int(s.max_pending, 1048576, "1MB is 1048576");
	drop(&s);

	/* A string option takes a number as written. */
	ok(load("server_name: 42\n", &s) == 0, "a number as a string");
	is_str(s.server_name, "42", "server_name: 42");
	drop(&s);

	/* The last setting wins. */
	ok(load("port: 1\nport: 2\nPort: 3\n", &s) == 0, "port thrice");
	is_int(s.port, 3, "the last one wins, keys ignore case");
	drop(&s);
}

static void
test_aliases(void)
{
	struct settings	 s;
	cfg_t		*auth, *u, *p;

	ok(load("net: 10.0.0.1\nmax_pending_size: 10000000\n"
	    "logfile: /tmp/x.log\nmax_conn: 7\nmonitor_port: 8223\n", &s) == 0,
	    "aliases load: %s", err);
	is_str(s.host, "10.0.0.1", "net is host");
	is_int(s.max_pending, 10000000, "max_pending_size is max_pending");
	is_str(s.log_file, "/tmp/x.log", "logfile is log_file");
	is_int(s.max_connections, 7, "max_conn is max_connections");
	is_int(s.http_port, 8223, "monitor_port is http_port");
	drop(&s);

	ok(load("authorization {\n username: a\n pass: b\n"
	    " permissions: { pub: \"x\", sub: [\"y\", \"z\"] }\n}\n", &s) == 0,
	    "authorization aliases: %s", err);
	auth = sec(&s, "authorization");
	is_str(cfg_getstr(auth, "user"), "a", "username is user");
	is_str(cfg_getstr(auth, "password"), "b", "pass is password");
	p = cfg_getsec(auth, "default_permissions");
	is_str(cfg_getnstr(cfg_getsec(p, "publish"), "allow", 0), "x",
	    "permissions is default_permissions, pub is publish");
	is_int(cfg_size(cfg_getsec(p, "subscribe"), "allow"), 2,
	    "sub is subscribe");
	drop(&s);

	ok(load("authorization { users = [\n"
	    " {username: a, pass: b, permission: { import: \"i\" }}\n"
	    " {user: c, authorization: { export: \"e\" }}\n] }\n", &s) == 0,
	    "users aliases: %s", err);
	auth = sec(&s, "authorization");
	u = cfg_getnsec(auth, "users", 0);
	is_str(cfg_getstr(u, "user"), "a", "users: username");
	is_str(cfg_getstr(u, "password"), "b", "users: pass");
	is_str(cfg_getnstr(cfg_getsec(cfg_getsec(u, "permissions"), "publish"),
	    "allow", 0), "i", "permission and import");
	u = cfg_getnsec(auth, "users", 1);
	is_str(cfg_getnstr(cfg_getsec(cfg_getsec(u, "permissions"),
	    "subscribe"), "allow", 0), "e", "authorization and export");
	drop(&s);
}

static void
test_listen(void)
{
	struct settings	s;

	ok(load("listen: localhost:4242\n", &s) == 0, "listen host:port");
	is_str(s.host, "localhost", "listen sets host");
	is_int(s.port, 4242, "listen sets port");
	drop(&s);
	ok(load("listen: \"[::1]:4243\"\n", &s) == 0, "listen [v6]:port");
	is_str(s.host, "::1", "IPv6 host without brackets");
	is_int(s.port, 4243, "its port");
	drop(&s);
	ok(load("host: 10.1.1.1\nlisten: \":4244\"\n", &s) == 0,
	    "listen :port");
	is_str(s.host, DEFAULT_HOST, ":port listens everywhere");
	is_int(s.port, 4244, "and sets the port");
	drop(&s);
	ok(load("host: 10.1.1.1\nlisten: 4245\n", &s) == 0, "listen port");
	is_str(s.host, "10.1.1.1", "a port alone keeps host");
	is_int(s.port, 4245, "a port alone");
	drop(&s);
	ok(load("listen: 127.0.0.1:4246\nport: 4247\n", &s) == 0,
	    "listen then port");
	is_int(s.port, 4247, "file order: the later port wins");
	drop(&s);
	ok(load("http: localhost:8222\nhttps: 8443\n", &s) == 0,
	    "http and https");
	is_str(s.http_host, "localhost", "http host");
	is_int(s.http_port, 8222, "http port");
	is_str(s.https_host, DEFAULT_HOST, "https alone follows host");
	is_int(s.https_port, 8443, "https port");
	drop(&s);
	is_str(error_of("listen: foo\n"),
	    "t.conf:1: listen: invalid address (host:port) \"foo\"",
	    "listen without a port");
	is_str(error_of("\n\nlisten: \"127.0.0.1:99999\"\n"),
	    "t.conf:3: listen: must be between 0 and 65535 (got 99999)",
	    "listen port out of range");
}

/* conf_apply() hands the block to the roles as plain data, and JSON keeps it. */
static void
check_auth(const struct settings *s, const char *how)
{
	const struct auth_settings	*a = &s->auth;
	const struct permissions	*p;

	ok(settings_auth_required(s), "%s: auth required", how);
	is_int(a->timeout_ms, 500, "%s: timeout", how);
	if (!ok(a->nusers == 3, "%s: three users", how))
		return;
	is_str(a->users[0].user, "alice", "%s: alice", how);
	is_str(a->users[2].password, "abc", "%s: joe's password", how);
	ok(a->users[2].perms == NULL, "%s: joe has no permissions", how);
	p = a->users[1].perms;
	if (!ok(p != NULL, "%s: bob has permissions", how))
		return;
	is_int(p->pub.allow.n, 2, "%s: bob publishes to two", how);
	is_str(p->pub.allow.rules[1].subject, "req.bar", "%s: in order", how);
	is_str(p->sub.allow.rules[0].subject, "_INBOX.*", "%s: sub allow", how);
	is_str(p->sub.deny.rules[0].subject, "a", "%s: sub deny", how);
	ok(p->sub.deny.rules[0].queue == NULL, "%s: no queue", how);
	is_str(p->sub.deny.rules[1].subject, "b.*", "%s: queue rule subject",
	    how);
	is_str(p->sub.deny.rules[1].queue, "q", "%s: queue rule queue", how);
	ok(a->default_perms != NULL && a->default_perms->pub.allow.n == 1 &&
	    strcmp(a->default_perms->pub.allow.rules[0].subject,
	    "SANDBOX.*") == 0 && a->default_perms->sub.allow.n == 0,
	    "%s: default permissions", how);
}

static void
test_auth_settings(const struct settings *s)
{
	struct settings	 j;
	char		*text;

	check_auth(s, "conf_apply");
	text = settings_to_json(s);
	ok(text != NULL && settings_from_json(text, strlen(text), &j) == 0,
	    "settings survive JSON");
	if (text != NULL) {
		check_auth(&j, "from JSON");
		settings_free(&j);
	}
	free(text);
}

static void
test_tls_settings(void)
{
	struct settings	 s, j;
	char		*text;

	ok(load("tls { cert_file: a.pem, key_file: b.pem, ca_file: c.pem\n"
	    "verify: true, timeout: 0.5\n"
	    "cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
	    "curve_preferences: [CurveP256, X25519] }\n", &s) == 0,
	    "a full tls block: %s", err);
	ok(settings_tls_enabled(&s), "TLS enabled");
	is_str(s.tls.ca_file, "c.pem", "ca_file");
	ok(s.tls.verify, "verify");
	is_int(s.tls.timeout_ms, 500, "timeout");
	is_int(s.tls.ncurve_preferences, 2, "two curves");
	text = settings_to_json(&s);
	ok(text != NULL && settings_from_json(text, strlen(text), &j) == 0,
	    "tls survives JSON");
	if (text != NULL) {
		is_str(j.tls.cert_file, "a.pem", "cert_file through JSON");
		is_str(j.tls.cipher_suites[0],
		    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ciphers through JSON");
		is_str(j.tls.curve_preferences[1], "X25519", "curves through JSON");
		ok(j.tls.verify, "verify through JSON");
		settings_free(&j);
	}
	free(text);
	drop(&s);
	ok(load("", &s) == 0 && !settings_tls_enabled(&s) &&
	    !settings_auth_required(&s), "no blocks: no TLS, no auth");
	drop(&s);
}

static void
test_blocks(void)
{
	struct settings	 s;
	cfg_t		*auth, *cl, *ca, *tls, *u, *perm, *pub;

	ok(load("authorization {\n"
	    "  ADMIN = { publish = \">\", subscribe = \">\" }\n"
	    "  REQ = { publish = [\"req.foo\", \"req.bar\"]\n"
	    "          subscribe = { allow: \"_INBOX.*\", deny: [\"a\", \"b.* q\"] } }\n"
	    "  DEFAULT_PERMISSIONS = { publish = \"SANDBOX.*\" }\n"
	    "  PASS: abc\n"
	    "  timeout: 0.5\n"
	    "  users = [\n"
	    "    {user: alice, password: foo, permissions: $ADMIN}\n"
	    "    {user: bob, password: bar, permissions: $REQ}\n"
	    "    {user: joe, password: $PASS}\n"
	    "  ]\n"
	    "}\n", &s) == 0, "users, permissions and variables: %s", err);
	auth = sec(&s, "authorization");
	is_int(cfg_size(auth, "users"), 3, "three users");
	is_int(cfg_getint(auth, "timeout"), 500, "timeout 0.5 is 500ms");
	u = cfg_getnsec(auth, "users", 2);
	is_str(cfg_getstr(u, "user"), "joe", "third user");
	is_str(cfg_getstr(u, "password"), "abc", "its password from $PASS");
	u = cfg_getnsec(auth, "users", 1);
	perm = cfg_getsec(u, "permissions");
	pub = cfg_getsec(perm, "publish");
	is_int(cfg_size(pub, "allow"), 2, "bob publishes to two subjects");
	is_str(cfg_getnstr(pub, "allow", 1), "req.bar", "in order");
	is_str(cfg_getnstr(cfg_getsec(perm, "subscribe"), "allow", 0),
	    "_INBOX.*", "subscribe allow");
	is_str(cfg_getnstr(cfg_getsec(perm, "subscribe"), "deny", 0), "a",
	    "subscribe deny");
	is_str(cfg_getnstr(cfg_getsec(cfg_getsec(auth, "default_permissions"),
	    "publish"), "allow", 0), "SANDBOX.*",
	    "DEFAULT_PERMISSIONS is default_permissions");
	ok(conf_block_set(s.cfg, "authorization"), "authorization is set");
	ok(conf_unsupported(&s, err, sizeof(err)) == 0,
	    "authorization is served");
	test_auth_settings(&s);
	drop(&s);

	ok(load("cluster {\n  listen: localhost:4244\n"
	    "  authorization { user: route_user, password: \"T0p!\", "
	    "timeout: 0.5 }\n"
	    "  routes = [\n    nats-route://user1:pass1@127.0.0.1:4245\n"
	    "    nats-route://127.0.0.1:4246\n  ]\n"
	    "  tls { cert_file: a.pem, key_file: b.pem, ca_file: c.pem }\n"
	    "  no_advertise: true\n  connect_retries: 3\n"
	    "  cluster_advertise: \"10.0.0.1:4244\"\n  name: c1\n}\n", &s) == 0,
	    "a cluster block: %s", err);
	cl = sec(&s, "cluster");
	is_str(cfg_getstr(cl, "host"), "localhost", "cluster listen host");
	is_int(cfg_getint(cl, "port"), 4244, "cluster listen port");
	ca = cfg_getsec(cl, "authorization");
	is_str(cfg_getstr(ca, "user"), "route_user", "route user");
	is_int(cfg_getint(ca, "timeout"), 500, "route auth timeout");
	is_int(cfg_size(cl, "routes"), 2, "two routes");
	is_str(cfg_getnstr(cl, "routes", 1), "nats-route://127.0.0.1:4246",
	    "routes as written");
	is_str(cfg_getstr(cfg_getsec(cl, "tls"), "ca_file"), "c.pem",
	    "route tls");
	ok(cfg_getbool(cl, "no_advertise"), "no_advertise");
	is_int(cfg_getint(cl, "connect_retries"), 3, "connect_retries");
	is_str(cfg_getstr(cl, "cluster_advertise"), "10.0.0.1:4244",
	    "cluster_advertise");
	ok(conf_unsupported(&s, err, sizeof(err)) == 0,
	    "a cluster alone is not refused");
	drop(&s);

	ok(load("tls {\n cert_file: \"./server-cert.pem\"\n"
	    " key_file: \"./server-key.pem\"\n ca_file: ca.pem\n verify: true\n"
	    " timeout: 2\n cipher_suites: [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_"
	    "SHA256\"]\n curve_preferences: [CurveP256, X25519]\n}\n",
	    &s) == 0, "a tls block: %s", err);
	tls = sec(&s, "tls");
	is_str(cfg_getstr(tls, "cert_file"), "./server-cert.pem", "cert_file");
	ok(cfg_getbool(tls, "verify"), "verify");
	is_int(cfg_getint(tls, "timeout"), 2000, "timeout 2 is 2s");
	is_int(cfg_size(tls, "curve_preferences"), 2, "curves");
	ok(conf_unsupported(&s, err, sizeof(err)) == 0,
	    "tls is served (the master checks the files at start)");
	drop(&s);

	/* A block given twice: the second replaces the first whole. */
	ok(load("cluster { port: 1, routes: [\"nats://a:1\"] }\n"
	    "cluster { port: 2 }\n", &s) == 0, "cluster twice");
	cl = sec(&s, "cluster");
	is_int(cfg_getint(cl, "port"), 2, "second block's port");
	is_int(cfg_size(cl, "routes"), 0, "first block's routes are gone");
	drop(&s);
}

static void
test_errors(void)
{
	is_str(error_of("port: 4222\nmax_payload: 12x\n"),
	    "t.conf:2: max_payload: invalid size \"12x\"",
	    "a bad size names file, line and option");
	is_str(error_of("\n\n\nfoo: 1\n"), "t.conf:4: unknown option \"foo\"",
	    "an unknown option names itself, file and line");
	is_str(error_of("authorization {\n  user: a\n  usr: b\n}\n"),
	    "t.conf:3: authorization: unknown option \"usr\"",
	    "an unknown option in a block names the block");
	is_str(error_of("cluster {\n tls {\n  cert: x\n }\n}\n"),
	    "t.conf:3: cluster.tls: unknown option \"cert\"",
	    "in a nested block");
	is_str(error_of("port: abc\n"), "t.conf:1: port: invalid port \"abc\"",
	    "a port that is not a number");
	is_str(error_of("port: 70000\n"),
	    "t.conf:1: port: must be between 0 and 65535 (got 70000)",
	    "a port out of range");
	is_str(error_of("workers: 65\n"),
	    "t.conf:1: workers: must be between 1 and 64 (got 65)",
	    "too many workers");
	is_str(error_of("max_control_line: 16\n"),
	    "t.conf:1: max_control_line: must be between 32 and 2147483647 "
	    "(got 16)", "max_control_line too small");
	is_str(error_of("debug: maybe\n"),
	    "t.conf:1: debug: invalid boolean \"maybe\"", "a bad boolean");
	is_str(error_of("ping_interval: \"2 minutes\"\n"),
	    "t.conf:1: ping_interval: invalid duration \"2 minutes\"",
	    "a bad duration");
	is_str(error_of("write_deadline: 0\n"),
	    "t.conf:1: write_deadline: must be longer than 0 (got 0ms)",
	    "a zero duration");
	is_str(error_of("max_pending: -1\n"),
	    "t.conf:1: max_pending: invalid size \"-1\"", "a negative size");
	is_str(error_of("ping_max: 1.5\n"),
	    "t.conf:1: ping_max: invalid number \"1.5\"",
	    "a float for a number");
	is_str(error_of("port: [1, 2]\n"),
	    "t.conf:1: port: expected a port, got an array", "an array");
	is_str(error_of("tls: true\n"),
	    "t.conf:1: tls: expected a block, got \"true\"",
	    "a scalar for a block");
	is_str(error_of("server_name: { a: 1 }\n"),
	    "t.conf:1: server_name: expected a string, got a block",
	    "a block for a string");
	is_str(error_of("server_name: \"my server\"\n"),
	    "t.conf:1: server_name: \"my server\" must not contain spaces",
	    "server_name with spaces");
	is_str(error_of("log_file: \"\"\n"),
	    "t.conf:1: log_file: must not be empty", "an empty path");
	is_str(error_of("remote_syslog: \"ftp://x\"\n"),
	    "t.conf:1: remote_syslog: invalid address \"ftp://x\": the scheme "
	    "must be udp, tcp or unix", "a bad remote_syslog");
	is_str(error_of("authorization {\n users = [\n  {user: a}\n"
	    "  {password: b}\n ]\n}\n"),
	    "t.conf:4: authorization.users: an entry needs a user",
	    "a user entry without a user");
	is_str(error_of("authorization {\n users = {user: a}\n}\n"),
	    "t.conf:2: authorization.users: expected an array of blocks, got "
	    "a block", "users as a block");
	is_str(error_of("authorization {\n user: a\n token: b\n}\n"),
	    "t.conf:1: authorization: cannot have a user/password and a token",
	    "user and token");
	is_str(error_of("authorization {\n user: a\n users: [{user: b}]\n}\n"),
	    "t.conf:1: authorization: cannot have a single user/password and "
	    "a users array", "user and users");
	is_str(error_of("authorization {\n token: a\n users: [{user: b}]\n}\n"),
	    "t.conf:1: authorization: cannot have a token and a users array",
	    "token and users");
	is_str(error_of("authorization {\n users: [{user: b, permissions: "
	    "{\n publish: \"a..b\" }}]\n}\n"),
	    "t.conf:3: authorization.users.permissions.publish: subject "
	    "\"a..b\" is not a valid subject", "a bad subject");
	is_str(error_of("authorization {\n default_permissions: {\n"
	    "  publish: { allow: \"a\", maybe: \"b\" }\n }\n}\n"),
	    "t.conf:3: authorization.default_permissions.publish: unknown "
	    "option \"maybe\"", "allow and deny only");
	is_str(error_of("authorization {\n users: [{user: b, nkey: x}]\n}\n"),
	    "t.conf:2: authorization.users: unknown option \"nkey\"",
	    "nkeys are unknown");
	is_str(error_of("cluster {\n routes: [\n  nats-route://a:1\n"
	    "  127.0.0.1:4245\n ]\n}\n"),
	    "t.conf:4: cluster.routes: invalid route URL \"127.0.0.1:4245\" "
	    "(want nats-route://host:port)", "a route without a scheme");
	is_str(error_of("cluster {\n authorization {\n  users: []\n }\n}\n"),
	    "t.conf:3: cluster.authorization: unknown option \"users\"",
	    "routes have one user");
	is_str(error_of("tls {\n verify: true\n}\n"),
	    "t.conf:1: tls: cert_file is required", "tls without a cert");
	is_str(error_of("tls {\n cert_file: a\n}\n"),
	    "t.conf:1: tls: key_file is required", "tls without a key");
	is_str(error_of("cluster {\n tls { key_file: k }\n}\n"),
	    "t.conf:2: cluster.tls: cert_file is required",
	    "route tls without a cert");
	is_str(error_of("tls {\n cert_file: a, key_file: b\n"
	    " cipher_suites: [\"TLS_NULL\"]\n}\n"),
	    "t.conf:3: tls.cipher_suites: unknown cipher suite \"TLS_NULL\" "
	    "(natsd --help_tls lists them)", "an unknown cipher");
	is_str(error_of("tls {\n cert_file: a, key_file: b\n"
	    " curve_preferences: P256\n}\n"),
	    "t.conf:3: tls.curve_preferences: unknown curve \"P256\" (natsd "
	    "--help_tls lists them)", "an unknown curve");
	is_str(error_of("http_host: x\n"),
	    "t.conf:1: unknown option \"http_host\"",
	    "internal options are not keys");
}

static void
test_variables(void)
{
	struct settings	s;

	ok(load("MY_PORT: 4333\nport: $MY_PORT\n", &s) == 0,
	    "a variable used is not an unknown option: %s", err);
	is_int(s.port, 4333, "its value");
	drop(&s);
	is_str(error_of("MY_PORT: 4333\nport: 4222\n"),
	    "t.conf:1: unknown option \"MY_PORT\"",
	    "a variable never used is an unknown option");
	setenv("NATSD_CONFSCHEMA_PORT", "4334", 1);
	ok(load("port: $NATSD_CONFSCHEMA_PORT\n", &s) == 0,
	    "environment fallback: %s", err);
	is_int(s.port, 4334, "the environment's value, as a number");
	drop(&s);
	setenv("NATSD_CONFSCHEMA_PERM", "{ publish: \"a.>\" }", 1);
	ok(load("authorization { users: [\n {user: x, permissions: "
	    "$NATSD_CONFSCHEMA_PERM}\n] }\n", &s) == 0,
	    "a block from the environment: %s", err);
	drop(&s);
	unsetenv("NATSD_CONFSCHEMA_PORT");
	unsetenv("NATSD_CONFSCHEMA_PERM");
}

static void
test_include(void)
{
	struct settings	 s;
	cfg_t		*cfg;
	char		 dir[] = "/tmp/confschema.XXXXXX", path[128], inc[128];
	FILE		*fp;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/natsd.conf", dir);
	snprintf(inc, sizeof(inc), "%s/limits.conf", dir);
	if ((fp = fopen(inc, "w")) != NULL) {
		fputs("max_payload: 256KB\nmax_pending: 32MB\n", fp);
		fclose(fp);
	}
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("# main\ninclude limits.conf\nport: 4335\n\n"
		    "max_control_line: 8x\n", fp);
		fclose(fp);
	}
	cfg = conf_new();
	ok(conf_load_file(cfg, path, err, sizeof(err)) == -1,
	    "an error after an include");
	ok(strstr(err, "natsd.conf:5: max_control_line: invalid size \"8x\"")
	    != NULL, "names the including file and its line: %s", err);
	conf_cfg_free(cfg);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("include limits.conf\nport: 4335\n", fp);
		fclose(fp);
	}
	cfg = conf_new();
	ok(conf_load_file(cfg, path, err, sizeof(err)) == 0,
	    "an include loads: %s", err);
	settings_defaults(&s);
	conf_apply(cfg, &s);
	is_int(s.max_payload, 256 * 1024, "included max_payload");
	is_int(s.max_pending, 32 * 1024 * 1024, "included max_pending");
	is_int(s.port, 4335, "and the including file's port");
	drop(&s);
	if ((fp = fopen(inc, "w")) != NULL) {
		fputs("\nmax_payload: lots\n", fp);
		fclose(fp);
	}
	cfg = conf_new();
	ok(conf_load_file(cfg, path, err, sizeof(err)) == -1 &&
	    strstr(err, "limits.conf:2: max_payload: invalid size \"lots\"") !=
	    NULL, "an error in an included file names that file: %s", err);
	conf_cfg_free(cfg);
	unlink(inc);
	unlink(path);
	rmdir(dir);
}

static void
test_set(void)
{
	struct settings	 s;
	cfg_t		*cfg = conf_new(), *cl;

	ok(conf_set(cfg, "port", "4336", "flag -p", err, sizeof(err)) == 0,
	    "set port");
	ok(conf_set(cfg, "net", "127.0.0.2", "flag --net", err,
	    sizeof(err)) == 0, "set an alias");
	ok(conf_set(cfg, "debug", "true", "flag -D", err, sizeof(err)) == 0 &&
	    conf_set(cfg, "logtime", "false", "flag -T", err, sizeof(err)) == 0,
	    "set booleans");
	ok(conf_set(cfg, "cluster.routes", "nats://a:1, nats-route://b:2",
	    "flag --routes", err, sizeof(err)) == 0,
	    "a list from one comma separated value");
	ok(conf_set(cfg, "cluster.listen", "nats://ru:rp@127.0.0.1:4248",
	    "flag --cluster", err, sizeof(err)) == 0, "a cluster URL");
	ok(conf_set(cfg, "cluster.connect_retries", "5", "flag", err,
	    sizeof(err)) == 0, "connect_retries");
	settings_defaults(&s);
	conf_apply(cfg, &s);
	is_int(s.port, 4336, "port from a flag");
	is_str(s.host, "127.0.0.2", "host from --net");
	ok(s.debug && !s.logtime, "booleans from flags");
	cl = sec(&s, "cluster");
	is_int(cfg_size(cl, "routes"), 2, "two routes");
	is_str(cfg_getnstr(cl, "routes", 1), "nats-route://b:2",
	    "items trimmed");
	is_str(cfg_getstr(cl, "host"), "127.0.0.1", "cluster host from URL");
	is_int(cfg_getint(cl, "port"), 4248, "cluster port from URL");
	is_str(cfg_getstr(cfg_getsec(cl, "authorization"), "user"), "ru",
	    "route user from URL");
	is_str(cfg_getstr(cfg_getsec(cl, "authorization"), "password"), "rp",
	    "route password from URL");
	is_int(cfg_getint(cl, "connect_retries"), 5, "retries");
	drop(&s);

	cfg = conf_new();
	ok(conf_set(cfg, "port", "x1", "flag -p", err, sizeof(err)) == -1,
	    "a bad port");
	is_str(err, "flag -p: port: invalid port \"x1\"", "names the flag");
	ok(conf_set(cfg, "workers", "0", "flag --workers", err,
	    sizeof(err)) == -1, "workers 0");
	is_str(err, "flag --workers: workers: must be between 1 and 64 (got 0)",
	    "the range");
	ok(conf_set(cfg, "trace", "sure", "flag -V", err, sizeof(err)) == -1,
	    "a bad boolean");
	is_str(err, "flag -V: trace: invalid boolean \"sure\"", "named");
	ok(conf_set(cfg, "cluster.routes", "nats://a:1, b", "flag --routes",
	    err, sizeof(err)) == -1, "a bad route among good ones");
	is_str(err, "flag --routes: cluster.routes: invalid route URL \"b\" "
	    "(want nats-route://host:port)", "named");
	ok(conf_set(cfg, "nosuch", "1", "flag", err, sizeof(err)) == -1,
	    "no such option");
	ok(conf_set(cfg, "tls.cert_file", "a.pem", "flag --tlscert", err,
	    sizeof(err)) == 0, "a tls option");
	ok(conf_block_set(cfg, "tls"), "tls is set");
	ok(conf_check(cfg, err, sizeof(err)) == -1, "and needs a key");
	is_str(err, "tls: key_file is required", "no file line from flags");
	conf_reset(cfg, "tls");
	ok(!conf_block_set(cfg, "tls"), "conf_reset empties the block");
	ok(conf_check(cfg, err, sizeof(err)) == 0, "which then passes");
	conf_cfg_free(cfg);
}

/* Two settings from two texts, diffed as a reload would. */
static const char *
reload(const char *from, const char *to)
{
	struct settings	o, n;
	static char	msg[512];

	if (load(from, &o) == -1)
		return err;
	if (load(to, &n) == -1) {
		drop(&o);
		return err;
	}
	if (conf_reload_diff(&o, &n, msg, sizeof(msg)) == 0)
		strlcpy(msg, "ok", sizeof(msg));
	drop(&o);
	drop(&n);
	return msg;
}

static void
test_reload(void)
{
	is_str(reload("port: 4222\n", "port: 4223\n"),
	    "port: cannot change on reload (4222 -> 4223); restart natsd",
	    "port cannot change");
	is_str(reload("", "listen: 127.0.0.1:4222\n"),
	    "host: cannot change on reload (0.0.0.0 -> 127.0.0.1); restart "
	    "natsd", "nor host, through listen");
	is_str(reload("workers: 2\n", "workers: 3\n"),
	    "workers: cannot change on reload (2 -> 3); restart natsd",
	    "nor workers");
	is_str(reload("", "ring_size: 16MB\n"),
	    "ring_size: cannot change on reload (8388608 -> 16777216); restart "
	    "natsd", "nor ring_size");
	is_str(reload("", "http_port: 8222\n"),
	    "http_port: cannot change on reload (0 -> 8222); restart natsd",
	    "nor http_port");
	is_str(reload("server_name: a\n", "server_name: b\n"),
	    "server_name: cannot change on reload (a -> b); restart natsd",
	    "nor server_name");
	is_str(reload("server_name: a\n", ""), "ok",
	    "a server_name removed keeps the running one");
	is_str(reload("pid_file: /tmp/a.pid\n", "pid_file: /tmp/b.pid\n"),
	    "pid_file: cannot change on reload (/tmp/a.pid -> /tmp/b.pid); "
	    "restart natsd", "nor pid_file");
	is_str(reload("cluster { port: 4248 }\n", "cluster { port: 4249 }\n"),
	    "cluster.port: cannot change on reload (4248 -> 4249); restart "
	    "natsd", "nor the cluster port");
	is_str(reload("cluster { listen: 127.0.0.1:4248 }\n",
	    "cluster { listen: 127.0.0.2:4248 }\n"),
	    "cluster.host: cannot change on reload (127.0.0.1 -> 127.0.0.2); "
	    "restart natsd", "nor the cluster host");
	is_str(reload("debug: false\ntrace: false\nlogtime: true\n"
	    "max_payload: 1MB\nmax_connections: 10\nping_interval: 2m\n"
	    "write_deadline: 10s\nmax_pending: 64MB\nping_max: 2\n"
	    "max_control_line: 4KB\n",
	    "debug: true\ntrace: true\nlogtime: false\nlog_file: /tmp/n.log\n"
	    "max_payload: 512KB\nmax_connections: 20\nping_interval: 1m\n"
	    "write_deadline: 5s\nmax_pending: 32MB\nping_max: 3\n"
	    "max_control_line: 1KB\nsyslog: true\n"), "ok",
	    "logging and limits change live");
	is_str(reload("authorization { user: a, password: b }\n",
	    "authorization { users: [{user: c}] }\n"), "ok",
	    "authorization changes live");
	is_str(reload("cluster { port: 4248, routes: [\"nats://a:1\"] }\n",
	    "cluster { port: 4248, routes: [\"nats://b:1\"], "
	    "no_advertise: true }\n"), "ok", "routes change live");
	is_str(reload("port: x\n", ""), "t.conf:1: port: invalid port \"x\"",
	    "(the helper reports load errors)");

	is_int(conf_reload_class("port"), CONF_RESTART, "class of port");
	is_int(conf_reload_class("net"), CONF_RESTART, "class of an alias");
	is_int(conf_reload_class("max_payload"), CONF_LIVE,
	    "class of max_payload");
	is_int(conf_reload_class("cluster.port"), CONF_RESTART,
	    "class of cluster.port");
	is_int(conf_reload_class("cluster.routes"), CONF_LIVE,
	    "class of cluster.routes");
	is_int(conf_reload_class("authorization.users"), CONF_LIVE,
	    "class of authorization.users");
	is_int(conf_reload_class("nosuch"), -1, "no class for no option");
}

static void
test_seed_sample(void)
{
	struct settings	 s;
	cfg_t		*cl;

	/* The gnatsd 0.6 sample, with 0.x names (net, max_pending_size). */
	ok(load("port: 4242 # port to listen for client connections\n"
	    "net: apcera.me # net interface to listen\n"
	    "http_port: 8222 # HTTP monitoring port\n"
	    "authorization {\nuser: derek\npassword: T0pS3cr3t\ntimeout: 1\n}\n"
	    "cluster {\nhost: '127.0.0.1' # host/net interface\n"
	    "port: 4244 # port for inbound route connections\n"
	    "authorization {\nuser: route_user\npassword: T0pS3cr3tT00!\n"
	    "timeout: 0.5\n}\nroutes = [\n"
	    "nats-route://user1:pass1@127.0.0.1:4245\n"
	    "nats-route://user2:pass2@127.0.0.1:4246\n]\n}\n"
	    "debug: false\ntrace: true\nlogtime: false\n"
	    "log_file: \"/tmp/gnatsd.log\"\npid_file: \"/tmp/gnatsd.pid\"\n"
	    "max_connections: 100\nmax_control_line: 512\n"
	    "max_payload: 65536\nmax_pending_size: 10000000\n", &s) == 0,
	    "the gnatsd 0.6 sample loads: %s", err);
	is_int(s.port, 4242, "its port");
	is_str(s.host, "apcera.me", "its net");
	is_int(s.max_pending, 10000000, "its max_pending_size");
	ok(s.trace && !s.debug && !s.logtime, "its logging");
	cl = sec(&s, "cluster");
	is_str(cfg_getstr(cl, "host"), "127.0.0.1", "its cluster host");
	is_int(cfg_size(cl, "routes"), 2, "its routes");
	drop(&s);
}

static void
test_tls_help(void)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	if (fp == NULL) {
		ok(0, "open_memstream");
		return;
	}
	conf_tls_help(fp);
	fclose(fp);
	ok(strstr(buf, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") != NULL &&
	    strstr(buf, "CurveP521") != NULL && strstr(buf, "tls {") != NULL,
	    "--help_tls shows the block, ciphers and curves");
	free(buf);
}

int
main(void)
{
	test_defaults();
	test_scalars();
	test_aliases();
	test_listen();
	test_blocks();
	test_tls_settings();
	test_errors();
	test_variables();
	test_include();
	test_set();
	test_reload();
	test_seed_sample();
	test_tls_help();
	return done_testing();
}
