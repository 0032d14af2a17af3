/*
 * Cluster topology: whom the router connects to, and when.
 *
 * A target is a route URL this server solicits.  Explicit targets are the
 * configured routes: tried every second until they connect and, when
 * their route is lost, reconnected after a second (and a random tenth of
 * one, so two servers reconnecting to each other do not keep colliding),
 * forever.  Implicit targets come from gossip: when a route registers,
 * every server tells its other routes about it with an INFO carrying the
 * new server's route URL in "ip"; a server without a route to that one
 * connects to it, trying 1 + connect_retries times, and does not retry a
 * lost implicit route (the other side, or gossip, brings it back).  So a
 * node given one seed ends in a full mesh.  These are nats-server 2.9's
 * rules (route.go connectToRoute, client.go closeConnection).
 *
 * Duplicates: two servers may connect to each other at once.  The second
 * route to register is closed ("Duplicate Route"), and the one kept is
 * marked to be retried if it is lost, since the other side may have kept
 * the other connection and closed this one.  A target whose route was a
 * duplicate is parked on the remote's server id: not retried while a
 * route to that server lives, retried when it goes.  A target that leads
 * to ourselves is never tried again.
 *
 * What we tell the others: our route INFO (with our clients' URLs, which
 * they pass on to their clients) and the cluster name, random and
 * negotiable ("dynamic") unless configured.
 *
 * What we know of them: the client URLs of every registered remote, for
 * the workers' INFO (router_cluster_urls_changed()), and /routez.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "forward.h"
#include "gossip.h"
#include "log.h"
#include "fmt.h"
#include "route_priv.h"
#include "router.h"
#include "stats.h"
#include "util.h"
#include "worker.h"

/* nats-server's DEFAULT_CONNECT_ERROR_REPORTS: first connects only. */
#define CONNECT_ERROR_REPORTS	3600

struct target {
	LIST_ENTRY(target)	 entry;
	char			*url;		/* as configured or gossiped */
	char			*shown;		/* url, password as xxxxx */
	char			*user;		/* decoded; NULL: none */
	char			*pass;
	char			*host;		/* no brackets */
	int			 port;
	char			*id;		/* implicit: the server it leads to */
	char			*parked;	/* not retried while this id is up */
	struct route		*r;		/* connecting or connected */
	int64_t			 next_at;	/* 0: no attempt scheduled */
	int			 attempts;
	bool			 explicit;
	bool			 first;		/* never connected yet */
	bool			 removed;	/* dropped by a reload */
	bool			 self;		/* leads to ourselves */
	char			 addr[INET6_ADDRSTRLEN + 8];	/* last dialed */
};

char				*route_cluster;
bool				 route_cluster_dynamic;
static LIST_HEAD(, target)	 targets = LIST_HEAD_INITIALIZER(targets);
/* The first host name in the configured routes, for TLS on IP URLs. */
static char			*tls_name;
static char			*info_line;	/* "INFO {...} \r\n" */
static size_t			 info_len;
static bool			 no_advertise;	/* as last applied */

static void	target_connect(struct target *);
static void	dial_failed(struct target *, int);

/* URLs */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* URL userinfo is percent-encoded: decode it as Go's url.Parse does. */
static char *
pct_decode(const char *s, size_t len)
{
	char	*out, *p;
	size_t	 i;
	int	 h, l;

	if ((out = p = malloc(len + 1)) == NULL)
		fatal("url");
	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			*p++ = (char)(h * 16 + l);
			i += 2;
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return out;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

static void
target_free(struct target *t)
{
	LIST_REMOVE(t, entry);
	free(t->url);
	free(t->shown);
	free(t->user);
	free(t->pass);
	free(t->host);
	free(t->id);
	free(t->parked);
	free(t);
}

/*
 * scheme://[user[:password]@]host:port[/...], host possibly an IPv6
 * address in brackets.  NULL if it is not one.
 */
static struct target *
target_new(const char *url, bool explicit)
{
	struct target	*t;
	const char	*p, *end, *at, *colon, *hs, *he;
	char		*e;
	long		 port;

	if ((p = strstr(url, "://")) == NULL)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("route target");
	at = NULL;
	for (hs = p; hs < end; hs++)
		if (*hs == '@')
			at = hs;
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL) {
			t->user = pct_decode(p, (size_t)(colon - p));
			t->pass = pct_decode(colon + 1,
			    (size_t)(at - colon - 1));
		} else
			t->user = pct_decode(p, (size_t)(at - p));
		p = at + 1;
	}
	if (*p == '[') {
		if ((he = memchr(p, ']', (size_t)(end - p))) == NULL)
			goto bad;
		hs = p + 1;
		colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
	} else {
		hs = p;
		colon = memchr(p, ':', (size_t)(end - p));
		he = colon != NULL ? colon : end;
	}
	if (colon == NULL || he == hs)
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &e, 10);
	if (e != end || errno != 0 || port <= 0 || port > 65535)
		goto bad;
	t->host = xstrndup(hs, (size_t)(he - hs));
	t->port = (int)port;
	t->url = xstrdup(url);
	if (t->pass != NULL) {
		/* As nats-server prints a URL: the password hidden. */
		const char *uc = strstr(url, "://") + 3;
		const char *pc = memchr(uc, ':', (size_t)(at - uc));

		if (asprintf(&t->shown, "%.*s:xxxxx%s", (int)(pc - url), url,
		    at) == -1)
			fatal("asprintf");
	} else
		t->shown = xstrdup(url);
	t->explicit = explicit;
	t->first = true;
	LIST_INSERT_HEAD(&targets, t, entry);
	return t;
bad:
	free(t->user);
	free(t->pass);
	free(t);
	return NULL;
}

static bool
is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static void
tls_name_set(void)
{
	struct target *t;

	free(tls_name);
	tls_name = NULL;
	LIST_FOREACH(t, &targets, entry)
		if (t->explicit && !is_ip(t->host)) {
			tls_name = xstrdup(t->host);
			break;
		}
}

const char *
gossip_tls_name(const struct target *t, bool *ip)
{
	/* nats-server: a host name as is; for an IP, a configured name. */
	if (is_ip(t->host) && tls_name != NULL) {
		*ip = false;
		return tls_name;
	}
	*ip = is_ip(t->host);
	return t->host;
}

void
gossip_credentials(const struct target *t, const char **user,
    const char **pass)
{
	*user = t->user;
	*pass = t->pass;
}

/* What we tell other servers: our INFO, the cluster name */

static bool
host_is_any(const char *h)
{
	return h == NULL || *h == '\0' || strcmp(h, "0.0.0.0") == 0 ||
	    strcmp(h, "::") == 0 || strcmp(h, "[::]") == 0;
}

static void
url_add(json_t *a, const char *ip, bool v6, int port)
{
	char buf[INET6_ADDRSTRLEN + 16];

	snprintf(buf, sizeof(buf), v6 ? "[%s]:%d" : "%s:%d", ip, port);
	json_array_append_new(a, json_string(buf));
}

/*
 * The client URLs we advertise.  A client listener on one address is
 * advertised as it is; on 0.0.0.0 or ::, as nats-server does, every
 * global unicast address of the machine's interfaces, IPv4 and IPv6, or
 * 127.0.0.1 if it has none (nats-server would advertise nothing; a
 * cluster on one host still wants its clients to fail over).
 */
static json_t *
client_urls(void)
{
	struct ifaddrs	*ifa, *i;
	json_t		*a;
	char		 ip[INET6_ADDRSTRLEN];
	const char	*h = wk.s->host;
	int		 port = wk.s->port;

	if ((a = json_array()) == NULL)
		fatal("json");
	if (!host_is_any(h)) {
		url_add(a, h, strchr(h, ':') != NULL && h[0] != '[', port);
		return a;
	}
	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		ifa = NULL;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (void *)i->ifa_addr;
			uint32_t a4 = ntohl(s->sin_addr.s_addr);

			/* loopback, link-local, multicast and up, any */
			if ((a4 >> 24) == 127 || (a4 >> 16) == 0xa9fe ||
			    (a4 >> 28) >= 0xe || a4 == 0)
				continue;
			inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
			url_add(a, ip, false, port);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (void *)i->ifa_addr;

			if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) ||
			    IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) ||
			    IN6_IS_ADDR_MULTICAST(&s->sin6_addr) ||
			    IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr) ||
			    IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
			url_add(a, ip, true, port);
		}
	}
	if (ifa != NULL)
		freeifaddrs(ifa);
	if (json_array_size(a) == 0)
		url_add(a, "127.0.0.1", false, port);
	return a;
}

/*
 * cluster_advertise: "host:port", "[v6]:port" or "host" (the cluster
 * port then), as nats-server's parseHostPort() takes it.
 */
static void
advertise_split(const char *adv, char *host, size_t hlen, int *port)
{
	const char	*colon;
	char		*end;
	long		 p;

	*port = wk.s->cluster.port;
	if (adv[0] == '[' && (colon = strstr(adv, "]:")) != NULL) {
		snprintf(host, hlen, "%.*s", (int)(colon - adv - 1), adv + 1);
		colon++;
	} else if ((colon = strrchr(adv, ':')) != NULL &&
	    strchr(adv, ':') == colon) {
		snprintf(host, hlen, "%.*s", (int)(colon - adv), adv);
	} else {
		strlcpy(host, adv, hlen);
		return;
	}
	p = strtol(colon + 1, &end, 10);
	if (*end == '\0' && p > 0 && p <= 65535)
		*port = (int)p;
}

/* nats-server's key order, as its route INFO shows on the wire. */
static void
info_build(void)
{
	json_t	*o;
	char	*js, host[256], ip[300];
	int	 port;
	bool	 adv = wk.s->cluster.advertise != NULL;

	if (adv)
		advertise_split(wk.s->cluster.advertise, host, sizeof(host),
		    &port);
	else {
		strlcpy(host, wk.s->cluster.host != NULL ? wk.s->cluster.host :
		    "0.0.0.0", sizeof(host));
		port = wk.s->cluster.port;
	}
	if ((o = json_object()) == NULL)
		fatal("json");
	json_object_set_new(o, "server_id", json_string(route_own_id()));
	json_object_set_new(o, "server_name", json_string(route_own_name()));
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	/* RouteProtoV2 (accounts): what nats-server 2.9 sends. */
	json_object_set_new(o, "proto", json_integer(2));
	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "port", json_integer(port));
	json_object_set_new(o, "headers", json_true());
	if (wk.s->cluster.user != NULL)
		json_object_set_new(o, "auth_required", json_true());
	if (wk.s->cluster.tls.cert_file != NULL) {
		json_object_set_new(o, "tls_required", json_true());
		json_object_set_new(o, "tls_verify", json_true());
	}
	json_object_set_new(o, "max_payload",
	    json_integer(wk.s->max_payload));
	json_object_set_new(o, "cluster", json_string(route_cluster));
	if (route_cluster_dynamic)
		json_object_set_new(o, "cluster_dynamic", json_true());
	if (!wk.s->cluster.no_advertise)
		json_object_set_new(o, "connect_urls", client_urls());
	/* No "lnoc": see route_send_connect(). */
	if (adv) {
		snprintf(ip, sizeof(ip), strchr(host, ':') != NULL ?
		    "nats-route://[%s]:%d/" : "nats-route://%s:%d/", host, port);
		json_object_set_new(o, "ip", json_string(ip));
	}
	if ((js = json_dumps(o, JSON_COMPACT)) == NULL)
		fatal("json_dumps");
	json_decref(o);
	free(info_line);
	/* The blank before CRLF is nats-server's too. */
	if (asprintf(&info_line, "INFO %s \r\n", js) == -1)
		fatal("asprintf");
	info_len = strlen(info_line);
	free(js);
}

const char *
route_cluster_name(void)
{
	return route_cluster != NULL ? route_cluster : "";
}

const char *
gossip_info(size_t *len)
{
	*len = info_len;
	return info_line;
}

static void
cluster_set(const char *name, bool dynamic)
{
	char *n = xstrdup(name);

	free(route_cluster);
	route_cluster = n;
	route_cluster_dynamic = dynamic;
	info_build();
}

void
gossip_cluster_adopt(struct route *keep, const char *name, bool dynamic)
{
	struct route *r;

	cluster_set(name, dynamic);
	log_info("Cluster name updated to %s", name);
	/* They reconnect under the new name (removeAllRoutesExcept). */
	LIST_FOREACH(r, &routes_up, up_entry)
		if (r != keep)
			route_close(r, "Cluster Name Conflict");
}

/* Connecting */

static void
target_failed(struct target *t, const char *why)
{
	int64_t	retries = wk.s->cluster.connect_retries;
	bool	report;

	t->attempts++;
	report = t->attempts == 1 || !t->first ||
	    t->attempts % CONNECT_ERROR_REPORTS == 0;
	if (report)
		log_errorx("Error trying to connect to route (attempt %d): %s",
		    t->attempts, why);
	else
		log_debug("Error trying to connect to route (attempt %d): %s",
		    t->attempts, why);
	if (!t->explicit && (retries <= 0 || t->attempts > retries)) {
		target_free(t);
		return;
	}
	t->next_at = wk.now + ROUTE_CONNECT_MS;
}

/* Is sa our own route listener: our cluster port on one of our addresses? */
static bool
addr_is_self(const struct sockaddr *sa)
{
	struct ifaddrs	*ifa, *i;
	bool		 self = false;
	int		 port;

	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	else
		return false;
	if (wk.s->cluster.port == 0 || port != wk.s->cluster.port)
		return false;
	if (getifaddrs(&ifa) == -1)
		return false;
	for (i = ifa; i != NULL && !self; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family !=
		    sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			self = memcmp(&((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr,
			    &((const struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, sizeof(struct in_addr)) == 0;
		else
			self = memcmp(&((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr,
			    &((const struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr,
			    sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(ifa);
	return self;
}

static void
target_connect(struct target *t)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[8], ip[INET6_ADDRSTRLEN], why[512];
	int		 e, fd, n, pick;
	bool		 done = false;

	t->next_at = 0;
	snprintf(port, sizeof(port), "%d", t->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* At this scale a blocking lookup is fine: once a second at most. */
	if ((e = getaddrinfo(t->host, port, &hints, &res)) != 0) {
		snprintf(why, sizeof(why), "lookup %s: %s", t->host,
		    gai_strerror(e));
		target_failed(t, why);
		return;
	}
	/*
	 * Like nats-server, one of the addresses at random, leaving out our
	 * own cluster port on our own interfaces (routesToSelf): a server
	 * listed in its own routes, as in a cluster's shared configuration,
	 * does not even dial itself.
	 */
	for (n = 0, ai = res; ai != NULL; ai = ai->ai_next)
		if (!addr_is_self(ai->ai_addr))
			n++;
	if (n == 0) {
		log_debug("Not soliciting route to self \"%s\"", t->shown);
		freeaddrinfo(res);
		t->self = true;
		if (!t->explicit)
			target_free(t);
		return;
	}
	pick = (int)random_below((uint32_t)n);
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (!addr_is_self(ai->ai_addr) && pick-- == 0)
			break;
	if (ai->ai_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
		    (void *)ai->ai_addr)->sin6_addr, ip, sizeof(ip));
		snprintf(t->addr, sizeof(t->addr), "[%s]:%d", ip, t->port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)
		    (void *)ai->ai_addr)->sin_addr, ip, sizeof(ip));
		snprintf(t->addr, sizeof(t->addr), "%s:%d", ip, t->port);
	}
	log_debug("Trying to connect to route on %s%s%s:%d (%s)",
	    strchr(t->host, ':') != NULL ? "[" : "", t->host,
	    strchr(t->host, ':') != NULL ? "]" : "", t->port, t->addr);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		freeaddrinfo(res);
		target_failed(t, why);
		return;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		done = true;
	else if (errno != EINPROGRESS) {
		e = errno;
		close(fd);
		freeaddrinfo(res);
		dial_failed(t, e);
		return;
	}
	if (done) {
		t->first = false;
		t->attempts = 0;
	}
	t->r = route_new_solicited(fd, ai->ai_addr, ai->ai_addrlen, t, done);
	freeaddrinfo(res);
}

/* Go's words for it, which operators know: "connect: connection refused". */
static void
dial_failed(struct target *t, int err)
{
	char	why[512], *p;

	if (err == ETIMEDOUT) {
		snprintf(why, sizeof(why), "dial tcp %s: i/o timeout", t->addr);
	} else {
		snprintf(why, sizeof(why), "dial tcp %s: connect: ", t->addr);
		p = why + strlen(why);
		strlcat(why, strerror(err), sizeof(why));
		*p = (char)tolower((unsigned char)*p);
	}
	target_failed(t, why);
}

void
gossip_connect_done(struct route *r, int err)
{
	struct target *t;

	if ((t = r->target) == NULL)
		return;
	if (err == 0) {
		t->first = false;
		t->attempts = 0;
		return;
	}
	t->r = NULL;
	dial_failed(t, err);
}

static void
target_reconnect(struct target *t)
{
	t->attempts = 0;
	t->first = false;
	t->next_at = wk.now + (t->explicit ? ROUTE_RECONNECT_MS : 0) +
	    random_below(ROUTE_JITTER_MS) + 1;
}

void
gossip_tick(void)
{
	struct target *t, *next;

	if (route_stopping)
		return;
	LIST_FOREACH_SAFE(t, &targets, entry, next) {
		if (t->next_at == 0 || wk.now < t->next_at || t->r != NULL ||
		    t->self || t->parked != NULL)
			continue;
		/* Someone connected to it meanwhile: nothing to do. */
		if (!t->explicit && t->id != NULL &&
		    route_find_up(t->id) != NULL) {
			target_free(t);
			continue;
		}
		target_connect(t);
	}
}

/* Configuration */

void
gossip_init(void)
{
	struct target	*t;
	char		 name[32];
	size_t		 i;

	if (wk.s->cluster.name != NULL)
		cluster_set(wk.s->cluster.name, false);
	else {
		/* nats-server's is a 22-character NUID; ours looks alike. */
		random_id(name, 22);
		cluster_set(name, true);
	}
	log_info("Cluster name is %s", route_cluster);
	if (route_cluster_dynamic)
		log_warnx("Cluster name was dynamically generated, consider "
		    "setting one");
	no_advertise = wk.s->cluster.no_advertise;
	for (i = 0; i < wk.s->cluster.nroutes; i++)
		if (target_new(wk.s->cluster.routes[i], true) == NULL)
			log_warnx("route URL \"%s\" is not usable",
			    wk.s->cluster.routes[i]);
	tls_name_set();
	LIST_FOREACH(t, &targets, entry)
		if (t->explicit)
			t->next_at = wk.now;
	/* The first attempts now, not at the first tick. */
	gossip_tick();
}

static struct target *
target_find_url(const char *url)
{
	struct target *t;

	LIST_FOREACH(t, &targets, entry)
		if (t->explicit && !t->removed && strcmp(t->url, url) == 0)
			return t;
	return NULL;
}

static struct target *
target_find_hostport(const char *host, int port, bool explicit_only)
{
	struct target *t;

	LIST_FOREACH(t, &targets, entry)
		if ((t->explicit || !explicit_only) && !t->removed &&
		    t->port == port && strcasecmp(t->host, host) == 0)
			return t;
	return NULL;
}

/*
 * Reload: routes that stay keep their connections; new ones are
 * solicited at once; removed ones are closed ("Route Removed") and not
 * retried, as nats-server's routesOption.Apply() does.
 */
void
gossip_reload(void)
{
	struct target	*t, *next, *n;
	const char	*want = wk.s->cluster.name;
	bool		*keep;
	size_t		 i, nr = wk.s->cluster.nroutes;

	/* A configured name wins; without one, the name in force stays. */
	if (want != NULL && strcmp(want, route_cluster) != 0) {
		cluster_set(want, false);
		log_info("Cluster name updated to %s", want);
	} else if (want != NULL)
		route_cluster_dynamic = false;
	info_build();
	if (no_advertise != wk.s->cluster.no_advertise) {
		no_advertise = wk.s->cluster.no_advertise;
		gossip_urls_changed();
	}
	if ((keep = calloc(nr + 1, sizeof(*keep))) == NULL)
		fatal("reload routes");
	/* Mark what stays: explicit targets whose URL is still listed. */
	LIST_FOREACH_SAFE(t, &targets, entry, next) {
		bool listed = false;

		if (!t->explicit || t->removed)
			continue;
		for (i = 0; i < nr; i++)
			if (strcmp(wk.s->cluster.routes[i], t->url) == 0) {
				listed = true;
				keep[i] = true;
			}
		if (listed)
			continue;
		log_debug("route \"%s\" removed", t->shown);
		if (t->r != NULL) {
			t->removed = true;
			route_close(t->r, "Route Removed");
		} else
			target_free(t);
	}
	for (i = 0; i < nr; i++) {
		if (keep[i] || target_find_url(wk.s->cluster.routes[i]) != NULL)
			continue;
		if ((n = target_new(wk.s->cluster.routes[i], true)) == NULL) {
			log_warnx("route URL \"%s\" is not usable",
			    wk.s->cluster.routes[i]);
			continue;
		}
		log_debug("route \"%s\" added", n->shown);
		n->next_at = wk.now;
	}
	free(keep);
	tls_name_set();
	gossip_tick();
}

/* Registration, duplicates, loss */

void
gossip_route_up(struct route *r, json_t *info)
{
	struct target	*t, *next;
	struct route	*q;
	char		*js, *line;
	size_t		 len;
	bool		 others = false;

	LIST_FOREACH(q, &routes_up, up_entry)
		if (q != r && !(q->flags & RF_DEAD))
			others = true;
	/*
	 * Tell the others about it, with the URL to reach it by: the INFO
	 * it sent us, its nonce dropped, as forwardNewRouteInfoToKnownServers.
	 */
	if (others) {
		json_object_del(info, "nonce");
		if (json_object_get(info, "ip") == NULL ||
		    !json_is_string(json_object_get(info, "ip")) ||
		    *json_string_value(json_object_get(info, "ip")) == '\0')
			json_object_set_new(info, "ip",
			    json_string(r->gossip_url));
		if ((js = json_dumps(info, JSON_COMPACT)) == NULL)
			fatal("json_dumps");
		if (asprintf(&line, "INFO %s\r\n", js) == -1)
			fatal("asprintf");
		len = strlen(line);
		LIST_FOREACH(q, &routes_up, up_entry)
			if (q != r && !(q->flags & RF_DEAD) &&
			    strcmp(q->remote_id, r->remote_id) != 0)
				route_queue(q, line, len);
		free(line);
		free(js);
	}
	/* Implicit targets still waiting to reach it are moot now. */
	LIST_FOREACH_SAFE(t, &targets, entry, next)
		if (!t->explicit && t->r == NULL && t->id != NULL &&
		    strcmp(t->id, r->remote_id) == 0)
			target_free(t);
	if (r->nurls > 0)
		gossip_urls_changed();
}

void
gossip_duplicate(struct route *r, struct route *kept)
{
	(void)r;
	/*
	 * The other server may keep the connection we close and close the
	 * one we keep: then this one must come back by itself.
	 */
	kept->flags |= RF_RETRY;
}

void
gossip_implicit(json_t *info)
{
	struct target	*t, *n;
	json_t		*v;
	const char	*id, *ip, *host;
	int		 port;

	id = json_string_value(json_object_get(info, "server_id"));
	ip = json_string_value(json_object_get(info, "ip"));
	host = json_string_value(json_object_get(info, "host"));
	v = json_object_get(info, "port");
	port = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	if (id == NULL || ip == NULL || *ip == '\0' || route_stopping)
		return;
	if (strcmp(id, route_own_id()) == 0 || route_find_id(id) != NULL)
		return;
	/* A configured route to it will get there (hasThisRouteConfigured). */
	if (host != NULL && target_find_hostport(host, port, true) != NULL)
		return;
	LIST_FOREACH(t, &targets, entry)
		if (t->id != NULL && strcmp(t->id, id) == 0)
			return;
	if ((n = target_new(ip, false)) == NULL) {
		log_warnx("route URL \"%s\" from gossip is not usable", ip);
		return;
	}
	/* Someone else's URL for it may be one we solicit already. */
	LIST_FOREACH(t, &targets, entry)
		if (t != n && t->port == n->port && !t->removed &&
		    strcasecmp(t->host, n->host) == 0) {
			target_free(n);
			return;
		}
	n->id = xstrdup(id);
	/* nats-server sends its own cluster credentials to gossiped routes. */
	if (json_is_true(json_object_get(info, "auth_required")) &&
	    wk.s->cluster.user != NULL) {
		free(n->user);
		free(n->pass);
		n->user = xstrdup(wk.s->cluster.user);
		n->pass = wk.s->cluster.password != NULL ?
		    xstrdup(wk.s->cluster.password) : NULL;
	}
	target_connect(n);
}

void
gossip_route_closed(struct route *r)
{
	struct target	*t = r->target, *p, *next;
	const char	*id = r->remote_id;
	bool		 parked = false;

	if (r->flags & RF_UP) {
		if (r->nurls > 0)
			gossip_urls_changed();
		/* Targets waiting for this route to go: their turn. */
		LIST_FOREACH_SAFE(p, &targets, entry, next)
			if (p->parked != NULL && strcmp(p->parked, id) == 0) {
				free(p->parked);
				p->parked = NULL;
				parked = true;
				if (p->removed)
					target_free(p);
				else if (!route_stopping)
					target_reconnect(p);
			}
	}
	if (route_stopping) {
		if (t != NULL)
			t->r = NULL;
		return;
	}
	if (t == NULL) {
		/*
		 * An accepted route kept over a duplicate: the other side
		 * may have dropped its end of it; reach it ourselves.
		 */
		if ((r->flags & RF_RETRY) && !parked && id != NULL &&
		    r->gossip_url != NULL && route_find_up(id) == NULL &&
		    (p = target_new(r->gossip_url, false)) != NULL) {
			p->id = xstrdup(id);
			log_debug("Attempting reconnect for solicited route "
			    "\"%s\"", p->shown);
			target_reconnect(p);
		}
		return;
	}
	t->r = NULL;
	if (t->removed) {
		target_free(t);
		return;
	}
	if (id != NULL && strcmp(id, route_own_id()) == 0) {
		log_debug("Detected route to self, ignoring \"%s\"", t->shown);
		t->self = true;
		if (!t->explicit)
			target_free(t);
		return;
	}
	if (id != NULL && *id != '\0' && route_find_up(id) != NULL) {
		log_debug("Not attempting reconnect for solicited route, "
		    "already connected to \"%s\"", id);
		t->parked = xstrdup(id);
		return;
	}
	if (t->explicit || (r->flags & RF_RETRY)) {
		log_debug("Attempting reconnect for solicited route \"%s\"",
		    t->shown);
		target_reconnect(t);
		return;
	}
	target_free(t);
}

/* connect_urls */

/*
 * As nats-server: once the server has a route, its clients learn every
 * member's URLs, its own first; alone, none.
 */
size_t
route_connect_urls(char **out, size_t max)
{
	static json_t	*own;
	struct route	*r;
	json_t		*u;
	size_t		 n = 0, i, j, k;

	/* no_advertise: our clients hear of no other server. */
	if (wk.s->cluster.no_advertise || LIST_EMPTY(&routes_up))
		return 0;
	json_decref(own);
	own = client_urls();
	json_array_foreach(own, k, u)
		if (n < max)
			out[n++] = (char *)json_string_value(u);
	LIST_FOREACH(r, &routes_up, up_entry) {
		if (r->flags & RF_DEAD)
			continue;
		for (i = 0; i < r->nurls && n < max; i++) {
			for (j = 0; j < n; j++)
				if (strcmp(out[j], r->urls[i]) == 0)
					break;
			if (j == n)
				out[n++] = r->urls[i];
		}
	}
	return n;
}

void
gossip_urls_changed(void)
{
	router_cluster_urls_changed();
}

/* /routez */

static void
routez_sub(void *arg, const char *subject, const char *queue)
{
	(void)queue;	/* nats-server lists the subject alone */
	json_array_append_new(arg, json_string(subject));
}

/* One route as nats-server's RouteInfo; times from the monotonic clock. */
static json_t *
routez_route(struct route *r, int64_t wall_ns)
{
	json_t	*o, *subs;
	char	 tb[FMT_TIME_LEN];
	int64_t	 last = r->last_read > r->out.last_write ? r->last_read :
		    r->out.last_write;

	if ((o = json_object()) == NULL || (subs = json_array()) == NULL)
		fatal("json");
	json_object_set_new(o, "rid", json_integer((json_int_t)r->rid));
	json_object_set_new(o, "remote_id", json_string(route_remote_id(r)));
	json_object_set_new(o, "remote_name", json_string(r->remote_name !=
	    NULL ? r->remote_name : ""));
	json_object_set_new(o, "did_solicit",
	    json_boolean(r->flags & RF_SOLICITED));
	json_object_set_new(o, "is_configured", json_boolean(r->target !=
	    NULL && r->target->explicit));
	json_object_set_new(o, "ip", json_string(r->ip));
	json_object_set_new(o, "port", json_integer(r->port));
	json_object_set_new(o, "start", json_string(fmt_time(wall_ns -
	    (wk.now - r->start) * 1000000, tb, sizeof(tb))));
	json_object_set_new(o, "last_activity", json_string(fmt_time(wall_ns -
	    (wk.now - last) * 1000000, tb, sizeof(tb))));
	json_object_set_new(o, "uptime", json_string(fmt_uptime((wk.now -
	    r->start) * 1000000, tb, sizeof(tb))));
	json_object_set_new(o, "idle", json_string(fmt_uptime((wk.now -
	    last) * 1000000, tb, sizeof(tb))));
	json_object_set_new(o, "pending_size",
	    json_integer((json_int_t)outbuf_pending(&r->out)));
	json_object_set_new(o, "in_msgs", json_integer((json_int_t)r->in_msgs));
	json_object_set_new(o, "out_msgs",
	    json_integer((json_int_t)r->out_msgs));
	json_object_set_new(o, "in_bytes",
	    json_integer((json_int_t)r->in_bytes));
	json_object_set_new(o, "out_bytes",
	    json_integer((json_int_t)r->out_bytes));
	json_object_set_new(o, "subscriptions",
	    json_integer((json_int_t)forward_route_subs(r)));
	forward_route_subjects(r, routez_sub, subs);
	json_object_set_new(o, "subscriptions_list", subs);
	return o;
}

json_t *
route_routez(void)
{
	struct route	*r;
	json_t		*a;
	int64_t		 wall = (int64_t)stats_wall_ns();

	if ((a = json_array()) == NULL)
		return NULL;
	/* Oldest first, as nats-server lists them by rid. */
	LIST_FOREACH(r, &routes_up, up_entry)
		if (!(r->flags & RF_DEAD))
			json_array_insert_new(a, 0, routez_route(r, wall));
	return a;
}
