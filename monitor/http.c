/*
 * The monitor's HTTP side: one request callback for the HTTP and HTTPS
 * servers alike, routing by exact path as nats-server's mux does, query
 * values checked as it checks them (a bad value is a 400 with a message,
 * not a silent default), replies as JSON, or JSONP with ?callback=.
 *
 * A handler builds its whole reply from shared memory without waiting on
 * anything, so requests never queue behind each other for long and the
 * workers never notice them.  The one exception, /connz with
 * subscriptions, asks the workers and answers from a timer later
 * (http_reply()); the loop serves other requests meanwhile.
 */
#include "config.h"

#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "mesh.h"
#include "monitor.h"
#include "natsd.h"
#include "settings.h"
#include "stats.h"

#define CTYPE_JSON	"application/json"
#define CTYPE_JSONP	"application/javascript"
#define CTYPE_HTML	"text/html; charset=utf-8"
#define CTYPE_TEXT	"text/plain; charset=utf-8"
#define CALLBACK_MAX	128

static int	root_handle(struct mon_request *, struct mon_reply *);

/*
 * The endpoints.  /subscriptionsz is gnatsd 0.6's name for /subsz and is
 * counted as /subsz in http_req_stats, as nats-server counts it.
 */
static const struct endpoint {
	const char	*path;
	enum mon_ep	 ep;
	int		(*handle)(struct mon_request *, struct mon_reply *);
} endpoints[] = {
	{ "/",			EP_ROOT,	root_handle },
	{ "/varz",		EP_VARZ,	varz_handle },
	{ "/connz",		EP_CONNZ,	connz_handle },
	{ "/routez",		EP_ROUTEZ,	routez_handle },
	{ "/subsz",		EP_SUBSZ,	subsz_handle },
	{ "/subscriptionsz",	EP_SUBSZ,	subsz_handle },
	{ "/healthz",		EP_HEALTHZ,	healthz_handle },
	{ "/metrics",		EP_METRICS,	metrics_handle },
};

static const char *const ep_paths[EP__COUNT] = {
	[EP_ROOT] = "/",
	[EP_VARZ] = "/varz",
	[EP_CONNZ] = "/connz",
	[EP_ROUTEZ] = "/routez",
	[EP_SUBSZ] = "/subsz",
	[EP_HEALTHZ] = "/healthz",
	[EP_METRICS] = "/metrics",
};

const char *
http_ep_path(enum mon_ep ep)
{
	return ep_paths[ep];
}

int
http_error(struct mon_reply *r, int status, const char *fmt, ...)
{
	va_list	 ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
http_query_str(struct mon_request *rq, const char *key)
{
	return rq->query != NULL ? evhttp_find_header(rq->query, key) : NULL;
}

/* Absent or empty: def, as nats-server reads an unset value. */
int
http_query_int(struct mon_request *rq, const char *key, long long def,
    long long *out, struct mon_reply *r)
{
	const char	*v = http_query_str(rq, key);
	char		*end;
	long long	 n;

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (isspace((unsigned char)*v) || *end != '\0' || errno != 0)
		return http_error(r, 400, "Error decoding int for '%s': "
		    "\"%.64s\" is not a valid integer", key, v);
	*out = n;
	return 0;
}

/* Go's strconv.ParseBool spellings. */
int
http_query_bool(struct mon_request *rq, const char *key, int def, int *out,
    struct mon_reply *r)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	const char	*v = http_query_str(rq, key);
	size_t		 i;

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return http_error(r, 400, "Error decoding boolean for '%s': "
	    "\"%.64s\" is not a valid boolean", key, v);
}

/*
 * A JSONP callback is written into a script the browser runs: allow
 * only what a JavaScript name (or a dotted path of names) is made of.
 */
static int
callback_ok(const char *cb)
{
	size_t	 i;

	for (i = 0; cb[i] != '\0'; i++)
		if (i >= CALLBACK_MAX || !(isalnum((unsigned char)cb[i]) ||
		    cb[i] == '_' || cb[i] == '$' || cb[i] == '.'))
			return 0;
	return 1;
}

/*
 * Split ?a=1&b&c=x%20y into q, decoding each key and value, as Go's
 * url.ParseQuery does: a key without '=' has an empty value, empty parts
 * are skipped, the first of repeated keys is the one looked up.  -1 only
 * when out of memory.
 */
static int
query_parse(const char *qs, struct evkeyvalq *q)
{
	char	*copy, *part, *next, *eq, *k = NULL, *v = NULL;
	int	 rv = 0;

	if ((copy = strdup(qs)) == NULL)
		return -1;
	for (part = copy; part != NULL; part = next) {
		if ((next = strchr(part, '&')) != NULL)
			*next++ = '\0';
		if (*part == '\0')
			continue;
		if ((eq = strchr(part, '=')) != NULL)
			*eq++ = '\0';
		k = evhttp_uridecode(part, 1, NULL);
		v = evhttp_uridecode(eq != NULL ? eq : "", 1, NULL);
		if (k == NULL || v == NULL) {
			rv = -1;
			break;
		}
		/* Refuses CR and LF in either; such a value is just absent. */
		(void)evhttp_add_header(q, k, v);
		free(k);
		free(v);
		k = v = NULL;
	}
	free(k);
	free(v);
	free(copy);
	return rv;
}

/* The home page: what this is and links to every endpoint. */
static int
root_handle(struct mon_request *rq, struct mon_reply *r)
{
	static const struct {
		const char	*path, *what;
	} links[] = {
		{ "varz", "General" },
		{ "connz", "Connections" },
		{ "subsz", "Subscriptions" },
		{ "routez", "Routes" },
		{ "healthz", "Health Probe" },
		{ "metrics", "Prometheus Metrics" },
	};
	struct mon	*mon = rq->mon;
	size_t		 i;

	if ((r->body = evbuffer_new()) == NULL)
		return http_error(r, 500, "out of memory");
	r->ctype = CTYPE_HTML;
	evbuffer_add_printf(r->body,
	    "<html lang=\"en\">\n"
	    "<head>\n"
	    "<title>natsd monitoring</title>\n"
	    "<style type=\"text/css\">\n"
	    "body { font-family: sans-serif; margin-left: 32px }\n"
	    "a { display: block; padding-bottom: 6px }\n"
	    "</style>\n"
	    "</head>\n"
	    "<body>\n"
	    "<h1>natsd</h1>\n"
	    "<p>version %s, %d workers, server id %s</p>\n",
	    NATSD_VERSION, mesh_nworkers(mon->m), mesh_server_id(mon->m));
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		evbuffer_add_printf(r->body, "<a href=./%s>%s</a>\n",
		    links[i].path, links[i].what);
	evbuffer_add_printf(r->body,
	    "<a href=https://docs.nats.io/running-a-nats-service/"
	    "nats_admin/monitoring>Help</a>\n"
	    "</body>\n"
	    "</html>\n");
	return 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:	return "OK";
	case 400:	return "Bad Request";
	case 404:	return "Not Found";
	case 503:	return "Service Unavailable";
	default:	return "Internal Server Error";
	}
}

/*
 * Every reply says its length, as nats-server's do (libevent adds it only
 * for HTTP/1.1 keep-alive requests).
 */
static void
send_reply(struct evhttp_request *req, int status, struct evbuffer *b)
{
	char len[24];

	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(b));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Length", len);
	evhttp_send_reply(req, status, reason(status), b);
}

static void
send_text(struct evhttp_request *req, int status, const char *text)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;

	evhttp_add_header(oh, "Content-Type", CTYPE_TEXT);
	if (status == 404)
		evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, text, strlen(text));
	send_reply(req, status, b);
	evbuffer_free(b);
}

static void
send_json(struct evhttp_request *req, int status, json_t *j,
    const char *callback)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	char			*text;

	/* Indented like nats-server's json.MarshalIndent(v, "", "  "). */
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15));
	if (text == NULL || (b = evbuffer_new()) == NULL) {
		free(text);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (callback != NULL) {
		evhttp_add_header(oh, "Content-Type", CTYPE_JSONP);
		evbuffer_add_printf(b, "%s(%s)", callback, text);
	} else {
		evhttp_add_header(oh, "Content-Type", CTYPE_JSON);
		evbuffer_add(b, text, strlen(text));
	}
	free(text);
	send_reply(req, status, b);
	evbuffer_free(b);
}

void
http_handle(struct evhttp_request *req, void *arg)
{
	struct mon		*mon = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const struct endpoint	*e = NULL;
	struct evkeyvalq	 query;
	struct mon_request	 rq;
	struct mon_reply	 r;
	const char		*path, *qs, *cb;
	size_t			 i;
	int			 rv;

	TAILQ_INIT(&query);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (strcmp(path, endpoints[i].path) == 0)
			e = &endpoints[i];
	if (e == NULL) {
		send_text(req, 404, "404 page not found\n");
		return;
	}
	mon->req_stats[e->ep]++;

	memset(&rq, 0, sizeof(rq));
	memset(&r, 0, sizeof(r));
	rq.mon = mon;
	rq.query = &query;
	rq.now_ns = (int64_t)stats_wall_ns();
	qs = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (qs != NULL && query_parse(qs, &query) == -1) {
		evhttp_clear_headers(&query);
		send_text(req, 500, "out of memory");
		return;
	}
	cb = http_query_str(&rq, "callback");
	if (cb != NULL && *cb == '\0')
		cb = NULL;
	rq.req = req;
	rq.callback = cb;
	if (cb != NULL && !callback_ok(cb))
		http_error(&r, 400, "invalid callback: only letters, digits, "
		    "'_', '$' and '.' (at most %d)", CALLBACK_MAX);
	else if ((rv = e->handle(&rq, &r)) == 1) {
		/* The handler answers later. */
		evhttp_clear_headers(&query);
		return;
	} else if (rv == 0)
		r.status = r.status ? r.status : 200;
	http_reply(req, &r, cb);
	evhttp_clear_headers(&query);
}

void
http_reply(struct evhttp_request *req, struct mon_reply *r,
    const char *cb)
{
	if (r->json != NULL) {
		send_json(req, r->status, r->json, cb);
		json_decref(r->json);
		r->json = NULL;
	} else if (r->body != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", r->ctype);
		send_reply(req, r->status, r->body);
		evbuffer_free(r->body);
		r->body = NULL;
	} else
		send_text(req, r->status ? r->status : 500, r->err);
}
