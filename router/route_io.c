/*
 * Route input and output: the bytes of a route connection.
 *
 * Input is parsed in place in the shared read buffer, the tail of a split
 * frame kept in a per-route stash; each frame goes to route_dispatch().
 * Output goes to a per-route buffer written once per loop turn from
 * route_flush_all().  Both buffers are shared/outbuf.c's, as clients'
 * are; the limits and close reasons here are the route's own.
 *
 * A route whose messages cannot be passed on is paused: not read for a
 * while, so the remote's writes back up instead of the router's memory.
 * TLS may hold decrypted records that epoll will not announce: such a
 * route is read again before the loop sleeps.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "gossip.h"
#include "log.h"
#include "natsd.h"
#include "route_priv.h"
#include "tls.h"
#include "worker.h"

#define PAUSE_MAX_MS	100		/* read a paused route again after */
#define READ_AGAIN_MAX	16		/* TLS records read in one go */
/*
 * nats-server limits neither the control line nor the payload of a
 * route: the remote checked its clients already.  The control line
 * bound only stops a broken peer from making the router allocate without
 * end; a payload must still fit a ring record on its way to the workers,
 * so it is max_payload, as the cluster's servers should agree on.
 */
#define ROUTE_MAX_CONTROL_LINE	(1024 * 1024)

static struct route_tailq dirty_routes = TAILQ_HEAD_INITIALIZER(dirty_routes);
static struct route_tailq again_routes = TAILQ_HEAD_INITIALIZER(again_routes);

static unsigned		 npaused;
static struct proto_limits rlim;

/* Output */

size_t
route_high_mark(void)
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
void
route_slow_consumer(struct route *r, const char *limit, const char *why)
{
	route_log(r, 'I', "Slow Consumer Detected: %s Exceeded", limit);
	atomic_fetch_add(&wk.self->stats.slow_consumers, 1);
	outbuf_drop(&r->out);
	route_close(r, why);
}

bool
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

void
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

/* write(2), or SSL_write once TLS is up; arg is the route. */
ssize_t
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

void
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

/* TLS handshake */

/*
 * Drive the TLS handshake; true once it is done.  nats-server does it
 * before either side says a word, so it has the connection to itself.
 */
bool
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

/* Input */

void
route_set_limits(void)
{
	rlim.max_control_line = ROUTE_MAX_CONTROL_LINE;
	rlim.max_payload = (size_t)wk.s->max_payload;
	rlim.client_side = false;
	rlim.route_side = true;
}

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

/* Writing and the loop's hooks */

bool
route_backed_up(void)
{
	struct route *r;

	LIST_FOREACH(r, &routes_up, up_entry)
		if (outbuf_pending(&r->out) > route_high_mark())
			return true;
	return false;
}

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

/* r is being freed: off the lists of this file. */
void
route_io_forget(struct route *r)
{
	if (r->flags & RF_DIRTY)
		TAILQ_REMOVE(&dirty_routes, r, dirty_entry);
	if (r->flags & RF_READ_AGAIN)
		TAILQ_REMOVE(&again_routes, r, again_entry);
	if (r->flags & RF_PAUSED)
		npaused--;
}