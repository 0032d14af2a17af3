/*
 * The monitor process: serves gnatsd's monitoring endpoints (/varz,
 * /connz, /routez, /subsz, /healthz) and /metrics over HTTP and HTTPS,
 * from what the other processes publish in the mesh.
 *
 * It only ever reads shared memory: counters are C11 atomics, the
 * connection tables and sublist figures are seqlocks whose readers give
 * up after a bounded number of tries.  Nothing it does can make a worker
 * wait, and a monitor that dies (or is killed) costs nothing but the
 * HTTP requests in flight; the master starts another.
 *
 * Files: monitor.c (the process: event loop, signals, reload, TLS),
 * http.c (routing, query values, JSON and JSONP replies), varz.c (/varz,
 * /routez, /healthz), connz.c, subsz.c, metrics.c, procstat.c (memory
 * and CPU of natsd's processes from /proc), fmt.c (Go-style times and
 * durations).
 */
#ifndef NATSD_MONITOR_H
#define NATSD_MONITOR_H

#include <sys/types.h>

#include <stdint.h>

#include <jansson.h>

#include "fmt.h"

struct settings;
struct mesh;

/*
 * Run the monitor on the listening sockets the master bound (-1: not
 * configured; both non-blocking) until SIGTERM or SIGINT.  Returns the
 * exit code.
 */
int	monitor_main(struct settings *, struct mesh *, int http_fd,
	    int https_fd);

/* What follows is shared by the monitor's own files only. */

struct evhttp_request;
struct evkeyvalq;
struct evbuffer;
struct event_base;

/* Request counts for /varz's http_req_stats, by endpoint. */
enum mon_ep {
	EP_ROOT,
	EP_VARZ,
	EP_CONNZ,
	EP_ROUTEZ,
	EP_SUBSZ,
	EP_HEALTHZ,
	EP_METRICS,
	EP__COUNT
};

#define PROCSTAT_MAX	80	/* master, workers, router, monitor */

/* CPU time of natsd's processes, sampled once a second (procstat.c). */
struct procstat {
	pid_t		 pid[PROCSTAT_MAX];
	uint64_t	 ticks[PROCSTAT_MAX];	/* utime + stime */
	int		 n;
	int64_t		 at_ns;			/* CLOCK_MONOTONIC */
	double		 cpu;			/* % over the last interval */
};

struct mon {
	struct settings	*s;
	struct mesh	*m;
	struct event_base *base;	/* for handlers that answer later */
	uint64_t	 req_stats[EP__COUNT];
	int64_t		 config_load_ns;	/* wall clock */
	int64_t		 auth_timeout_ms;	/* from the blocks, at start */
	int64_t		 tls_timeout_ms;
	struct procstat	 ps;
};

/*
 * What a handler produces.  On success exactly one of json (serialised by
 * http.c, as JSONP when asked) or body (sent as is, with ctype) is set;
 * on failure status is 4xx/5xx and err holds the plain-text message.
 */
struct mon_reply {
	int		 status;
	const char	*ctype;
	json_t		*json;
	struct evbuffer	*body;
	char		 err[256];
};

struct mon_request {
	struct mon		*mon;
	struct evkeyvalq	*query;	/* decoded ?a=b&c=d */
	int64_t			 now_ns;	/* wall clock, once per request */
	struct evhttp_request	*req;
	const char		*callback;	/* JSONP; NULL: plain JSON */
};

/*
 * Handlers: 0 with the reply filled in, -1 with status and err, or 1
 * when the handler kept rq->req to answer later with http_reply() (it
 * copies what it needs of rq: the query and callback are freed on
 * return).
 */
int	varz_handle(struct mon_request *, struct mon_reply *);
int	routez_handle(struct mon_request *, struct mon_reply *);
/* The router's {"cluster": name, "routes": [...]}; never NULL. */
json_t	*mon_cluster(struct mon *);
int	healthz_handle(struct mon_request *, struct mon_reply *);
int	connz_handle(struct mon_request *, struct mon_reply *);
/* Drop the /connz requests still waiting, before the HTTP servers go. */
void	connz_shutdown(void);
int	subsz_handle(struct mon_request *, struct mon_reply *);
int	metrics_handle(struct mon_request *, struct mon_reply *);

/* http.c */
void	 http_handle(struct evhttp_request *, void *mon);
/* Send r (JSON as JSONP with a callback) and release what it holds. */
void	 http_reply(struct evhttp_request *, struct mon_reply *r,
	    const char *callback);
const char *http_ep_path(enum mon_ep);
/* Query values: 0 and *out (def when absent), or -1 with a 400 in r. */
int	 http_query_int(struct mon_request *, const char *key, long long def,
	    long long *out, struct mon_reply *r);
int	 http_query_bool(struct mon_request *, const char *key, int def,
	    int *out, struct mon_reply *r);
const char *http_query_str(struct mon_request *, const char *key);
int	 http_error(struct mon_reply *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* procstat.c */
uint64_t procstat_rss(struct mon *);		/* bytes, summed */
void	 procstat_sample(struct mon *);		/* from the 1 s timer */
int	 procstat_pids(struct mon *, pid_t *, int max);

/* Sums over the workers, for /varz and /metrics. */
struct mon_totals {
	uint64_t	in_msgs, in_bytes, out_msgs, out_bytes;
	uint64_t	connections, total_connections, slow_consumers;
	uint64_t	subscriptions, ring_drops;
};
void	 varz_totals(struct mon *, struct mon_totals *);

/* Combined sublist figures over the workers (subsz.c). */
struct mon_subs {
	uint64_t	num_subscriptions, num_cache, num_inserts;
	uint64_t	num_removes, num_matches, cache_hits, max_fanout;
	uint64_t	total_fanout, cache_fills;
	uint64_t	oldest_ns;	/* oldest worker figures, 0: none */
	double		cache_hit_rate, avg_fanout;
};
void	 subsz_combine(struct mon *, struct mon_subs *);

/* shared/fmt.c: Go's time.RFC3339Nano (UTC) and nats-server's uptime form. */
#define MON_TIME_LEN	40
#define MON_DUR_LEN	48

#endif
