/*
 * Monitoring end to end: natsd -m PORT --workers 2, every endpoint over
 * a small HTTP client of our own (raw socket, HTTP/1.0, every read
 * bounded): fields present with the right JSON type, counters that move
 * exactly, /connz paging and sorting, its subscription lists (which
 * the workers hand over on request; a stopped or killed worker costs
 * only its own lists), JSONP, 404 and 400, /metrics,
 * HTTPS with a certificate made at test time by the openssl command, and
 * a monitor killed with SIGKILL that comes back while clients carry on.
 *
 * The parts nats-server 2.9 also serves run against it too (NATSD=
 * nats-server), which is how these expectations were checked; what only
 * natsd has (workers, /metrics, its gnatsd-era field names, the monitor
 * process) is skipped there.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../lib/harness.h"
#include "../tap.h"

#define T		HARNESS_TIMEOUT_MS
#define T_POLL		3000	/* ms: figures published within */
#define WORKERS		2
#define HTTP_MAX	(16 * 1024 * 1024)
#define NCLIENTS	3

struct http_resp {
	int	 status;
	char	*head;		/* status line and headers, NUL-terminated */
	char	*body;		/* NUL-terminated */
	size_t	 body_len;
};

static int	natsd;		/* the server under test is natsd */

static void
resp_free(struct http_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Split a whole response into status, head and body. */
static int
resp_parse(char *buf, size_t len, struct http_resp *r)
{
	char	*end;
	size_t	 hlen;

	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL ||
	    sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	hlen = (size_t)(end - buf);
	if ((r->head = strndup(buf, hlen)) == NULL)
		abort();
	r->body_len = len - hlen - 4;
	if ((r->body = malloc(r->body_len + 1)) == NULL)
		abort();
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = '\0';
	return 0;
}

/*
 * GET path over HTTP/1.0 (the server closes after the reply), over TLS
 * when ctx is set.  0 with *r filled, -1 on any failure (with a diag).
 */
static int
http_get_ctx(int port, SSL_CTX *ctx, const char *path, struct http_resp *r)
{
	char		 req[1024], *buf;
	size_t		 len = 0, cap = 65536;
	ssize_t		 n;
	int64_t		 deadline = harness_now_ms() + T;
	SSL		*ssl = NULL;
	int		 fd, rv = -1;

	memset(r, 0, sizeof(*r));
	if ((fd = harness_tcp_connect(port, T)) == -1) {
		diag("connect to %d: %s", port, strerror(errno));
		return -1;
	}
	if ((buf = malloc(cap)) == NULL)
		abort();
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
	    "User-Agent: natsd-monitor-test\r\n\r\n", path, port);
	if (ctx != NULL) {
		if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
		    SSL_connect(ssl) != 1) {
			diag("TLS handshake with %d failed: %s", port,
			    ERR_reason_error_string(ERR_get_error()));
			goto out;
		}
		if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
			goto out;
	} else if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (harness_now_ms() < deadline) {
		if (len == cap) {
			if (cap >= HTTP_MAX)
				break;
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		if (ssl != NULL)
			n = SSL_read(ssl, buf + len, (int)(cap - len));
		else
			n = read(fd, buf + len, cap - len);
		if (n < 0 && ssl == NULL && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (resp_parse(buf, len, r) == -1) {
		diag("GET %s: no complete HTTP response (%zu bytes)", path,
		    len);
		goto out;
	}
	rv = 0;
out:
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
	close(fd);
	free(buf);
	return rv;
}

static int
http_get(int port, const char *path, struct http_resp *r)
{
	return http_get_ctx(port, NULL, path, r);
}

/* A header's value (up to the line's end) into out; NULL if absent. */
static const char *
header(const struct http_resp *r, const char *name, char *out, size_t len)
{
	const char	*p = r->head;
	size_t		 nl = strlen(name), vl;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			vl = strcspn(p, "\r");
			if (vl >= len)
				vl = len - 1;
			memcpy(out, p, vl);
			out[vl] = '\0';
			return out;
		}
	}
	return NULL;
}

/* GET a JSON endpoint: the object, or NULL (with a diag). */
static json_t *
get_json_ctx(int port, SSL_CTX *ctx, const char *path)
{
	struct http_resp	 r;
	json_error_t		 jerr;
	json_t			*j;

	if (http_get_ctx(port, ctx, path, &r) == -1)
		return NULL;
	if (r.status != 200)
		diag("GET %s: status %d: %.200s", path, r.status, r.body);
	j = json_loads(r.body, 0, &jerr);
	if (j == NULL)
		diag("GET %s: bad JSON: %s", path, jerr.text);
	resp_free(&r);
	return j;
}

static json_t *
get_json(int port, const char *path)
{
	return get_json_ctx(port, NULL, path);
}

static long long
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Field name and JSON type: s string, i integer, n number, b boolean,
 * o object, a array. */
struct field {
	const char	*name;
	char		 type;
};

static int
type_ok(json_t *v, char type)
{
	switch (type) {
	case 's':	return json_is_string(v);
	case 'i':	return json_is_integer(v);
	case 'n':	return json_is_number(v);
	case 'b':	return json_is_boolean(v);
	case 'o':	return json_is_object(v);
	case 'a':	return json_is_array(v);
	}
	return 0;
}

static const char *
type_name(char type)
{
	switch (type) {
	case 's':	return "string";
	case 'i':	return "integer";
	case 'n':	return "number";
	case 'b':	return "boolean";
	case 'o':	return "object";
	default:	return "array";
	}
}

static void
check_fields(json_t *o, const struct field *f, size_t n, const char *what)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		ok(type_ok(json_object_get(o, f[i].name), f[i].type),
		    "%s: %s is a%s %s", what, f[i].name,
		    f[i].type == 'i' || f[i].type == 'o' || f[i].type == 'a' ?
		    "n" : "", type_name(f[i].type));
}

/* "2026-11-23T13:35:24.66283976Z": Go's RFC3339Nano in UTC. */
static int
is_time(json_t *v)
{
	const char	*s = json_string_value(v);
	size_t		 i, n;

	if (s == NULL || (n = strlen(s)) < 20)
		return 0;
	for (i = 0; i < 19; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : i == 10 ? s[i] != 'T' :
		    i == 13 || i == 16 ? s[i] != ':' :
		    !isdigit((unsigned char)s[i]))
			return 0;
	return s[n - 1] == 'Z' || s[n - 3] == ':';
}

/* "1s", "1m33s", "18h30m12s", "2d3h0m5s" */
static int
is_uptime(json_t *v)
{
	const char	*s = json_string_value(v);
	size_t		 n;

	if (s == NULL || (n = strlen(s)) < 2 || s[n - 1] != 's')
		return 0;
	return strspn(s, "0123456789ydhms") == n && isdigit((unsigned char)s[0]);
}

/* Poll an endpoint until field reaches want (bounded); its last value. */
static long long
field_wait(int mport, const char *path, const char *field, long long want)
{
	int64_t		 deadline = harness_now_ms() + T_POLL;
	long long	 v = -1;
	json_t		*j;

	do {
		if ((j = get_json(mport, path)) != NULL) {
			v = jint(j, field);
			json_decref(j);
		}
		if (v == want)
			break;
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	return v;
}

static long long
varz_wait(int mport, const char *field, long long want)
{
	return field_wait(mport, "/varz", field, want);
}

static int
wait_healthy(int mport, int ms)
{
	int64_t			 deadline = harness_now_ms() + ms;
	struct http_resp	 r;
	int			 st;

	do {
		st = -1;
		if (http_get(mport, "/healthz", &r) == 0) {
			st = r.status;
			resp_free(&r);
		}
		if (st == 200)
			return 1;
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	return 0;
}

static void
test_root(int mport)
{
	struct http_resp	 r;
	char			 ct[128];
	const char		*links[] = { "varz", "connz", "subsz",
	    "routez", "healthz" };
	size_t			 i;

	if (http_get(mport, "/", &r) == -1) {
		ok(0, "GET /");
		return;
	}
	is_int(r.status, 200, "/: 200");
	ok(header(&r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strncmp(ct, "text/html", 9) == 0, "/: text/html");
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char want[32];

		snprintf(want, sizeof(want), "href=./%s", links[i]);
		ok(strstr(r.body, want) != NULL, "/ links to /%s", links[i]);
	}
	resp_free(&r);
}

static void
test_varz(struct server *srv, int mport)
{
	static const struct field common[] = {
		{ "server_id", 's' }, { "server_name", 's' },
		{ "version", 's' }, { "proto", 'i' }, { "host", 's' },
		{ "port", 'i' }, { "max_connections", 'i' },
		{ "ping_interval", 'i' }, { "ping_max", 'i' },
		{ "http_host", 's' }, { "http_port", 'i' },
		{ "https_port", 'i' }, { "auth_timeout", 'n' },
		{ "max_control_line", 'i' }, { "max_payload", 'i' },
		{ "max_pending", 'i' }, { "tls_timeout", 'n' },
		{ "write_deadline", 'i' }, { "start", 's' }, { "now", 's' },
		{ "uptime", 's' }, { "mem", 'i' }, { "cores", 'i' },
		{ "cpu", 'n' }, { "connections", 'i' },
		{ "total_connections", 'i' }, { "routes", 'i' },
		{ "remotes", 'i' }, { "in_msgs", 'i' }, { "out_msgs", 'i' },
		{ "in_bytes", 'i' }, { "out_bytes", 'i' },
		{ "slow_consumers", 'i' }, { "subscriptions", 'i' },
		{ "http_req_stats", 'o' }, { "config_load_time", 's' },
		{ "cluster", 'o' }, { "gateway", 'o' }, { "leaf", 'o' },
	};
	/* gnatsd 0.6/0.8 names nats-server 2.9 dropped, and natsd's own. */
	static const struct field natsd_only[] = {
		{ "go", 's' }, { "auth_required", 'b' },
		{ "ssl_required", 'b' }, { "tls_required", 'b' },
		{ "tls_verify", 'b' }, { "max_pending_size", 'i' },
		{ "ssl_timeout", 'n' }, { "cluster_port", 'i' },
		{ "workers", 'i' },
	};
	struct http_resp	 r;
	json_t			*j, *hs;
	char			 ct[128];

	if (http_get(mport, "/varz", &r) == -1) {
		ok(0, "GET /varz");
		return;
	}
	is_int(r.status, 200, "/varz: 200");
	ok(header(&r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strcmp(ct, "application/json") == 0, "/varz: application/json");
	j = json_loads(r.body, 0, NULL);
	resp_free(&r);
	if (!ok(json_is_object(j), "/varz is a JSON object"))
		return;
	check_fields(j, common, sizeof(common) / sizeof(common[0]), "/varz");
	if (natsd) {
		check_fields(j, natsd_only, sizeof(natsd_only) /
		    sizeof(natsd_only[0]), "/varz");
		is_int(jint(j, "workers"), WORKERS, "/varz: workers");
		is_int(jint(j, "max_pending_size"), jint(j, "max_pending"),
		    "/varz: max_pending_size is max_pending");
	} else
		skip("gnatsd-era /varz names: natsd only");
	is_int(jint(j, "port"), srv->port, "/varz: port is the client port");
	is_int(jint(j, "http_port"), mport, "/varz: http_port");
	is_int(jint(j, "proto"), 1, "/varz: proto 1");
	is_int(jint(j, "ping_interval"), 120000000000LL,
	    "/varz: ping_interval in ns");
	is_int(jint(j, "routes"), 0, "/varz: no routes");
	ok(jint(j, "mem") > 0, "/varz: mem > 0");
	ok(jint(j, "cores") > 0, "/varz: cores > 0");
	ok(is_time(json_object_get(j, "start")) &&
	    is_time(json_object_get(j, "now")) &&
	    is_time(json_object_get(j, "config_load_time")),
	    "/varz: start, now, config_load_time in RFC 3339");
	ok(is_uptime(json_object_get(j, "uptime")), "/varz: uptime \"%s\" in "
	    "Go's form", json_string_value(json_object_get(j, "uptime")));
	ok(strcmp(json_string_value(json_object_get(j, "start")),
	    json_string_value(json_object_get(j, "now"))) < 0,
	    "/varz: start before now");
	hs = json_object_get(j, "http_req_stats");
	ok(jint(hs, "/varz") >= 1, "/varz: http_req_stats counts /varz");
	json_decref(j);
}

/*
 * 10 messages of 5 bytes move in_msgs by 10 and in_bytes by 50; one
 * subscriber makes out_msgs and out_bytes move the same.
 */
static void
test_counters(int port, int mport)
{
	struct conn	*sub, *pub;
	json_t		*j;
	long long	 in0, inb0, out0, outb0, subs0, conns0;
	int		 i, got = 0;

	/*
	 * The harness's readiness probe is a client too: closed, but its
	 * worker may not have reaped it yet on a busy machine.
	 */
	is_int(varz_wait(mport, "connections", 0), 0,
	    "/varz: no client before the counters");
	if ((j = get_json(mport, "/varz")) == NULL) {
		ok(0, "/varz before traffic");
		return;
	}
	conns0 = jint(j, "connections");
	subs0 = jint(j, "subscriptions");
	json_decref(j);
	sub = client_new(port, NULL);
	pub = client_new(port, NULL);
	if (!ok(sub != NULL && pub != NULL, "counters: two clients")) {
		conn_free(sub);
		conn_free(pub);
		return;
	}
	conn_send(sub, "SUB count.test 1\r\n");
	conn_ping(sub, T);
	is_int(varz_wait(mport, "connections", conns0 + 2), conns0 + 2,
	    "/varz: connections moved by 2");
	is_int(varz_wait(mport, "subscriptions", subs0 + 1), subs0 + 1,
	    "/varz: subscriptions moved by 1");
	if ((j = get_json(mport, "/varz")) == NULL) {
		ok(0, "/varz before publishing");
		goto out;
	}
	in0 = jint(j, "in_msgs");
	inb0 = jint(j, "in_bytes");
	out0 = jint(j, "out_msgs");
	outb0 = jint(j, "out_bytes");
	json_decref(j);
	for (i = 0; i < 10; i++)
		conn_send(pub, "PUB count.test 5\r\nhello\r\n");
	conn_ping(pub, T);
	for (i = 0; i < 10; i++)
		got += conn_expect_msg(sub, "count.test", "1", NULL, "hello",
		    T);
	is_int(got, 10, "counters: 10 messages delivered");
	is_int(varz_wait(mport, "in_msgs", in0 + 10), in0 + 10,
	    "/varz: in_msgs moved by exactly 10");
	is_int(varz_wait(mport, "out_msgs", out0 + 10), out0 + 10,
	    "/varz: out_msgs moved by exactly 10");
	if ((j = get_json(mport, "/varz")) != NULL) {
		is_int(jint(j, "in_bytes"), inb0 + 50,
		    "/varz: in_bytes moved by exactly 50");
		is_int(jint(j, "out_bytes"), outb0 + 50,
		    "/varz: out_bytes moved by exactly 50");
		is_int(jint(j, "in_msgs"), in0 + 10,
		    "/varz: in_msgs still moved by exactly 10");
		json_decref(j);
	}
out:
	conn_free(sub);
	conn_free(pub);
	is_int(varz_wait(mport, "connections", conns0), conns0,
	    "/varz: connections back where they were");
}

/* /connz until each of our clients shows its in_msgs (bounded). */
static json_t *
connz_settled(int mport, struct conn **c, int n)
{
	int64_t		 deadline = harness_now_ms() + T_POLL;
	json_t		*j = NULL, *list, *e;
	size_t		 k;
	int		 i, seen;

	do {
		json_decref(j);
		if ((j = get_json(mport, "/connz")) == NULL)
			return NULL;
		list = json_object_get(j, "connections");
		seen = 0;
		for (i = 0; i < n; i++)
			json_array_foreach(list, k, e)
				if (jint(e, "cid") == c[i]->client_id &&
				    jint(e, "in_msgs") == 2 * (i + 1) &&
				    jint(e, "subscriptions") == i + 1)
					seen++;
		if (seen == n && jint(j, "total") == n)
			return j;
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	diag("/connz never showed the clients' figures");
	return j;
}

/* The cids of /connz?query, in order, into cids; how many. */
static int
connz_cids(int mport, const char *query, long long *cids, int max,
    json_t **out)
{
	char	 path[256];
	json_t	*j, *e;
	size_t	 k;
	int	 n = 0;

	snprintf(path, sizeof(path), "/connz?%s", query);
	if ((j = get_json(mport, path)) == NULL)
		return -1;
	json_array_foreach(json_object_get(j, "connections"), k, e)
		if (n < max)
			cids[n++] = jint(e, "cid");
	if (out != NULL)
		*out = j;
	else
		json_decref(j);
	return n;
}

static void
check_order(int mport, const char *query, struct conn **c, const int *order)
{
	long long	 cids[8];
	int		 i, n, good;

	n = connz_cids(mport, query, cids, 8, NULL);
	good = n == NCLIENTS;
	for (i = 0; good && i < n; i++)
		good = cids[i] == c[order[i]]->client_id;
	if (!ok(good, "/connz?%s orders the connections", query))
		for (i = 0; i < n; i++)
			diag("  got cid %lld", cids[i]);
}

static void
test_connz(int port, int mport)
{
	static const struct field top[] = {
		{ "server_id", 's' }, { "now", 's' },
		{ "num_connections", 'i' }, { "total", 'i' },
		{ "offset", 'i' }, { "limit", 'i' }, { "connections", 'a' },
	};
	static const struct field per[] = {
		{ "cid", 'i' }, { "ip", 's' }, { "port", 'i' },
		{ "start", 's' }, { "last_activity", 's' }, { "uptime", 's' },
		{ "idle", 's' }, { "pending_bytes", 'i' }, { "in_msgs", 'i' },
		{ "out_msgs", 'i' }, { "in_bytes", 'i' }, { "out_bytes", 'i' },
		{ "subscriptions", 'i' }, { "name", 's' }, { "lang", 's' },
		{ "version", 's' },
	};
	static const int by_cid[] = { 0, 1, 2 }, by_most[] = { 2, 1, 0 };
	struct conn	*c[NCLIENTS] = { NULL };
	json_t		*j, *e, *list;
	char		 extra[128], want[32];
	long long	 cids[8];
	size_t		 k;
	int		 i, s, n;

	for (i = 0; i < NCLIENTS; i++) {
		snprintf(extra, sizeof(extra), "{\"name\":\"mon-%d\","
		    "\"lang\":\"c\",\"version\":\"1.2.%d\"}", i, i);
		if ((c[i] = client_new(port, extra)) == NULL)
			break;
		/* Client i: i + 1 subscriptions, 2 (i + 1) messages in. */
		for (s = 0; s <= i; s++)
			conn_send(c[i], "SUB connz.%d.%d %d\r\n", i, s, s + 1);
		for (s = 0; s < 2 * (i + 1); s++)
			conn_send(c[i], "PUB nobody.%d 5\r\nhello\r\n", i);
		conn_ping(c[i], T);
		/* Distinct last-activity times for sort=last and sort=idle. */
		harness_nap(15);
	}
	if (!ok(i == NCLIENTS, "connz: %d clients", NCLIENTS))
		goto out;

	if ((j = connz_settled(mport, c, NCLIENTS)) == NULL) {
		ok(0, "GET /connz");
		goto out;
	}
	check_fields(j, top, sizeof(top) / sizeof(top[0]), "/connz");
	is_int(jint(j, "total"), NCLIENTS, "/connz: total");
	is_int(jint(j, "num_connections"), NCLIENTS, "/connz: num_connections");
	is_int(jint(j, "offset"), 0, "/connz: offset 0");
	is_int(jint(j, "limit"), 1024, "/connz: limit defaults to 1024");
	list = json_object_get(j, "connections");
	json_array_foreach(list, k, e) {
		for (i = 0; i < NCLIENTS; i++)
			if (jint(e, "cid") == c[i]->client_id)
				break;
		if (i == NCLIENTS)
			continue;
		snprintf(want, sizeof(want), "/connz cid %d", (int)c[i]->client_id);
		check_fields(e, per, sizeof(per) / sizeof(per[0]), want);
		snprintf(extra, sizeof(extra), "mon-%d", i);
		is_str(json_string_value(json_object_get(e, "name")), extra,
		    "%s: name", want);
		is_str(json_string_value(json_object_get(e, "lang")), "c",
		    "%s: lang", want);
		is_str(json_string_value(json_object_get(e, "ip")),
		    "127.0.0.1", "%s: ip", want);
		is_int(jint(e, "in_bytes"), 10 * (i + 1), "%s: in_bytes",
		    want);
		ok(is_time(json_object_get(e, "start")) &&
		    is_time(json_object_get(e, "last_activity")) &&
		    is_uptime(json_object_get(e, "uptime")) &&
		    is_uptime(json_object_get(e, "idle")),
		    "%s: start, last_activity, uptime, idle", want);
		if (natsd)
			is_int(jint(e, "worker"), c[i]->worker,
			    "%s: worker is the one its INFO named", want);
		else
			skip("worker: natsd only");
	}
	json_decref(j);

	/* Paging. */
	n = connz_cids(mport, "limit=1&offset=1", cids, 8, &j);
	if (ok(n == 1 && j != NULL, "/connz?limit=1&offset=1: one connection")) {
		is_int(cids[0], c[1]->client_id, "/connz?limit=1&offset=1: the "
		    "second by cid");
		is_int(jint(j, "total"), NCLIENTS, "paged: total is all");
		is_int(jint(j, "num_connections"), 1, "paged: num_connections");
		is_int(jint(j, "limit"), 1, "paged: limit");
		is_int(jint(j, "offset"), 1, "paged: offset");
	}
	json_decref(j);
	n = connz_cids(mport, "limit=%31&offset=%31", cids, 8, NULL);
	ok(n == 1 && cids[0] == c[1]->client_id, "/connz: query values are "
	    "URL-decoded");
	n = connz_cids(mport, "offset=2&limit=5", cids, 8, NULL);
	ok(n == 1 && cids[0] == c[2]->client_id, "/connz?offset=2&limit=5: "
	    "the last one");
	n = connz_cids(mport, "offset=10", cids, 8, &j);
	ok(n == 0 && jint(j, "total") == NCLIENTS, "/connz?offset=10: none, "
	    "total still %d", NCLIENTS);
	json_decref(j);
	snprintf(want, sizeof(want), "cid=%lld", (long long)c[1]->client_id);
	n = connz_cids(mport, want, cids, 8, NULL);
	ok(n == 1 && cids[0] == c[1]->client_id, "/connz?%s: that one", want);

	/* Sorting. */
	check_order(mport, "sort=cid", c, by_cid);
	check_order(mport, "sort=start", c, by_cid);
	check_order(mport, "sort=uptime", c, by_most);
	/* nats-server 2.9 orders idle by last_activity - start. */
	if (natsd)
		check_order(mport, "sort=idle", c, by_cid);
	else
		skip("sort=idle: natsd orders by idle time");
	check_order(mport, "sort=last", c, by_most);
	check_order(mport, "sort=subs", c, by_most);
	check_order(mport, "sort=msgs_from", c, by_most);
	check_order(mport, "sort=bytes_from", c, by_most);
	n = connz_cids(mport, "sort=pending", cids, 8, NULL);
	is_int(n, NCLIENTS, "/connz?sort=pending");
	n = connz_cids(mport, "sort=msgs_to", cids, 8, NULL);
	is_int(n, NCLIENTS, "/connz?sort=msgs_to");
	n = connz_cids(mport, "sort=bytes_to", cids, 8, NULL);
	is_int(n, NCLIENTS, "/connz?sort=bytes_to");
	n = connz_cids(mport, "sort=msgs_from&limit=2", cids, 8, NULL);
	ok(n == 2 && cids[0] == c[2]->client_id && cids[1] ==
	    c[1]->client_id, "/connz?sort=msgs_from&limit=2: sorted, then "
	    "paged");

	/* subs=1: a list per connection. */
	if ((j = get_json(mport, "/connz?subs=1")) != NULL) {
		n = 0;
		json_array_foreach(json_object_get(j, "connections"), k, e)
			n += json_is_array(json_object_get(e,
			    "subscriptions_list"));
		is_int(n, NCLIENTS, "/connz?subs=1: subscriptions_list arrays");
		json_decref(j);
	} else
		ok(0, "/connz?subs=1");
out:
	for (i = 0; i < NCLIENTS; i++)
		conn_free(c[i]);
}

/* ------------------------------------------------------------------ */
/* /connz?subs=1 and subs=detail */

#define SUBS_CLIENTS	2

/* The connection with cid in /connz's reply j, or NULL. */
static json_t *
conn_by_cid(json_t *j, long long cid)
{
	json_t	*e;
	size_t	 k;

	json_array_foreach(json_object_get(j, "connections"), k, e)
		if (jint(e, "cid") == cid)
			return e;
	return NULL;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Does the connection's subscriptions_list hold exactly the subjects
 * want[0 .. n-1], in any order?  n == 0: no list at all, as nats-server
 * leaves it out for a connection without subscriptions.
 */
static int
has_subjects(json_t *conn, const char *const *want, size_t n)
{
	json_t		*list = json_object_get(conn, "subscriptions_list");
	const char	*got[16], *exp[16];
	size_t		 i;

	if (n == 0)
		return conn != NULL && list == NULL;
	if (!json_is_array(list) || json_array_size(list) != n || n > 16)
		return 0;
	for (i = 0; i < n; i++) {
		if ((got[i] = json_string_value(json_array_get(list,
		    i))) == NULL)
			return 0;
		exp[i] = want[i];
	}
	qsort(got, n, sizeof(got[0]), str_cmp);
	qsort(exp, n, sizeof(exp[0]), str_cmp);
	for (i = 0; i < n; i++)
		if (strcmp(got[i], exp[i]) != 0)
			return 0;
	return 1;
}

/* The entry for subject in a subscriptions_list_detail, or NULL. */
static json_t *
detail_of(json_t *conn, const char *subject)
{
	json_t	*e;
	size_t	 k;

	json_array_foreach(json_object_get(conn, "subscriptions_list_detail"),
	    k, e)
		if (strcmp(json_string_value(json_object_get(e, "subject")) ?
		    json_string_value(json_object_get(e, "subject")) : "",
		    subject) == 0)
			return e;
	return NULL;
}

/* Start a plain GET and return the socket; the reply is read later. */
static int
http_start(int port, const char *path)
{
	char	 req[512];
	int	 fd;

	if ((fd = harness_tcp_connect(port, T)) == -1)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
	    "\r\n", path, port);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The JSON reply to a GET begun with http_start(); NULL on failure. */
static json_t *
http_finish(int fd)
{
	struct http_resp	 r;
	json_t			*j = NULL;
	char			*buf;
	size_t			 len = 0, cap = 1 << 20;
	ssize_t			 n;
	int64_t			 deadline = harness_now_ms() + T;

	if ((buf = malloc(cap)) == NULL)
		abort();
	while (len < cap && harness_now_ms() < deadline) {
		if ((n = read(fd, buf + len, cap - len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (resp_parse(buf, len, &r) == 0) {
		if (r.status == 200)
			j = json_loads(r.body, 0, NULL);
		resp_free(&r);
	}
	free(buf);
	return j;
}

/*
 * Clients on distinct workers (natsd spreads connections evenly), each
 * with three subscriptions, one in a queue group, and a client without
 * any: the lists name exactly those subjects per cid, the details carry
 * sid, qgroup, msgs (which moves with deliveries), max and cid, and
 * paging hands each row its own list.  Then the deadline: a stopped
 * worker costs its connections their lists, not the reply, and a worker
 * killed while it is being asked neither.
 */
static void
test_connz_subs(struct server *srv, int mport)
{
	struct conn	*c[SUBS_CLIENTS] = { NULL }, *bare = NULL, *x;
	const char	*want[SUBS_CLIENTS][3];
	char		 subj[SUBS_CLIENTS][3][32], path[128];
	json_t		*j, *e, *d;
	pid_t		 wpid, wnew;
	int64_t		 t0, took, deadline;
	int		 i, k, tries, wk0 = -1, good, fds[4];

	/* One client per worker; the extras natsd gave a busy worker go. */
	for (i = 0, tries = 0; i < SUBS_CLIENTS && tries < 8; tries++) {
		if ((x = client_new(srv->port, NULL)) == NULL)
			break;
		if (natsd && i > 0 && x->worker == wk0) {
			conn_free(x);
			continue;
		}
		if (i == 0)
			wk0 = x->worker;
		c[i++] = x;
	}
	bare = client_new(srv->port, NULL);
	if (!ok(i == SUBS_CLIENTS && bare != NULL, "subs: %d clients%s",
	    SUBS_CLIENTS, natsd ? " on distinct workers" : ""))
		goto out;
	for (i = 0; i < SUBS_CLIENTS; i++) {
		snprintf(subj[i][0], sizeof(subj[i][0]), "subs.%d.a", i);
		snprintf(subj[i][1], sizeof(subj[i][1]), "subs.%d.b", i);
		snprintf(subj[i][2], sizeof(subj[i][2]), "subs.%d.q", i);
		for (k = 0; k < 3; k++)
			want[i][k] = subj[i][k];
		conn_send(c[i], "SUB %s 1\r\nSUB %s 2\r\nSUB %s q%d 3\r\n"
		    "UNSUB 2 5\r\n", subj[i][0], subj[i][1], subj[i][2], i);
		conn_ping(c[i], T);
	}
	conn_ping(bare, T);

	if ((j = get_json(mport, "/connz?subs=1")) == NULL) {
		ok(0, "/connz?subs=1");
		goto out;
	}
	for (i = 0; i < SUBS_CLIENTS; i++)
		ok(has_subjects(conn_by_cid(j, c[i]->client_id), want[i], 3),
		    "/connz?subs=1: cid %lld lists its 3 subjects%s",
		    (long long)c[i]->client_id, natsd ? (i == 0 ?
		    " (first worker)" : " (second worker)") : "");
	ok(has_subjects(conn_by_cid(j, bare->client_id), NULL, 0),
	    "/connz?subs=1: a connection without subscriptions has no list");
	ok(json_object_get(conn_by_cid(j, c[0]->client_id),
	    "subscriptions_list_detail") == NULL,
	    "/connz?subs=1: no details");
	json_decref(j);

	/* Deliveries: 2 to client 0's plain sub, 1 to client 1's queue sub. */
	conn_send(bare, "PUB subs.0.a 2\r\nm1\r\nPUB subs.0.a 2\r\nm2\r\n"
	    "PUB subs.1.q 2\r\nm3\r\n");
	conn_ping(bare, T);
	good = conn_expect_msg(c[0], "subs.0.a", "1", NULL, "m1", T) &&
	    conn_expect_msg(c[0], "subs.0.a", "1", NULL, "m2", T) &&
	    conn_expect_msg(c[1], "subs.1.q", "3", NULL, "m3", T);
	ok(good, "subs: 3 messages delivered");
	if ((j = get_json(mport, "/connz?subs=detail")) == NULL) {
		ok(0, "/connz?subs=detail");
		goto out;
	}
	e = conn_by_cid(j, c[0]->client_id);
	ok(json_is_array(json_object_get(e, "subscriptions_list_detail")) &&
	    json_array_size(json_object_get(e, "subscriptions_list_detail")) ==
	    3 && json_object_get(e, "subscriptions_list") == NULL,
	    "/connz?subs=detail: 3 details for cid %lld, no plain list",
	    (long long)c[0]->client_id);
	d = detail_of(e, "subs.0.a");
	ok(d != NULL && strcmp(json_string_value(json_object_get(d, "sid")) ?
	    json_string_value(json_object_get(d, "sid")) : "", "1") == 0 &&
	    jint(d, "msgs") == 2 && jint(d, "cid") == c[0]->client_id &&
	    json_object_get(d, "qgroup") == NULL &&
	    json_object_get(d, "max") == NULL,
	    "subs=detail: subs.0.a: sid 1, msgs 2, its cid, no qgroup, no max");
	d = detail_of(e, "subs.0.b");
	ok(d != NULL && jint(d, "msgs") == 0 && jint(d, "max") == 5,
	    "subs=detail: subs.0.b: msgs 0, max 5 (UNSUB 2 5)");
	d = detail_of(e, "subs.0.q");
	ok(d != NULL && strcmp(json_string_value(json_object_get(d,
	    "qgroup")) ? json_string_value(json_object_get(d, "qgroup")) : "",
	    "q0") == 0 && jint(d, "msgs") == 0,
	    "subs=detail: subs.0.q: qgroup q0, msgs 0");
	d = detail_of(conn_by_cid(j, c[1]->client_id), "subs.1.q");
	ok(d != NULL && jint(d, "msgs") == 1 && jint(d, "cid") ==
	    c[1]->client_id, "subs=detail: subs.1.q on the other %s: msgs 1",
	    natsd ? "worker" : "client");
	ok(json_object_get(conn_by_cid(j, bare->client_id),
	    "subscriptions_list_detail") == NULL,
	    "subs=detail: none for the connection without subscriptions");
	json_decref(j);

	/* Paging by cid: each page's row gets its own list. */
	for (i = 0; i < SUBS_CLIENTS + 1; i++) {
		snprintf(path, sizeof(path), "/connz?subs=1&sort=cid&limit=1"
		    "&offset=%d", i);
		if ((j = get_json(mport, path)) == NULL) {
			ok(0, "%s", path);
			continue;
		}
		e = json_array_get(json_object_get(j, "connections"), 0);
		if (jint(e, "cid") == bare->client_id)
			good = has_subjects(e, NULL, 0);
		else if (jint(e, "cid") == c[0]->client_id)
			good = has_subjects(e, want[0], 3);
		else if (jint(e, "cid") == c[1]->client_id)
			good = has_subjects(e, want[1], 3);
		else
			good = 0;
		ok(good && json_array_size(json_object_get(j,
		    "connections")) == 1 && jint(j, "total") == 3,
		    "%s: one row, with its own list", path);
		json_decref(j);
	}
	snprintf(path, sizeof(path), "/connz?subs=1&cid=%lld",
	    (long long)c[1]->client_id);
	if ((j = get_json(mport, path)) != NULL) {
		ok(has_subjects(conn_by_cid(j, c[1]->client_id), want[1], 3),
		    "/connz?subs=1&cid=: that connection's list");
		json_decref(j);
	} else
		ok(0, "%s", path);

	/* Several at once: they share the workers' rounds, each gets all. */
	for (i = 0; i < 4; i++)
		fds[i] = http_start(mport, i % 2 ? "/connz?subs=1" :
		    "/connz?subs=1&sort=subs&limit=2");
	for (i = 0, good = 0; i < 4; i++) {
		j = fds[i] >= 0 ? http_finish(fds[i]) : NULL;
		good += has_subjects(conn_by_cid(j, c[0]->client_id),
		    want[0], 3) && has_subjects(conn_by_cid(j,
		    c[1]->client_id), want[1], 3);
		json_decref(j);
	}
	is_int(good, 4, "4 requests at once: each has both lists");

	if (!natsd) {
		skip("subs: stopped and killed workers are natsd's");
		goto out;
	}

	/* A stopped worker: the reply comes at the deadline, without it. */
	snprintf(path, sizeof(path), "natsd: worker %d", c[1]->worker);
	if (!ok((wpid = server_child_titled(srv, path)) > 0, "subs: %s is "
	    "there", path))
		goto out;
	kill(wpid, SIGSTOP);
	t0 = harness_now_ms();
	j = get_json(mport, "/connz?subs=1");
	took = harness_now_ms() - t0;
	kill(wpid, SIGCONT);
	ok(j != NULL && took >= 200 && took < 1500, "stopped worker: /connz "
	    "answered after the deadline (%lld ms)", (long long)took);
	ok(has_subjects(conn_by_cid(j, c[0]->client_id), want[0], 3),
	    "stopped worker: the other worker's connection has its list");
	e = conn_by_cid(j, c[1]->client_id);
	ok(e != NULL && json_object_get(e, "subscriptions_list") == NULL,
	    "stopped worker: its connection is listed without one");
	json_decref(j);
	/* Resumed, it answers the round it missed, then the next one. */
	t0 = harness_now_ms();
	j = get_json(mport, "/connz?subs=1");
	took = harness_now_ms() - t0;
	ok(has_subjects(conn_by_cid(j, c[0]->client_id), want[0], 3) &&
	    has_subjects(conn_by_cid(j, c[1]->client_id), want[1], 3),
	    "resumed worker: both lists again (%lld ms)", (long long)took);
	json_decref(j);

	/* Killed while asked: the reply still comes, in time. */
	kill(wpid, SIGSTOP);
	t0 = harness_now_ms();
	if ((k = http_start(mport, "/connz?subs=1")) == -1) {
		kill(wpid, SIGCONT);
		ok(0, "GET /connz?subs=1 sent");
		goto out;
	}
	harness_nap(50);
	kill(wpid, SIGKILL);
	j = http_finish(k);
	took = harness_now_ms() - t0;
	ok(j != NULL && took < 1500, "killed worker: /connz answered "
	    "(%lld ms)", (long long)took);
	ok(has_subjects(conn_by_cid(j, c[0]->client_id), want[0], 3),
	    "killed worker: the live worker's connection has its list");
	e = conn_by_cid(j, c[1]->client_id);
	ok(e == NULL || json_object_get(e, "subscriptions_list") == NULL,
	    "killed worker: its connection has no list");
	json_decref(j);

	/* The master starts another; it answers rounds like the first. */
	deadline = harness_now_ms() + 5000;
	wnew = -1;
	do {
		wnew = server_child_titled(srv, path);
		if (wnew > 0 && wnew != wpid)
			break;
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	ok(wnew > 0 && wnew != wpid, "killed worker: a new %s", path);
	deadline = harness_now_ms() + 5000;
	good = 0;
	do {
		if ((j = get_json(mport, "/connz?subs=1")) != NULL) {
			good = has_subjects(conn_by_cid(j, c[0]->client_id),
			    want[0], 3) && conn_by_cid(j,
			    c[1]->client_id) == NULL;
			json_decref(j);
		}
		if (good)
			break;
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	ok(good, "after the respawn: /connz?subs=1 as before, without the "
	    "dead worker's client");
out:
	for (i = 0; i < SUBS_CLIENTS; i++)
		conn_free(c[i]);
	conn_free(bare);
}

/*
 * More subscriptions than a worker's 1 MB answer holds: natsd lists as
 * many as fit (and logs that it cut), the reply stays whole and valid.
 */
#define TRUNC_SUBS	5000

static void
test_connz_subs_truncated(int port, int mport)
{
	struct conn	*c;
	json_t		*j, *e, *list;
	char		 pad[201], path[64];
	size_t		 n;
	int		 i;

	if ((c = client_new(port, NULL)) == NULL) {
		ok(0, "truncated: a client");
		return;
	}
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < TRUNC_SUBS; i++)
		conn_send(c, "SUB trunc.%s.%d %d\r\n", pad, i, i + 1);
	if (!ok(conn_ping(c, T), "truncated: %d subscriptions of 200-byte "
	    "subjects", TRUNC_SUBS))
		goto out;
	snprintf(path, sizeof(path), "/connz?subs=1&cid=%lld",
	    (long long)c->client_id);
	if ((j = get_json(mport, path)) == NULL) {
		ok(0, "truncated: %s", path);
		goto out;
	}
	e = conn_by_cid(j, c->client_id);
	list = json_object_get(e, "subscriptions_list");
	n = json_array_size(list);
	if (natsd)
		ok(n > 1000 && n < TRUNC_SUBS, "truncated: a valid reply "
		    "listing what fit (%zu of %d)", n, TRUNC_SUBS);
	else
		is_int((long long)n, TRUNC_SUBS, "truncated: all listed");
	ok(n > 0 && strncmp(json_string_value(json_array_get(list, 0)) ?
	    json_string_value(json_array_get(list, 0)) : "", "trunc.", 6) == 0,
	    "truncated: the subjects are whole");
	json_decref(j);
out:
	conn_free(c);
}

static void
test_routez_subsz_healthz(int port, int mport)
{
	static const struct field subsz[] = {
		{ "num_subscriptions", 'i' }, { "num_cache", 'i' },
		{ "num_inserts", 'i' }, { "num_removes", 'i' },
		{ "num_matches", 'i' }, { "cache_hit_rate", 'n' },
		{ "max_fanout", 'i' }, { "avg_fanout", 'n' },
	};
	static const struct field routez[] = {
		{ "server_id", 's' }, { "now", 's' }, { "num_routes", 'i' },
		{ "routes", 'a' },
	};
	struct http_resp	 r;
	struct conn		*c;
	json_t			*j, *v;
	long long		 subs0 = -1, stat0 = -1, got;
	char			 ct[64];

	if ((j = get_json(mport, "/routez")) != NULL) {
		check_fields(j, routez, sizeof(routez) / sizeof(routez[0]),
		    "/routez");
		is_int(jint(j, "num_routes"), 0, "/routez: no routes");
		is_int(json_array_size(json_object_get(j, "routes")), 0,
		    "/routez: empty list");
		json_decref(j);
	} else
		ok(0, "GET /routez");

	if ((j = get_json(mport, "/varz")) != NULL) {
		stat0 = jint(json_object_get(j, "http_req_stats"), "/subsz");
		json_decref(j);
	}
	if ((j = get_json(mport, "/subsz")) == NULL) {
		ok(0, "GET /subsz");
		return;
	}
	check_fields(j, subsz, sizeof(subsz) / sizeof(subsz[0]), "/subsz");
	json_decref(j);
	if ((j = get_json(mport, "/subscriptionsz")) != NULL) {
		check_fields(j, subsz, sizeof(subsz) / sizeof(subsz[0]),
		    "/subscriptionsz");
		json_decref(j);
	} else
		ok(0, "GET /subscriptionsz");
	if ((j = get_json(mport, "/varz")) != NULL) {
		is_int(jint(json_object_get(j, "http_req_stats"), "/subsz"),
		    (stat0 < 0 ? 0 : stat0) + 2, "http_req_stats: "
		    "/subscriptionsz counts as /subsz");
		json_decref(j);
	}

	/*
	 * The baseline.  The clients of the tests before are closed, but a
	 * worker reaps them on its next turn, which on a busy machine comes
	 * late: a count read at once may still hold their subscriptions.
	 * natsd counts clients' subscriptions only, so with none left it
	 * shows 0.  nats-server adds its system account's own: there the
	 * baseline is read once its clients are gone.
	 */
	if (natsd) {
		subs0 = field_wait(mport, "/subsz", "num_subscriptions", 0);
		is_int(subs0, 0, "/subsz: 0 once the earlier clients are gone");
	} else {
		is_int(varz_wait(mport, "connections", 0), 0,
		    "/varz: the earlier clients are gone");
		if ((j = get_json(mport, "/subsz")) != NULL) {
			subs0 = jint(j, "num_subscriptions");
			json_decref(j);
		}
	}

	/* Three subscriptions move num_subscriptions by exactly 3. */
	if ((c = client_new(port, NULL)) != NULL) {
		conn_send(c, "SUB subsz.a 1\r\nSUB subsz.b 2\r\n"
		    "SUB subsz.c 3\r\n");
		conn_ping(c, T);
		got = field_wait(mport, "/subsz", "num_subscriptions",
		    subs0 + 3);
		is_int(got, subs0 + 3, "/subsz: num_subscriptions moved by 3");
		conn_free(c);
	} else
		ok(0, "subsz client");

	if (http_get(mport, "/healthz", &r) == 0) {
		is_int(r.status, 200, "/healthz: 200");
		ok(header(&r, "Content-Type", ct, sizeof(ct)) != NULL &&
		    strcmp(ct, "application/json") == 0,
		    "/healthz: application/json");
		j = json_loads(r.body, 0, NULL);
		v = json_object_get(j, "status");
		is_str(json_string_value(v), "ok", "/healthz: status ok");
		json_decref(j);
		resp_free(&r);
	} else
		ok(0, "GET /healthz");
}

static void
test_jsonp(int mport)
{
	struct http_resp	 r;
	json_t			*j;
	char			 ct[64];

	if (http_get(mport, "/varz?callback=cb", &r) == -1) {
		ok(0, "GET /varz?callback=cb");
		return;
	}
	is_int(r.status, 200, "JSONP: 200");
	ok(header(&r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strcmp(ct, "application/javascript") == 0,
	    "JSONP: application/javascript");
	ok(strncmp(r.body, "cb(", 3) == 0 && r.body_len > 4 &&
	    r.body[r.body_len - 1] == ')', "JSONP: cb( ... )");
	if (r.body_len > 4) {
		r.body[r.body_len - 1] = '\0';
		j = json_loads(r.body + 3, 0, NULL);
		ok(json_is_string(json_object_get(j, "server_id")),
		    "JSONP: wraps the /varz object");
		json_decref(j);
	}
	resp_free(&r);
	if (http_get(mport, "/connz?callback=my.cb_1&limit=1", &r) == 0) {
		ok(r.status == 200 && strncmp(r.body, "my.cb_1(", 8) == 0,
		    "JSONP: a dotted callback, with other query values");
		resp_free(&r);
	}
	if (http_get(mport, "/healthz?callback=", &r) == 0) {
		ok(r.status == 200 && r.body[0] == '{',
		    "JSONP: an empty callback is plain JSON");
		resp_free(&r);
	}
	if (!natsd) {
		skip("JSONP callback checking: natsd only");
		return;
	}
	if (http_get(mport, "/varz?callback=alert(1)", &r) == 0) {
		is_int(r.status, 400, "JSONP: a callback that is not a name "
		    "is refused");
		resp_free(&r);
	}
}

static void
expect_status(int mport, const char *path, int status, const char *needle)
{
	struct http_resp	 r;
	char			 ct[64];

	if (http_get(mport, path, &r) == -1) {
		ok(0, "GET %s", path);
		return;
	}
	is_int(r.status, status, "GET %s: %d", path, status);
	if (needle != NULL && !ok(strstr(r.body, needle) != NULL,
	    "GET %s: says \"%s\"", path, needle))
		diag("body: %.200s", r.body);
	if (status >= 400)
		ok(header(&r, "Content-Type", ct, sizeof(ct)) != NULL &&
		    strncmp(ct, "text/plain", 10) == 0, "GET %s: text/plain",
		    path);
	resp_free(&r);
}

static void
test_errors(int mport)
{
	expect_status(mport, "/nope", 404, "404 page not found");
	expect_status(mport, "/varz/x", 404, NULL);
	expect_status(mport, "/connz?limit=abc", 400, "limit");
	expect_status(mport, "/connz?offset=1x", 400, "offset");
	expect_status(mport, "/connz?sort=bogus", 400, "bogus");
	expect_status(mport, "/connz?subs=maybe", 400, "subs");
	expect_status(mport, "/connz?sort=stop", 400, "closed");
	expect_status(mport, "/connz?limit=0", 200, NULL);
	expect_status(mport, "/connz?subs=detail", 200, NULL);
	expect_status(mport, "/connz?subs&&limit=2", 200, NULL);
	expect_status(mport, "/connz?limit=1+", 400, "limit");
}

/* One Prometheus sample line "name{labels} value": value, or -1. */
static long long
metric(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

/* Every line a comment or "name[{labels}] number". */
static int
metrics_well_formed(char *text)
{
	char	*line, *save = NULL, *sp, *end;
	int	 n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			if (strncmp(line, "# HELP ", 7) != 0 &&
			    strncmp(line, "# TYPE ", 7) != 0)
				return 0;
			continue;
		}
		if (strncmp(line, "natsd_", 6) != 0 ||
		    (sp = strrchr(line, ' ')) == NULL)
			return 0;
		strtod(sp + 1, &end);
		if (end == sp + 1 || *end != '\0')
			return 0;
		n++;
	}
	return n;
}

static void
test_metrics(int mport)
{
	struct http_resp	 r;
	json_t			*j;
	long long		 tot, w0, w1, vin, vconn;
	char			 ct[128];
	const char		*names[] = { "in_msgs_total", "out_msgs_total",
	    "in_bytes_total", "out_bytes_total", "connections" };
	char			 s0[96], s1[96], st[96];
	size_t			 i;

	if (!natsd) {
		skip("/metrics: natsd only");
		return;
	}
	/* No traffic now: /varz and /metrics see the same counters. */
	if ((j = get_json(mport, "/varz")) == NULL) {
		ok(0, "/varz before /metrics");
		return;
	}
	vin = jint(j, "in_msgs");
	vconn = jint(j, "connections");
	json_decref(j);
	if (http_get(mport, "/metrics", &r) == -1) {
		ok(0, "GET /metrics");
		return;
	}
	is_int(r.status, 200, "/metrics: 200");
	ok(header(&r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strncmp(ct, "text/plain; version=0.0.4", 25) == 0,
	    "/metrics: Prometheus text format 0.0.4");
	is_int(metric(r.body, "natsd_in_msgs_total"), vin,
	    "/metrics: natsd_in_msgs_total is /varz in_msgs");
	is_int(metric(r.body, "natsd_connections"), vconn,
	    "/metrics: natsd_connections is /varz connections");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(st, sizeof(st), "natsd_%s", names[i]);
		snprintf(s0, sizeof(s0), "natsd_worker_%s{worker=\"0\"}",
		    names[i]);
		snprintf(s1, sizeof(s1), "natsd_worker_%s{worker=\"1\"}",
		    names[i]);
		tot = metric(r.body, st);
		w0 = metric(r.body, s0);
		w1 = metric(r.body, s1);
		ok(tot >= 0 && w0 >= 0 && w1 >= 0 && w0 + w1 == tot,
		    "/metrics: %s per worker (%lld + %lld) adds up to %lld",
		    names[i], w0, w1, tot);
	}
	is_int(metric(r.body, "natsd_workers"), WORKERS, "/metrics: workers");
	is_int(metric(r.body, "natsd_worker_up{worker=\"1\"}"), 1,
	    "/metrics: worker 1 up");
	ok(metric(r.body, "natsd_http_requests_total{path=\"/metrics\"}") >= 1,
	    "/metrics: counts itself");
	ok(strstr(r.body, "# TYPE natsd_in_msgs_total counter\n") != NULL,
	    "/metrics: in_msgs is a counter");
	ok(metrics_well_formed(r.body) > 20, "/metrics: every line well "
	    "formed");
	resp_free(&r);
}

/* The monitor's pid: the child whose title says so; -1 if none. */
static pid_t
monitor_pid(struct server *srv)
{
	return server_child_titled(srv, "natsd: monitor");
}

/*
 * SIGKILL the monitor in the middle of a stream: every message arrives,
 * both clients stay connected, and a new monitor serves the counters,
 * which carried on without it.
 */
static void
test_kill_monitor(struct server *srv, int mport)
{
	struct conn	*sub, *pub;
	json_t		*j;
	pid_t		 old, now = -1;
	int64_t		 deadline;
	long long	 in0;
	int		 i, got = 0;

	if (!natsd) {
		skip("monitor process: natsd only");
		return;
	}
	if (!ok((old = monitor_pid(srv)) > 0, "the monitor process is there"))
		return;
	if ((j = get_json(mport, "/varz")) == NULL) {
		ok(0, "/varz before the kill");
		return;
	}
	in0 = jint(j, "in_msgs");
	json_decref(j);
	sub = client_new(srv->port, NULL);
	pub = client_new(srv->port, NULL);
	if (!ok(sub != NULL && pub != NULL, "kill: two clients"))
		goto out;
	conn_send(sub, "SUB kill.test 1\r\n");
	conn_ping(sub, T);
	for (i = 0; i < 100; i++) {
		if (i == 50)
			ok(kill(old, SIGKILL) == 0, "SIGKILL the monitor");
		conn_send(pub, "PUB kill.test 5\r\nm%04d\r\n", i);
	}
	conn_ping(pub, T);
	for (i = 0; i < 100; i++) {
		char want[8];

		snprintf(want, sizeof(want), "m%04d", i);
		got += conn_expect_msg(sub, "kill.test", "1", NULL, want, T);
	}
	is_int(got, 100, "kill: all 100 messages arrived, in order");
	ok(conn_ping(sub, T) && conn_ping(pub, T), "kill: both clients "
	    "still connected");
	deadline = harness_now_ms() + 5000;
	do {
		now = monitor_pid(srv);
		if (now > 0 && now != old)
			break;
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	ok(now > 0 && now != old, "a new monitor was started (pid %d, was %d)",
	    (int)now, (int)old);
	ok(wait_healthy(mport, 5000), "the new monitor answers /healthz");
	is_int(varz_wait(mport, "in_msgs", in0 + 100), in0 + 100,
	    "/varz after the kill: in_msgs counted all 100");
	ok(server_alive(srv), "natsd survived");
out:
	conn_free(sub);
	conn_free(pub);
}

/*
 * Monitoring from the configuration file (http: host:port), and a reload
 * (SIGHUP) the monitor applies: /varz shows the new max_payload and a
 * new config_load_time.
 */
static void
test_reload(void)
{
	struct server		*srv;
	json_t			*j;
	char			 conf[256], t0[64] = "";
	int64_t			 deadline;
	long long		 mp = -1;
	int			 mport = harness_free_port();

	snprintf(conf, sizeof(conf), "max_payload: 1000\n"
	    "http: 127.0.0.1:%d\n", mport);
	srv = server_start_with(WORKERS, conf, NULL);
	if (!ok(srv != NULL, "reload: server with http: in its file starts"))
		return;
	ok(wait_healthy(mport, 5000), "reload: monitoring on the file's port");
	if ((j = get_json(mport, "/varz")) != NULL) {
		is_int(jint(j, "max_payload"), 1000, "reload: max_payload 1000");
		snprintf(t0, sizeof(t0), "%s", json_string_value(
		    json_object_get(j, "config_load_time")));
		json_decref(j);
	}
	snprintf(conf, sizeof(conf), "max_payload: 2000\n"
	    "http: 127.0.0.1:%d\n", mport);
	server_write_conf(srv, conf);
	kill(srv->pid, SIGHUP);
	deadline = harness_now_ms() + T_POLL;
	do {
		if ((j = get_json(mport, "/varz")) != NULL) {
			mp = jint(j, "max_payload");
			if (mp == 2000)
				break;
			json_decref(j);
			j = NULL;
		}
		harness_nap(20);
	} while (harness_now_ms() < deadline);
	is_int(mp, 2000, "reload: /varz shows the new max_payload");
	ok(j != NULL && strcmp(json_string_value(json_object_get(j,
	    "config_load_time")), t0) > 0, "reload: config_load_time moved "
	    "on");
	json_decref(j);
	server_stop(srv);
	is_int(server_log_check(srv), 0, "reload: no unexpected errors");
	server_free(srv);
}

/* A self-signed certificate for 127.0.0.1, made by the openssl command. */
static int
make_cert(const char *dir, char *cert, char *key, size_t len)
{
	char	 cmd[1024];

	snprintf(cert, len, "%s/cert.pem", dir);
	snprintf(key, len, "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
	    "-subj /CN=127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
	    key, cert);
	return system(cmd) == 0 && access(cert, R_OK) == 0 &&
	    access(key, R_OK) == 0 ? 0 : -1;
}

/*
 * Does natsd -t say it will not run with a tls block (client TLS not
 * there yet)?  Then HTTPS cannot be tried, and the test says so.
 */
static int
tls_refused(const char *conf)
{
	char	 path[] = "/tmp/natsd-mon-conf.XXXXXX", cmd[512], line[512];
	FILE	*f;
	int	 fd, refused = 0;

	if ((fd = mkstemp(path)) == -1)
		return 0;
	if (write(fd, conf, strlen(conf)) != (ssize_t)strlen(conf)) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", harness_server_bin(),
	    path);
	if ((f = popen(cmd, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, "tls is not supported") != NULL)
				refused = 1;
		pclose(f);
	}
	unlink(path);
	return refused;
}

static void
test_https(void)
{
	struct server		*srv;
	struct http_resp	 r;
	SSL_CTX			*ctx;
	json_t			*j;
	char			 dir[] = "/tmp/natsd-mon-tls.XXXXXX";
	char			 cert[256], key[256], conf[1024], ports[16];
	const char		*args[] = { "-ms", ports, NULL };
	int			 sport;

	if (!natsd) {
		skip("HTTPS: natsd only (nats-server would want TLS clients)");
		return;
	}
	if (mkdtemp(dir) == NULL || make_cert(dir, cert, key,
	    sizeof(cert)) == -1) {
		ok(0, "openssl made a certificate");
		return;
	}
	sport = harness_free_port();
	snprintf(ports, sizeof(ports), "%d", sport);
	snprintf(conf, sizeof(conf), "tls {\n  cert_file: \"%s\"\n"
	    "  key_file: \"%s\"\n}\n", cert, key);
	if (tls_refused(conf)) {
		skip("HTTPS: this natsd refuses a tls block until client TLS "
		    "exists");
		goto out;
	}
	srv = server_start_with(WORKERS, conf, args);
	if (!ok(srv != NULL, "natsd with -ms and a tls block starts"))
		goto out;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		abort();
	/* Self-signed: check it is the certificate we made, by its file. */
	if (SSL_CTX_load_verify_locations(ctx, cert, NULL) == 1)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	j = NULL;
	{
		int64_t deadline = harness_now_ms() + 5000;

		do {
			if ((j = get_json_ctx(sport, ctx, "/varz")) != NULL)
				break;
			harness_nap(50);
		} while (harness_now_ms() < deadline);
	}
	ok(json_is_object(j), "HTTPS: /varz over TLS, certificate verified");
	is_int(jint(j, "https_port"), sport, "HTTPS: https_port");
	is_int(jint(j, "http_port"), 0, "HTTPS: no http_port");
	json_decref(j);
	if ((j = get_json_ctx(sport, ctx, "/connz?limit=1")) != NULL) {
		ok(json_is_array(json_object_get(j, "connections")),
		    "HTTPS: /connz");
		json_decref(j);
	} else
		ok(0, "HTTPS: /connz");
	/* Plain HTTP to the TLS port gets no HTTP answer. */
	if (http_get(sport, "/varz", &r) == 0) {
		ok(r.status != 200, "HTTPS port: plain HTTP is not served");
		resp_free(&r);
	} else
		ok(1, "HTTPS port: plain HTTP is not served");
	SSL_CTX_free(ctx);
	server_stop(srv);
	is_int(server_log_check(srv), 0, "HTTPS server: no unexpected errors");
	server_free(srv);
out:
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int
main(void)
{
	struct server		*srv;
	char			 mports[16];
	const char		*args[] = { "-m", mports, NULL };
	int			 mport;

	signal(SIGPIPE, SIG_IGN);
	natsd = !harness_is_nats_server(harness_server_bin());
	mport = harness_free_port();
	snprintf(mports, sizeof(mports), "%d", mport);
	srv = server_start_with(WORKERS, NULL, args);
	if (!ok(srv != NULL, "server with -m %d starts", mport))
		return done_testing();
	/* The monitor's kill is logged by the master as an error. */
	server_log_allow(srv, "exited on signal 9");
	ok(wait_healthy(mport, 5000), "/healthz answers 200");

	test_root(mport);
	test_varz(srv, mport);
	test_counters(srv->port, mport);
	test_connz(srv->port, mport);
	test_routez_subsz_healthz(srv->port, mport);
	test_jsonp(mport);
	test_errors(mport);
	test_metrics(mport);
	test_kill_monitor(srv, mport);
	test_connz_subs_truncated(srv->port, mport);
	/* Last: it kills a worker. */
	test_connz_subs(srv, mport);

	server_stop(srv);
	is_int(server_log_check(srv), 0, "no unexpected errors in the log");
	server_free(srv);

	test_reload();
	test_https();
	return done_testing();
}
