/*
 * The worker process: its event loop.
 *
 * Each turn: wait (having announced sleep to the mesh and re-checked the
 * rings), then handle what peers announced (deaths, records) BEFORE the
 * clients' reads, so that interest a peer acknowledged to its client with
 * a PONG is in place before any later publish here is routed.  Then the
 * clients' events, the timers, and finally the flush: rings are published
 * (and sleeping peers woken) before clients are written, for the same
 * reason.
 *
 * Accept balancing: all workers wait on the one listen socket with
 * EPOLLEXCLUSIVE, which wakes one of them per connection but favours the
 * same one.  A worker that has more clients than the least loaded live
 * worker stops listening until that changes, like nginx's accept_disabled,
 * so connections spread evenly.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bcrypt.h"
#include "client.h"
#include "client_auth.h"
#include "deliver.h"
#include "log.h"
#include "mesh_loop.h"
#include "peer.h"
#include "stats.h"
#include "subsdump.h"
#include "tls.h"
#include "worker.h"

#define RBUF_SIZE	(256 * 1024)
#define MAX_EVENTS	256
#define TICK_MS		250
#define ACCEPT_BATCH	64
#define STOP_FLUSH_MS	900	/* SIGINT stops the server within a second */

struct worker wk;

static int64_t next_tick;

void
worker_epoll_mod(int fd, void *ptr, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(wk.epfd, EPOLL_CTL_MOD, fd, &ev) == -1) {
		if (errno != ENOENT)
			fatal("epoll_ctl mod %d", fd);
		if (epoll_ctl(wk.epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			fatal("epoll_ctl add %d", fd);
	}
}

/* The markers for the non-client fds in the epoll set. */
static char mark_listen, mark_wake, mark_bcrypt;

void
worker_watch_bcrypt(void)
{
	int fd = bcrypt_fd();

	if (fd != -1)
		worker_epoll_mod(fd, &mark_bcrypt, EPOLLIN);
}

/*
 * The clients' TLS context from the settings in force.  The master
 * checked the material before handing it over; if the files changed in
 * between, the worker keeps what it had.
 */
static void
tls_ctx_load(void)
{
	SSL_CTX	*ctx = NULL;
	char	 err[512];

	if (settings_tls_enabled(wk.s) &&
	    (ctx = tls_server_ctx(&wk.s->tls, err, sizeof(err))) == NULL) {
		log_warnx("%s; keeping the previous TLS configuration", err);
		return;
	}
	/* Connections hold their own reference to the old context. */
	SSL_CTX_free(wk.tls_ctx);
	wk.tls_ctx = ctx;
}

static void
accept_enable(bool on)
{
	struct epoll_event ev;

	if (on == wk.accepting)
		return;
	if (on) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &mark_listen;
		if (epoll_ctl(wk.epfd, EPOLL_CTL_ADD, wk.lfd, &ev) == -1)
			fatal("epoll_ctl add listen socket");
	} else {
		int i;

		if (epoll_ctl(wk.epfd, EPOLL_CTL_DEL, wk.lfd, NULL) == -1)
			fatal("epoll_ctl del listen socket");
		/*
		 * EPOLLEXCLUSIVE woke only us for the connections still
		 * queued; nothing wakes the others until a new one arrives.
		 * Hand them over: every other live worker tries accept once.
		 */
		for (i = 0; i < mesh_nworkers(wk.mesh); i++) {
			struct mesh_peer *p = mesh_peer(wk.mesh, i);

			if (i == wk.slot || !atomic_load(&p->alive))
				continue;
			atomic_store(&p->accept_kick, 1);
			mesh_kick(wk.mesh, i);
		}
	}
	wk.accepting = on;
}

static void	info_prefix_build(void);

/* For /subsz: the monitor sums these over the workers. */
static void
publish_sublist_stats(void)
{
	struct sublist_stats	 st;
	struct statblock_info	 bi;

	sublist_stats(wk.sl, &st);
	memset(&bi, 0, sizeof(bi));
	/* Clients' subscriptions only: the sublist also holds peers' interest. */
	bi.num_subscriptions = atomic_load(&wk.self->stats.subscriptions);
	bi.num_cache = st.cache_entries;
	bi.num_inserts = st.inserts;
	bi.num_removes = st.removes;
	bi.num_matches = st.matches;
	bi.cache_hits = st.cache_hits;
	bi.max_fanout = st.max_fanout;
	bi.total_fanout = st.total_fanout;
	bi.cache_fills = st.cache_fills;
	bi.updated = stats_wall_ns();
	statblock_write(mesh_statblock(wk.mesh, wk.slot), &bi);
}

/* The master counts readiness and reload acknowledgements on SIGUSR2. */
static void
tell_master(void)
{
	if (kill(getppid(), SIGUSR2) == -1)
		log_warn("signal the master");
}

/*
 * SIGHUP: the master published new settings.  Apply what can change live
 * (logging, limits; the INFO clients get), keep every connection, and
 * acknowledge the round.
 */
static void
worker_reload(void)
{
	struct settings	 old;
	uint32_t	 gen;

	if ((gen = mesh_reload_take(wk.mesh, wk.slot, wk.s, &old)) == 0)
		return;
	tls_ctx_load();
	/* Clients point into the settings: re-check them before freeing old. */
	client_auth_reload(&old);
	settings_free(&old);
	wk.limits.max_control_line = (size_t)wk.s->max_control_line;
	wk.limits.max_payload = (size_t)wk.s->max_payload;
	info_prefix_build();
	mesh_reload_ack(wk.mesh, wk.slot, gen);
}

static void
accept_balance(void)
{
	uint32_t	 min = UINT32_MAX, n;
	int		 i;

	/*
	 * A (re)started worker accepts no client before it holds every live
	 * peer's interest, or its clients' first publishes could miss
	 * subscribers elsewhere.  A peer that never answers does not keep
	 * it out of service for long.
	 */
	if (!wk.ready) {
		if (!peer_synced_all() && wk.now < wk.ready_deadline) {
			accept_enable(false);
			return;
		}
		if (!peer_synced_all())
			log_warnx("peers did not all answer in time; serving "
			    "clients anyway");
		wk.ready = true;
		atomic_store(&wk.self->serving, 1);
		tell_master();
	}

	for (i = 0; i < mesh_nworkers(wk.mesh); i++) {
		if (i == wk.slot ||
		    !atomic_load(&mesh_peer(wk.mesh, i)->alive))
			continue;
		n = atomic_load(&mesh_peer(wk.mesh, i)->nclients);
		if (n < min)
			min = n;
	}
	accept_enable(min == UINT32_MAX || wk.nclients <= min);
}

static void
accept_clients(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(wk.lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				break;
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept");
				break;
			}
			log_warn("accept");
			break;
		}
		client_new(fd, (struct sockaddr *)&ss, len);
		accept_balance();
		if (!wk.accepting)
			break;
	}
}

static void
wake_drain(void)
{
	uint64_t v;

	while (read(wk.self->efd, &v, sizeof(v)) > 0)
		;
}

/*
 * The cluster as the router published it: the cluster members' client
 * URLs, so clients can fail over (none unless the server has routes, or
 * with no_advertise), and the cluster's name, as nats-server's INFO.
 */
static void
cluster_urls_add(json_t *o)
{
	char		 buf[MESH_URLS_MAX];
	json_t		*c, *a;
	size_t		 len;

	len = mesh_cluster_urls_get(wk.mesh, &wk.urls_seq, buf, sizeof(buf));
	if (len == 0 || (c = json_loadb(buf, len, 0, NULL)) == NULL)
		return;
	a = json_object_get(c, "connect_urls");
	if (json_array_size(a) > 0 && !wk.s->cluster.no_advertise)
		json_object_set(o, "connect_urls", a);
	if (json_is_string(json_object_get(c, "cluster")))
		json_object_set(o, "cluster", json_object_get(c, "cluster"));
	json_decref(c);
}

/* The cluster changed: a new INFO for new clients and the ones that listen. */
static void
cluster_urls_check(void)
{
	if (mesh_cluster_urls_seq(wk.mesh) == wk.urls_seq)
		return;
	info_prefix_build();
	client_info_all();
}

static void
info_prefix_build(void)
{
	json_t	*o;
	char	*s;
	size_t	 n;

	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:b}",
	    "server_id", mesh_server_id(wk.mesh),
	    "server_name", wk.s->server_name,
	    "version", NATSD_VERSION,
	    "proto", NATSD_PROTO,
	    "host", wk.s->host,
	    "port", wk.s->port,
	    "headers", 1);
	if (o == NULL)
		fatalx("INFO json");
	/* As nats-server, these appear only when true. */
	if ((settings_auth_required(wk.s) &&
	    json_object_set_new(o, "auth_required", json_true()) == -1) ||
	    (settings_tls_enabled(wk.s) &&
	    json_object_set_new(o, "tls_required", json_true()) == -1) ||
	    (settings_tls_enabled(wk.s) &&
	    (wk.s->tls.verify || wk.s->tls.verify_and_map) &&
	    json_object_set_new(o, "tls_verify", json_true()) == -1) ||
	    json_object_set_new(o, "max_payload",
	    json_integer(wk.s->max_payload)) == -1)
		fatalx("INFO json");
	cluster_urls_add(o);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		fatalx("INFO json dump");
	/* Keep the object open: each client's fields follow. */
	n = strlen(s) - 1;
	if (n + 5 >= sizeof(wk.info_prefix))
		fatalx("INFO too long");
	memcpy(wk.info_prefix, "INFO ", 5);
	memcpy(wk.info_prefix + 5, s, n);
	wk.info_prefix_len = n + 5;
	free(s);
}

static void
worker_setup(struct settings *s, struct mesh *m, int slot, int lfd)
{
	struct epoll_event	 ev;
	char			 tag[32];

	memset(&wk, 0, sizeof(wk));
	random_reseed();
	wk.slot = slot;
	wk.s = s;
	wk.mesh = m;
	wk.self = mesh_peer(m, slot);
	wk.epoch = atomic_load(&wk.self->epoch);
	wk.npeers = mesh_npeers(m);
	wk.lfd = lfd;
	wk.now = now_ms();
	wk.limits.max_control_line = (size_t)s->max_control_line;
	wk.limits.max_payload = (size_t)s->max_payload;
	wk.rbuf_size = RBUF_SIZE;
	if ((wk.rbuf = malloc(wk.rbuf_size)) == NULL)
		fatal("read buffer");
	if ((wk.sl = sublist_new()) == NULL)
		fatal("sublist");

	snprintf(tag, sizeof(tag), "worker %d", slot);
	log_settag(tag);
	{
		char title[48];

		snprintf(title, sizeof(title), "natsd: %s", tag);
		proc_title(title);
	}
	mesh_loop_signals();

	if ((wk.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &mark_wake;
	if (epoll_ctl(wk.epfd, EPOLL_CTL_ADD, wk.self->efd, &ev) == -1)
		fatal("epoll_ctl add eventfd");
	info_prefix_build();
	tls_ctx_load();

	/* A predecessor's rows describe connections that died with it. */
	conntab_reset(mesh_conntab(m, slot));
	publish_sublist_stats();

	/* Rings first, then alive, then hello: see peer_hello_all(). */
	atomic_store(&wk.self->nclients, 0);
	atomic_store(&wk.self->congested, 0);
	peer_init();
	wk.ready_deadline = wk.now + 1000;
	atomic_store(&wk.self->alive, 1);
	peer_hello_all();
	peer_flush();
	accept_balance();
}

static int
next_timeout(bool busy)
{
	int64_t t;

	if (busy)
		return 0;
	t = next_tick - wk.now;
	/* Retry backlogs and paused publishers soon; re-balance accepts now and then. */
	if (peer_backlog_bytes() > 0 || wk.npaused > 0 || !wk.ready)
		t = t > 10 ? 10 : t;
	if (wk.deadline_min != 0 && wk.deadline_min - wk.now < t)
		t = wk.deadline_min - wk.now;
	else if (!wk.accepting)
		t = t > 100 ? 100 : t;
	return t < 0 ? 0 : (int)t;
}

/*
 * Graceful stop.  Every message a client was told about with a PONG must
 * still reach its subscribers: so first each worker stops reading and
 * pushes its backlogs into the rings, then says it is quiesced; each keeps
 * draining its rings and writing to its clients until every live peer is
 * quiesced and nothing is left, or the deadline passes.
 */
static bool
all_quiesced(void)
{
	int i;

	for (i = 0; i < mesh_nworkers(wk.mesh); i++)
		if (atomic_load(&mesh_peer(wk.mesh, i)->alive) &&
		    !atomic_load(&mesh_peer(wk.mesh, i)->quiesced))
			return false;
	return true;
}

static void
worker_stop(void)
{
	struct epoll_event	 events[MAX_EVENTS];
	struct client		*c;
	int64_t			 deadline;
	int			 n, i;
	bool			 pending;

	accept_enable(false);
	wk.stopping = true;
	LIST_FOREACH(c, &clients, entry)
		client_pause(c);
	deadline = now_ms() + STOP_FLUSH_MS;
	for (;;) {
		wk.now = now_ms();
		peer_check_gen();
		while (peer_drain())
			;
		peer_flush();
		if (peer_backlog_bytes() == 0)
			atomic_store(&wk.self->quiesced, 1);
		client_flush_all();
		client_reap();
		pending = false;
		LIST_FOREACH(c, &clients, entry)
			if (outbuf_pending(&c->out) > 0)
				pending = true;
		if ((!pending && all_quiesced() && !peer_pending()) ||
		    wk.now >= deadline)
			break;
		/* Wait for ring records, writable sockets or a peer's wake-up. */
		n = mesh_loop_wait(events, MAX_EVENTS, 5);
		for (i = 0; i < n; i++) {
			if (events[i].data.ptr == &mark_wake)
				wake_drain();
			else if (events[i].data.ptr != &mark_listen &&
			    (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
				client_write_ready(events[i].data.ptr);
		}
	}
	atomic_store(&wk.self->alive, 0);
	client_shutdown_all();
	bcrypt_shutdown();
	peer_shutdown();
	log_debug("stopped");
}

int
worker_main(struct settings *s, struct mesh *m, int slot, int lfd)
{
	struct epoll_event	 events[MAX_EVENTS];
	int			 n, i;
	bool			 busy = false;

	worker_setup(s, m, slot, lfd);
	next_tick = wk.now + TICK_MS;
	for (;;) {
		n = mesh_loop_wait(events, MAX_EVENTS, next_timeout(busy));
		if (mesh_loop_poll(worker_reload))
			break;

		peer_check_gen();
		if (atomic_load_explicit(&wk.self->accept_kick,
		    memory_order_relaxed) &&
		    atomic_exchange(&wk.self->accept_kick, 0)) {
			accept_balance();
			if (wk.accepting)
				accept_clients();
		}
		busy = peer_drain();
		for (i = 0; i < n; i++) {
			void *ptr = events[i].data.ptr;

			if (ptr == &mark_wake) {
				wake_drain();
				continue;
			}
			if (ptr == &mark_listen) {
				accept_clients();
				continue;
			}
			if (ptr == &mark_bcrypt) {
				bcrypt_ready();
				worker_watch_bcrypt();
				continue;
			}
			client_event(ptr, events[i].events);
		}
		if (client_read_again())
			busy = true;
		client_deadlines();
		cluster_urls_check();
		subsdump_serve();
		if (wk.now >= next_tick) {
			next_tick = wk.now + TICK_MS;
			log_flush();
			publish_sublist_stats();
			client_tick();
			peer_tick();
			accept_balance();
		} else if (!wk.accepting)
			accept_balance();
		peer_flush();
		client_flush_all();
		client_reap();
	}
	worker_stop();
	return 0;
}
