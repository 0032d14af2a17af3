/*
 * The monitor process: a libevent loop serving the monitoring endpoints
 * on the sockets the master bound (HTTP, and HTTPS with the tls block's
 * certificate), a once-a-second tick sampling CPU use, and signals:
 * SIGTERM/SIGINT stop, SIGUSR1 reopens the log file, SIGHUP applies the
 * settings the master published for a reload and acknowledges them.
 *
 * Signals reach the loop through libevent's evsignal, so no work is done
 * in a signal handler.  The process holds no state worth keeping: when
 * it dies the master starts another on the same sockets, and the
 * figures, which live in the mesh, carry on where they were (only
 * http_req_stats starts again from zero).
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "log.h"
#include "mesh.h"
#include "monitor.h"
#include "natsd.h"
#include "settings.h"
#include "stats.h"
#include "tls.h"
#include "util.h"

#define HTTP_TIMEOUT_S		10	/* a client idle this long is dropped */
#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY		4096	/* requests are GETs */
#define ACCEPT_PAUSE_S		1	/* after accept fails (out of fds) */
#define MONITOR_NICE		10	/* below the workers: traffic first */

static struct {
	struct mon		 mon;
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp		*https;
	SSL_CTX			*ssl;
	int			 https_fd;
	struct evconnlistener	*lst[2];
	int			 nlst;
	struct event		*ev_sig[4];
	struct event		*ev_tick;
	struct event		*ev_resume;
} mn;

static int64_t	 tls_timeout(const struct settings *);
static void	 read_timeouts(struct mon *, const struct settings *);
static void	 https_reload(const struct settings *);

/*
 * SIGHUP: the master published new settings.  The monitor's sockets
 * cannot change on reload; what can is logging, the figures /varz
 * shows and the HTTPS certificate.  Acknowledge the round as the
 * workers do.
 */
static void
monitor_reload(void)
{
	struct settings	 old;
	int		 slot = mesh_monitor_slot(mn.mon.m);
	uint32_t	 gen;

	if ((gen = mesh_reload_take(mn.mon.m, slot, mn.mon.s, &old)) == 0)
		return;
	settings_free(&old);
	read_timeouts(&mn.mon, mn.mon.s);
	https_reload(mn.mon.s);
	mn.mon.config_load_ns = (int64_t)stats_wall_ns();
	mesh_reload_ack(mn.mon.m, slot, gen);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		event_base_loopexit(mn.base, NULL);
		break;
	case SIGUSR1:
		if (log_reopen() == -1)
			log_warn("reopen log file");
		break;
	case SIGHUP:
		monitor_reload();
		break;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	procstat_sample(&mn.mon);
	log_flush();
}

/*
 * accept() failed, most likely out of descriptors: the listening socket
 * stays readable, so stop listening for a second rather than spin, and
 * say so once per pause.
 */
static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	log_warn("accept (listening again in %d s)", ACCEPT_PAUSE_S);
	evconnlistener_disable(l);
	if (!evtimer_pending(mn.ev_resume, NULL)) {
		struct timeval tv = { ACCEPT_PAUSE_S, 0 };

		evtimer_add(mn.ev_resume, &tv);
	}
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	int	 i;

	for (i = 0; i < mn.nlst; i++)
		evconnlistener_enable(mn.lst[i]);
}

/* The tls block's handshake timeout for /varz; the default without one. */
static int64_t
tls_timeout(const struct settings *s)
{
	return s->tls.timeout_ms > 0 ? s->tls.timeout_ms :
	    DEFAULT_TLS_TIMEOUT_MS;
}

/* The authorization and tls blocks' timeouts for /varz. */
static void
read_timeouts(struct mon *mon, const struct settings *s)
{
	mon->auth_timeout_ms = s->auth.timeout_ms > 0 ? s->auth.timeout_ms :
	    DEFAULT_AUTH_TIMEOUT_MS;
	mon->tls_timeout_ms = tls_timeout(s);
}

/*
 * The HTTPS server's TLS context from the tls block, as nats-server's
 * https_port uses the server's TLS material, but never asking for a
 * client certificate (nats-server turns verify off for monitoring too:
 * dashboards and curl have none).  NULL, with the reason in err, if
 * there is no certificate or it does not load.
 */
static SSL_CTX *
https_ctx(const struct settings *s, char *err, size_t errlen)
{
	struct tls_settings	 ts = s->tls;

	if (ts.cert_file == NULL || ts.key_file == NULL) {
		snprintf(err, errlen, "no tls { cert_file, key_file } "
		    "configured");
		return NULL;
	}
	ts.verify = false;
	ts.verify_and_map = false;
	return tls_server_ctx(&ts, err, errlen);
}

/* Each HTTPS connection: a server-side TLS bufferevent over its socket. */
static struct bufferevent *
https_bev(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if ((ssl = SSL_new(arg)) == NULL)
		return NULL;
	/*
	 * libevent writes an evbuffer's chunks one SSL_write each and goes
	 * on to the next chunk after a short one: only whole writes keep
	 * the bytes in order.
	 */
	SSL_clear_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients that hang up without close_notify are not errors. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static struct evhttp *
http_server(int fd, const char *what, const char *host, int port,
    SSL_CTX *ssl)
{
	struct evhttp			*h;
	struct evhttp_bound_socket	*bs;

	if ((h = evhttp_new(mn.base)) == NULL)
		fatalx("%s: evhttp_new", what);
	if (ssl != NULL)
		evhttp_set_bevcb(h, https_bev, ssl);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(h, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(h, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h, HTTP_MAX_BODY);
	evhttp_set_gencb(h, http_handle, &mn.mon);
	/* The master logged "Starting http monitor on ..." when it bound fd. */
	if ((bs = evhttp_accept_socket_with_handle(h, fd)) == NULL)
		fatalx("%s monitor on %s:%d: cannot serve the listening socket",
		    what, host != NULL ? host : DEFAULT_HOST, port);
	mn.lst[mn.nlst] = evhttp_bound_socket_get_listener(bs);
	evconnlistener_set_error_cb(mn.lst[mn.nlst++], on_accept_error);
	return h;
}

/*
 * New TLS material applies to the HTTPS connections accepted from now
 * on; those open keep the context they started with (each SSL holds a
 * reference on it).  Material that does not load leaves the old in
 * force.  HTTPS that could not start before starts now if it can.
 */
static void
https_reload(const struct settings *s)
{
	SSL_CTX	*ctx;
	char	 err[512];

	if (mn.https_fd < 0)
		return;
	if ((ctx = https_ctx(s, err, sizeof(err))) == NULL) {
		log_errorx("reload: https_port %d: %s; %s", s->https_port, err,
		    mn.https != NULL ? "HTTPS monitoring keeps the previous "
		    "certificate" : "HTTPS monitoring stays off");
		return;
	}
	if (mn.https == NULL) {
		mn.https = http_server(mn.https_fd, "https", s->https_host,
		    s->https_port, ctx);
		mn.ssl = ctx;
		return;
	}
	evhttp_set_bevcb(mn.https, https_bev, ctx);
	SSL_CTX_free(mn.ssl);
	mn.ssl = ctx;
}

int
monitor_main(struct settings *s, struct mesh *m, int http_fd, int https_fd)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGHUP };
	struct timeval	 tick = { 1, 0 };
	char		 err[512];
	size_t		 i;

	log_settag("monitor");
	proc_title("natsd: monitor");
	/*
	 * Monitoring yields the CPU to the workers: a dashboard hammering
	 * /connz must not slow message delivery (nginx's worker_priority,
	 * the other way round).
	 */
	errno = 0;
	if (setpriority(PRIO_PROCESS, 0, MONITOR_NICE) == -1 && errno != 0)
		log_warn("setpriority");
	signal(SIGPIPE, SIG_IGN);

	memset(&mn, 0, sizeof(mn));
	mn.mon.s = s;
	mn.mon.m = m;
	mn.mon.config_load_ns = mesh_start_wall_ns(m);
	read_timeouts(&mn.mon, s);
	if ((mn.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	mn.mon.base = mn.base;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		mn.ev_sig[i] = evsignal_new(mn.base, sigs[i], on_signal, NULL);
		if (mn.ev_sig[i] == NULL || evsignal_add(mn.ev_sig[i], NULL))
			fatalx("evsignal %d", sigs[i]);
	}
	if ((mn.ev_tick = event_new(mn.base, -1, EV_PERSIST, on_tick,
	    NULL)) == NULL || event_add(mn.ev_tick, &tick) == -1)
		fatalx("tick event");
	if ((mn.ev_resume = evtimer_new(mn.base, on_resume, NULL)) == NULL)
		fatalx("resume event");
	procstat_sample(&mn.mon);

	if (http_fd >= 0)
		mn.http = http_server(http_fd, "http", s->http_host,
		    s->http_port, NULL);
	mn.https_fd = https_fd;
	if (https_fd >= 0 && (mn.ssl = https_ctx(s, err, sizeof(err))) == NULL)
		log_errorx("https_port %d: %s; HTTPS monitoring is off",
		    s->https_port, err);
	else if (https_fd >= 0)
		mn.https = http_server(https_fd, "https", s->https_host,
		    s->https_port, mn.ssl);

	if (event_base_dispatch(mn.base) == -1)
		log_warnx("event loop failed");

	connz_shutdown();
	if (mn.http != NULL)
		evhttp_free(mn.http);
	if (mn.https != NULL)
		evhttp_free(mn.https);
	if (mn.ssl != NULL)
		SSL_CTX_free(mn.ssl);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(mn.ev_sig[i]);
	event_free(mn.ev_tick);
	event_free(mn.ev_resume);
	event_base_free(mn.base);
	return 0;
}
