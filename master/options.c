/*
 * The command line: parsed once, kept, and applied over the configuration
 * file every time options_load() builds the settings (at start and at
 * each reload), so a flag always beats the file, whatever their order.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "natsd.h"
#include "options.h"
#include "signal_send.h"
#include "tls.h"

enum flag_id {
	FL_ADDR, FL_PORT, FL_NAME, FL_PID, FL_HTTP_PORT, FL_HTTPS_PORT,
	FL_CONFIG, FL_TEST, FL_SIGNAL, FL_WORKERS,
	FL_LOG, FL_LOGTIME, FL_SYSLOG, FL_REMOTE_SYSLOG, FL_DEBUG, FL_TRACE,
	FL_DEBUG_TRACE,
	FL_USER, FL_PASS, FL_AUTH,
	FL_TLS, FL_TLSCERT, FL_TLSKEY, FL_TLSVERIFY, FL_TLSCACERT,
	FL_ROUTES, FL_CLUSTER, FL_CLUSTER_ADVERTISE, FL_NO_ADVERTISE,
	FL_CONNECT_RETRIES, FL_CLUSTER_NAME,
	FL_HELP, FL_VERSION, FL_HELP_TLS,
};

enum flag_arg {
	A_NONE,		/* -h */
	A_BOOL,		/* -D, or -D=false: a value only after '=' */
	A_VALUE,	/* -p 4222, -p=4222 */
};

struct flag {
	const char	*shortname;	/* without dash; NULL if none */
	const char	*longname;
	enum flag_arg	 arg;
	enum flag_id	 id;
	const char	*option;	/* the option it sets, or NULL */
	const char	*arg_name;
	const char	*help;		/* NULL: an alias of the row above */
	const char	*group;		/* starts a group in the usage */
};

/*
 * The one table of flags: usage text and parsing both come from it, and
 * t/docs-test checks it against natsd.8 and README.md.
 */
static const struct flag flags[] = {
	{ "a", "addr", A_VALUE, FL_ADDR, "host", "<host>",
	    "Bind to host address (default: 0.0.0.0)", "Server Options" },
	{ NULL, "net", A_VALUE, FL_ADDR, "host", "<host>", NULL, NULL },
	{ "p", "port", A_VALUE, FL_PORT, "port", "<port>",
	    "Use port for clients (default: 4222)", NULL },
	{ "n", "name", A_VALUE, FL_NAME, "server_name", "<name>",
	    "Server name (default: the server id)", NULL },
	{ NULL, "server_name", A_VALUE, FL_NAME, "server_name", "<name>",
	    NULL, NULL },
	{ "P", "pid", A_VALUE, FL_PID, "pid_file", "<file>",
	    "File to store PID", NULL },
	{ "m", "http_port", A_VALUE, FL_HTTP_PORT, "http_port", "<port>",
	    "Use port for http monitoring", NULL },
	{ "ms", "https_port", A_VALUE, FL_HTTPS_PORT, "https_port", "<port>",
	    "Use port for https monitoring", NULL },
	{ "c", "config", A_VALUE, FL_CONFIG, NULL, "<file>",
	    "Configuration file", NULL },
	{ "t", NULL, A_BOOL, FL_TEST, NULL, NULL,
	    "Test configuration and exit", NULL },
	{ "sl", "signal", A_VALUE, FL_SIGNAL, NULL, "<signal>[=<pid>]",
	    "Send signal to natsd process (stop, quit, term, reopen, reload)",
	    NULL },
	{ NULL, "workers", A_VALUE, FL_WORKERS, "workers", "<n>",
	    "Worker processes (default: online CPUs)", NULL },
	{ "l", "log", A_VALUE, FL_LOG, "log_file", "<file>",
	    "File to redirect log output", "Logging Options" },
	{ "T", "logtime", A_BOOL, FL_LOGTIME, "logtime", NULL,
	    "Timestamp log entries (default: true)", NULL },
	{ "s", "syslog", A_BOOL, FL_SYSLOG, "syslog", NULL,
	    "Log to syslog", NULL },
	{ "r", "remote_syslog", A_VALUE, FL_REMOTE_SYSLOG, "remote_syslog",
	    "<addr>", "Syslog server addr (udp://localhost:514)", NULL },
	{ "D", "debug", A_BOOL, FL_DEBUG, "debug", NULL,
	    "Enable debugging output", NULL },
	{ "V", "trace", A_BOOL, FL_TRACE, "trace", NULL,
	    "Trace the raw protocol", NULL },
	{ "DV", NULL, A_BOOL, FL_DEBUG_TRACE, NULL, NULL,
	    "Debug and trace", NULL },
	{ NULL, "user", A_VALUE, FL_USER, "authorization.user", "<user>",
	    "User required for connections", "Authorization Options" },
	{ NULL, "pass", A_VALUE, FL_PASS, "authorization.password",
	    "<password>", "Password required for connections", NULL },
	{ NULL, "auth", A_VALUE, FL_AUTH, "authorization.token", "<token>",
	    "Authorization token required for connections", NULL },
	{ NULL, "tls", A_BOOL, FL_TLS, NULL, NULL,
	    "Enable TLS, do not verify clients (default: false)",
	    "TLS Options" },
	{ NULL, "tlscert", A_VALUE, FL_TLSCERT, "tls.cert_file", "<file>",
	    "Server certificate file", NULL },
	{ NULL, "tlskey", A_VALUE, FL_TLSKEY, "tls.key_file", "<file>",
	    "Private key for server certificate", NULL },
	{ NULL, "tlsverify", A_BOOL, FL_TLSVERIFY, NULL, NULL,
	    "Enable TLS, verify client certificates", NULL },
	{ NULL, "tlscacert", A_VALUE, FL_TLSCACERT, "tls.ca_file", "<file>",
	    "Client certificate CA for verification", NULL },
	{ NULL, "routes", A_VALUE, FL_ROUTES, "cluster.routes",
	    "<rurl-1, rurl-2>", "Routes to solicit and connect",
	    "Cluster Options" },
	{ NULL, "cluster", A_VALUE, FL_CLUSTER, "cluster.listen",
	    "<cluster-url>", "Cluster URL for solicited routes", NULL },
	{ NULL, "cluster_name", A_VALUE, FL_CLUSTER_NAME, "cluster.name",
	    "<string>", "Cluster name (all servers of a cluster must agree)",
	    NULL },
	{ NULL, "cluster_advertise", A_VALUE, FL_CLUSTER_ADVERTISE,
	    "cluster.cluster_advertise", "<string>",
	    "Cluster URL to advertise to other servers", NULL },
	{ NULL, "no_advertise", A_BOOL, FL_NO_ADVERTISE, "cluster.no_advertise",
	    NULL, "Do not advertise known cluster information to clients",
	    NULL },
	{ NULL, "connect_retries", A_VALUE, FL_CONNECT_RETRIES,
	    "cluster.connect_retries", "<number>",
	    "For implicit routes, number of connect retries", NULL },
	{ "h", "help", A_NONE, FL_HELP, NULL, NULL, "Show this message",
	    "Common Options" },
	{ "v", "version", A_NONE, FL_VERSION, NULL, NULL, "Show version",
	    NULL },
	{ NULL, "help_tls", A_NONE, FL_HELP_TLS, NULL, NULL, "TLS help", NULL },
};
#define NFLAGS	(sizeof(flags) / sizeof(flags[0]))

/* One flag as given, kept to be applied again at every reload. */
struct given {
	const struct flag	*f;
	char			*value;		/* NULL for a bare boolean */
	char			 where[64];	/* "flag --port" */
};

static struct given	*given;
static size_t		 ngiven;
static char		*config_file;	/* -c */
static char		*signal_spec;	/* -sl */
static bool		 test_only;	/* -t */
static bool		 loaded;	/* options_load() ran once */

static void
usage(FILE *fp)
{
	const struct flag	*f, *a;
	char			 left[128];
	size_t			 i, len;

	fprintf(fp, "\nUsage: natsd [options]\n");
	for (i = 0; i < NFLAGS; i++) {
		f = &flags[i];
		if (f->group != NULL)
			fprintf(fp, "\n%s:\n", f->group);
		if (f->help == NULL)
			continue;
		/* -a, --addr, --net <host>: the row and the aliases after it */
		len = (size_t)snprintf(left, sizeof(left), "%s%s%s%s",
		    f->shortname ? "-" : "    ",
		    f->shortname ? f->shortname : "",
		    f->shortname && f->longname ? "," : "",
		    f->shortname && f->longname && strlen(f->shortname) < 2 ?
		    " " : "");
		for (a = f; a < flags + NFLAGS && (a == f || a->help == NULL);
		    a++)
			if (a->longname != NULL && len < sizeof(left))
				len += (size_t)snprintf(left + len,
				    sizeof(left) - len, "%s--%s",
				    a == f ? "" : ", ", a->longname);
		if (f->arg_name != NULL && len < sizeof(left))
			snprintf(left + len, sizeof(left) - len, " %s",
			    f->arg_name);
		fprintf(fp, "    %-32s %s\n", left, f->help);
	}
	fprintf(fp, "\n");
}

static const struct flag *
flag_lookup(const char *name, size_t len, bool two_dashes)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++) {
		const struct flag *f = &flags[i];

		if (f->longname && strlen(f->longname) == len &&
		    strncmp(f->longname, name, len) == 0)
			return f;
		/* Short names take one dash only, like Go's flag. */
		if (!two_dashes && f->shortname &&
		    strlen(f->shortname) == len &&
		    strncmp(f->shortname, name, len) == 0)
			return f;
	}
	return NULL;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL) {
		perror("natsd: strdup");
		exit(1);
	}
	return p;
}

static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "natsd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(1);
}

static bool
bool_value(const char *v, bool *b)
{
	if (v == NULL || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*b = true;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*b = false;
	else
		return false;
	return true;
}

void
options_parse(int argc, char **argv)
{
	const struct flag	*f;
	const char		*arg, *name, *eq, *val;
	struct given		*g;
	size_t			 len;
	bool			 two;
	int			 i;

	if ((given = calloc((size_t)argc + 1, sizeof(*given))) == NULL) {
		perror("natsd: calloc");
		exit(1);
	}
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0')
			usage_error("unexpected argument \"%s\"", arg);
		two = arg[1] == '-';
		name = arg + (two ? 2 : 1);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if ((f = flag_lookup(name, len, two)) == NULL)
			usage_error("unknown flag \"%s\"", arg);
		val = eq ? eq + 1 : NULL;
		if (f->arg == A_NONE && val != NULL)
			usage_error("flag \"%s\" takes no value", arg);
		if (f->arg == A_VALUE && val == NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "natsd: flag \"%s\" needs %s\n",
				    arg, f->arg_name);
				exit(1);
			}
			val = argv[++i];
		}
		switch (f->id) {
		case FL_HELP:
			usage(stdout);
			exit(0);
		case FL_VERSION:
			printf("natsd version %s\n", NATSD_VERSION);
			exit(0);
		case FL_HELP_TLS:
			conf_tls_help(stdout);
			exit(0);
		case FL_CONFIG:
			free(config_file);
			config_file = xstrdup(val);
			break;
		case FL_SIGNAL:
			free(signal_spec);
			signal_spec = xstrdup(val);
			break;
		case FL_TEST:
			if (!bool_value(val, &test_only))
				usage_error("invalid boolean in \"%s\"", arg);
			break;
		default:
			g = &given[ngiven++];
			g->f = f;
			g->value = xstrdup(val);
			snprintf(g->where, sizeof(g->where), "flag %.*s",
			    (int)(name - arg + len), arg);
			break;
		}
	}
}

/*
 * The TLS flags build the tls block as a whole, as nats-server's do: any
 * of them replaces the file's block, and the block then needs a
 * certificate and key.  --tls=false leaves the file's block alone.
 */
static int
tls_flags_apply(cfg_t *cfg, char *err, size_t errlen)
{
	const struct given	*g;
	size_t			 i;
	bool			 any = false, off = false, verify = false, b;

	for (i = 0; i < ngiven; i++) {
		g = &given[i];
		switch (g->f->id) {
		case FL_TLS:
			if (bool_value(g->value, &b))
				off = !b;
			any = true;
			break;
		case FL_TLSVERIFY:
			if (bool_value(g->value, &b))
				verify = b;
			any = true;
			break;
		case FL_TLSCERT:
		case FL_TLSKEY:
		case FL_TLSCACERT:
			any = true;
			break;
		default:
			break;
		}
	}
	if (!any || off)
		return 0;
	conf_reset(cfg, "tls");
	for (i = 0; i < ngiven; i++) {
		g = &given[i];
		if ((g->f->id == FL_TLSCERT || g->f->id == FL_TLSKEY ||
		    g->f->id == FL_TLSCACERT) &&
		    conf_set(cfg, g->f->option, g->value, g->where, err,
		    errlen) == -1)
			return -1;
	}
	return conf_set(cfg, "tls.verify", verify ? "true" : "false",
	    "flag --tlsverify", err, errlen);
}

static int
flags_apply(cfg_t *cfg, char *err, size_t errlen)
{
	const struct given	*g;
	const char		*v;
	size_t			 i;

	for (i = 0; i < ngiven; i++) {
		g = &given[i];
		v = g->value != NULL ? g->value : "true";
		switch (g->f->id) {
		case FL_DEBUG_TRACE:
			if (conf_set(cfg, "debug", v, g->where, err,
			    errlen) == -1 || conf_set(cfg, "trace", v, g->where,
			    err, errlen) == -1)
				return -1;
			break;
		case FL_TLS:
		case FL_TLSCERT:
		case FL_TLSKEY:
		case FL_TLSVERIFY:
		case FL_TLSCACERT:
			break;		/* tls_flags_apply() */
		default:
			if (g->f->option != NULL &&
			    conf_set(cfg, g->f->option, v, g->where, err,
			    errlen) == -1)
				return -1;
			break;
		}
	}
	return tls_flags_apply(cfg, err, errlen);
}

/* -t: say whether the configuration is valid, and what it will do. */
static void
test_report(const struct settings *s)
{
	char	why[512];

	if (settings_cluster_enabled(s)) {
		if (s->cluster.port != 0)
			fprintf(stderr, "natsd: cluster: routes on %s:%d, %zu "
			    "route%s to solicit\n", s->cluster.host,
			    s->cluster.port, s->cluster.nroutes,
			    s->cluster.nroutes == 1 ? "" : "s");
		else
			fprintf(stderr, "natsd: cluster: no route listener, "
			    "%zu route%s to solicit\n", s->cluster.nroutes,
			    s->cluster.nroutes == 1 ? "" : "s");
	}
	if (conf_unsupported(s, why, sizeof(why)) == -1)
		fprintf(stderr, "natsd: warning: natsd will not start with "
		    "this configuration: %s\n", why);
	if (config_file != NULL)
		fprintf(stderr, "natsd: configuration file %s is valid\n",
		    config_file);
	else
		fprintf(stderr, "natsd: the flags are valid (no configuration "
		    "file given)\n");
}

/*
 * Load the certificate and key once here, so that -t, a start and a
 * reload refuse unreadable or mismatched TLS material with a message,
 * rather than every worker failing later.  The master builds the
 * context only to check it; TLS sessions live in the workers.
 */
static int
tls_material_check(const struct settings *s, char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	const char	*file;
	char		 why[512];
	int		 line;

	if (!settings_tls_enabled(s))
		return 0;
	if ((ctx = tls_server_ctx(&s->tls, why, sizeof(why))) == NULL) {
		/* Name the block, as every other configuration error does. */
		line = s->cfg != NULL ? conf_block_line(s->cfg, "tls", &file) :
		    0;
		if (line > 0)
			snprintf(err, errlen, "%s:%d: %s", file, line, why);
		else
			strlcpy(err, why, errlen);
		return -1;
	}
	SSL_CTX_free(ctx);
	return 0;
}

int
options_load(struct settings *out, char *err, size_t errlen)
{
	cfg_t	*cfg;
	bool	 first = !loaded;
	long	 n;

	loaded = true;
	memset(out, 0, sizeof(*out));
	cfg = conf_new();
	if (config_file != NULL &&
	    conf_load_file(cfg, config_file, err, errlen) == -1)
		goto fail;
	if (flags_apply(cfg, err, errlen) == -1 ||
	    conf_check(cfg, err, errlen) == -1)
		goto fail;
	settings_defaults(out);
	conf_apply(cfg, out);		/* out->cfg owns cfg from here */
	cfg = NULL;
	if (config_file != NULL)
		out->config_file = xstrdup(config_file);
	if (out->workers == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		out->workers = n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS :
		    (int)n;
	}
	if (settings_check(out, err, errlen) == -1 ||
	    tls_material_check(out, err, errlen) == -1)
		goto fail;
	if (first && test_only) {
		test_report(out);
		exit(0);
	}
	if (first && signal_spec != NULL)
		exit(signal_send(signal_spec, out));
	if (conf_unsupported(out, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	conf_cfg_free(cfg);
	conf_cfg_free(out->cfg);
	out->cfg = NULL;
	settings_free(out);
	if (first && (test_only || signal_spec != NULL)) {
		fprintf(stderr, "natsd: %s\n", err);
		exit(1);
	}
	return -1;
}
