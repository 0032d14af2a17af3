/*
 * /metrics: the /varz and /subsz figures in Prometheus' text exposition
 * format (version 0.0.4), so no separate exporter is needed.
 *
 * Each figure comes twice: natsd_X for the whole server and
 * natsd_worker_X{worker="i"} per worker.  They are separate families on
 * purpose: sum(natsd_worker_X) equals natsd_X, and a query summing
 * everything named natsd_X never counts a message twice.  Counters end
 * in _total, as Prometheus' naming rules ask.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "mesh.h"
#include "monitor.h"
#include "natsd.h"
#include "settings.h"
#include "stats.h"

#define CTYPE_PROM	"text/plain; version=0.0.4; charset=utf-8"

/* The per-process counters of struct mesh_stats, in this order. */
#define NSTAT	9
static const struct family {
	const char	*name, *type, *help;
} stat_families[NSTAT] = {
	{ "in_msgs_total", "counter", "Messages received from clients" },
	{ "in_bytes_total", "counter", "Payload bytes received from clients" },
	{ "out_msgs_total", "counter", "Messages delivered to clients" },
	{ "out_bytes_total", "counter", "Payload bytes delivered to clients" },
	{ "connections", "gauge", "Client connections open" },
	{ "connections_total", "counter",
	    "Client connections accepted since start" },
	{ "slow_consumers_total", "counter",
	    "Clients found to be slow consumers" },
	{ "subscriptions", "gauge", "Client subscriptions" },
	{ "ring_drops_total", "counter",
	    "Records dropped for peers that stopped reading" },
};

static void
stat_values(struct mesh_stats *st, uint64_t v[NSTAT])
{
	v[0] = atomic_load(&st->in_msgs);
	v[1] = atomic_load(&st->in_bytes);
	v[2] = atomic_load(&st->out_msgs);
	v[3] = atomic_load(&st->out_bytes);
	v[4] = atomic_load(&st->connections);
	v[5] = atomic_load(&st->total_connections);
	v[6] = atomic_load(&st->slow_consumers);
	v[7] = atomic_load(&st->subscriptions);
	v[8] = atomic_load(&st->ring_drops);
}

/* Sublist figures per worker, in this order. */
#define NSUB	6
static const struct family sub_families[NSUB] = {
	{ "subsz_num_cache", "gauge", "Entries in the subject match cache" },
	{ "subsz_inserts_total", "counter", "Subscriptions inserted" },
	{ "subsz_removes_total", "counter", "Subscriptions removed" },
	{ "subsz_matches_total", "counter", "Subject matches looked up" },
	{ "subsz_cache_hits_total", "counter",
	    "Matches answered from the cache" },
	{ "subsz_max_fanout", "gauge", "Largest fan-out of a cached match" },
};

static void
header(struct evbuffer *b, const char *prefix, const struct family *f)
{
	evbuffer_add_printf(b, "# HELP %s%s %s.\n# TYPE %s%s %s\n",
	    prefix, f->name, f->help, prefix, f->name, f->type);
}

static void
gauge(struct evbuffer *b, const char *name, const char *help, double v)
{
	evbuffer_add_printf(b, "# HELP natsd_%s %s.\n# TYPE natsd_%s gauge\n"
	    "natsd_%s %.15g\n", name, help, name, name, v);
}

/* A label value with \, " and newline escaped, as the format requires. */
static void
label_value(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

int
metrics_handle(struct mon_request *rq, struct mon_reply *r)
{
	struct mon		*mon = rq->mon;
	struct mon_subs		 subs;
	struct statblock_info	 bi[MAX_WORKERS];
	uint64_t		 v[MAX_WORKERS][NSTAT], sum[NSTAT] = { 0 };
	uint64_t		 sv[MAX_WORKERS][NSUB];
	struct evbuffer		*b;
	json_t			*cl;
	const char		*id = mesh_server_id(mon->m);
	int			 nw = mesh_nworkers(mon->m), i, k;
	int			 have[MAX_WORKERS];

	if (nw > MAX_WORKERS)
		nw = MAX_WORKERS;
	if ((b = evbuffer_new()) == NULL)
		return http_error(r, 500, "out of memory");
	for (i = 0; i < nw; i++) {
		stat_values(&mesh_peer(mon->m, i)->stats, v[i]);
		for (k = 0; k < NSTAT; k++)
			sum[k] += v[i][k];
		have[i] = statblock_read(mesh_statblock(mon->m, i), &bi[i])
		    == 0 && bi[i].updated != 0;
		if (have[i]) {
			sv[i][0] = bi[i].num_cache;
			sv[i][1] = bi[i].num_inserts;
			sv[i][2] = bi[i].num_removes;
			sv[i][3] = bi[i].num_matches;
			sv[i][4] = bi[i].cache_hits;
			sv[i][5] = bi[i].max_fanout;
		}
	}
	subsz_combine(mon, &subs);

	evbuffer_add_printf(b, "# HELP natsd_info The server: id, name and "
	    "version.\n# TYPE natsd_info gauge\nnatsd_info{server_id=\"");
	label_value(b, id);
	evbuffer_add_printf(b, "\",server_name=\"");
	label_value(b, mon->s->server_name != NULL &&
	    *mon->s->server_name != '\0' ? mon->s->server_name : id);
	evbuffer_add_printf(b, "\",version=\"%s\"} 1\n", NATSD_VERSION);
	gauge(b, "start_time_seconds", "When the server started, seconds "
	    "since the epoch", (double)mesh_start_wall_ns(mon->m) / 1e9);
	gauge(b, "uptime_seconds", "Seconds since the server started",
	    (double)((rq->now_ns - mesh_start_wall_ns(mon->m)) / 1000000000));
	gauge(b, "workers", "Worker processes configured", nw);
	gauge(b, "cores", "CPUs online", (double)sysconf(_SC_NPROCESSORS_ONLN));
	gauge(b, "mem_bytes", "Resident memory of all natsd processes",
	    (double)procstat_rss(mon));
	gauge(b, "cpu_percent", "CPU use of all natsd processes over the "
	    "last second, percent of one CPU", mon->ps.cpu);
	cl = mon_cluster(mon);
	gauge(b, "routes", "Routes to other servers",
	    (double)json_array_size(json_object_get(cl, "routes")));
	json_decref(cl);

	evbuffer_add_printf(b, "# HELP natsd_worker_up Whether the worker "
	    "process is running.\n# TYPE natsd_worker_up gauge\n");
	for (i = 0; i < nw; i++)
		evbuffer_add_printf(b, "natsd_worker_up{worker=\"%d\"} %u\n",
		    i, atomic_load(&mesh_peer(mon->m, i)->alive) ? 1 : 0);

	for (k = 0; k < NSTAT; k++) {
		header(b, "natsd_", &stat_families[k]);
		evbuffer_add_printf(b, "natsd_%s %llu\n",
		    stat_families[k].name, (unsigned long long)sum[k]);
		header(b, "natsd_worker_", &stat_families[k]);
		for (i = 0; i < nw; i++)
			evbuffer_add_printf(b, "natsd_worker_%s{worker=\"%d\"} "
			    "%llu\n", stat_families[k].name, i,
			    (unsigned long long)v[i][k]);
	}

	gauge(b, "subsz_num_subscriptions", "Client subscriptions in the "
	    "subscription tables", (double)subs.num_subscriptions);
	gauge(b, "subsz_num_cache", "Entries in the subject match caches",
	    (double)subs.num_cache);
	gauge(b, "subsz_cache_hit_rate", "Share of matches answered from "
	    "the caches", subs.cache_hit_rate);
	gauge(b, "subsz_max_fanout", "Largest fan-out of a cached match",
	    (double)subs.max_fanout);
	gauge(b, "subsz_avg_fanout", "Average fan-out of cached matches",
	    subs.avg_fanout);
	/* The tables' counters, in total (k 1..4: inserts .. cache hits). */
	for (k = 1; k < NSUB - 1; k++) {
		const uint64_t tot[NSUB] = { 0, subs.num_inserts,
		    subs.num_removes, subs.num_matches, subs.cache_hits, 0 };

		header(b, "natsd_", &sub_families[k]);
		evbuffer_add_printf(b, "natsd_%s %llu\n", sub_families[k].name,
		    (unsigned long long)tot[k]);
	}
	for (k = 0; k < NSUB; k++) {
		header(b, "natsd_worker_", &sub_families[k]);
		for (i = 0; i < nw; i++)
			if (have[i])
				evbuffer_add_printf(b, "natsd_worker_%s"
				    "{worker=\"%d\"} %llu\n",
				    sub_families[k].name, i,
				    (unsigned long long)sv[i][k]);
	}

	evbuffer_add_printf(b, "# HELP natsd_http_requests_total Monitoring "
	    "requests served, by endpoint.\n"
	    "# TYPE natsd_http_requests_total counter\n");
	for (i = 0; i < EP__COUNT; i++)
		evbuffer_add_printf(b, "natsd_http_requests_total{path=\"%s\"} "
		    "%llu\n", http_ep_path(i),
		    (unsigned long long)mon->req_stats[i]);
	evbuffer_add_printf(b, "# HELP natsd_monitor_seqlock_retries_total "
	    "Shared-memory reads the monitor had to retry.\n"
	    "# TYPE natsd_monitor_seqlock_retries_total counter\n"
	    "natsd_monitor_seqlock_retries_total %llu\n",
	    (unsigned long long)stats_read_retries());
	r->body = b;
	r->ctype = CTYPE_PROM;
	return 0;
}
