/*
 * The route protocol: what a route says and what is said to it.
 *
 * Handshake, as nats-server 2.9 does it.  With cluster TLS both sides
 * start TLS as soon as the TCP connection is up, before a byte of the
 * protocol.  Then the acceptor sends its INFO; the solicitor sends
 * CONNECT (its server id, the cluster name, the user and password of the
 * route URL) and its INFO, without waiting.  The acceptor takes nothing
 * but CONNECT first: it checks the cluster authorization and the cluster
 * name there.  A route registers when the remote's INFO arrives (on the
 * acceptor after CONNECT): router_route_up() then sends it our interest.
 * A second route to a server already registered is closed ("Duplicate
 * Route"), one to ourselves too.
 *
 * Cluster names: a configured name must match the remote's.  Without one
 * the name is random and "dynamic": a dynamic server takes the remote's
 * name when the remote's is configured or sorts higher, and closes its
 * other routes, which then reconnect under the new name; two configured
 * names that differ never make a route ("Cluster Name Conflict").
 *
 * Once registered, RS+ / RS- / RMSG / HMSG for account $G go to
 * router/forward.c, and forward.c's interest and messages come back out
 * through route_send_sub(), route_send_unsub() and route_send_msg().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip.h"
#include "log.h"
#include "natsd.h"
#include "passwd.h"
#include "route_priv.h"
#include "tls.h"
#include "worker.h"

static bool
auth_on(void)
{
	return wk.s->cluster.user != NULL;
}

/* Saying */

void
route_send_str(struct route *r, const char *s)
{
	route_queue(r, s, strlen(s));
}

void
route_err(struct route *r, const char *text)
{
	char	buf[512];
	int	n;

	n = snprintf(buf, sizeof(buf), "-ERR '%s'\r\n", text);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	route_log(r, 'T', "->> [-ERR %s]", text);
	route_queue(r, buf, (size_t)n);
}

/* Greetings */

static void
route_send_connect(struct route *r)
{
	json_t		*o;
	const char	*user = NULL, *pass = NULL;
	char		*js;

	if (r->target != NULL)
		gossip_credentials(r->target, &user, &pass);
	if ((o = json_object()) == NULL)
		fatal("json");
	json_object_set_new(o, "echo", json_true());
	json_object_set_new(o, "verbose", json_false());
	json_object_set_new(o, "pedantic", json_false());
	if (user != NULL && *user != '\0')
		json_object_set_new(o, "user", json_string(user));
	if (pass != NULL && *pass != '\0')
		json_object_set_new(o, "pass", json_string(pass));
	json_object_set_new(o, "tls_required", json_boolean(r->ssl != NULL));
	json_object_set_new(o, "headers", json_true());
	json_object_set_new(o, "name", json_string(route_own_id()));
	json_object_set_new(o, "cluster", json_string(route_cluster));
	if (route_cluster_dynamic)
		json_object_set_new(o, "cluster_dynamic", json_true());
	/*
	 * No "lnoc": a nats-server with leafnodes then sends their interest
	 * and messages as plain RS+ and RMSG, which is all natsd speaks.
	 */
	if ((js = json_dumps(o, JSON_COMPACT)) == NULL)
		fatal("json_dumps");
	json_decref(o);
	route_queue(r, "CONNECT ", 8);
	route_queue(r, js, strlen(js));
	route_queue(r, "\r\n", 2);
	free(js);
}

/* The connection is ours to speak on (TLS done if any): say hello. */
void
route_greet(struct route *r)
{
	const char	*info;
	size_t		 len;

	if (r->ssl != NULL) {
		route_log(r, 'D', "TLS handshake complete");
		route_log(r, 'D', "TLS version %s, cipher suite %s",
		    tls_version_text(r->ssl), tls_cipher_text(r->ssl));
	}
	if (r->flags & RF_SOLICITED) {
		route_send_connect(r);
		route_log(r, 'D', "Route connect msg sent");
	}
	info = gossip_info(&len);
	route_queue(r, info, len);
	route_log(r, 'I', "Route connection created");
	r->deadline = 0;
	if (!(r->flags & RF_SOLICITED) && auth_on())
		r->deadline = wk.now + wk.s->cluster.auth_timeout_ms;
	route_events(r);
}

/* Protocol: what the remote sends */

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
jbool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static void
route_auth_violation(struct route *r)
{
	route_log(r, 'E', "authentication error");
	route_err(r, proto_err_text[ERR_AUTH_VIOLATION]);
	route_close(r, "Authentication Failure");
}

static bool
route_authorized(json_t *o)
{
	const char *user, *pass;

	if (!auth_on())
		return true;
	user = jstr(o, "user");
	pass = jstr(o, "pass");
	if (user == NULL || !passwd_equal(wk.s->cluster.user, user))
		return false;
	/* A bcrypt check is rare here (once per route): done inline. */
	return passwd_check(wk.s->cluster.password != NULL ?
	    wk.s->cluster.password : "", pass != NULL ? pass : "");
}

/* CONNECT, on the acceptor: who it is, its credentials, its cluster. */
static void
route_connect(struct route *r, const struct proto_frame *f)
{
	json_t		*o;
	json_error_t	 jerr;
	const char	*s, *theirs;
	char		 text[512];
	bool		 their_dyn;

	if (r->flags & (RF_SOLICITED | RF_CONNECT))
		return;		/* nats-server ignores it too */
	o = json_loadb(f->arg.p, f->arg.len, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		route_log(r, 'E', "Error parsing CONNECT: %s", o == NULL ?
		    jerr.text : "not an object");
		json_decref(o);
		route_close(r, "Protocol Violation");
		return;
	}
	/* A client on the route port: clients say their language. */
	if ((s = jstr(o, "lang")) != NULL && *s != '\0') {
		route_log(r, 'E', "attempted to connect to route port");
		route_err(r, "attempted to connect to route port");
		json_decref(o);
		route_close(r, "Wrong Port");
		return;
	}
	if ((s = jstr(o, "gateway")) != NULL && *s != '\0') {
		snprintf(text, sizeof(text), "Rejecting connection from "
		    "gateway \"%s\" on the Route port", s);
		route_log(r, 'E', "%s", text);
		route_err(r, text);
		json_decref(o);
		route_close(r, "Wrong Gateway");
		return;
	}
	if (!route_authorized(o)) {
		json_decref(o);
		route_auth_violation(r);
		return;
	}
	/*
	 * The cluster name, as nats-server's processRouteConnect(): a
	 * dynamic name gives way to a configured one or to a greater one.
	 * A remote with no name at all predates names: let it be.
	 */
	theirs = (s = jstr(o, "cluster")) != NULL ? s : "";
	their_dyn = jbool(o, "cluster_dynamic");
	if (*theirs != '\0' && strcmp(theirs, route_cluster) != 0) {
		if (route_cluster_dynamic && (!their_dyn ||
		    strcmp(route_cluster, theirs) < 0)) {
			gossip_cluster_adopt(r, theirs, their_dyn);
		} else {
			snprintf(text, sizeof(text), "Rejecting connection, "
			    "cluster name \"%s\" does not match \"%s\"", theirs,
			    route_cluster);
			route_log(r, 'E', "%s", text);
			route_err(r, text);
			json_decref(o);
			route_close(r, "Cluster Name Conflict");
			return;
		}
	}
	free(r->remote_id);
	if ((r->remote_id = strdup((s = jstr(o, "name")) != NULL ? s : "")) ==
	    NULL)
		fatal("strdup");
	if (jbool(o, "headers"))
		r->flags |= RF_HEADERS;
	r->flags |= RF_CONNECT;
	r->deadline = 0;
	json_decref(o);
}

static void
route_set_urls(struct route *r, json_t *o)
{
	json_t	*a = json_object_get(o, "connect_urls"), *v;
	size_t	 i, n;

	for (i = 0; i < r->nurls; i++)
		free(r->urls[i]);
	free(r->urls);
	r->urls = NULL;
	r->nurls = 0;
	if (!json_is_array(a) || (n = json_array_size(a)) == 0)
		return;
	if ((r->urls = calloc(n, sizeof(*r->urls))) == NULL)
		fatal("connect_urls");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		if ((r->urls[r->nurls] = strdup(json_string_value(v))) == NULL)
			fatal("strdup");
		r->nurls++;
	}
}

static bool
route_urls_equal(const struct route *r, json_t *o)
{
	json_t	*a = json_object_get(o, "connect_urls"), *v;
	size_t	 i;

	if (!json_is_array(a))
		return r->nurls == 0;
	if (json_array_size(a) != r->nurls)
		return false;
	json_array_foreach(a, i, v)
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), r->urls[i]) != 0)
			return false;
	return true;
}

/* An INFO on a registered route: news about it, or about another server. */
static void
route_info_again(struct route *r, json_t *o, const char *id)
{
	if (strcmp(id, r->remote_id) != 0) {
		gossip_implicit(o);
		return;
	}
	/* Lame duck mode: its clients are about to move; stop advertising. */
	if (jbool(o, "ldm")) {
		if (r->nurls > 0) {
			route_set_urls(r, NULL);
			gossip_urls_changed();
		}
		return;
	}
	if (json_object_get(o, "connect_urls") != NULL &&
	    !route_urls_equal(r, o)) {
		route_set_urls(r, o);
		gossip_urls_changed();
	}
}

/* The remote's route address for the others: its "ip", or ours of it. */
static void
route_set_gossip_url(struct route *r, json_t *o)
{
	const char	*ip = jstr(o, "ip");
	json_t		*p = json_object_get(o, "port");
	char		*u;

	r->remote_port = json_is_integer(p) ? (int)json_integer_value(p) : 0;
	if (ip != NULL && *ip != '\0') {
		if ((u = strdup(ip)) == NULL)
			fatal("strdup");
	} else if (asprintf(&u, strchr(r->ip, ':') != NULL ?
	    "nats-route://[%s]:%d/" : "nats-route://%s:%d/", r->ip,
	    r->remote_port) == -1)
		fatal("asprintf");
	free(r->gossip_url);
	r->gossip_url = u;
}

static void
route_info(struct route *r, const struct proto_frame *f)
{
	json_t		*o;
	json_error_t	 jerr;
	const char	*id, *s, *theirs;
	struct route	*kept;
	bool		 their_dyn;

	o = json_loadb(f->arg.p, f->arg.len, 0, &jerr);
	if (o == NULL || !json_is_object(o) || (id = jstr(o, "server_id")) ==
	    NULL) {
		route_log(r, 'E', "Error parsing INFO: %s", o == NULL ?
		    jerr.text : "no server_id");
		json_decref(o);
		route_close(r, "Parse Error");
		return;
	}
	if (r->flags & RF_INFO) {
		route_info_again(r, o, id);
		json_decref(o);
		return;
	}
	free(r->remote_id);
	if ((r->remote_id = strdup(id)) == NULL)
		fatal("strdup");
	if (strcmp(id, route_own_id()) == 0) {
		/* gossip.c stops soliciting this URL. */
		route_log(r, 'D', "Detected route to self, ignoring");
		json_decref(o);
		route_close(r, NULL);
		return;
	}
	theirs = (s = jstr(o, "cluster")) != NULL ? s : "";
	their_dyn = jbool(o, "cluster_dynamic");
	if (*theirs != '\0' && strcmp(theirs, route_cluster) != 0) {
		/* As processRouteInfo(): adopt it, staying dynamic. */
		if (route_cluster_dynamic && (!their_dyn ||
		    strcmp(route_cluster, theirs) < 0))
			gossip_cluster_adopt(r, theirs, true);
		else {
			route_log(r, 'D', "cluster name \"%s\" does not match "
			    "\"%s\"", theirs, route_cluster);
			json_decref(o);
			route_close(r, "Cluster Name Conflict");
			return;
		}
	}
	s = jstr(o, "server_name");
	if (!(r->flags & RF_SOLICITED) && s != NULL && *s != '\0' &&
	    strcmp(s, route_own_name()) == 0) {
		route_log(r, 'E', "Remote server has a duplicate name: \"%s\"",
		    s);
		json_decref(o);
		route_close(r, "Duplicate Server Name");
		return;
	}
	r->flags |= RF_INFO;
	free(r->remote_name);
	if ((r->remote_name = strdup(s != NULL ? s : "")) == NULL)
		fatal("strdup");
	if (jbool(o, "headers"))
		r->flags |= RF_HEADERS;
	route_set_gossip_url(r, o);
	route_set_urls(r, o);
	if ((kept = route_find_up(id)) != NULL) {
		route_log(r, 'D', "Detected duplicate remote route \"%s\"", id);
		gossip_duplicate(r, kept);
		json_decref(o);
		route_close(r, "Duplicate Route");
		return;
	}
	r->flags |= RF_UP;
	LIST_INSERT_HEAD(&routes_up, r, up_entry);
	route_log(r, 'D', "Registering remote route \"%s\"", id);
	router_route_up(r);
	route_log(r, 'D', "Sent local subscriptions to route");
	gossip_route_up(r, o);
	json_decref(o);
}

static bool
is_global_account(const struct proto_slice *a)
{
	return a->len == sizeof(ROUTE_ACCOUNT) - 1 &&
	    memcmp(a->p, ROUTE_ACCOUNT, a->len) == 0;
}

/* One frame; true if reading this route should pause. */
bool
route_dispatch(struct route *r, const struct proto_frame *f,
    const char *line, size_t llen)
{
	if (log_trace_on) {
		if (f->op == OP_CONNECT) {
			char red[2048];

			log_redact_connect(f->arg.p, f->arg.len, red,
			    sizeof(red));
			route_log(r, 'T', "<<- [CONNECT %s]", red);
		} else if (f->op != OP_INFO)
			route_log(r, 'T', "<<- [%.*s]", (int)(llen > 512 ? 512 :
			    llen), line);
	}
	/* nats-server: an acceptor takes nothing before CONNECT. */
	if (!(r->flags & (RF_SOLICITED | RF_CONNECT)) && f->op != OP_CONNECT) {
		route_auth_violation(r);
		return false;
	}
	switch (f->op) {
	case OP_CONNECT:
		route_connect(r, f);
		break;
	case OP_INFO:
		route_info(r, f);
		break;
	case OP_PING:
		route_log(r, 'T', "->> [PONG]");
		route_send_str(r, "PONG\r\n");
		break;
	case OP_PONG:
		r->pings_out = 0;
		break;
	case OP_OK:
		break;
	case OP_ERR:
		route_log(r, 'E', "Route Error %.*s", (int)(f->arg.len > 256 ?
		    256 : f->arg.len), f->arg.p);
		route_close(r, "Parse Error");
		break;
	case OP_RSUB:
		if ((r->flags & RF_UP) && is_global_account(&f->account))
			router_route_sub(r, f->subject.p, f->subject.len,
			    f->queue.p, f->queue.len, f->weight);
		break;
	case OP_RUNSUB:
		if ((r->flags & RF_UP) && is_global_account(&f->account))
			router_route_unsub(r, f->subject.p, f->subject.len,
			    f->queue.p, f->queue.len);
		break;
	case OP_RMSG:
	case OP_HMSG:
		r->in_msgs++;
		r->in_bytes += f->total_len;
		if ((r->flags & RF_UP) && is_global_account(&f->account))
			return router_route_msg(r, f);
		break;
	default:
		route_log(r, 'E', "%s", proto_err_text[ERR_UNKNOWN_OP]);
		route_err(r, proto_err_text[ERR_UNKNOWN_OP]);
		route_close(r, "Protocol Violation");
		break;
	}
	return false;
}

/* Output: what forward.c sends */

static bool
route_sendable(const struct route *r)
{
	return (r->flags & (RF_UP | RF_DEAD)) == RF_UP;
}

/* RS+ (with a queue group's weight) or RS-: interest, as nats-server 2.9. */
static void
route_send_interest(struct route *r, bool add, const char *subject,
    size_t slen, const char *queue, size_t qlen, uint32_t weight)
{
	char	*p, *start;
	size_t	 max = 4 + 3 + slen + 1 + qlen + 2 + (add ? 1 + 20 : 0);

	if (!route_sendable(r) || !route_room(r, max))
		return;
	start = p = outbuf_reserve(&r->out, max, wk.now, "route");
	p = outbuf_put(p, add ? "RS+ " ROUTE_ACCOUNT " " :
	    "RS- " ROUTE_ACCOUNT " ", 7);
	p = outbuf_put(p, subject, slen);
	if (qlen > 0) {
		*p++ = ' ';
		p = outbuf_put(p, queue, qlen);
		if (add) {
			*p++ = ' ';
			p = outbuf_put_u64(p, weight ? weight : 1);
		}
	}
	if (log_trace_on)
		route_log(r, 'T', "->> [%.*s]", (int)(p - start), start);
	*p++ = '\r';
	*p++ = '\n';
	route_commit(r, (size_t)(p - start));
}

void
route_send_sub(struct route *r, const char *subject, size_t slen,
    const char *queue, size_t qlen, uint32_t weight)
{
	route_send_interest(r, true, subject, slen, queue, qlen, weight);
}

void
route_send_unsub(struct route *r, const char *subject, size_t slen,
    const char *queue, size_t qlen)
{
	route_send_interest(r, false, subject, slen, queue, qlen, 0);
}

/*
 * RMSG $G subject [reply] size, or with queue groups to serve
 * RMSG $G subject + reply q1 .. qn size / RMSG $G subject | q1 .. qn size;
 * HMSG the same with the header size before the total.
 */
bool
route_send_msg(struct route *r, const char *subject, size_t slen,
    const char *reply, size_t rlen, const struct proto_slice *queues,
    unsigned nqueues, const char *payload, size_t hdr_len, size_t total_len)
{
	char		*p, *start;
	size_t		 max;
	unsigned	 i;
	bool		 hmsg;

	if (!route_sendable(r))
		return true;
	if (hdr_len > 0 && !(r->flags & RF_HEADERS)) {
		/* A remote without headers gets the body, as a client would. */
		payload += hdr_len;
		total_len -= hdr_len;
		hdr_len = 0;
	}
	hmsg = hdr_len > 0;
	max = 5 + 3 + slen + 3 + rlen + 1 + 20 + 1 + 20 + 2 + total_len + 2;
	for (i = 0; i < nqueues; i++)
		max += queues[i].len + 1;
	if (!route_room(r, max))
		return false;
	start = p = outbuf_reserve(&r->out, max, wk.now, "route");
	p = outbuf_put(p, hmsg ? "HMSG " ROUTE_ACCOUNT " " :
	    "RMSG " ROUTE_ACCOUNT " ", 8);
	p = outbuf_put(p, subject, slen);
	*p++ = ' ';
	if (nqueues > 0) {
		if (rlen > 0) {
			*p++ = '+';
			*p++ = ' ';
			p = outbuf_put(p, reply, rlen);
			*p++ = ' ';
		} else {
			*p++ = '|';
			*p++ = ' ';
		}
		for (i = 0; i < nqueues; i++) {
			p = outbuf_put(p, queues[i].p, queues[i].len);
			*p++ = ' ';
		}
	} else if (rlen > 0) {
		p = outbuf_put(p, reply, rlen);
		*p++ = ' ';
	}
	if (hmsg) {
		p = outbuf_put_u64(p, hdr_len);
		*p++ = ' ';
	}
	p = outbuf_put_u64(p, total_len);
	if (log_trace_on)
		route_log(r, 'T', "->> [%.*s]", (int)(p - start), start);
	*p++ = '\r';
	*p++ = '\n';
	if (total_len > 0)
		p = outbuf_put(p, payload, total_len);
	*p++ = '\r';
	*p++ = '\n';
	r->out_msgs++;
	r->out_bytes += total_len;
	route_commit(r, (size_t)(p - start));
	return outbuf_pending(&r->out) <= route_high_mark();
}
