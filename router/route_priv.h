/*
 * Inside the route module: the connection (router/route.c, its life;
 * route_io.c, its bytes; route_proto.c, what it says) and the topology
 * (router/gossip.c) share struct route and these helpers.
 * Nothing outside router/route*.c and router/gossip.c includes this.
 */
#ifndef NATSD_ROUTE_PRIV_H
#define NATSD_ROUTE_PRIV_H

#include <sys/queue.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "outbuf.h"
#include "route.h"

/* nats-server's server/const.go */
#define ROUTE_CONNECT_MS	1000	/* DEFAULT_ROUTE_CONNECT: between attempts */
#define ROUTE_RECONNECT_MS	1000	/* DEFAULT_ROUTE_RECONNECT: explicit routes */
#define ROUTE_DIAL_MS		1000	/* DEFAULT_ROUTE_DIAL: connect timeout */
#define ROUTE_FIRST_PING_MS	1000	/* firstPingInterval */
#define ROUTE_JITTER_MS		100	/* random delay before a reconnect */
#define ROUTE_ACCOUNT		"$G"	/* the only account natsd routes */

enum route_flag {
	RF_SOLICITED	= 1 << 0,	/* we connected (did_solicit) */
	RF_CONNECTING	= 1 << 1,	/* connect(2) in progress */
	RF_TLS_HANDSHAKE = 1 << 2,
	RF_CONNECT	= 1 << 3,	/* acceptor: CONNECT accepted */
	RF_INFO		= 1 << 4,	/* the remote's first INFO processed */
	RF_UP		= 1 << 5,	/* registered: on routes_up */
	RF_DEAD		= 1 << 6,	/* closed, waiting for route_reap() */
	RF_DIRTY	= 1 << 7,	/* on the dirty list */
	RF_WANT_WRITE	= 1 << 8,	/* EPOLLOUT armed */
	RF_PAUSED	= 1 << 9,	/* not read: the mesh is backed up */
	RF_READ_AGAIN	= 1 << 10,	/* TLS holds decrypted input */
	RF_RETRY	= 1 << 11,	/* kept over a duplicate: retry on loss */
	RF_HEADERS	= 1 << 12,	/* the remote takes HMSG */
};

struct target;

TAILQ_HEAD(route_tailq, route);

struct route {
	LIST_ENTRY(route)	 entry;		/* all_routes */
	LIST_ENTRY(route)	 up_entry;	/* routes_up, while RF_UP */
	TAILQ_ENTRY(route)	 dirty_entry;
	TAILQ_ENTRY(route)	 close_entry;
	TAILQ_ENTRY(route)	 again_entry;
	int			 fd;
	uint32_t		 flags;
	uint64_t		 rid;
	char			 ip[INET6_ADDRSTRLEN];	/* the peer's address */
	int			 port;
	SSL			*ssl;
	struct target		*target;	/* solicited: where from */
	/* what the remote told us */
	char			*remote_id;
	char			*remote_name;
	int			 remote_port;	/* its route port (INFO port) */
	char			*gossip_url;	/* nats-route://ip:port/ for others */
	char			**urls;		/* its connect_urls */
	size_t			 nurls;
	struct stash		 stash;		/* a frame split across reads */
	struct outbuf		 out;
	/* timers (ms, wk.now's clock); 0: not armed */
	int64_t			 start;
	int64_t			 last_read;
	int64_t			 deadline;	/* dial, TLS, authorization */
	int64_t			 ping_due;
	int64_t			 paused_until;
	int			 pings_out;
	/* for /routez */
	uint64_t		 in_msgs;
	uint64_t		 in_bytes;
	uint64_t		 out_msgs;
	uint64_t		 out_bytes;
	const char		*why;		/* close reason, nats-server's text */
};

/* Every route, whatever its state. */
extern struct route_list	all_routes;
/* The cluster name in force and whether it is still negotiable. */
extern char			*route_cluster;
extern bool			 route_cluster_dynamic;
/* Stopping: closed routes are not retried. */
extern bool			 route_stopping;

/* route.c, for gossip.c and the other route files */
void	 route_log(const struct route *, char lvl, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A non-blocking socket connecting (done: connect(2) succeeded already). */
struct route *route_new_solicited(int fd, const struct sockaddr *, socklen_t,
	    struct target *, bool done);
/* TCP is up, either way: TLS or greetings. */
void	 route_start(struct route *);
void	 route_close(struct route *, const char *why);
/* The up route to server id, not dead; NULL if none. */
struct route *route_find_up(const char *id);
/* Any live route, registered or not, known to lead to server id. */
struct route *route_find_id(const char *id);
const char *route_own_id(void);
const char *route_own_name(void);	/* server_name, or the id */

/* route_io.c: buffering, writing, reading */
/* Queue n bytes; a route past its max_pending is cut instead. */
void	 route_queue(struct route *, const void *, size_t);
/* Room for n more bytes in the output (false: dead or just cut). */
bool	 route_room(struct route *, size_t n);
/* n bytes reserved in the output are written: flush them this turn. */
void	 route_commit(struct route *, size_t n);
/* Past this much pending, a route is backed up. */
size_t	 route_high_mark(void);
/* Cut r, owing nothing: it exceeded limit (logged as nats-server does). */
void	 route_slow_consumer(struct route *, const char *limit,
	    const char *why);
/* One write(2) or SSL_write (arg: the route), as outbuf_flush() wants. */
ssize_t	 route_send(void *arg, const char *buf, size_t len);
/* Tell epoll what the route waits for now. */
void	 route_events(struct route *);
/* Drive the TLS handshake; true once it is done (greetings sent). */
bool	 route_handshake(struct route *);
/* The parser's limits, from the settings in force. */
void	 route_set_limits(void);
/* r is being freed: off the dirty, read-again and paused books. */
void	 route_io_forget(struct route *);

/* route_proto.c: what is said */
void	 route_send_str(struct route *, const char *);
/* -ERR 'text', logged at trace. */
void	 route_err(struct route *, const char *text);
/* The connection is ours to speak on (TLS done if any): say hello. */
void	 route_greet(struct route *);
/* One frame; true if reading this route should pause. */
bool	 route_dispatch(struct route *, const struct proto_frame *,
	    const char *line, size_t llen);

#endif
