/*
 * Route connections (router process): one TCP or TLS connection to
 * another server of the cluster, speaking nats-server 2.9's route
 * protocol.  router/gossip.c decides whom to connect to and when; the
 * route files run each connection:
 *
 *	route.c		its life: accepted or solicited, TLS or greetings
 *			once TCP is up, timers, closing, freeing;
 *	route_io.c	its bytes: reading and parsing, buffering and
 *			writing, the TLS handshake, pausing;
 *	route_proto.c	what is said: the INFO / CONNECT handshake, the
 *			remote's operations, RS+ / RS- / RMSG / HMSG out.
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

#include <openssl/x509v3.h>

#include "conn.h"
#include "gossip.h"
#include "log.h"
#include "natsd.h"
#include "route_priv.h"
#include "tls.h"
#include "worker.h"

#define ACCEPT_BATCH	64

struct route_list	 routes_up = LIST_HEAD_INITIALIZER(routes_up);
struct route_list	 all_routes = LIST_HEAD_INITIALIZER(all_routes);
bool			 route_stopping;

static struct route_tailq closing_routes =
    TAILQ_HEAD_INITIALIZER(closing_routes);

static char		 listen_mark;
static int		 listen_fd = -1;
static SSL_CTX		*tls_srv, *tls_cli;	/* NULL: no route TLS */

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

/* Creation */

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

/* TCP is up, either way: TLS or greetings. */
void
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

/* Closing and timers */

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
		route_io_forget(r);
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

void
route_init(int lfd)
{
	route_set_limits();
	tls_load();
	listen_fd = lfd;
	if (lfd != -1)
		worker_epoll_mod(lfd, &listen_mark, EPOLLIN);
	gossip_init();
}

void
route_reload(void)
{
	route_set_limits();
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
