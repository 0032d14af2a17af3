/*
 * Client connections: reading and parsing, the protocol operations,
 * outbound buffering and flushing, timers, and closing.
 *
 * Reading: the worker reads into one shared buffer and parses in place;
 * only a frame split across reads is copied, into the client's stash.
 * A large frame whose size is known gets a stash of its full size and the
 * rest of it is read straight there, so a 1MB payload is copied once.
 *
 * Writing: delivery appends to the client's outbound buffer and puts the
 * client on the dirty list; client_flush_all() writes every dirty client
 * once per loop turn, before the worker sleeps.
 *
 * Closing is deferred: client_close() only marks the client (delivery may
 * be iterating a match result that holds its subscriptions); client_reap()
 * tears it down once nothing refers to it.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bcrypt.h"
#include "client.h"
#include "client_auth.h"
#include "conn.h"
#include "deliver.h"
#include "log.h"
#include "peer.h"
#include "stats.h"
#include "perm.h"
#include "subject.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

/*
 * A paused publisher is read again after this even if its receivers are
 * still backed up: it bounds the stall (two clients publishing to each
 * other cannot deadlock) and a receiver that never catches up ends as a
 * slow consumer, as in nats-server.
 */
#define PAUSE_MAX_MS	100

struct client_list	 clients = LIST_HEAD_INITIALIZER(clients);
struct client_tailq	 dirty_clients = TAILQ_HEAD_INITIALIZER(dirty_clients);
static struct client_tailq closing_clients =
    TAILQ_HEAD_INITIALIZER(closing_clients);
/* TLS clients whose decrypted input epoll cannot see (SSL_has_pending). */
static struct client_tailq again_clients =
    TAILQ_HEAD_INITIALIZER(again_clients);

static int
csub_cmp(struct csub *a, struct csub *b)
{
	if (a->sid_len != b->sid_len)
		return a->sid_len < b->sid_len ? -1 : 1;
	return memcmp(a->sid, b->sid, a->sid_len);
}

RB_GENERATE_STATIC(csub_tree, csub, entry, csub_cmp)

static void	client_arm_write(struct client *, bool);
static void	client_ok(struct client *);
static void	client_read(struct client *);
static void	client_deadline(struct client *, int64_t);
static void	client_resume_input(struct client *);
static void	client_connected(struct client *);

static size_t
high_mark(void)
{
	size_t m = (size_t)wk.s->max_pending / 2;

	return m > 4 * 1024 * 1024 ? 4 * 1024 * 1024 : m;
}

void
client_log(const struct client *c, const char *lvl, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(lvl[0], c->ip, c->port, "cid", c->cid, msg);
}

static void
client_mark_dirty(struct client *c)
{
	if (!(c->flags & CF_DIRTY)) {
		c->flags |= CF_DIRTY;
		TAILQ_INSERT_TAIL(&dirty_clients, c, dirty_entry);
	}
}

static void
client_update_congestion(struct client *c)
{
	size_t pending = outbuf_pending(&c->out);

	if (!(c->flags & CF_CONGESTED) && pending > high_mark()) {
		c->flags |= CF_CONGESTED;
		if (wk.ncongested++ == 0)
			atomic_store(&wk.self->congested, 1);
	} else if ((c->flags & CF_CONGESTED) &&
	    (pending < high_mark() / 4 || (c->flags & CF_DEAD))) {
		c->flags &= ~CF_CONGESTED;
		if (--wk.ncongested == 0) {
			int i;

			atomic_store(&wk.self->congested, 0);
			/* Peers paused publishers for us: let them go. */
			for (i = 0; i < wk.npeers; i++)
				if (i != wk.slot)
					mesh_wake(wk.mesh, i);
		}
	}
}

static bool
client_room(struct client *c, size_t n)
{
	if (c->flags & CF_DEAD)
		return false;
	if (outbuf_pending(&c->out) + n > (size_t)wk.s->max_pending) {
		client_log(c, "I", "Slow Consumer Detected: MaxPending of %lld "
		    "Exceeded", (long long)wk.s->max_pending);
		atomic_fetch_add(&wk.self->stats.slow_consumers, 1);
		client_close(c, CLOSE_SLOW_CONSUMER_PENDING);
		return false;
	}
	return true;
}

static void
client_commit(struct client *c, size_t n)
{
	outbuf_commit(&c->out, n);
	client_mark_dirty(c);
	client_update_congestion(c);
}

bool
client_queue(struct client *c, const void *data, size_t n)
{
	if (!client_room(c, n))
		return false;
	memcpy(outbuf_reserve(&c->out, n, wk.now, "client"), data, n);
	client_commit(c, n);
	return true;
}

void
client_send_msg(struct client *c, struct csub *cs, const char *subject,
    size_t slen, const char *reply, size_t rlen, const char *payload,
    size_t hdr_len, size_t total_len)
{
	char	*p, *start;
	size_t	 max;
	bool	 hmsg = hdr_len > 0 && (c->flags & CF_HEADERS);

	if (hdr_len > 0 && !hmsg) {
		/* A client that did not ask for headers gets the body only. */
		payload += hdr_len;
		total_len -= hdr_len;
		hdr_len = 0;
	}
	max = 5 + slen + 1 + cs->sid_len + 1 + rlen + 1 + 20 + 1 + 20 + 2 +
	    total_len + 2;
	if (!client_room(c, max))
		return;
	start = p = outbuf_reserve(&c->out, max, wk.now, "client");
	if (hmsg)
		p = outbuf_put(p, "HMSG ", 5);
	else
		p = outbuf_put(p, "MSG ", 4);
	p = outbuf_put(p, subject, slen);
	*p++ = ' ';
	p = outbuf_put(p, cs->sid, cs->sid_len);
	*p++ = ' ';
	if (rlen) {
		p = outbuf_put(p, reply, rlen);
		*p++ = ' ';
	}
	if (hmsg) {
		p = outbuf_put_u64(p, hdr_len);
		*p++ = ' ';
	}
	p = outbuf_put_u64(p, total_len);
	*p++ = '\r';
	*p++ = '\n';
	if (total_len > 0)
		p = outbuf_put(p, payload, total_len);
	*p++ = '\r';
	*p++ = '\n';
	c->out_msgs++;
	c->out_bytes += total_len;
	atomic_fetch_add_explicit(&wk.self->stats.out_msgs, 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&wk.self->stats.out_bytes, total_len,
	    memory_order_relaxed);
	client_commit(c, (size_t)(p - start));
}

static void
client_send_str(struct client *c, const char *s)
{
	client_queue(c, s, strlen(s));
}

void
client_err(struct client *c, const char *text)
{
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "-ERR '%s'\r\n", text);
	client_queue(c, buf, (size_t)n);
}

static void
client_send_info(struct client *c)
{
	char	 tail[256];
	int	 n;

	/* nats-server ends INFO with " \r\n"; some clients split on the space. */
	n = snprintf(tail, sizeof(tail), ",\"client_id\":%llu,"
	    "\"client_ip\":\"%s\",\"worker\":%d} \r\n",
	    (unsigned long long)c->cid, c->ip, wk.slot);
	if (!client_room(c, wk.info_prefix_len + (size_t)n))
		return;
	client_queue(c, wk.info_prefix, wk.info_prefix_len);
	client_queue(c, tail, (size_t)n);
}

void
client_info_all(void)
{
	struct client *c;

	LIST_FOREACH(c, &clients, entry)
		if ((c->flags & (CF_CONNECTED | CF_ASYNC_INFO | CF_DEAD)) ==
		    (CF_CONNECTED | CF_ASYNC_INFO))
			client_send_info(c);
}

void
client_publish(struct client *c)
{
	struct conn_info	 ci;
	uint64_t		 wall = stats_wall_ns();

	if (c->slot == NULL)
		return;
	memset(&ci, 0, sizeof(ci));
	ci.cid = c->cid;
	ci.start = (uint64_t)c->start_wall;
	ci.last_activity = wall - (uint64_t)(wk.now - c->last_read) * 1000000;
	ci.pending_bytes = outbuf_pending(&c->out);
	ci.in_msgs = c->in_msgs;
	ci.out_msgs = c->out_msgs;
	ci.in_bytes = c->in_bytes;
	ci.out_bytes = c->out_bytes;
	ci.num_subs = c->nsubs;
	ci.worker = (uint32_t)wk.slot;
	ci.port = (uint16_t)c->port;
	CONN_INFO_SET(&ci, ip, c->ip, strlen(c->ip));
	if (c->name != NULL)
		CONN_INFO_SET(&ci, name, c->name, strlen(c->name));
	if (c->lang != NULL)
		CONN_INFO_SET(&ci, lang, c->lang, strlen(c->lang));
	if (c->version != NULL)
		CONN_INFO_SET(&ci, version, c->version, strlen(c->version));
	conntab_update(c->slot, &ci);
}

/* Connections across every worker: max_connections is per server. */
static uint64_t
server_connections(void)
{
	uint64_t	n = 0;
	int		i;

	for (i = 0; i < mesh_nworkers(wk.mesh); i++)
		n += atomic_load_explicit(&mesh_peer(wk.mesh, i)->nclients,
		    memory_order_relaxed);
	return n;
}

struct client *
client_new(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("client");
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->cid = mesh_next_cid(wk.mesh);
	/* nats-server's defaults until CONNECT says otherwise. */
	c->flags = CF_VERBOSE | CF_PEDANTIC;
	c->start = wk.now;
	c->start_wall = (int64_t)stats_wall_ns();
	c->last_read = wk.now;
	c->ping_due = wk.now + wk.s->ping_interval_ms;
	RB_INIT(&c->subs);
	conn_addr(sa, c->ip, sizeof(c->ip), &c->port);
	LIST_INSERT_HEAD(&clients, c, entry);
	wk.nclients++;
	atomic_store(&wk.self->nclients, wk.nclients);
	atomic_fetch_add(&wk.self->stats.connections, 1);
	atomic_fetch_add(&wk.self->stats.total_connections, 1);
	if (wk.tls_ctx != NULL) {
		/* INFO goes out in the clear, then the client starts TLS. */
		if ((c->ssl = SSL_new(wk.tls_ctx)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1)
			fatal("SSL_new");
		SSL_set_accept_state(c->ssl);
		c->flags |= CF_TLS_HANDSHAKE;
		client_deadline(c, wk.now + wk.s->tls.timeout_ms);
	} else if (settings_auth_required(wk.s))
		client_deadline(c, wk.now + wk.s->auth.timeout_ms);
	worker_epoll_mod(fd, c, EPOLLIN);
	/* A full table (max_connections raised by a reload) only hides it from /connz. */
	c->slot = conntab_alloc(mesh_conntab(wk.mesh, wk.slot));
	client_publish(c);
	client_log(c, "D", "Client connection created");
	if (c->ssl != NULL)
		client_log(c, "D", "Starting TLS client connection handshake");
	if (server_connections() > (uint64_t)wk.s->max_connections) {
		client_send_info(c);
		client_err(c, proto_err_text[ERR_MAX_CONNECTIONS]);
		client_close(c, CLOSE_MAX_CONNECTIONS);
		return c;
	}
	client_send_info(c);
	return c;
}

static void
client_ok(struct client *c)
{
	if (c->flags & CF_VERBOSE)
		client_send_str(c, "+OK\r\n");
}

static void
client_protocol_error(struct client *c, const char *text,
    enum close_reason reason)
{
	client_err(c, text);
	client_log(c, "E", "%s", text);
	client_close(c, reason);
}

/*
 * CONNECT: fields present override the current options (nats-server
 * unmarshals into the options it already has, so a second CONNECT works
 * and absent fields keep their values).
 */
static bool
connect_bool(json_t *o, const char *key, struct client *c, uint32_t flag,
    bool invert)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return true;
	if (!json_is_boolean(v))
		return false;
	if (json_is_true(v) != invert)
		c->flags |= flag;
	else
		c->flags &= ~flag;
	return true;
}

static bool
connect_str(json_t *o, const char *key, char **dst)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return true;
	if (!json_is_string(v))
		return false;
	free(*dst);
	if ((*dst = strdup(json_string_value(v))) == NULL)
		fatal("strdup");
	return true;
}

static void
client_connect(struct client *c, const struct proto_frame *f)
{
	json_t		*o;
	json_error_t	 jerr;

	o = json_loadb(f->arg.p, f->arg.len, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		if (o == NULL)
			client_log(c, "E", "invalid CONNECT JSON: %s", jerr.text);
		else
			client_log(c, "E", "invalid CONNECT: not an object");
		json_decref(o);
		client_err(c, proto_err_text[ERR_BAD_CONNECT]);
		client_close(c, CLOSE_PARSE_ERROR);
		return;
	}
	if (!connect_bool(o, "verbose", c, CF_VERBOSE, false) ||
	    !connect_bool(o, "pedantic", c, CF_PEDANTIC, false) ||
	    !connect_bool(o, "headers", c, CF_HEADERS, false) ||
	    !connect_bool(o, "no_responders", c, CF_NO_RESPONDERS, false) ||
	    !connect_bool(o, "echo", c, CF_NO_ECHO, true) ||
	    !connect_str(o, "name", &c->name) ||
	    !connect_str(o, "lang", &c->lang) ||
	    !connect_str(o, "version", &c->version)) {
		json_decref(o);
		client_log(c, "E", "invalid CONNECT: a field has the wrong type");
		client_err(c, proto_err_text[ERR_BAD_CONNECT]);
		client_close(c, CLOSE_PARSE_ERROR);
		return;
	}
	if (json_integer_value(json_object_get(o, "protocol")) >= 1)
		c->flags |= CF_ASYNC_INFO;
	if ((c->flags & CF_NO_RESPONDERS) && !(c->flags & CF_HEADERS)) {
		json_decref(o);
		client_protocol_error(c, proto_err_text[ERR_NO_RESPONDERS_HEADERS],
		    CLOSE_PROTOCOL);
		return;
	}
	if (settings_auth_required(wk.s)) {
		enum auth_result r = client_auth_connect(c, o);

		json_decref(o);
		if (r != AUTH_OK)
			return;
	} else
		json_decref(o);
	client_connected(c);
}

static void
client_connected(struct client *c)
{
	c->deadline = 0;
	c->flags |= CF_CONNECTED;
	client_publish(c);
	client_ok(c);
}

void
client_connect_finish(struct client *c)
{
	client_connected(c);
	/* It was not read while its check ran: read on, its stash first. */
	client_events(c);
	client_resume_input(c);
}

static struct csub *
client_find_sub(struct client *c, const char *sid, size_t len)
{
	struct csub key;

	key.sid = sid;
	key.sid_len = len;
	return RB_FIND(csub_tree, &c->subs, &key);
}

static void
client_sub(struct client *c, const struct proto_frame *f)
{
	struct csub	*cs;
	size_t		 sl = f->subject.len, ql = f->queue.len;
	char		*p;

	if (!subject_valid(f->subject.p, sl) ||
	    (ql && !queue_valid(f->queue.p, ql))) {
		client_err(c, proto_err_text[ERR_INVALID_SUBJECT]);
		return;
	}
	if (!client_may_subscribe(c, f->subject.p, sl, f->queue.p, ql,
	    f->sid.p, f->sid.len))
		return;
	if (client_find_sub(c, f->sid.p, f->sid.len) != NULL) {
		/* nats-server ignores a SUB reusing a live sid. */
		client_ok(c);
		return;
	}
	if ((cs = calloc(1, sizeof(*cs) + sl + ql + f->sid.len + 3)) == NULL)
		fatal("subscription");
	p = cs->buf;
	memcpy(p, f->subject.p, sl);
	cs->s.subject = p;
	cs->s.subject_len = sl;
	p += sl + 1;
	if (ql) {
		memcpy(p, f->queue.p, ql);
		cs->s.queue = p;
		cs->s.queue_len = ql;
		p += ql + 1;
	}
	memcpy(p, f->sid.p, f->sid.len);
	cs->sid = p;
	cs->sid_len = f->sid.len;
	cs->s.owner = c;
	cs->s.kind = SUB_CLIENT;
	cs->s.weight = 1;
	cs->deliver_check = c->perms != NULL &&
	    perm_needs_deliver_check(c->perms, cs->s.subject, sl);
	if (sublist_insert(wk.sl, &cs->s) == -1) {
		free(cs);
		client_err(c, proto_err_text[ERR_INVALID_SUBJECT]);
		return;
	}
	RB_INSERT(csub_tree, &c->subs, cs);
	c->nsubs++;
	atomic_fetch_add(&wk.self->stats.subscriptions, 1);
	peer_interest_add(cs->s.subject, sl, cs->s.queue, ql);
	client_ok(c);
}

static void
client_sub_remove(struct client *c, struct csub *cs)
{
	RB_REMOVE(csub_tree, &c->subs, cs);
	if (sublist_remove(wk.sl, &cs->s) == -1)
		fatalx("subscription %s missing from the sublist",
		    cs->s.subject);
	peer_interest_del(cs->s.subject, cs->s.subject_len, cs->s.queue,
	    cs->s.queue_len);
	c->nsubs--;
	atomic_fetch_sub(&wk.self->stats.subscriptions, 1);
	free(cs);
}

void
client_recheck_subs(struct client *c)
{
	struct csub	*cs, *next;
	char		 msg[640];

	RB_FOREACH_SAFE(cs, csub_tree, &c->subs, next) {
		if (c->perms == NULL || perm_can_subscribe(c->perms,
		    cs->s.subject, cs->s.subject_len, cs->s.queue,
		    cs->s.queue_len)) {
			cs->deliver_check = c->perms != NULL &&
			    perm_needs_deliver_check(c->perms, cs->s.subject,
			    cs->s.subject_len);
			continue;
		}
		/* As nats-server: the subscription goes, the client is told. */
		snprintf(msg, sizeof(msg), "Permissions Violation for "
		    "Subscription to \"%.*s\" (sid \"%.*s\")",
		    (int)(cs->s.subject_len > 256 ? 256 : cs->s.subject_len),
		    cs->s.subject, (int)cs->sid_len, cs->sid);
		client_err(c, msg);
		client_log(c, "I", "Removed sub \"%s\" (sid \"%.*s\") for User "
		    "\"%s\" - not authorized", cs->s.subject, (int)cs->sid_len,
		    cs->sid, c->user != NULL ? c->user : "");
		client_sub_remove(c, cs);
	}
}

void
client_sub_delivered(struct csub *cs)
{
	struct client *c = cs->s.owner;

	/* Still there: a delivery may list the same sub twice only via peers. */
	if (client_find_sub(c, cs->sid, cs->sid_len) == cs)
		client_sub_remove(c, cs);
}

static void
client_unsub(struct client *c, const struct proto_frame *f)
{
	struct csub *cs;

	if ((cs = client_find_sub(c, f->sid.p, f->sid.len)) != NULL) {
		if (f->max_msgs > 0 && (uint64_t)f->max_msgs > cs->delivered)
			cs->max = (uint64_t)f->max_msgs;
		else
			client_sub_remove(c, cs);
	}
	client_ok(c);
}

/* Returns true if the publisher must pause. */
static bool
client_pub(struct client *c, const struct proto_frame *f)
{
	if (f->op == OP_HPUB && !(c->flags & CF_HEADERS)) {
		/* nats-server closes without an -ERR. */
		client_log(c, "E", "message headers not supported");
		client_close(c, CLOSE_PROTOCOL);
		return false;
	}
	/*
	 * Pedantic clients are told about a publish subject with wildcards
	 * or empty tokens; as in nats-server the message is routed anyway
	 * (a subject with empty tokens matches nobody).
	 */
	if ((c->flags & CF_PEDANTIC) &&
	    !subject_valid_literal(f->subject.p, f->subject.len))
		client_err(c, proto_err_text[ERR_INVALID_PUB_SUBJECT]);
	c->in_msgs++;
	c->in_bytes += f->total_len;
	atomic_fetch_add_explicit(&wk.self->stats.in_msgs, 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&wk.self->stats.in_bytes, f->total_len,
	    memory_order_relaxed);
	if (log_trace_on)
		client_log(c, "T", "<<- [%s %.*s %zu]", proto_op_name(f->op),
		    (int)f->subject.len, f->subject.p, f->total_len);
	if (!client_may_publish(c, f->subject.p, f->subject.len))
		return false;
	/* The +OK goes before any MSG this publish causes on the same connection. */
	client_ok(c);
	return deliver_publish(c, f);
}

/* Returns true if the client should stop being read for now. */
static bool
client_dispatch(struct client *c, const struct proto_frame *f)
{
	if (log_trace_on && f->op == OP_CONNECT) {
		char red[2048];

		/* Never a password or token in the trace (as nats-server). */
		log_redact_connect(f->arg.p, f->arg.len, red, sizeof(red));
		log_trace("%s:%d - cid:%llu - <<- [CONNECT %s]", c->ip,
		    c->port, (unsigned long long)c->cid, red);
	} else if (log_trace_on && f->op != OP_PUB && f->op != OP_HPUB)
		client_log(c, "T", "<<- [%s]", proto_op_name(f->op));
	if (!(c->flags & CF_AUTHED) && f->op != OP_CONNECT &&
	    settings_auth_required(wk.s)) {
		/* nats-server: nothing but CONNECT before authentication. */
		client_log(c, "E", "authentication error");
		client_auth_violation(c);
		return false;
	}
	switch (f->op) {
	case OP_CONNECT:
		client_connect(c, f);
		break;
	case OP_PUB:
	case OP_HPUB:
		return client_pub(c, f);
	case OP_SUB:
		client_sub(c, f);
		break;
	case OP_UNSUB:
		client_unsub(c, f);
		break;
	case OP_PING:
		client_send_str(c, "PONG\r\n");
		break;
	case OP_PONG:
		c->pings_out = 0;
		break;
	case OP_INFO:
	case OP_OK:
		break;
	case OP_ERR:
		/* A client reporting an error is done: nats-server closes it. */
		client_log(c, "D", "client sent -ERR '%.*s'", (int)f->arg.len,
		    f->arg.p);
		client_close(c, CLOSE_CLIENT);
		break;
	default:
		client_protocol_error(c, proto_err_text[ERR_UNKNOWN_OP],
		    CLOSE_PROTOCOL);
		break;
	}
	return false;
}

/*
 * Parse and run every whole frame in buf.  Returns the bytes consumed;
 * *need is the size of the incomplete frame left over, if known.
 */
static size_t
client_parse(struct client *c, const char *buf, size_t len, size_t *need,
    bool *pause)
{
	struct proto_frame	 f;
	size_t			 off = 0, used;
	int			 r;

	*need = 0;
	while (off < len &&
	    !(c->flags & (CF_DEAD | CF_CLOSING | CF_AUTH_WAIT))) {
		r = proto_parse(&wk.limits, buf + off, len - off, &f, &used,
		    need);
		if (r == PROTO_MORE)
			break;
		if (r < 0) {
			switch (r) {
			case PROTO_E_CONTROL_LINE:
				client_protocol_error(c,
				    proto_err_text[ERR_MAX_CONTROL_LINE],
				    CLOSE_MAX_CONTROL_LINE);
				break;
			case PROTO_E_PAYLOAD:
				client_protocol_error(c,
				    proto_err_text[ERR_MAX_PAYLOAD],
				    CLOSE_MAX_PAYLOAD);
				break;
			case PROTO_E_ARGS:
				/* nats-server logs and closes, sending no -ERR. */
				client_log(c, "E", "%s Parse Error: '%.*s'",
				    proto_op_name(f.op), (int)(len - off > 64 ?
				    64 : len - off), buf + off);
				client_close(c, CLOSE_PARSE_ERROR);
				break;
			default:
				client_protocol_error(c,
				    proto_err_text[ERR_UNKNOWN_OP],
				    CLOSE_PROTOCOL);
				break;
			}
			return len;
		}
		off += used;
		if (client_dispatch(c, &f))
			*pause = true;
	}
	return off;
}

/* Parse buf[0..len) (in rbuf, or the stash when big) and keep what is left. */
static void
client_consume(struct client *c, char *buf, size_t len, bool big)
{
	size_t	off, need = 0;
	bool	pause = false;

	off = client_parse(c, buf, len, &need, &pause);
	if (c->flags & (CF_DEAD | CF_CLOSING))
		return;
	if (off < len)
		stash_save(&c->stash, buf + off, len - off, need, wk.rbuf_size,
		    "client");
	else
		stash_clear(&c->stash, big);
	if (pause)
		client_pause(c);
}

static void
client_resume_input(struct client *c)
{
	char	*buf;
	size_t	 room;
	bool	 big;

	if (c->stash.len == 0 || (c->flags & (CF_DEAD | CF_CLOSING |
	    CF_AUTH_WAIT)))
		return;
	big = stash_prepare(&c->stash, wk.rbuf, wk.rbuf_size, &buf, &room);
	client_consume(c, buf, c->stash.len, big);
}

static void
client_read_again_add(struct client *c)
{
	if (c->flags & (CF_READ_AGAIN | CF_DEAD))
		return;
	c->flags |= CF_READ_AGAIN;
	TAILQ_INSERT_TAIL(&again_clients, c, again_entry);
}

/*
 * Drive the TLS handshake; true once it is done.  What the client sent
 * in the clear before (our INFO) has been written already: the client
 * starts TLS only after reading it.
 */
static bool
client_handshake(struct client *c)
{
	char	err[256];
	int	r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->flags &= ~CF_TLS_HANDSHAKE;
		client_deadline(c, settings_auth_required(wk.s) ?
		    wk.now + wk.s->auth.timeout_ms : 0);
		client_log(c, "D", "TLS handshake complete");
		client_log(c, "D", "TLS version %s, cipher suite %s",
		    tls_version_text(c->ssl), tls_cipher_text(c->ssl));
		client_events(c);
		return true;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return false;
	case SSL_ERROR_WANT_WRITE:
		client_arm_write(c, true);
		return false;
	case SSL_ERROR_ZERO_RETURN:
		client_log(c, "D", "TLS handshake error: EOF");
		client_close(c, CLOSE_TLS_HANDSHAKE);
		return false;
	case SSL_ERROR_SYSCALL:
		/* A peer hanging up mid-handshake, as nats-server logs it. */
		if (ERR_peek_error() == 0) {
			/* A client gone mid-handshake is not the server's error. */
			client_log(c, errno == 0 || errno == ECONNRESET ? "D" :
			    "E", "TLS handshake error: %s", errno == 0 ? "EOF" :
			    strerror(errno));
			client_close(c, CLOSE_TLS_HANDSHAKE);
			return false;
		}
		/* FALLTHROUGH */
	default:
		tls_error_text(err, sizeof(err));
		client_log(c, "E", "TLS handshake error: %s", err);
		client_close(c, CLOSE_TLS_HANDSHAKE);
		return false;
	}
}

/* read(2), or SSL_read once TLS is up; -1 with errno EAGAIN to wait. */
static ssize_t
client_recv(struct client *c, char *buf, size_t len)
{
	char	err[256];
	ssize_t	n;
	bool	want_write;

	if (c->ssl == NULL)
		return read(c->fd, buf, len);
	n = tls_read(c->ssl, buf, len, &want_write, err, sizeof(err));
	if (n == -1 && want_write) {
		client_arm_write(c, true);
		errno = EAGAIN;
	} else if (n == -1 && errno == EPROTO)
		client_log(c, "D", "TLS read error: %s", err);
	return n;
}

static void
client_read(struct client *c)
{
	char	*buf;
	size_t	 room;
	ssize_t	 n;
	bool	 big;

	if (c->flags & (CF_DEAD | CF_CLOSING | CF_AUTH_WAIT))
		return;
	if ((c->flags & CF_TLS_HANDSHAKE) && !client_handshake(c))
		return;
	big = stash_prepare(&c->stash, wk.rbuf, wk.rbuf_size, &buf, &room);
	n = client_recv(c, buf + c->stash.len, room);
	if (n == 0) {
		client_close(c, CLOSE_CLIENT);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_log(c, "D", "read error: %s", strerror(errno));
		client_close(c, CLOSE_READ_ERROR);
		return;
	}
	c->last_read = wk.now;
	client_consume(c, buf, c->stash.len + (size_t)n, big);
	/* TLS may hold decrypted bytes that no epoll event will announce. */
	if (c->ssl != NULL && SSL_has_pending(c->ssl))
		client_read_again_add(c);
}

bool
client_read_again(void)
{
	struct client_tailq	 list = TAILQ_HEAD_INITIALIZER(list);
	struct client		*c;

	if (TAILQ_EMPTY(&again_clients))
		return false;
	TAILQ_CONCAT(&list, &again_clients, again_entry);
	while ((c = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, c, again_entry);
		c->flags &= ~CF_READ_AGAIN;
		if (c->flags & (CF_PAUSED | CF_AUTH_WAIT))
			continue;	/* client_events() puts it back */
		client_read(c);
	}
	return !TAILQ_EMPTY(&again_clients);
}

void
client_events(struct client *c)
{
	uint32_t ev = 0;

	if (c->flags & CF_DEAD)
		return;
	if (!(c->flags & (CF_PAUSED | CF_AUTH_WAIT)))
		ev |= EPOLLIN;
	if (c->flags & CF_WANT_WRITE)
		ev |= EPOLLOUT;
	worker_epoll_mod(c->fd, c, ev);
	if ((ev & EPOLLIN) && c->ssl != NULL && SSL_has_pending(c->ssl))
		client_read_again_add(c);
}

void
client_pause(struct client *c)
{
	if (c->flags & (CF_PAUSED | CF_DEAD))
		return;
	c->flags |= CF_PAUSED;
	wk.npaused++;
	c->paused_until = wk.now + PAUSE_MAX_MS;
	client_events(c);
}

void
client_resume(struct client *c)
{
	if (!(c->flags & CF_PAUSED) || (c->flags & CF_DEAD))
		return;
	c->flags &= ~CF_PAUSED;
	wk.npaused--;
	client_events(c);
}

static void
client_resume_due(void)
{
	struct client	*c;
	bool		 clear;

	if (wk.npaused == 0 || wk.stopping)
		return;
	clear = peer_backlog_bytes() == 0 && wk.ncongested == 0 &&
	    !peer_congested_any();
	LIST_FOREACH(c, &clients, entry)
		if ((c->flags & CF_PAUSED) &&
		    (clear || wk.now >= c->paused_until))
			client_resume(c);
}

/*
 * write(2), or SSL_write once TLS is up; -1 with errno EAGAIN to wait.
 * arg is the client (outbuf_flush's callback).
 */
static ssize_t
client_send(void *arg, const char *buf, size_t len)
{
	struct client	*c = arg;
	char		 err[256];
	ssize_t		 n;

	/* INFO (and a refusal) go out in the clear, before the handshake. */
	if (c->ssl == NULL || (c->flags & CF_TLS_HANDSHAKE))
		return write(c->fd, buf, len);
	n = tls_write(c->ssl, buf, len, err, sizeof(err));
	if (n == -1 && errno == EPROTO)
		client_log(c, "D", "TLS write error: %s", err);
	return n;
}

/* One write attempt; false if the client is gone. */
static bool
client_write(struct client *c)
{
	if (outbuf_flush(&c->out, client_send, c, wk.now) == -1) {
		client_log(c, "D", "write error: %s", strerror(errno));
		outbuf_drop(&c->out);
		client_close(c, CLOSE_WRITE_ERROR);
		return false;
	}
	client_update_congestion(c);
	return true;
}

static void
client_arm_write(struct client *c, bool on)
{
	if (on == !!(c->flags & CF_WANT_WRITE))
		return;
	if (on)
		c->flags |= CF_WANT_WRITE;
	else
		c->flags &= ~CF_WANT_WRITE;
	client_events(c);
}

void
client_event(struct client *c, uint32_t events)
{
	/*
	 * A client not read while its bcrypt check runs that hangs up would
	 * report EPOLLHUP on every turn until the answer came.
	 */
	if ((events & (EPOLLERR | EPOLLHUP)) && (c->flags & CF_AUTH_WAIT)) {
		client_close(c, CLOSE_CLIENT);
		return;
	}
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		client_write_ready(c);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		client_read(c);
}

void
client_write_ready(struct client *c)
{
	if (c->flags & CF_DEAD)
		return;
	/* The handshake wanted to write; or a TLS read did (renegotiation). */
	if ((c->flags & CF_TLS_HANDSHAKE) && outbuf_pending(&c->out) == 0) {
		client_arm_write(c, false);
		if (client_handshake(c))
			client_read(c);
		return;
	}
	if (!client_write(c))
		return;
	if (outbuf_pending(&c->out) == 0)
		client_arm_write(c, false);
}

void
client_flush_all(void)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&dirty_clients)) != NULL) {
		TAILQ_REMOVE(&dirty_clients, c, dirty_entry);
		c->flags &= ~CF_DIRTY;
		if (c->flags & CF_DEAD)
			continue;
		if (c->flags & CF_WANT_WRITE)
			continue;	/* the socket is full; EPOLLOUT will come */
		if (!client_write(c))
			continue;
		if (outbuf_pending(&c->out) > 0)
			client_arm_write(c, true);
	}
	client_resume_due();
}

void
client_close(struct client *c, enum close_reason reason)
{
	if (c->flags & CF_DEAD)
		return;
	c->flags |= CF_DEAD;
	c->close_reason = reason;
	TAILQ_INSERT_TAIL(&closing_clients, c, close_entry);
}

static void
client_subs_drop(struct client *c)
{
	struct csub *cs, *next;

	RB_FOREACH_SAFE(cs, csub_tree, &c->subs, next)
		client_sub_remove(c, cs);
}

static void
client_free(struct client *c)
{
	client_subs_drop(c);
	client_auth_free(c);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	stash_free(&c->stash);
	outbuf_free(&c->out);
	free(c->name);
	free(c->lang);
	free(c->version);
	free(c);
}

void
client_reap(void)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&closing_clients)) != NULL) {
		TAILQ_REMOVE(&closing_clients, c, close_entry);
		/* Best effort: the -ERR that explains the close. */
		if (outbuf_pending(&c->out) > 0)
			(void)client_send(c, c->out.buf + c->out.off,
			    outbuf_pending(&c->out));
		if (c->ssl != NULL && !(c->flags & CF_TLS_HANDSHAKE))
			(void)SSL_shutdown(c->ssl);
		if (c->flags & CF_READ_AGAIN)
			TAILQ_REMOVE(&again_clients, c, again_entry);
		client_log(c, "D", "%s", close_reason_text(c->close_reason));
		if (c->flags & CF_DIRTY)
			TAILQ_REMOVE(&dirty_clients, c, dirty_entry);
		if (c->flags & CF_PAUSED)
			wk.npaused--;
		if (c->flags & CF_CONGESTED) {
			outbuf_drop(&c->out);
			client_update_congestion(c);
		}
		close(c->fd);
		/*
		 * Subscriptions go before the row and the count, so that
		 * /subsz never counts those of a connection /connz and /varz
		 * no longer show.
		 */
		client_subs_drop(c);
		if (c->slot != NULL)
			conntab_free(c->slot);
		LIST_REMOVE(c, entry);
		wk.nclients--;
		atomic_store(&wk.self->nclients, wk.nclients);
		atomic_fetch_sub(&wk.self->stats.connections, 1);
		client_free(c);
	}
}

/*
 * The TLS handshake and CONNECT deadlines.  wk.deadline_min is the
 * earliest one, or earlier (a client that met its deadline leaves it
 * behind): the loop sleeps no longer than that and then checks, so a
 * silent client is cut on time, not on the next tick.
 */
static void
client_deadline(struct client *c, int64_t when)
{
	c->deadline = when;
	if (when != 0 && (wk.deadline_min == 0 || when < wk.deadline_min))
		wk.deadline_min = when;
}

/* Close the client if its deadline passed; true if it did. */
static bool
client_deadline_passed(struct client *c)
{
	if (c->deadline == 0 || wk.now < c->deadline ||
	    (c->flags & (CF_AUTH_WAIT | CF_DEAD)))
		return false;
	if (c->flags & CF_TLS_HANDSHAKE) {
		client_log(c, "E", "TLS handshake timeout");
		outbuf_drop(&c->out);
		client_close(c, CLOSE_TLS_HANDSHAKE);
	} else {
		client_err(c, proto_err_text[ERR_AUTH_TIMEOUT]);
		client_log(c, "E", "%s", proto_err_text[ERR_AUTH_TIMEOUT]);
		client_close(c, CLOSE_AUTH_TIMEOUT);
	}
	c->deadline = 0;
	return true;
}

void
client_deadlines(void)
{
	struct client	*c;
	int64_t		 min = 0;

	if (wk.deadline_min == 0 || wk.now < wk.deadline_min)
		return;
	LIST_FOREACH(c, &clients, entry) {
		if (client_deadline_passed(c) || c->deadline == 0 ||
		    (c->flags & CF_DEAD))
			continue;
		if (min == 0 || c->deadline < min)
			min = c->deadline;
	}
	wk.deadline_min = min;
}

void
client_tick(void)
{
	struct client *c;

	LIST_FOREACH(c, &clients, entry) {
		if (c->flags & CF_DEAD)
			continue;
		client_publish(c);
		if (client_deadline_passed(c))
			continue;
		if (outbuf_stalled(&c->out, wk.now, wk.s->write_deadline_ms)) {
			client_log(c, "I", "Slow Consumer Detected: WriteDeadline "
			    "of %lldms Exceeded", (long long)wk.s->write_deadline_ms);
			atomic_fetch_add(&wk.self->stats.slow_consumers, 1);
			outbuf_drop(&c->out);
			client_close(c, CLOSE_SLOW_CONSUMER_DEADLINE);
			continue;
		}
		if (wk.now >= c->ping_due) {
			c->ping_due = wk.now + wk.s->ping_interval_ms;
			if (c->pings_out + 1 > wk.s->ping_max) {
				client_err(c, proto_err_text[ERR_STALE]);
				client_log(c, "D", "Stale Client Connection - "
				    "Closing");
				client_close(c, CLOSE_STALE);
				continue;
			}
			c->pings_out++;
			client_send_str(c, "PING\r\n");
		}
		outbuf_trim_idle(&c->out, wk.now);
	}
}

void
client_shutdown_all(void)
{
	struct client *c;

	LIST_FOREACH(c, &clients, entry)
		client_close(c, CLOSE_SERVER_SHUTDOWN);
	client_reap();
}
