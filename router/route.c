/*
 * Route connections (router process): one TCP or TLS connection to
 * another server of the cluster, speaking nats-server 2.9's route
 * protocol.  router/gossip.c decides whom to connect to and when; this
 * file runs each connection: handshake, input, output, timers, closing.
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
 * Input is parsed in place in the shared read buffer, the tail of a split
 * frame kept in a per-route stash; output goes to a per-route buffer
 * written once per loop turn from route_flush_all().  Both buffers are
 * shared/outbuf.c's, as clients' are; the limits and close reasons here
 * are the route's own.
 *
 * Closing is deferred to route_reap(), like clients: forward.c may be
 * walking its list of routes when a write fails.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "gossip.h"
#include "log.h"
#include "natsd.h"
#include "passwd.h"
#include "route_priv.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

#define PAUSE_MAX_MS	100		/* read a paused route again after */
#define ACCEPT_BATCH	64
#define READ_AGAIN_MAX	16		/* TLS records read in one go */
/*
 * nats-server limits neither the control line nor the payload of a
 * route: the remote checked its clients already.  The control line
 * bound only stops a broken peer from making the router allocate without
 * end; a payload must still fit a ring record on its way to the workers,
 * so it is max_payload, as the cluster's servers should agree on.
 */
#define ROUTE_MAX_CONTROL_LINE	(1024 * 1024)

struct route_list	 routes_up = LIST_HEAD_INITIALIZER(routes_up);
struct route_list	 all_routes = LIST_HEAD_INITIALIZER(all_routes);
bool			 route_stopping;

TAILQ_HEAD(route_tailq, route);
static struct route_tailq dirty_routes = TAILQ_HEAD_INITIALIZER(dirty_routes);
static struct route_tailq closing_routes =
    TAILQ_HEAD_INITIALIZER(closing_routes);
static struct route_tailq again_routes = TAILQ_HEAD_INITIALIZER(again_routes);

static char		 listen_mark;
static int		 listen_fd = -1;
static unsigned		 npaused;
static struct proto_limits rlim;
static SSL_CTX		*tls_srv, *tls_cli;	/* NULL: no route TLS */

static void	route_events(struct route *);
static void	route_greet(struct route *);
static void	route_arm_write(struct route *, bool);

/* Logging */

void
route_log(const struct route *r, char lvl, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(lvl, r->ip, r->port, "rid", r->rid, msg);
}

const char *
route_own_id(void)
{
	return mesh_server_id(wk.mesh);
}

const char *
route_own_name(void)
{
	return wk.s->server_name != NULL ? wk.s->server_name : route_own_id();
}

static bool
tls_on(void)
{
	return wk.s->cluster.tls.cert_file != NULL;
}

static bool
auth_on(void)
{
	return wk.s->cluster.user != NULL;
}

/* TLS */

/*
 * nats-server forces strict verification on routes: the acceptor demands
 * a certificate from the solicitor, whatever verify says, and both check
 * the other against ca_file.
 */
static void
tls_load(void)
{
	struct tls_settings	 ts;
	SSL_CTX			*s, *c;
	char			 err[512];

	if (!tls_on()) {
		SSL_CTX_free(tls_srv);
		SSL_CTX_free(tls_cli);
		tls_srv = tls_cli = NULL;
		return;
	}
	ts = wk.s->cluster.tls;
	ts.verify = true;
	if ((s = tls_server_ctx(&ts, err, sizeof(err))) == NULL) {
		log_warnx("cluster %s", err);
		return;
	}
	if ((c = tls_client_ctx(&ts, err, sizeof(err))) == NULL) {
		log_warnx("cluster %s", err);
		SSL_CTX_free(s);
		return;
	}
	SSL_CTX_free(tls_srv);
	SSL_CTX_free(tls_cli);
	tls_srv = s;
	tls_cli = c;
}

/* Output */

static size_t
high_mark(void)
{
	size_t m = (size_t)wk.s->max_pending / 2;

	return m > 4 * 1024 * 1024 ? 4 * 1024 * 1024 : m;
}

/*
 * nats-server never cuts a route on max_pending, only when a write makes
 * no progress for write_deadline.  The router still bounds what a stuck
 * route may hold: max_pending, but never below nats-server's default,
 * as a route carries the traffic of a whole server.
 */
static size_t
max_pending(void)
{
	return wk.s->max_pending > DEFAULT_MAX_PENDING ?
	    (size_t)wk.s->max_pending : DEFAULT_MAX_PENDING;
}

static void
route_mark_dirty(struct route *r)
{
	if (!(r->flags & RF_DIRTY)) {
		r->flags |= RF_DIRTY;
		TAILQ_INSERT_TAIL(&dirty_routes, r, dirty_entry);
	}
}

/* A route that cannot keep up: cut, owing nothing, in nats-server's words. */
static void
route_slow_consumer(struct route *r, const char *limit, const char *why)
{
	route_log(r, 'I', "Slow Consumer Detected: %s Exceeded", limit);
	atomic_fetch_add(&wk.self->stats.slow_consumers, 1);
	outbuf_drop(&r->out);
	route_close(r, why);
}

static bool
route_room(struct route *r, size_t n)
{
	char limit[64];

	if (r->flags & RF_DEAD)
		return false;
	if (outbuf_pending(&r->out) + n > max_pending()) {
		snprintf(limit, sizeof(limit), "MaxPending of %zu",
		    max_pending());
		route_slow_consumer(r, limit, "Slow Consumer (Pending Bytes)");
		return false;
	}
	return true;
}

static void
route_commit(struct route *r, size_t n)
{
	outbuf_commit(&r->out, n);
	route_mark_dirty(r);
}

void
route_queue(struct route *r, const void *data, size_t n)
{
	if (!route_room(r, n))
		return;
	memcpy(outbuf_reserve(&r->out, n, wk.now, "route"), data, n);
	route_commit(r, n);
}

static void
route_send_str(struct route *r, const char *s)
{
	route_queue(r, s, strlen(s));
}

static void
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

/* write(2), or SSL_write once TLS is up; arg is the route. */
static ssize_t
route_send(void *arg, const char *buf, size_t len)
{
	struct route	*r = arg;
	char		 err[256];
	ssize_t		 n;

	if (r->ssl == NULL)
		return write(r->fd, buf, len);
	if (r->flags & RF_TLS_HANDSHAKE) {
		errno = EAGAIN;
		return -1;
	}
	if ((n = tls_write(r->ssl, buf, len, err, sizeof(err))) == -1) {
		if (errno == EPROTO)
			route_log(r, 'D', "TLS write error: %s", err);
		else if (errno == 0)
			errno = EPIPE;	/* the remote went away */
	}
	return n;
}

/* Write what we can; false if the route is gone. */
static bool
route_write(struct route *r)
{
	if (outbuf_flush(&r->out, route_send, r, wk.now) == -1) {
		route_log(r, 'E', "Error flushing: %s", strerror(errno));
		outbuf_drop(&r->out);
		route_close(r, "Write Error");
		return false;
	}
	return true;
}

static void
route_arm_write(struct route *r, bool on)
{
	if (on == !!(r->flags & RF_WANT_WRITE))
		return;
	if (on)
		r->flags |= RF_WANT_WRITE;
	else
		r->flags &= ~RF_WANT_WRITE;
	route_events(r);
}

static void
route_again_add(struct route *r)
{
	if (r->flags & (RF_READ_AGAIN | RF_DEAD))
		return;
	r->flags |= RF_READ_AGAIN;
	TAILQ_INSERT_TAIL(&again_routes, r, again_entry);
}

static void
route_events(struct route *r)
{
	uint32_t ev = 0;

	if (r->flags & RF_DEAD)
		return;
	if (r->flags & RF_CONNECTING)
		ev = EPOLLOUT;
	else {
		if (!(r->flags & RF_PAUSED))
			ev |= EPOLLIN;
		if (r->flags & RF_WANT_WRITE)
			ev |= EPOLLOUT;
	}
	worker_epoll_mod(r->fd, r, ev);
	if ((ev & EPOLLIN) && r->ssl != NULL && SSL_has_pending(r->ssl))
		route_again_add(r);
}

/* Creation and handshake */

static struct route *
route_alloc(int fd, const struct sockaddr *sa)
{
	struct route *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("route");
	r->fd = fd;
	r->start = r->last_read = r->out.last_write = wk.now;
	conn_addr(sa, r->ip, sizeof(r->ip), &r->port);
	LIST_INSERT_HEAD(&all_routes, r, entry);
	return r;
}

/*
 * Drive the TLS handshake; true once it is done.  nats-server does it
 * before either side says a word, so it has the connection to itself.
 */
static bool
route_handshake(struct route *r)
{
	char	err[256];
	int	n;
	long	vr;

	ERR_clear_error();
	if ((n = SSL_do_handshake(r->ssl)) == 1) {
		r->flags &= ~RF_TLS_HANDSHAKE;
		route_arm_write(r, false);
		route_greet(r);
		return true;
	}
	switch (SSL_get_error(r->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		route_arm_write(r, false);
		return false;
	case SSL_ERROR_WANT_WRITE:
		route_arm_write(r, true);
		return false;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			route_log(r, 'E', "TLS route handshake error: %s",
			    errno == 0 ? "EOF" : strerror(errno));
			route_close(r, "TLS Handshake Failure");
			return false;
		}
		/* FALLTHROUGH */
	default:
		tls_error_text(err, sizeof(err));
		if ((vr = SSL_get_verify_result(r->ssl)) != X509_V_OK)
			route_log(r, 'E', "TLS route handshake error: %s (%s)",
			    err, X509_verify_cert_error_string(vr));
		else
			route_log(r, 'E', "TLS route handshake error: %s", err);
		route_close(r, "TLS Handshake Failure");
		return false;
	}
}

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
static void
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

/* TCP is up, either way: TLS or greetings. */
static void
route_start(struct route *r)
{
	SSL_CTX		*ctx;
	const char	*name;
	bool		 is_ip;
	int		 one = 1;

	r->flags &= ~RF_CONNECTING;
	r->rid = mesh_next_cid(wk.mesh);
	r->start = r->last_read = r->out.last_write = wk.now;
	r->ping_due = wk.now + (wk.s->ping_interval_ms < ROUTE_FIRST_PING_MS ?
	    wk.s->ping_interval_ms : ROUTE_FIRST_PING_MS);
	r->deadline = 0;
	if (setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1)
		route_log(r, 'D', "setsockopt TCP_NODELAY: %s",
		    strerror(errno));
	if (!tls_on()) {
		route_greet(r);
		return;
	}
	ctx = (r->flags & RF_SOLICITED) ? tls_cli : tls_srv;
	if (ctx == NULL) {
		route_log(r, 'E', "TLS route handshake error: no usable "
		    "cluster TLS configuration");
		route_close(r, "TLS Handshake Failure");
		return;
	}
	if ((r->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(r->ssl, r->fd) != 1)
		fatalx("SSL_new");
	if (r->flags & RF_SOLICITED) {
		SSL_set_connect_state(r->ssl);
		name = r->target != NULL ? gossip_tls_name(r->target, &is_ip) :
		    NULL;
		if (name != NULL && is_ip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(r->ssl), name) != 1)
				route_log(r, 'W', "TLS: cannot verify IP %s",
				    name);
		} else if (name != NULL) {
			if (SSL_set1_host(r->ssl, name) != 1 ||
			    SSL_set_tlsext_host_name(r->ssl, name) != 1)
				route_log(r, 'W', "TLS: cannot verify host %s",
				    name);
		}
		route_log(r, 'D', "Starting TLS route client handshake");
	} else {
		SSL_set_accept_state(r->ssl);
		route_log(r, 'D', "Starting TLS route server handshake");
	}
	r->flags |= RF_TLS_HANDSHAKE;
	r->deadline = wk.now + wk.s->cluster.tls.timeout_ms;
	route_events(r);
	(void)route_handshake(r);
}

struct route *
route_new_solicited(int fd, const struct sockaddr *sa, socklen_t salen,
    struct target *t, bool done)
{
	struct route *r;

	(void)salen;
	r = route_alloc(fd, sa);
	r->flags = RF_SOLICITED;
	r->target = t;
	if (done) {
		route_start(r);
		return r;
	}
	r->flags |= RF_CONNECTING;
	r->deadline = wk.now + ROUTE_DIAL_MS;
	route_events(r);
	return r;
}

void
route_accept(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct route		*r;
	int			 fd, i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* EMFILE and friends: epoll will say again. */
			log_warn("route accept");
			return;
		}
		if (route_stopping) {
			close(fd);
			continue;
		}
		r = route_alloc(fd, (struct sockaddr *)&ss);
		route_start(r);
	}
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
static bool
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

/* Input */

static size_t
route_parse(struct route *r, const char *buf, size_t len, size_t *need,
    bool *pause)
{
	struct proto_frame	 f;
	const char		*line, *cr;
	size_t			 off = 0, used, llen = 0;
	int			 n;

	*need = 0;
	while (off < len && !(r->flags & RF_DEAD)) {
		n = proto_parse(&rlim, buf + off, len - off, &f, &used, need);
		if (n == PROTO_MORE)
			break;
		if (n < 0) {
			route_log(r, 'E', "%s: '%.*s'", n == PROTO_E_ARGS ?
			    "Parse Error" : n == PROTO_E_UNKNOWN_OP ?
			    proto_err_text[ERR_UNKNOWN_OP] : n ==
			    PROTO_E_PAYLOAD ? proto_err_text[ERR_MAX_PAYLOAD] :
			    proto_err_text[ERR_MAX_CONTROL_LINE],
			    (int)(len - off > 64 ? 64 : len - off), buf + off);
			if (n == PROTO_E_UNKNOWN_OP)
				route_err(r, proto_err_text[ERR_UNKNOWN_OP]);
			route_close(r, n == PROTO_E_ARGS ? "Parse Error" :
			    "Protocol Violation");
			return len;
		}
		line = buf + off;
		if (log_trace_on) {
			cr = memchr(line, '\r', used);
			llen = cr != NULL ? (size_t)(cr - line) : used;
		}
		off += used;
		if (route_dispatch(r, &f, line, llen))
			*pause = true;
	}
	return off;
}

static void
route_consume(struct route *r, char *buf, size_t len, bool big)
{
	size_t	off, need = 0;
	bool	pause = false;

	off = route_parse(r, buf, len, &need, &pause);
	if (r->flags & RF_DEAD)
		return;
	if (off < len)
		stash_save(&r->stash, buf + off, len - off, need, wk.rbuf_size,
		    "route");
	else
		stash_clear(&r->stash, big);
	if (pause)
		route_pause(r);
}

static ssize_t
route_recv(struct route *r, char *buf, size_t len)
{
	char	err[256];
	ssize_t	n;
	bool	want_write;

	if (r->ssl == NULL)
		return read(r->fd, buf, len);
	n = tls_read(r->ssl, buf, len, &want_write, err, sizeof(err));
	if (n == -1 && want_write) {
		route_arm_write(r, true);
		errno = EAGAIN;
	} else if (n == -1 && errno == EPROTO)
		route_log(r, 'D', "TLS read error: %s", err);
	return n;
}

/* One read, parsed; false when nothing more can be read now. */
static bool
route_read_once(struct route *r)
{
	char	*buf;
	size_t	 room;
	ssize_t	 n;
	bool	 big;

	big = stash_prepare(&r->stash, wk.rbuf, wk.rbuf_size, &buf, &room);
	n = route_recv(r, buf + r->stash.len, room);
	if (n == 0) {
		route_close(r, "Client Closed");
		return false;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		route_log(r, 'D', "read error: %s", strerror(errno));
		route_close(r, "Read Error");
		return false;
	}
	r->last_read = wk.now;
	route_consume(r, buf, r->stash.len + (size_t)n, big);
	return !(r->flags & (RF_DEAD | RF_PAUSED));
}

void
route_read(struct route *r)
{
	int i;

	if (r->flags & (RF_DEAD | RF_CONNECTING | RF_PAUSED))
		return;
	if ((r->flags & RF_TLS_HANDSHAKE) && !route_handshake(r))
		return;
	if (r->flags & RF_DEAD)
		return;
	/* TLS may hold decrypted records that epoll will not announce. */
	for (i = 0; i < READ_AGAIN_MAX; i++)
		if (!route_read_once(r) || r->ssl == NULL ||
		    !SSL_has_pending(r->ssl))
			return;
	route_again_add(r);
}

void
route_pause(struct route *r)
{
	if (r->flags & (RF_PAUSED | RF_DEAD))
		return;
	r->flags |= RF_PAUSED;
	r->paused_until = wk.now + PAUSE_MAX_MS;
	npaused++;
	route_events(r);
}

void
route_resume(struct route *r)
{
	if (!(r->flags & RF_PAUSED) || (r->flags & RF_DEAD))
		return;
	r->flags &= ~RF_PAUSED;
	npaused--;
	route_events(r);
}

/* Output: what forward.c sends */

bool
route_backed_up(void)
{
	struct route *r;

	LIST_FOREACH(r, &routes_up, up_entry)
		if (outbuf_pending(&r->out) > high_mark())
			return true;
	return false;
}

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
	return outbuf_pending(&r->out) <= high_mark();
}

/* Writing and the loop's hooks */

void
route_write_ready(struct route *r)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (r->flags & RF_DEAD)
		return;
	if (r->flags & RF_CONNECTING) {
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err == EINPROGRESS)
			return;
		gossip_connect_done(r, err);
		if (err != 0) {
			r->target = NULL;	/* gossip.c has it */
			route_close(r, NULL);
			return;
		}
		route_start(r);
		return;
	}
	if (r->flags & RF_TLS_HANDSHAKE) {
		if (route_handshake(r))
			route_read(r);
		return;
	}
	if (!route_write(r))
		return;
	if (outbuf_pending(&r->out) == 0)
		route_arm_write(r, false);
}

void
route_flush_all(void)
{
	struct route_tailq	 list = TAILQ_HEAD_INITIALIZER(list);
	struct route		*r;

	if (!TAILQ_EMPTY(&again_routes)) {
		TAILQ_CONCAT(&list, &again_routes, again_entry);
		while ((r = TAILQ_FIRST(&list)) != NULL) {
			TAILQ_REMOVE(&list, r, again_entry);
			r->flags &= ~RF_READ_AGAIN;
			route_read(r);
		}
	}
	if (npaused > 0)
		LIST_FOREACH(r, &all_routes, entry)
			if ((r->flags & RF_PAUSED) &&
			    wk.now >= r->paused_until)
				route_resume(r);
	while ((r = TAILQ_FIRST(&dirty_routes)) != NULL) {
		TAILQ_REMOVE(&dirty_routes, r, dirty_entry);
		r->flags &= ~RF_DIRTY;
		if (r->flags & (RF_DEAD | RF_WANT_WRITE | RF_CONNECTING |
		    RF_TLS_HANDSHAKE))
			continue;	/* EPOLLOUT will come, or never */
		if (!route_write(r))
			continue;
		if (outbuf_pending(&r->out) > 0)
			route_arm_write(r, true);
	}
}

void
route_close(struct route *r, const char *why)
{
	if (r->flags & RF_DEAD)
		return;
	r->flags |= RF_DEAD;
	r->why = why;
	TAILQ_INSERT_TAIL(&closing_routes, r, close_entry);
}

static void
route_free(struct route *r)
{
	size_t i;

	if (r->ssl != NULL)
		SSL_free(r->ssl);
	for (i = 0; i < r->nurls; i++)
		free(r->urls[i]);
	free(r->urls);
	free(r->remote_id);
	free(r->remote_name);
	free(r->gossip_url);
	stash_free(&r->stash);
	outbuf_free(&r->out);
	free(r);
}

void
route_reap(void)
{
	struct route *r;

	while ((r = TAILQ_FIRST(&closing_routes)) != NULL) {
		TAILQ_REMOVE(&closing_routes, r, close_entry);
		/* Best effort: the -ERR that explains the close. */
		if (outbuf_pending(&r->out) > 0 && !(r->flags & (RF_CONNECTING |
		    RF_TLS_HANDSHAKE)))
			(void)route_send(r, r->out.buf + r->out.off,
			    outbuf_pending(&r->out));
		if (r->ssl != NULL && !(r->flags & RF_TLS_HANDSHAKE))
			(void)SSL_shutdown(r->ssl);
		if (r->rid != 0 && r->why != NULL)
			route_log(r, 'I', "Router connection closed: %s",
			    r->why);
		if (r->flags & RF_UP) {
			/* RF_UP stays set: gossip.c wants to know. */
			LIST_REMOVE(r, up_entry);
			router_route_down(r);
		}
		if (r->flags & RF_DIRTY)
			TAILQ_REMOVE(&dirty_routes, r, dirty_entry);
		if (r->flags & RF_READ_AGAIN)
			TAILQ_REMOVE(&again_routes, r, again_entry);
		if (r->flags & RF_PAUSED)
			npaused--;
		close(r->fd);
		LIST_REMOVE(r, entry);
		gossip_route_closed(r);
		route_free(r);
	}
}

void
route_tick(void)
{
	struct route	*r;
	int64_t		 now = wk.now;
	char		 limit[64];

	gossip_tick();
	LIST_FOREACH(r, &all_routes, entry) {
		if (r->flags & RF_DEAD)
			continue;
		if (r->flags & RF_CONNECTING) {
			if (now >= r->deadline) {
				gossip_connect_done(r, ETIMEDOUT);
				r->target = NULL;
				route_close(r, NULL);
			}
			continue;
		}
		if (r->deadline != 0 && now >= r->deadline) {
			if (r->flags & RF_TLS_HANDSHAKE) {
				route_log(r, 'E', "TLS handshake timeout");
				route_close(r, "TLS Handshake Failure");
			} else {
				route_err(r, proto_err_text[ERR_AUTH_TIMEOUT]);
				route_log(r, 'D', "%s",
				    proto_err_text[ERR_AUTH_TIMEOUT]);
				route_close(r, "Authentication Timeout");
			}
			continue;
		}
		if (outbuf_stalled(&r->out, now, wk.s->write_deadline_ms)) {
			snprintf(limit, sizeof(limit), "WriteDeadline of "
			    "%lldms", (long long)wk.s->write_deadline_ms);
			route_slow_consumer(r, limit,
			    "Slow Consumer (Write Deadline)");
			continue;
		}
		if (now >= r->ping_due && !(r->flags & RF_TLS_HANDSHAKE)) {
			r->ping_due = now + wk.s->ping_interval_ms;
			route_log(r, 'D', "Router Ping Timer");
			if (r->pings_out + 1 > wk.s->ping_max) {
				route_log(r, 'D', "Stale Client Connection - "
				    "Closing");
				route_err(r, proto_err_text[ERR_STALE]);
				route_close(r, "Stale Connection");
				continue;
			}
			r->pings_out++;
			route_log(r, 'T', "->> [PING]");
			route_send_str(r, "PING\r\n");
		}
		outbuf_trim_idle(&r->out, now);
	}
}

/* Setup, reload, shutdown */

void *
route_listen_mark(void)
{
	return &listen_mark;
}

bool
route_is(void *ptr)
{
	struct route *r;

	LIST_FOREACH(r, &all_routes, entry)
		if ((void *)r == ptr)
			return true;
	return false;
}

static void
limits_set(void)
{
	rlim.max_control_line = ROUTE_MAX_CONTROL_LINE;
	rlim.max_payload = (size_t)wk.s->max_payload;
	rlim.client_side = false;
	rlim.route_side = true;
}

void
route_init(int lfd)
{
	limits_set();
	tls_load();
	listen_fd = lfd;
	if (lfd != -1)
		worker_epoll_mod(lfd, &listen_mark, EPOLLIN);
	gossip_init();
}

void
route_reload(void)
{
	limits_set();
	tls_load();
	gossip_reload();
}

void
route_shutdown_all(void)
{
	struct route *r;

	route_stopping = true;
	LIST_FOREACH(r, &all_routes, entry)
		route_close(r, r->rid != 0 ? "Server Shutdown" : NULL);
	route_reap();
}

/* Lookups */

struct route *
route_find_up(const char *id)
{
	struct route *r;

	LIST_FOREACH(r, &routes_up, up_entry)
		if (!(r->flags & RF_DEAD) && strcmp(r->remote_id, id) == 0)
			return r;
	return NULL;
}

struct route *
route_find_id(const char *id)
{
	struct route *r;

	LIST_FOREACH(r, &all_routes, entry)
		if (!(r->flags & RF_DEAD) && r->remote_id != NULL &&
		    strcmp(r->remote_id, id) == 0)
			return r;
	return NULL;
}

const char *
route_remote_id(const struct route *r)
{
	return r->remote_id != NULL ? r->remote_id : "";
}

uint64_t
route_rid(const struct route *r)
{
	return r->rid;
}
