/*
 * Route connections: one TCP (or TLS) connection to another server of the
 * cluster, speaking the nats-server 2.x route protocol.  This module owns
 * the sockets, the handshake (INFO / CONNECT with the cluster's
 * authorization), PING/PONG, outbound buffering, and the cluster
 * topology: solicited routes and their reconnects, implicit routes learned
 * by gossip (INFO with "ip"), duplicate routes between the same pair,
 * connect_urls.  What a route says about interest and messages goes to
 * router/forward.c through the router_route_*() calls below.
 */
#ifndef NATSD_ROUTE_H
#define NATSD_ROUTE_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "parser.h"

struct route;
LIST_HEAD(route_list, route);

/* Every registered route (handshake done, remote id known). */
extern struct route_list	routes_up;

/* Start: the listen socket (-1: none) and the configured routes. */
void	route_init(int lfd);
/* Settings changed (reload): routes list, authorization, TLS. */
void	route_reload(void);
/* Event loop hooks (ptr in epoll is the route or route_listen_mark()). */
void	*route_listen_mark(void);
void	 route_accept(void);
void	 route_read(struct route *);
void	 route_write_ready(struct route *);
/* Before sleeping: write what every route is owed. */
void	 route_flush_all(void);
/* Every 250 ms: reconnects, pings, stale routes, handshake timeouts. */
void	 route_tick(void);
/* Free routes closed during this turn. */
void	 route_reap(void);
void	 route_shutdown_all(void);
/* Is this epoll ptr a route (not a marker)? */
bool	 route_is(void *ptr);

/* Sending (forward.c); false if the route is backed up (pause the source). */
void	 route_send_sub(struct route *, const char *subject, size_t slen,
	    const char *queue, size_t qlen, uint32_t weight);
void	 route_send_unsub(struct route *, const char *subject, size_t slen,
	    const char *queue, size_t qlen);
bool	 route_send_msg(struct route *, const char *subject, size_t slen,
	    const char *reply, size_t rlen, const struct proto_slice *queues,
	    unsigned nqueues, const char *payload, size_t hdr_len,
	    size_t total_len);
/*
 * Is any route holding more than its high mark?  The router then stops
 * taking the workers' messages from the rings, so the workers pause the
 * publishers behind them instead of the route's buffer growing.
 */
bool	 route_backed_up(void);
/* Pause / resume reading a route (its messages cannot be passed on). */
void	 route_pause(struct route *);
void	 route_resume(struct route *);

/* The client URLs of every remote (connect_urls), distinct; count. */
size_t	 route_connect_urls(char **out, size_t max);

/*
 * /routez: every up route as nats-server's route object (rid, remote_id,
 * remote_name, did_solicit, is_configured, ip, port, start,
 * last_activity, uptime, idle, pending_size, in_msgs, out_msgs,
 * in_bytes, out_bytes, subscriptions, subscriptions_list), as a JSON
 * array (a new reference; NULL on failure).  The router publishes it in
 * the mesh on every tick while a monitor runs.
 */
json_t	*route_routez(void);

/*
 * The cluster name in force: configured, or random and negotiated with
 * the remotes (it may change when a route registers).
 */
const char	*route_cluster_name(void);

/* For /routez and logs. */
const char	*route_remote_id(const struct route *);

/*
 * Implemented by router/forward.c, called by route_proto.c.
 * router_route_up: the handshake is done; send it our interest.
 * router_route_down: it is gone; forget its interest (before it is freed).
 * router_route_sub/unsub: RS+ / RS- for account $G (other accounts are
 * ignored by route_proto.c).  router_route_msg: RMSG / HMSG for $G; returns
 * true if reading this route should pause (the mesh is backed up).
 */
void	router_route_up(struct route *);
void	router_route_down(struct route *);
void	router_route_sub(struct route *, const char *subject, size_t slen,
	    const char *queue, size_t qlen, uint32_t weight);
void	router_route_unsub(struct route *, const char *subject, size_t slen,
	    const char *queue, size_t qlen);
bool	router_route_msg(struct route *, const struct proto_frame *);

#endif
