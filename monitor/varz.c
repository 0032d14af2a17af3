/*
 * /varz: the server's options and figures, with nats-server 2.9's field
 * names and the older gnatsd names the 0.6 and 0.8 documentation shows
 * (max_pending_size, ssl_required, ssl_timeout, ...), so both old and new
 * tools find what they read.  Counters are exact sums over the workers'
 * atomics.  Also the small server-level endpoints: /routez, /healthz.
 *
 * Fields that describe Go's runtime have no natsd meaning: gomaxprocs and
 * system_account are left out; "go" (the seeds show it) names the C
 * compiler that built natsd instead.  natsd adds "workers".
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mesh.h"
#include "monitor.h"
#include "natsd.h"
#include "settings.h"

#ifdef __VERSION__
#define TOOLCHAIN	"cc " __VERSION__
#else
#define TOOLCHAIN	"cc"
#endif

void
varz_totals(struct mon *mon, struct mon_totals *t)
{
	struct mesh_stats	*st;
	int			 i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < mesh_nworkers(mon->m); i++) {
		st = &mesh_peer(mon->m, i)->stats;
		t->in_msgs += atomic_load(&st->in_msgs);
		t->in_bytes += atomic_load(&st->in_bytes);
		t->out_msgs += atomic_load(&st->out_msgs);
		t->out_bytes += atomic_load(&st->out_bytes);
		t->connections += atomic_load(&st->connections);
		t->total_connections += atomic_load(&st->total_connections);
		t->slow_consumers += atomic_load(&st->slow_consumers);
		t->subscriptions += atomic_load(&st->subscriptions);
		t->ring_drops += atomic_load(&st->ring_drops);
	}
}

static const char *
str_or(const char *s, const char *def)
{
	return s != NULL && *s != '\0' ? s : def;
}

#define SET(o, k, v)	json_object_set_new((o), (k), (v))
#define INT(v)		json_integer((json_int_t)(v))

/* "nats-route://user:pass@host:port/" as /varz lists it: "host:port". */
static json_t *
route_url_hostport(const char *url)
{
	const char	*p = strstr(url, "://"), *at, *end;

	p = p != NULL ? p + 3 : url;
	if ((at = strrchr(p, '@')) != NULL)
		p = at + 1;
	end = strchr(p, '/');
	return json_stringn(p, end != NULL ? (size_t)(end - p) : strlen(p));
}

/* nats-server's ClusterOptsVarz; {} outside a cluster. */
static json_t *
cluster_varz(struct mon *mon, size_t *nroutes)
{
	const struct cluster_settings	*c = &mon->s->cluster;
	json_t				*o, *cl, *urls;
	size_t				 i;

	*nroutes = 0;
	if ((o = json_object()) == NULL || !settings_cluster_enabled(mon->s))
		return o;
	cl = mon_cluster(mon);
	*nroutes = json_array_size(json_object_get(cl, "routes"));
	if (json_is_string(json_object_get(cl, "cluster")))
		SET(o, "name", json_incref(json_object_get(cl, "cluster")));
	else if (c->name != NULL)
		SET(o, "name", json_string(c->name));
	json_decref(cl);
	SET(o, "addr", json_string(c->host != NULL ? c->host : ""));
	SET(o, "cluster_port", INT(c->port));
	SET(o, "auth_timeout", json_real((double)(c->auth_timeout_ms > 0 ?
	    c->auth_timeout_ms : DEFAULT_AUTH_TIMEOUT_MS) / 1e3));
	if ((urls = json_array()) != NULL) {
		for (i = 0; i < c->nroutes; i++)
			json_array_append_new(urls,
			    route_url_hostport(c->routes[i]));
		SET(o, "urls", urls);
	}
	SET(o, "tls_timeout", json_real((double)(c->tls.timeout_ms > 0 ?
	    c->tls.timeout_ms : DEFAULT_TLS_TIMEOUT_MS) / 1e3));
	if (c->tls.cert_file != NULL) {
		SET(o, "tls_required", json_true());
		SET(o, "tls_verify", json_true());
	}
	return o;
}

int
varz_handle(struct mon_request *rq, struct mon_reply *r)
{
	struct mon		*mon = rq->mon;
	struct settings		*s = mon->s;
	struct mon_totals	 t;
	json_t			*o, *hs;
	const char		*id = mesh_server_id(mon->m);
	char			 tb[MON_TIME_LEN], db[MON_DUR_LEN];
	int64_t			 start = mesh_start_wall_ns(mon->m);
	size_t			 nroutes;
	int			 i;

	varz_totals(mon, &t);
	if ((o = json_object()) == NULL || (hs = json_object()) == NULL) {
		json_decref(o);
		return http_error(r, 500, "out of memory");
	}
	SET(o, "server_id", json_string(id));
	SET(o, "server_name", json_string(str_or(s->server_name, id)));
	SET(o, "version", json_string(NATSD_VERSION));
	SET(o, "proto", INT(NATSD_PROTO));
	SET(o, "go", json_string(TOOLCHAIN));
	SET(o, "host", json_string(str_or(s->host, DEFAULT_HOST)));
	SET(o, "port", INT(s->port));
	SET(o, "auth_required", json_false());
	SET(o, "ssl_required", json_false());
	SET(o, "tls_required", json_false());
	SET(o, "tls_verify", json_false());
	SET(o, "max_connections", INT(s->max_connections));
	SET(o, "ping_interval", INT(s->ping_interval_ms * 1000000));
	SET(o, "ping_max", INT(s->ping_max));
	SET(o, "http_host", json_string(str_or(s->http_host,
	    str_or(s->https_host, str_or(s->host, DEFAULT_HOST)))));
	SET(o, "http_port", INT(s->http_port));
	SET(o, "http_base_path", json_string(""));
	SET(o, "https_port", INT(s->https_port));
	SET(o, "auth_timeout", json_real((double)mon->auth_timeout_ms / 1e3));
	SET(o, "max_control_line", INT(s->max_control_line));
	SET(o, "max_payload", INT(s->max_payload));
	SET(o, "max_pending", INT(s->max_pending));
	SET(o, "max_pending_size", INT(s->max_pending));
	SET(o, "cluster", cluster_varz(mon, &nroutes));
	/* Features natsd does not have: empty, as nats-server shows them off. */
	SET(o, "gateway", json_object());
	SET(o, "leaf", json_object());
	SET(o, "mqtt", json_object());
	SET(o, "websocket", json_object());
	SET(o, "jetstream", json_object());
	SET(o, "cluster_port", INT(s->cluster.port));
	SET(o, "tls_timeout", json_real((double)mon->tls_timeout_ms / 1e3));
	SET(o, "ssl_timeout", json_real((double)mon->tls_timeout_ms / 1e3));
	SET(o, "write_deadline", INT(s->write_deadline_ms * 1000000));
	SET(o, "start", json_string(fmt_time(start, tb, sizeof(tb))));
	SET(o, "now", json_string(fmt_time(rq->now_ns, tb, sizeof(tb))));
	SET(o, "uptime", json_string(fmt_uptime(rq->now_ns - start, db,
	    sizeof(db))));
	SET(o, "mem", INT(procstat_rss(mon)));
	SET(o, "cores", INT(sysconf(_SC_NPROCESSORS_ONLN)));
	SET(o, "cpu", json_real(mon->ps.cpu));
	SET(o, "connections", INT(t.connections));
	SET(o, "total_connections", INT(t.total_connections));
	SET(o, "routes", INT((long long)nroutes));
	SET(o, "remotes", INT(0));
	SET(o, "leafnodes", INT(0));
	SET(o, "in_msgs", INT(t.in_msgs));
	SET(o, "out_msgs", INT(t.out_msgs));
	SET(o, "in_bytes", INT(t.in_bytes));
	SET(o, "out_bytes", INT(t.out_bytes));
	SET(o, "slow_consumers", INT(t.slow_consumers));
	SET(o, "subscriptions", INT(t.subscriptions));
	/* Paths asked for so far, this one included, as nats-server counts. */
	for (i = 0; i < EP__COUNT; i++)
		if (mon->req_stats[i] > 0)
			SET(hs, http_ep_path(i), INT(mon->req_stats[i]));
	SET(o, "http_req_stats", hs);
	SET(o, "config_load_time", json_string(fmt_time(mon->config_load_ns,
	    tb, sizeof(tb))));
	SET(o, "workers", INT(mesh_nworkers(mon->m)));
	r->json = o;
	return 0;
}

/*
 * What the router published of the cluster (every 250 ms): its name and
 * the routes as nats-server's /routez objects.  Without a router, or
 * before it wrote, an empty object.
 */
json_t *
mon_cluster(struct mon *mon)
{
	json_t	*o = NULL;
	char	*buf;
	size_t	 len;

	if (atomic_load(&mesh_peer(mon->m, mesh_router_slot(mon->m))->alive) &&
	    (buf = malloc(MESH_ROUTEZ_MAX)) != NULL) {
		len = mesh_routez_get(mon->m, buf, MESH_ROUTEZ_MAX);
		o = len > 0 ? json_loadb(buf, len, 0, NULL) : NULL;
		free(buf);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	if (!json_is_array(json_object_get(o, "routes")))
		json_object_set_new(o, "routes", json_array());
	return o;
}

/* subs=1 keeps each route's subscriptions_list. */
int
routez_handle(struct mon_request *rq, struct mon_reply *r)
{
	json_t	*o, *cl, *routes, *rt;
	char	 tb[MON_TIME_LEN];
	size_t	 i;
	int	 subs;

	if (http_query_bool(rq, "subs", 0, &subs, r) == -1)
		return -1;
	if ((o = json_object()) == NULL)
		return http_error(r, 500, "out of memory");
	cl = mon_cluster(rq->mon);
	routes = json_incref(json_object_get(cl, "routes"));
	json_decref(cl);
	json_array_foreach(routes, i, rt)
		if (!subs)
			json_object_del(rt, "subscriptions_list");
	SET(o, "server_id", json_string(mesh_server_id(rq->mon->m)));
	SET(o, "now", json_string(fmt_time(rq->now_ns, tb, sizeof(tb))));
	SET(o, "num_routes", INT((long long)json_array_size(routes)));
	SET(o, "routes", routes);
	r->json = o;
	return 0;
}

/*
 * {"status":"ok"} while every worker serves clients; 503 with the first
 * worker that does not (starting, or being restarted after a crash), so
 * a load balancer's probe sees exactly when clients may be refused.
 */
int
healthz_handle(struct mon_request *rq, struct mon_reply *r)
{
	struct mesh_peer	*p;
	json_t			*o;
	char			 err[64];
	int			 i;

	if ((o = json_object()) == NULL)
		return http_error(r, 500, "out of memory");
	for (i = 0; i < mesh_nworkers(rq->mon->m); i++) {
		p = mesh_peer(rq->mon->m, i);
		if (!atomic_load(&p->alive) || !atomic_load(&p->serving))
			break;
	}
	if (i < mesh_nworkers(rq->mon->m)) {
		snprintf(err, sizeof(err), "worker %d is not serving", i);
		SET(o, "status", json_string("unavailable"));
		SET(o, "error", json_string(err));
		r->status = 503;
	} else
		SET(o, "status", json_string("ok"));
	r->json = o;
	return 0;
}
