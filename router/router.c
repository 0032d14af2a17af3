/*
 * The router process's event loop.
 *
 * It mirrors a worker's (worker/worker.c): records from the mesh are
 * handled before the routes are read, and rings are published before the
 * routes are written, so interest a worker announced is in place before
 * a route's message that depends on it is routed.  The router sets up the
 * process-wide `wk' as a worker does, so worker/peer.c serves it
 * unchanged; it has no clients and never accepts on the client socket.
 */
#include "config.h"

#include <sys/epoll.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "log.h"
#include "mesh_loop.h"
#include "peer.h"
#include "route.h"
#include "router.h"
#include "util.h"
#include "worker.h"

#define RBUF_SIZE	(256 * 1024)
#define MAX_EVENTS	128
#define TICK_MS		250

static char			*published_name;	/* in the workers' INFO */
static char			 mark_wake;

static void
tell_master(void)
{
	if (kill(getppid(), SIGUSR2) == -1)
		log_warn("signal the master");
}

void
router_cluster_urls_changed(void)
{
	char	*urls[256], *text;
	size_t	 n, i, len;
	json_t	*o, *a;

	n = route_connect_urls(urls, 256);
	if ((a = json_array()) == NULL)
		fatal("connect_urls");
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(urls[i]));
	o = json_pack("{s:s?, s:o}", "cluster", route_cluster_name(),
	    "connect_urls", a);
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL)
		fatal("connect_urls");
	json_decref(o);
	free(published_name);
	published_name = route_cluster_name() != NULL ?
	    strdup(route_cluster_name()) : NULL;
	len = strlen(text);
	mesh_cluster_urls_put(wk.mesh, text, len);
	free(text);
	/* Workers look on their tick; a kick gets the news out at once. */
	for (i = 0; i < (size_t)mesh_nworkers(wk.mesh); i++)
		mesh_kick(wk.mesh, (int)i);
}

/*
 * For the monitor, refreshed every tick while one runs: {"cluster":
 * name, "routes": [the /routez route objects]}.  The name may be
 * negotiated, so only the router knows it.
 */
static void
routez_publish(void)
{
	json_t	*o, *routes;
	char	*text;

	if (atomic_load(&mesh_peer(wk.mesh, mesh_monitor_slot(wk.mesh))->pid)
	    == 0 || (routes = route_routez()) == NULL)
		return;
	o = json_pack("{s:s?, s:o}", "cluster", route_cluster_name(),
	    "routes", routes);
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return;
	}
	json_decref(o);
	mesh_routez_put(wk.mesh, text, strlen(text));
	free(text);
}

static void
router_reload(void)
{
	struct settings	 old;
	uint32_t	 gen;

	if ((gen = mesh_reload_take(wk.mesh, wk.slot, wk.s, &old)) == 0)
		return;
	route_reload();
	settings_free(&old);
	mesh_reload_ack(wk.mesh, wk.slot, gen);
}

static void
router_setup(struct settings *s, struct mesh *m, int lfd)
{
	struct epoll_event	 ev;

	memset(&wk, 0, sizeof(wk));
	random_reseed();
	wk.slot = mesh_router_slot(m);
	wk.s = s;
	wk.mesh = m;
	wk.self = mesh_peer(m, wk.slot);
	wk.epoch = atomic_load(&wk.self->epoch);
	wk.npeers = mesh_npeers(m);
	wk.lfd = -1;
	wk.now = now_ms();
	wk.rbuf_size = RBUF_SIZE;
	if ((wk.rbuf = malloc(wk.rbuf_size)) == NULL)
		fatal("read buffer");
	if ((wk.sl = sublist_new()) == NULL)
		fatal("sublist");
	log_settag("router");
	proc_title("natsd: router");

	mesh_loop_signals();

	if ((wk.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &mark_wake;
	if (epoll_ctl(wk.epfd, EPOLL_CTL_ADD, wk.self->efd, &ev) == -1)
		fatal("epoll_ctl add eventfd");

	forward_init();
	peer_init();
	atomic_store(&wk.self->alive, 1);
	peer_hello_all();
	peer_flush();
	route_init(lfd);
	atomic_store(&wk.self->serving, 1);
	tell_master();
	log_debug("started, pid %d", (int)getpid());
}

static void
wake_drain(void)
{
	uint64_t v;

	while (read(wk.self->efd, &v, sizeof(v)) > 0)
		;
}

int
router_main(struct settings *s, struct mesh *m, int lfd)
{
	struct epoll_event	 events[MAX_EVENTS];
	int64_t			 next_tick;
	int			 n, i, timeout;
	bool			 busy = false;

	router_setup(s, m, lfd);
	next_tick = wk.now + TICK_MS;
	for (;;) {
		timeout = busy ? 0 : (int)(next_tick - wk.now);
		if (timeout < 0)
			timeout = 0;
		if (peer_backlog_bytes() > 0 && timeout > 10)
			timeout = 10;
		n = mesh_loop_wait(events, MAX_EVENTS, timeout);
		if (mesh_loop_poll(router_reload))
			break;
		peer_check_gen();
		busy = route_backed_up() ? false : peer_drain();
		for (i = 0; i < n; i++) {
			void *ptr = events[i].data.ptr;

			if (ptr == &mark_wake) {
				wake_drain();
				continue;
			}
			if (ptr == route_listen_mark()) {
				route_accept();
				continue;
			}
			if (!route_is(ptr))
				continue;
			if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				route_write_ready(ptr);
			if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				route_read(ptr);
		}
		if (wk.now >= next_tick) {
			next_tick = wk.now + TICK_MS;
			log_flush();
			route_tick();
			peer_tick();
			routez_publish();
			/* A negotiated cluster name reaches the clients' INFO. */
			if ((route_cluster_name() == NULL) !=
			    (published_name == NULL) ||
			    (published_name != NULL && strcmp(published_name,
			    route_cluster_name()) != 0))
				router_cluster_urls_changed();
		}
		forward_resume_due();
		peer_flush();
		route_flush_all();
		route_reap();
	}
	log_debug("stopping");
	atomic_store(&wk.self->alive, 0);
	route_shutdown_all();
	peer_flush();
	peer_shutdown();
	return 0;
}
