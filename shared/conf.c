/*
 * The configuration schema and the code that fills it.
 *
 * Every option is one row of the *_defs[] tables below: its name, its
 * type, its default, whether a running natsd can take a new value on
 * reload, the check its values must pass and, for the options every role
 * reads, the field of struct settings it lands in.  The libconfuse
 * cfg_opt_t arrays are built from these rows (opts_build()), so an
 * option is declared once; the check becomes the option's libconfuse
 * validation callback (validcb2), which cfg_set*() run before storing a
 * value.  Aliases (net for host, max_pending_size for max_pending, ...)
 * are rows of their own that name the option they stand for.
 *
 * The walk: conf_parse.c gives a tree in file order; walk_map() looks
 * each key up in the table of its block (keys ignore case, as in
 * nats-server), converts the value by the row's type and sets it in the
 * cfg_t.  A later setting of the same key wins, a block given twice is
 * replaced as a whole.  Keys that are not options are errors, except the
 * ones a $VARIABLE used (CONF_F_USED), which nats-server skips the same
 * way.  The command line uses the same setters through conf_set(), with
 * its values turned into tree nodes first.
 *
 * libconfuse's callbacks carry no context of ours, so the walk in
 * progress is reached through walk_cur by conf_errfunc(), which turns a
 * validation callback's cfg_error() into "file:line: option: message".
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_duration.h"
#include "log.h"
#include "natsd.h"
#include "subject.h"
#include "tls.h"

enum conf_type {
	CT_ALIAS,	/* another name of the option in sdef */
	CT_BOOL,
	CT_INT,		/* an integer */
	CT_PORT,	/* a TCP port, 0 for none */
	CT_SIZE,	/* an integer that may have a size suffix (1MB) */
	CT_DURATION,	/* "2m", "500ms", or seconds; kept in milliseconds */
	CT_STR,		/* a string (a number or boolean as written) */
	CT_LISTEN,	/* "host:port" or a port: sets sdef and port_opt */
	CT_LIST,	/* a string or an array of strings */
	CT_PERM,	/* subjects, or { allow deny }: a block sub */
	CT_BLOCK,	/* { ... } with the options sub */
	CT_BLOCKLIST,	/* [ { ... } ... ]: one block per element */
};

/* Where conf_apply() puts an option in struct settings. */
enum conf_field { SF_NONE, SF_STR, SF_INT, SF_SIZE, SF_I64, SF_BOOL };

#define CONF_HIDDEN	0x01	/* set through another option, never by name */
#define CONF_URL	0x02	/* LISTEN: scheme://[user:pass@]host:port too */
#define CONF_REQUIRED	0x04	/* every block of a BLOCKLIST must set it */

struct conf_def {
	const char		*name;
	enum conf_type		 type;
	int			 flags;		/* CONF_* */
	long			 idef;		/* BOOL, number default (ms) */
	const char		*sdef;		/* STR default; ALIAS: the
						   option; LISTEN: the host
						   option */
	const char		*port_opt;	/* LISTEN: the port option */
	enum conf_reload	 reload;
	cfg_validate_callback2_t check;		/* values, and list items */
	enum conf_field		 ftype;
	size_t			 foff;
	const struct conf_def	*sub;		/* PERM, BLOCK, BLOCKLIST */
};

#define SF(f, t)	t, offsetof(struct settings, f)
#define NOF		SF_NONE, 0

/*
 * Rows.  t/docs-test reads the option names from the first argument of
 * these macros, on the line that opens them.
 */
#define NUM(n, t, d, r, c, fld)	\
	{ n, t, 0, d, NULL, NULL, r, c, fld, NULL }
#define BOOL(n, d, r, fld)	\
	{ n, CT_BOOL, 0, d, NULL, NULL, r, NULL, fld, NULL }
#define STR(n, d, r, c, fld)	\
	{ n, CT_STR, 0, 0, d, NULL, r, c, fld, NULL }
#define HIDDEN(n, r, fld)	\
	{ n, CT_STR, CONF_HIDDEN, 0, NULL, NULL, r, NULL, fld, NULL }
#define REQSTR(n, r, c)		\
	{ n, CT_STR, CONF_REQUIRED, 0, NULL, NULL, r, c, NOF, NULL }
#define ALIAS(n, of)		\
	{ n, CT_ALIAS, 0, 0, of, NULL, CONF_LIVE, NULL, NOF, NULL }
#define LISTEN(n, h, p, fl)	\
	{ n, CT_LISTEN, fl, 0, h, p, CONF_RESTART, NULL, NOF, NULL }
#define LIST(n, r, c)		\
	{ n, CT_LIST, 0, 0, NULL, NULL, r, c, NOF, NULL }
#define PERM(n, s)		\
	{ n, CT_PERM, 0, 0, NULL, NULL, CONF_LIVE, NULL, NOF, s }
#define BLOCK(n, s)		\
	{ n, CT_BLOCK, 0, 0, NULL, NULL, CONF_LIVE, NULL, NOF, s }
#define BLOCKS(n, s)		\
	{ n, CT_BLOCKLIST, 0, 0, NULL, NULL, CONF_LIVE, NULL, NOF, s }
#define DEFS_END		\
	{ NULL, CT_ALIAS, 0, 0, NULL, NULL, CONF_LIVE, NULL, NOF, NULL }



#define LIVE		CONF_LIVE
#define RESTART		CONF_RESTART

static int	check_port(cfg_t *, cfg_opt_t *, void *);
static int	check_workers(cfg_t *, cfg_opt_t *, void *);
static int	check_ring_size(cfg_t *, cfg_opt_t *, void *);
static int	check_payload(cfg_t *, cfg_opt_t *, void *);
static int	check_control_line(cfg_t *, cfg_opt_t *, void *);
static int	check_positive(cfg_t *, cfg_opt_t *, void *);
static int	check_nonneg(cfg_t *, cfg_opt_t *, void *);
static int	check_duration(cfg_t *, cfg_opt_t *, void *);
static int	check_nonempty(cfg_t *, cfg_opt_t *, void *);
static int	check_server_name(cfg_t *, cfg_opt_t *, void *);
static int	check_remote_syslog(cfg_t *, cfg_opt_t *, void *);
static int	check_route(cfg_t *, cfg_opt_t *, void *);
static int	check_subject(cfg_t *, cfg_opt_t *, void *);
static int	check_cipher(cfg_t *, cfg_opt_t *, void *);
static int	check_curve(cfg_t *, cfg_opt_t *, void *);

/* publish / subscribe written as a block. */
static const struct conf_def subperm_defs[] = {
	LIST("allow", LIVE, check_subject),
	LIST("deny", LIVE, check_subject),
	DEFS_END
};

/* A user's permissions, and authorization's default_permissions. */
static const struct conf_def perm_defs[] = {
	PERM("publish", subperm_defs),
	ALIAS("pub", "publish"),
	ALIAS("import", "publish"),
	PERM("subscribe", subperm_defs),
	ALIAS("sub", "subscribe"),
	ALIAS("export", "subscribe"),
	DEFS_END
};

/* One element of authorization's users list. */
static const struct conf_def user_defs[] = {
	REQSTR("user", LIVE, check_nonempty),
	ALIAS("username", "user"),
	STR("password", NULL, LIVE, NULL, NOF),
	ALIAS("pass", "password"),
	BLOCK("permissions", perm_defs),
	ALIAS("permission", "permissions"),
	ALIAS("authorization", "permissions"),
	DEFS_END
};

/* authorization { }: who may connect as a client, and what they may do. */
static const struct conf_def auth_defs[] = {
	STR("user", NULL, LIVE, check_nonempty, NOF),
	ALIAS("username", "user"),
	STR("password", NULL, LIVE, NULL, NOF),
	ALIAS("pass", "password"),
	STR("token", NULL, LIVE, check_nonempty, NOF),
	NUM("timeout", CT_DURATION, DEFAULT_AUTH_TIMEOUT_MS, LIVE,
	    check_duration, NOF),
	BLOCKS("users", user_defs),
	BLOCK("default_permissions", perm_defs),
	ALIAS("default_permission", "default_permissions"),
	ALIAS("permissions", "default_permissions"),
	DEFS_END
};

/* cluster { authorization { } }: one user, for routes. */
static const struct conf_def route_auth_defs[] = {
	STR("user", NULL, LIVE, check_nonempty, NOF),
	ALIAS("username", "user"),
	STR("password", NULL, LIVE, NULL, NOF),
	ALIAS("pass", "password"),
	NUM("timeout", CT_DURATION, DEFAULT_AUTH_TIMEOUT_MS, LIVE,
	    check_duration, NOF),
	DEFS_END
};

/* tls { }, for clients and, inside cluster, for routes. */
static const struct conf_def tls_defs[] = {
	STR("cert_file", NULL, LIVE, check_nonempty, NOF),
	STR("key_file", NULL, LIVE, check_nonempty, NOF),
	STR("ca_file", NULL, LIVE, check_nonempty, NOF),
	BOOL("verify", 0, LIVE, NOF),
	BOOL("verify_and_map", 0, LIVE, NOF),
	NUM("timeout", CT_DURATION, DEFAULT_TLS_TIMEOUT_MS, LIVE,
	    check_duration, NOF),
	LIST("cipher_suites", LIVE, check_cipher),
	LIST("curve_preferences", LIVE, check_curve),
	DEFS_END
};

/* cluster { }: route connections to other servers. */
static const struct conf_def cluster_defs[] = {
	STR("name", NULL, LIVE, check_server_name, NOF),
	LISTEN("listen", "host", "port", CONF_URL),
	STR("host", DEFAULT_HOST, RESTART, check_nonempty, NOF),
	NUM("port", CT_PORT, 0, RESTART, check_port, NOF),
	BLOCK("authorization", route_auth_defs),
	LIST("routes", LIVE, check_route),
	BLOCK("tls", tls_defs),
	STR("cluster_advertise", NULL, LIVE, check_nonempty, NOF),
	ALIAS("advertise", "cluster_advertise"),
	BOOL("no_advertise", 0, LIVE, NOF),
	NUM("connect_retries", CT_INT, 0, LIVE, check_nonneg, NOF),
	DEFS_END
};

/* The top level of the file. */
static const struct conf_def global_defs[] = {
	/* clients */
	LISTEN("listen", "host", "port", 0),
	STR("host", DEFAULT_HOST, RESTART, check_nonempty, SF(host, SF_STR)),
	ALIAS("net", "host"),
	NUM("port", CT_PORT, DEFAULT_PORT, RESTART, check_port,
	    SF(port, SF_INT)),
	STR("server_name", NULL, RESTART, check_server_name,
	    SF(server_name, SF_STR)),
	/* monitoring */
	LISTEN("http", "http_host", "http_port", 0),
	NUM("http_port", CT_PORT, 0, RESTART, check_port,
	    SF(http_port, SF_INT)),
	HIDDEN("http_host", RESTART, SF(http_host, SF_STR)),
	ALIAS("monitor_port", "http_port"),
	LISTEN("https", "https_host", "https_port", 0),
	NUM("https_port", CT_PORT, 0, RESTART, check_port,
	    SF(https_port, SF_INT)),
	HIDDEN("https_host", RESTART, SF(https_host, SF_STR)),
	/* processes */
	NUM("workers", CT_INT, 0, RESTART, check_workers,
	    SF(workers, SF_INT)),
	NUM("ring_size", CT_SIZE, DEFAULT_RING_SIZE, RESTART, check_ring_size,
	    SF(ring_size, SF_SIZE)),
	/*
	 * The pid file is created and locked before the children are
	 * forked; moving it live is not implemented.
	 */
	STR("pid_file", NULL, RESTART, check_nonempty, SF(pid_file, SF_STR)),
	/* logging */
	BOOL("debug", 0, LIVE, SF(debug, SF_BOOL)),
	BOOL("trace", 0, LIVE, SF(trace, SF_BOOL)),
	BOOL("logtime", 1, LIVE, SF(logtime, SF_BOOL)),
	STR("log_file", NULL, LIVE, check_nonempty, SF(log_file, SF_STR)),
	ALIAS("logfile", "log_file"),
	BOOL("syslog", 0, LIVE, SF(syslog, SF_BOOL)),
	STR("remote_syslog", NULL, LIVE, check_remote_syslog,
	    SF(remote_syslog, SF_STR)),
	/* limits */
	NUM("max_connections", CT_INT, DEFAULT_MAX_CONNECTIONS, LIVE,
	    check_positive, SF(max_connections, SF_I64)),
	ALIAS("max_conn", "max_connections"),
	NUM("max_control_line", CT_SIZE, DEFAULT_MAX_CONTROL_LINE, LIVE,
	    check_control_line, SF(max_control_line, SF_I64)),
	NUM("max_payload", CT_SIZE, DEFAULT_MAX_PAYLOAD, LIVE, check_payload,
	    SF(max_payload, SF_I64)),
	NUM("max_pending", CT_SIZE, DEFAULT_MAX_PENDING, LIVE, check_positive,
	    SF(max_pending, SF_I64)),
	ALIAS("max_pending_size", "max_pending"),
	NUM("ping_interval", CT_DURATION, DEFAULT_PING_INTERVAL_MS, LIVE,
	    check_duration, SF(ping_interval_ms, SF_I64)),
	NUM("ping_max", CT_INT, DEFAULT_PING_MAX, LIVE, check_nonneg,
	    SF(ping_max, SF_I64)),
	NUM("write_deadline", CT_DURATION, DEFAULT_WRITE_DEADLINE_MS, LIVE,
	    check_duration, SF(write_deadline_ms, SF_I64)),
	/* blocks, implemented by the security and cluster work */
	BLOCK("authorization", auth_defs),
	BLOCK("tls", tls_defs),
	BLOCK("cluster", cluster_defs),
	DEFS_END
};

#define PATH_LEN	256
#define FLAG_ITEMS	64	/* list items one flag may give */

/* A walk in progress: where messages go and what they name. */
struct walk {
	char			*err;
	size_t			 errlen;
	const char		*where;	/* for values not from a file */
	const struct conf_node	*node;	/* the value being set */
	char			 path[PATH_LEN];
};

static struct walk	*walk_cur;	/* for conf_errfunc() */
static cfg_opt_t	*global_opts;	/* built once from global_defs */

static int	set_value(struct walk *, cfg_t *, const struct conf_def *,
		    const struct conf_def *, const struct conf_node *);
static int	walk_map(struct walk *, cfg_t *, const struct conf_def *,
		    const struct conf_node *);

/* Messages */

static int
werr(struct walk *w, const struct conf_node *n, const char *fmt, ...)
{
	char		 msg[512];
	const char	*where;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where = n != NULL && n->file != NULL ? conf_node_where(n) : w->where;
	if (w->path[0] != '\0')
		snprintf(w->err, w->errlen, "%s: %s: %s", where, w->path, msg);
	else
		snprintf(w->err, w->errlen, "%s: %s", where, msg);
	return -1;
}

/*
 * A value of the wrong kind: what was expected ("size": a scalar badly
 * written; "a block": a structure), and what was written.
 */
static int
bad(struct walk *w, const struct conf_node *n, const char *what)
{
	bool		 structure = strncmp(what, "a ", 2) == 0 ||
			    strncmp(what, "an ", 3) == 0;
	const char	*art = structure ? "" :
			    strchr("aeiou", what[0]) != NULL ? "an " : "a ";

	switch (n->kind) {
	case CONF_MAP:
		return werr(w, n, "expected %s%s, got a block", art, what);
	case CONF_ARRAY:
		return werr(w, n, "expected %s%s, got an array", art, what);
	default:
		if (structure)
			return werr(w, n, "expected %s, got \"%s\"", what,
			    n->str != NULL ? n->str : "");
		return werr(w, n, "invalid %s \"%s\"", what,
		    n->str != NULL ? n->str : "");
	}
}

/*
 * libconfuse's error function for every section: the validation
 * callbacks report through cfg_error(), and the message goes to the walk
 * that called cfg_set*().
 */
static void
conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char	msg[512];

	if (walk_cur == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	werr(walk_cur, walk_cur->node, "%s", msg);
}

static size_t
path_push(struct walk *w, const char *key)
{
	size_t	len = strlen(w->path);

	snprintf(w->path + len, sizeof(w->path) - len, "%s%s",
	    len > 0 ? "." : "", key);
	return len;
}

static void
path_pop(struct walk *w, size_t len)
{
	w->path[len] = '\0';
}

/*
 * Validation callbacks: libconfuse validcb2, run by cfg_set*() before a
 * value is stored; value points to a long, or is the string.
 */

static int
range(cfg_t *cfg, long v, long min, long max)
{
	if (v >= min && v <= max)
		return 0;
	cfg_error(cfg, "must be between %ld and %ld (got %ld)", min, max, v);
	return -1;
}

static int
check_port(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return range(cfg, *(long *)value, 0, 65535);
}

static int
check_workers(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return range(cfg, *(long *)value, 1, MAX_WORKERS);
}

static int
check_ring_size(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	/* N*(N+1) are mapped; their pages are used as traffic fills them. */
	return range(cfg, *(long *)value, 4096, 1L << 30);
}

static int
check_payload(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return range(cfg, *(long *)value, 1, INT32_MAX);
}

static int
check_control_line(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return range(cfg, *(long *)value, 32, INT32_MAX);
}

static int
check_positive(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return range(cfg, *(long *)value, 1, LONG_MAX);
}

static int
check_nonneg(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return range(cfg, *(long *)value, 0, LONG_MAX);
}

static int
check_duration(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	if (*(long *)value > 0)
		return 0;
	cfg_error(cfg, "must be longer than 0 (got %ldms)", *(long *)value);
	return -1;
}

static int
check_nonempty(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char	*s = value;

	if (s == NULL || *s != '\0')
		return 0;
	cfg_error(cfg, "must not be empty");
	return -1;
}

static int
check_server_name(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char	*s = value, *p;

	if (check_nonempty(cfg, opt, value) == -1)
		return -1;
	for (p = s; p != NULL && *p != '\0'; p++)
		if (isspace((unsigned char)*p)) {
			cfg_error(cfg, "\"%s\" must not contain spaces", s);
			return -1;
		}
	return 0;
}

static int
check_remote_syslog(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char	*s = value, *why;
	char		 err[256];

	if (s == NULL || log_remote_check(s, err, sizeof(err)) == 0)
		return 0;
	/* log.c says 'remote_syslog "URL": why'; we name the option already. */
	why = strstr(err, "\": ");
	cfg_error(cfg, "invalid address \"%s\": %s", s,
	    why != NULL ? why + 3 : err);
	return -1;
}

/*
 * Take "[scheme://][user[:pass]@]host:port" apart in place (buf is
 * modified).  host may be an IPv6 address in brackets, or empty.  0, or
 * -1 when there is no ":port" or the port is not a number.
 */
static int
split_addr(char *buf, bool url, char **scheme, char **user, char **pass,
    char **host, long *port)
{
	char	*p = buf, *at, *colon, *end, *slash;

	*scheme = *user = *pass = NULL;
	if (url && (p = strstr(buf, "://")) != NULL) {
		*p = '\0';
		*scheme = buf;
		p += 3;
		if ((slash = strchr(p, '/')) != NULL)
			*slash = '\0';
		if ((at = strrchr(p, '@')) != NULL) {
			*at = '\0';
			*user = p;
			if ((colon = strchr(p, ':')) != NULL) {
				*colon = '\0';
				*pass = colon + 1;
			}
			p = at + 1;
		}
	} else if (p == NULL)
		p = buf;
	if ((colon = strrchr(p, ':')) == NULL)
		return -1;
	*colon = '\0';
	errno = 0;
	*port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 ||
	    !isdigit((unsigned char)colon[1]))
		return -1;
	if (p[0] == '[' && colon > p + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		p++;
	}
	*host = p;
	return 0;
}

static int
check_route(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	char	 buf[1024], *scheme, *user, *pass, *host;
	long	 port;

	if (strlen(value) < sizeof(buf)) {
		strlcpy(buf, value, sizeof(buf));
		if (split_addr(buf, true, &scheme, &user, &pass, &host,
		    &port) == 0 && scheme != NULL && *scheme != '\0' &&
		    *host != '\0' && port > 0 && port <= 65535)
			return 0;
	}
	cfg_error(cfg, "invalid route URL \"%s\" (want nats-route://host:port)",
	    (const char *)value);
	return -1;
}

static int
check_subject(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	const char	*s = value, *sp;
	size_t		 len;

	/* "subject" or "subject queue", as nats-server's permissions. */
	sp = strchr(s, ' ');
	len = sp != NULL ? (size_t)(sp - s) : strlen(s);
	if (subject_valid(s, len) && (sp == NULL ||
	    queue_valid(sp + 1, strlen(sp + 1))))
		return 0;
	cfg_error(cfg, "subject \"%s\" is not a valid subject", s);
	return -1;
}

/* Go's names, as nats-server 2.9 accepts them; shared/tls.c maps them. */
static int
name_in(cfg_t *cfg, const char *s, const char *(*names)(size_t),
    const char *what)
{
	const char	*n;
	size_t		 i;

	for (i = 0; (n = names(i)) != NULL; i++)
		if (strcmp(n, s) == 0)
			return 0;
	cfg_error(cfg, "unknown %s \"%s\" (natsd --help_tls lists them)",
	    what, s);
	return -1;
}

static int
check_cipher(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return name_in(cfg, value, tls_cipher_go_name, "cipher suite");
}

static int
check_curve(cfg_t *cfg, cfg_opt_t *opt, void *value)
{
	return name_in(cfg, value, tls_curve_go_name, "curve");
}

/* The schema as libconfuse options */

static cfg_opt_t *
opts_build(const struct conf_def *defs)
{
	cfg_opt_t		*opts, *o;
	const struct conf_def	*d;
	size_t			 n = 0;

	for (d = defs; d->name != NULL; d++)
		n++;
	if ((opts = calloc(n + 1, sizeof(*opts))) == NULL)
		fatal("calloc");
	o = opts;
	for (d = defs; d->name != NULL; d++) {
		switch (d->type) {
		case CT_ALIAS:
			continue;
		case CT_BOOL:
			*o = (cfg_opt_t)CFG_BOOL(d->name,
			    d->idef ? cfg_true : cfg_false, CFGF_NONE);
			break;
		case CT_INT:
		case CT_PORT:
		case CT_SIZE:
		case CT_DURATION:
			*o = (cfg_opt_t)CFG_INT(d->name, d->idef, CFGF_NONE);
			break;
		case CT_STR:
			*o = (cfg_opt_t)CFG_STR(d->name, d->sdef, CFGF_NONE);
			break;
		case CT_LISTEN:
			/* The text as written; its parts go elsewhere. */
			*o = (cfg_opt_t)CFG_STR(d->name, NULL, CFGF_NONE);
			break;
		case CT_LIST:
			*o = (cfg_opt_t)CFG_STR_LIST(d->name, NULL, CFGF_NONE);
			break;
		case CT_PERM:
		case CT_BLOCK:
			*o = (cfg_opt_t)CFG_SEC(d->name, opts_build(d->sub),
			    CFGF_NONE);
			break;
		case CT_BLOCKLIST:
			*o = (cfg_opt_t)CFG_SEC(d->name, opts_build(d->sub),
			    CFGF_MULTI);
			break;
		}
		/* Lists are checked item by item by set_list(). */
		if (d->type != CT_LIST)
			o->validcb2 = d->check;
		o++;
	}
	*o = (cfg_opt_t)CFG_END();
	return opts;
}

static void
errfunc_all(cfg_t *sec)
{
	cfg_opt_t	*o;
	unsigned int	 i, j;

	cfg_set_error_function(sec, conf_errfunc);
	for (i = 0; i < cfg_num(sec); i++) {
		o = cfg_getnopt(sec, i);
		if (o->type == CFGT_SEC)
			for (j = 0; j < cfg_opt_size(o); j++)
				errfunc_all(cfg_opt_getnsec(o, j));
	}
}

cfg_t *
conf_new(void)
{
	cfg_t	*cfg;

	if (global_opts == NULL)
		global_opts = opts_build(global_defs);
	if ((cfg = cfg_init(global_opts, CFGF_NONE)) == NULL)
		fatal("cfg_init");
	errfunc_all(cfg);
	return cfg;
}

void
conf_cfg_free(void *cfg)
{
	if (cfg != NULL)
		cfg_free(cfg);
}

static const struct conf_def *
def_find(const struct conf_def *defs, const char *name)
{
	const struct conf_def	*d;

	for (d = defs; d->name != NULL; d++)
		if (strcasecmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* An alias's option (aliases name options of their own table). */
static const struct conf_def *
def_resolve(const struct conf_def *defs, const struct conf_def *d)
{
	if (d != NULL && d->type == CT_ALIAS)
		d = def_find(defs, d->sdef);
	return d;
}

/* Setting values */

static int
set_int(struct walk *w, cfg_t *sec, const char *name, long v)
{
	return cfg_setint(sec, name, v) == CFG_SUCCESS ? 0 : -1;
}

static int
set_str(struct walk *w, cfg_t *sec, const char *name, const char *v)
{
	return cfg_setstr(sec, name, v) == CFG_SUCCESS ? 0 : -1;
}

/*
 * A block back to its defaults: libconfuse creates a section with its
 * defaults only while the option lacks CFGF_DEFINIT, which the first
 * creation set.
 */
static cfg_t *
block_reset(cfg_t *sec, const char *name)
{
	cfg_opt_t	*o = cfg_getopt(sec, name);
	cfg_t		*sub;

	cfg_free_value(o);
	o->flags &= ~CFGF_DEFINIT;
	if (cfg_setopt(sec, o, NULL) == NULL ||
	    (sub = cfg_getsec(sec, name)) == NULL)
		fatal("cfg_setopt %s", name);
	errfunc_all(sub);
	return sub;
}

/* Remember where a block was written, for conf_check()'s messages. */
static void
block_where(cfg_t *sub, const struct conf_node *n)
{
	if (n->file == NULL)
		return;
	free(sub->filename);
	if ((sub->filename = strdup(n->file)) == NULL)
		fatal("strdup");
	sub->line = n->line;
}

static int
set_list(struct walk *w, cfg_t *sec, const struct conf_def *d,
    const struct conf_node *n)
{
	const struct conf_node	*e;
	cfg_opt_t		*o = cfg_getopt(sec, d->name);

	if (n->kind == CONF_MAP)
		return bad(w, n, "a string or an array of strings");
	if (n->kind == CONF_ARRAY) {
		for (e = n->first; e != NULL; e = e->next) {
			if (e->kind == CONF_MAP || e->kind == CONF_ARRAY)
				return bad(w, e, "a string");
			w->node = e;
			if (d->check != NULL && d->check(sec, o, e->str) != 0)
				return -1;
		}
	} else {
		w->node = n;
		if (d->check != NULL && d->check(sec, o, n->str) != 0)
			return -1;
	}
	cfg_free_value(o);
	if (n->kind != CONF_ARRAY)
		return cfg_addlist(sec, d->name, 1, n->str) == 0 ? 0 : -1;
	for (e = n->first; e != NULL; e = e->next)
		if (cfg_addlist(sec, d->name, 1, e->str) != 0)
			return -1;
	return 0;
}

/*
 * listen, http, https, cluster listen: "host:port", "[::1]:port",
 * ":port" (every address) or a port alone; with CONF_URL also
 * nats://[user:pass@]host:port, whose user and password are the route
 * credentials (as nats-server's --cluster).
 */
static int
set_listen(struct walk *w, cfg_t *sec, const struct conf_def *defs,
    const struct conf_def *d, const struct conf_node *n)
{
	const struct conf_def	*hd = def_find(defs, d->sdef);
	char			 buf[1024], *scheme, *user, *pass, *host;
	long			 port;
	cfg_t			*auth;

	if (n->kind == CONF_INT)
		return set_int(w, sec, d->port_opt, n->i);
	if (n->kind != CONF_STRING || strlen(n->str) >= sizeof(buf))
		return bad(w, n, "address (host:port)");
	strlcpy(buf, n->str, sizeof(buf));
	if (split_addr(buf, d->flags & CONF_URL, &scheme, &user, &pass,
	    &host, &port) == -1)
		return bad(w, n, "address (host:port)");
	if (set_int(w, sec, d->port_opt, port) == -1 ||
	    set_str(w, sec, hd->name, *host != '\0' ? host : hd->sdef) == -1 ||
	    set_str(w, sec, d->name, n->str) == -1)
		return -1;
	if (user != NULL) {
		auth = cfg_getsec(sec, "authorization");
		if (set_str(w, auth, "user", user) == -1 ||
		    (pass != NULL && set_str(w, auth, "password", pass) == -1))
			return -1;
	}
	return 0;
}

static int
set_blocklist(struct walk *w, cfg_t *sec, const struct conf_def *d,
    const struct conf_node *n)
{
	const struct conf_node	*e;
	const struct conf_def	*r;
	cfg_opt_t		*o = cfg_getopt(sec, d->name);
	cfg_value_t		*v;

	if (n->kind != CONF_ARRAY)
		return bad(w, n, "an array of blocks");
	cfg_free_value(o);
	for (e = n->first; e != NULL; e = e->next) {
		if (e->kind != CONF_MAP)
			return bad(w, e, "a block");
		if ((v = cfg_setopt(sec, o, NULL)) == NULL)
			fatal("cfg_setopt %s", d->name);
		errfunc_all(v->section);
		block_where(v->section, e);
		if (walk_map(w, v->section, d->sub, e) == -1)
			return -1;
		for (r = d->sub; r->name != NULL; r++)
			if ((r->flags & CONF_REQUIRED) &&
			    cfg_getstr(v->section, r->name) == NULL)
				return werr(w, e, "an entry needs a %s",
				    r->name);
	}
	return 0;
}

/* The value n of option d (of the table defs) into section sec. */
static int
set_value(struct walk *w, cfg_t *sec, const struct conf_def *defs,
    const struct conf_def *d, const struct conf_node *n)
{
	cfg_t	*sub;
	int64_t	 ms;

	w->node = n;
	switch (d->type) {
	case CT_ALIAS:
		return set_value(w, sec, defs, def_resolve(defs, d), n);
	case CT_BOOL:
		if (n->kind != CONF_BOOL)
			return bad(w, n, "boolean");
		return cfg_setbool(sec, d->name, n->b ? cfg_true : cfg_false)
		    == CFG_SUCCESS ? 0 : -1;
	case CT_INT:
		if (n->kind != CONF_INT)
			return bad(w, n, "number");
		return set_int(w, sec, d->name, n->i);
	case CT_PORT:
		if (n->kind != CONF_INT)
			return bad(w, n, "port");
		return set_int(w, sec, d->name, n->i);
	case CT_SIZE:
		if (n->kind != CONF_INT || n->i < 0)
			return bad(w, n, "size");
		return set_int(w, sec, d->name, n->i);
	case CT_DURATION:
		if (conf_value_duration_ms(n, &ms) == -1 || ms < 0)
			return bad(w, n, "duration");
		return set_int(w, sec, d->name, ms);
	case CT_STR:
		if (n->kind == CONF_MAP || n->kind == CONF_ARRAY)
			return bad(w, n, "a string");
		return set_str(w, sec, d->name, n->str);
	case CT_LISTEN:
		return set_listen(w, sec, defs, d, n);
	case CT_LIST:
		return set_list(w, sec, d, n);
	case CT_PERM:
		sub = block_reset(sec, d->name);
		block_where(sub, n);
		if (n->kind == CONF_MAP)
			return walk_map(w, sub, d->sub, n);
		return set_list(w, sub, def_find(d->sub, "allow"), n);
	case CT_BLOCK:
		if (n->kind != CONF_MAP)
			return bad(w, n, "a block");
		sub = block_reset(sec, d->name);
		block_where(sub, n);
		return walk_map(w, sub, d->sub, n);
	case CT_BLOCKLIST:
		return set_blocklist(w, sec, d, n);
	}
	return -1;
}

static int
walk_map(struct walk *w, cfg_t *sec, const struct conf_def *defs,
    const struct conf_node *map)
{
	const struct conf_node	*m;
	const struct conf_def	*d;
	size_t			 len;
	int			 rc;

	for (m = map->first; m != NULL; m = m->next) {
		d = def_find(defs, m->key);
		if (d == NULL || (d->flags & CONF_HIDDEN)) {
			/* A variable, as nats-server allows. */
			if (m->flags & CONF_F_USED)
				continue;
			return werr(w, m, "unknown option \"%s\"", m->key);
		}
		len = path_push(w, m->key);
		rc = set_value(w, sec, defs, d, m);
		path_pop(w, len);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
walk_begin(struct walk *w, char *err, size_t errlen, const char *where)
{
	memset(w, 0, sizeof(*w));
	w->err = err;
	w->errlen = errlen;
	w->where = where;
	if (errlen > 0)
		err[0] = '\0';
	walk_cur = w;
	return 0;
}

static int
walk_end(struct walk *w, int rc)
{
	walk_cur = NULL;
	if (rc == -1 && w->errlen > 0 && w->err[0] == '\0')
		snprintf(w->err, w->errlen, "%s: %s: invalid value",
		    w->where != NULL ? w->where : "?", w->path);
	return rc;
}

int
conf_load_tree(cfg_t *cfg, const struct conf_node *root, char *err,
    size_t errlen)
{
	struct walk	w;

	walk_begin(&w, err, errlen, "configuration");
	return walk_end(&w, walk_map(&w, cfg, global_defs, root));
}

int
conf_load_file(cfg_t *cfg, const char *path, char *err, size_t errlen)
{
	struct conf_node	*root;
	int			 rc;

	if (conf_parse_file(path, &root, err, errlen) == -1)
		return -1;
	rc = conf_load_tree(cfg, root, err, errlen);
	conf_free(root);
	return rc;
}

int
conf_load_string(cfg_t *cfg, const char *text, const char *name, char *err,
    size_t errlen)
{
	struct conf_node	*root;
	int			 rc;

	if (conf_parse_string(text, name, &root, err, errlen) == -1)
		return -1;
	rc = conf_load_tree(cfg, root, err, errlen);
	conf_free(root);
	return rc;
}

/*
 * Find an option by its dotted path: the section holding it and the
 * table it is a row of.  NULL when there is no such option.
 */
static const struct conf_def *
path_find(cfg_t *cfg, const char *path, cfg_t **secp,
    const struct conf_def **defsp)
{
	const struct conf_def	*defs = global_defs, *d;
	char			 buf[PATH_LEN], *p, *dot;
	cfg_t			*sec = cfg;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return NULL;
	for (p = buf; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
		*dot = '\0';
		d = def_resolve(defs, def_find(defs, p));
		if (d == NULL || d->type != CT_BLOCK)
			return NULL;
		if (sec != NULL)
			sec = cfg_getsec(sec, d->name);
		defs = d->sub;
	}
	if (secp != NULL)
		*secp = sec;
	if (defsp != NULL)
		*defsp = defs;
	return def_find(defs, p);
}

static bool
parse_bool(const char *s, bool *b)
{
	static const char *const t[] = { "true", "1", "yes", "on", NULL };
	static const char *const f[] = { "false", "0", "no", "off", NULL };
	int	i;

	for (i = 0; t[i] != NULL; i++) {
		if (strcasecmp(s, t[i]) == 0) {
			*b = true;
			return true;
		}
		if (strcasecmp(s, f[i]) == 0) {
			*b = false;
			return true;
		}
	}
	return false;
}

static void
flag_node(struct conf_node *n, char *s)
{
	char	*end;
	long	 v;

	memset(n, 0, sizeof(*n));
	n->kind = CONF_STRING;
	n->str = s;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s != '\0' && *end == '\0' && errno == 0) {
		n->kind = CONF_INT;
		n->i = v;
	}
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
conf_set(cfg_t *cfg, const char *path, const char *value, const char *where,
    char *err, size_t errlen)
{
	const struct conf_def	*defs, *d;
	struct conf_node	 n, items[FLAG_ITEMS];
	struct walk		 w;
	cfg_t			*sec;
	char			 buf[4096], *p, *comma;
	size_t			 i;
	bool			 b;

	walk_begin(&w, err, errlen, where);
	strlcpy(w.path, path, sizeof(w.path));
	if ((d = path_find(cfg, path, &sec, &defs)) == NULL) {
		werr(&w, NULL, "no such option");
		return walk_end(&w, -1);
	}
	d = def_resolve(defs, d);
	if (strlcpy(buf, value, sizeof(buf)) >= sizeof(buf)) {
		werr(&w, NULL, "value too long");
		return walk_end(&w, -1);
	}
	memset(&n, 0, sizeof(n));
	if (d->type == CT_BOOL) {
		n.kind = CONF_STRING;
		n.str = buf;
		if (parse_bool(buf, &b)) {
			n.kind = CONF_BOOL;
			n.b = b;
		}
	} else if (d->type == CT_LIST) {
		/* "a, b, c", as nats-server's --routes */
		n.kind = CONF_ARRAY;
		for (p = buf, i = 0; p != NULL; p = comma, i++) {
			if ((comma = strchr(p, ',')) != NULL)
				*comma++ = '\0';
			if (i == FLAG_ITEMS) {
				werr(&w, NULL, "more than %d items",
				    FLAG_ITEMS);
				return walk_end(&w, -1);
			}
			memset(&items[i], 0, sizeof(items[i]));
			items[i].kind = CONF_STRING;
			items[i].str = trim(p);
			if (i > 0)
				items[i - 1].next = &items[i];
			else
				n.first = &items[0];
			n.count = i + 1;
		}
	} else
		flag_node(&n, buf);
	return walk_end(&w, set_value(&w, sec, defs, d, &n));
}

void
conf_reset(cfg_t *cfg, const char *block)
{
	const struct conf_def	*d;
	cfg_t			*sec;

	if ((d = path_find(cfg, block, &sec, NULL)) != NULL &&
	    d->type == CT_BLOCK)
		block_reset(sec, d->name);
}

/* Is any option of the section (or of its blocks) set? */
static bool
sec_set(cfg_t *sec)
{
	cfg_opt_t	*o;
	unsigned int	 i, j;

	for (i = 0; i < cfg_num(sec); i++) {
		o = cfg_getnopt(sec, i);
		if (o->type != CFGT_SEC) {
			if ((o->flags & CFGF_MODIFIED) && cfg_opt_size(o) > 0)
				return true;
		} else if (o->flags & CFGF_MULTI) {
			if (cfg_opt_size(o) > 0)
				return true;
		} else
			for (j = 0; j < cfg_opt_size(o); j++)
				if (sec_set(cfg_opt_getnsec(o, j)))
					return true;
	}
	return false;
}

int
conf_block_line(cfg_t *cfg, const char *block, const char **file)
{
	cfg_t *sec = cfg_getsec(cfg, block);

	*file = NULL;
	if (sec == NULL || sec->filename == NULL)
		return 0;
	*file = sec->filename;
	return sec->line;
}

bool
conf_block_set(cfg_t *cfg, const char *block)
{
	const struct conf_def	*d;
	cfg_t			*sec;

	if ((d = path_find(cfg, block, &sec, NULL)) == NULL ||
	    d->type != CT_BLOCK || sec == NULL)
		return false;
	return sec_set(cfg_getsec(sec, d->name));
}

/* Checks between options */

static int
block_err(cfg_t *sec, const char *name, char *err, size_t errlen,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sec->filename != NULL)
		snprintf(err, errlen, "%s:%d: %s: %s", sec->filename,
		    sec->line, name, msg);
	else
		snprintf(err, errlen, "%s: %s", name, msg);
	return -1;
}

static int
check_tls_block(cfg_t *tls, const char *name, char *err, size_t errlen)
{
	if (!sec_set(tls))
		return 0;
	if (cfg_getstr(tls, "cert_file") == NULL)
		return block_err(tls, name, err, errlen,
		    "cert_file is required");
	if (cfg_getstr(tls, "key_file") == NULL)
		return block_err(tls, name, err, errlen,
		    "key_file is required");
	return 0;
}

int
conf_check(cfg_t *cfg, char *err, size_t errlen)
{
	cfg_t		*auth = cfg_getsec(cfg, "authorization");
	cfg_t		*cluster = cfg_getsec(cfg, "cluster");
	bool		 user, token, users;

	/* nats-server's rules: one way of authenticating clients. */
	user = cfg_getstr(auth, "user") != NULL ||
	    cfg_getstr(auth, "password") != NULL;
	token = cfg_getstr(auth, "token") != NULL;
	users = cfg_size(auth, "users") > 0;
	if (user && token)
		return block_err(auth, "authorization", err, errlen,
		    "cannot have a user/password and a token");
	if (users && cfg_getstr(auth, "user") != NULL)
		return block_err(auth, "authorization", err, errlen,
		    "cannot have a single user/password and a users array");
	if (users && token)
		return block_err(auth, "authorization", err, errlen,
		    "cannot have a token and a users array");
	if (check_tls_block(cfg_getsec(cfg, "tls"), "tls", err, errlen) == -1 ||
	    check_tls_block(cfg_getsec(cluster, "tls"), "cluster.tls", err,
	    errlen) == -1)
		return -1;
	return 0;
}

/* Into struct settings */

#define FIELD(s, d, type)	((type *)(void *)((char *)(s) + (d)->foff))

static void
replace(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	if (v != NULL && (*dst = strdup(v)) == NULL)
		fatal("strdup");
}

/* The security blocks, as plain data for the roles (struct settings). */

static char **
strv_get(cfg_t *sec, const char *name, size_t *n)
{
	char	**v;
	size_t	  i;

	*n = cfg_size(sec, name);
	if (*n == 0)
		return NULL;
	if ((v = calloc(*n, sizeof(*v))) == NULL)
		fatal("calloc");
	for (i = 0; i < *n; i++)
		if ((v[i] = strdup(cfg_getnstr(sec, name, (unsigned)i))) == NULL)
			fatal("strdup");
	return v;
}

/* "subject" or "subject queue" (check_subject() has vetted it). */
static void
perm_list_get(cfg_t *sec, const char *name, struct perm_list *l)
{
	const char	*r, *sp;
	size_t		 i;

	l->n = cfg_size(sec, name);
	if (l->n == 0)
		return;
	if ((l->rules = calloc(l->n, sizeof(*l->rules))) == NULL)
		fatal("calloc");
	for (i = 0; i < l->n; i++) {
		r = cfg_getnstr(sec, name, (unsigned)i);
		if ((sp = strchr(r, ' ')) != NULL) {
			l->rules[i].subject = strndup(r, (size_t)(sp - r));
			l->rules[i].queue = strdup(sp + 1);
			if (l->rules[i].queue == NULL)
				fatal("strdup");
		} else
			l->rules[i].subject = strdup(r);
		if (l->rules[i].subject == NULL)
			fatal("strdup");
	}
}

static struct permissions *
perms_get(cfg_t *sec)
{
	struct permissions	*p;

	if (sec == NULL || !sec_set(sec))
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	perm_list_get(cfg_getsec(sec, "publish"), "allow", &p->pub.allow);
	perm_list_get(cfg_getsec(sec, "publish"), "deny", &p->pub.deny);
	perm_list_get(cfg_getsec(sec, "subscribe"), "allow", &p->sub.allow);
	perm_list_get(cfg_getsec(sec, "subscribe"), "deny", &p->sub.deny);
	return p;
}

static char *
str_get(cfg_t *sec, const char *name)
{
	const char	*v = cfg_getstr(sec, name);
	char		*d;

	if (v == NULL)
		return NULL;
	if ((d = strdup(v)) == NULL)
		fatal("strdup");
	return d;
}

static void
apply_auth(cfg_t *sec, struct auth_settings *a)
{
	cfg_t	*u;
	size_t	 i;

	settings_auth_free(a);
	a->user = str_get(sec, "user");
	a->password = str_get(sec, "password");
	a->token = str_get(sec, "token");
	a->timeout_ms = cfg_getint(sec, "timeout");
	a->default_perms = perms_get(cfg_getsec(sec, "default_permissions"));
	a->nusers = cfg_size(sec, "users");
	if (a->nusers == 0)
		return;
	if ((a->users = calloc(a->nusers, sizeof(*a->users))) == NULL)
		fatal("calloc");
	for (i = 0; i < a->nusers; i++) {
		u = cfg_getnsec(sec, "users", (unsigned)i);
		a->users[i].user = str_get(u, "user");
		a->users[i].password = str_get(u, "password");
		a->users[i].perms = perms_get(cfg_getsec(u, "permissions"));
	}
}

static void
apply_tls(cfg_t *sec, struct tls_settings *t)
{
	settings_tls_free(t);
	t->timeout_ms = cfg_getint(sec, "timeout");
	if (!sec_set(sec))
		return;
	t->cert_file = str_get(sec, "cert_file");
	t->key_file = str_get(sec, "key_file");
	t->ca_file = str_get(sec, "ca_file");
	t->verify = cfg_getbool(sec, "verify");
	t->verify_and_map = cfg_getbool(sec, "verify_and_map");
	t->cipher_suites = strv_get(sec, "cipher_suites", &t->ncipher_suites);
	t->curve_preferences = strv_get(sec, "curve_preferences",
	    &t->ncurve_preferences);
}

static void
apply_cluster(cfg_t *sec, struct cluster_settings *c)
{
	cfg_t	*auth = cfg_getsec(sec, "authorization");

	settings_cluster_free(c);
	c->name = str_get(sec, "name");
	c->host = str_get(sec, "host");
	c->port = (int)cfg_getint(sec, "port");
	c->routes = strv_get(sec, "routes", &c->nroutes);
	c->user = str_get(auth, "user");
	c->password = str_get(auth, "password");
	c->auth_timeout_ms = cfg_getint(auth, "timeout");
	apply_tls(cfg_getsec(sec, "tls"), &c->tls);
	c->advertise = str_get(sec, "cluster_advertise");
	c->no_advertise = cfg_getbool(sec, "no_advertise");
	c->connect_retries = cfg_getint(sec, "connect_retries");
}

void
conf_apply(cfg_t *cfg, struct settings *s)
{
	const struct conf_def	*d;

	for (d = global_defs; d->name != NULL; d++) {
		switch (d->ftype) {
		case SF_NONE:
			break;
		case SF_STR:
			replace(FIELD(s, d, char *), cfg_getstr(cfg, d->name));
			break;
		case SF_INT:
			*FIELD(s, d, int) = (int)cfg_getint(cfg, d->name);
			break;
		case SF_SIZE:
			*FIELD(s, d, size_t) = (size_t)cfg_getint(cfg, d->name);
			break;
		case SF_I64:
			*FIELD(s, d, int64_t) = cfg_getint(cfg, d->name);
			break;
		case SF_BOOL:
			*FIELD(s, d, bool) = cfg_getbool(cfg, d->name);
			break;
		}
	}
	/* Monitoring listens where clients do unless http names a host. */
	if (s->http_port != 0 && s->http_host == NULL)
		replace(&s->http_host, s->host);
	if (s->https_port != 0 && s->https_host == NULL)
		replace(&s->https_host, s->host);
	apply_auth(cfg_getsec(cfg, "authorization"), &s->auth);
	apply_tls(cfg_getsec(cfg, "tls"), &s->tls);
	apply_cluster(cfg_getsec(cfg, "cluster"), &s->cluster);
	s->cfg = cfg;
}

/* What this natsd does not do yet, or cannot do as configured */

int
conf_unsupported(const struct settings *s, char *err, size_t errlen)
{
	/* HTTPS monitoring serves the tls block's certificate (as nats-server). */
	if (s->https_port != 0 && !settings_tls_enabled(s)) {
		snprintf(err, errlen, "https_port needs a tls block with "
		    "cert_file and key_file");
		return -1;
	}
	return 0;
}

/* Reload */

static int
refuse(char *err, size_t errlen, const char *path, const char *o,
    const char *n)
{
	snprintf(err, errlen, "%s: cannot change on reload (%s -> %s); "
	    "restart natsd", path, o, n);
	return -1;
}

/* Compare the options of two sections of the same block, recursively. */
static int
diff_sec(const struct conf_def *defs, cfg_t *o, cfg_t *n, char *prefix,
    size_t plen, char *err, size_t errlen)
{
	const struct conf_def	*d;
	char			 a[64], b[64];
	const char		*sa, *sb;
	size_t			 len = strlen(prefix);

	for (d = defs; d->name != NULL; d++) {
		snprintf(prefix + len, plen - len, "%s%s", len ? "." : "",
		    d->name);
		if (d->type == CT_BLOCK) {
			if (diff_sec(d->sub, cfg_getsec(o, d->name),
			    cfg_getsec(n, d->name), prefix, plen, err,
			    errlen) == -1)
				return -1;
			continue;
		}
		if (d->reload != CONF_RESTART || d->type == CT_LISTEN ||
		    d->type == CT_ALIAS)
			continue;
		switch (d->type) {
		case CT_STR:
			sa = cfg_getstr(o, d->name);
			sb = cfg_getstr(n, d->name);
			if ((sa == NULL) != (sb == NULL) ||
			    (sa != NULL && strcmp(sa, sb) != 0))
				return refuse(err, errlen, prefix,
				    sa ? sa : "none", sb ? sb : "none");
			break;
		case CT_INT:
		case CT_PORT:
		case CT_SIZE:
		case CT_DURATION:
			if (cfg_getint(o, d->name) != cfg_getint(n, d->name)) {
				snprintf(a, sizeof(a), "%ld",
				    cfg_getint(o, d->name));
				snprintf(b, sizeof(b), "%ld",
				    cfg_getint(n, d->name));
				return refuse(err, errlen, prefix, a, b);
			}
			break;
		default:
			break;
		}
	}
	prefix[len] = '\0';
	return 0;
}

int
conf_reload_diff(const struct settings *o, const struct settings *n,
    char *err, size_t errlen)
{
	const struct conf_def	*d;
	char			 a[64], b[64], prefix[PATH_LEN];
	const char		*sa, *sb;

	/* The router process exists only when the server is in a cluster. */
	if (settings_cluster_enabled(o) != settings_cluster_enabled(n))
		return refuse(err, errlen, "cluster",
		    settings_cluster_enabled(o) ? "routes" : "none",
		    settings_cluster_enabled(n) ? "routes" : "none");
	/*
	 * The scalars as the settings hold them (workers resolved, ring_size
	 * rounded), the blocks from their cfg_t.
	 */
	for (d = global_defs; d->name != NULL; d++) {
		if (d->reload != CONF_RESTART || d->ftype == SF_NONE)
			continue;
		switch (d->ftype) {
		case SF_STR:
			sa = *FIELD(o, d, char *);
			sb = *FIELD(n, d, char *);
			/* No server_name: the running one stays (reload.c). */
			if (sb == NULL && strcmp(d->name, "server_name") == 0)
				continue;
			/* http_host follows host while http names none. */
			if ((sa == NULL) != (sb == NULL) ||
			    (sa != NULL && strcmp(sa, sb) != 0))
				return refuse(err, errlen, d->name,
				    sa ? sa : "none", sb ? sb : "none");
			continue;
		case SF_INT:
			snprintf(a, sizeof(a), "%d", *FIELD(o, d, int));
			snprintf(b, sizeof(b), "%d", *FIELD(n, d, int));
			break;
		case SF_SIZE:
			snprintf(a, sizeof(a), "%zu", *FIELD(o, d, size_t));
			snprintf(b, sizeof(b), "%zu", *FIELD(n, d, size_t));
			break;
		case SF_I64:
			snprintf(a, sizeof(a), "%lld",
			    (long long)*FIELD(o, d, int64_t));
			snprintf(b, sizeof(b), "%lld",
			    (long long)*FIELD(n, d, int64_t));
			break;
		case SF_BOOL:
			snprintf(a, sizeof(a), "%s",
			    *FIELD(o, d, bool) ? "true" : "false");
			snprintf(b, sizeof(b), "%s",
			    *FIELD(n, d, bool) ? "true" : "false");
			break;
		case SF_NONE:
			continue;
		}
		if (strcmp(a, b) != 0)
			return refuse(err, errlen, d->name, a, b);
	}
	if (o->cfg == NULL || n->cfg == NULL)
		return 0;
	for (d = global_defs; d->name != NULL; d++) {
		if (d->type != CT_BLOCK)
			continue;
		strlcpy(prefix, d->name, sizeof(prefix));
		if (diff_sec(d->sub, cfg_getsec(o->cfg, d->name),
		    cfg_getsec(n->cfg, d->name), prefix, sizeof(prefix), err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

int
conf_reload_class(const char *path)
{
	const struct conf_def	*d, *defs;

	if ((d = path_find(NULL, path, NULL, &defs)) == NULL)
		return -1;
	d = def_resolve(defs, d);
	return d != NULL ? (int)d->reload : -1;
}

void
conf_tls_help(FILE *fp)
{
	const char	*n;
	size_t		 i;

	fprintf(fp,
	    "\nTLS is configured in the tls block of a configuration file:\n"
	    "\n"
	    "    tls {\n"
	    "        cert_file:      \"./certs/server-cert.pem\"\n"
	    "        key_file:       \"./certs/server-key.pem\"\n"
	    "        ca_file:        \"./certs/ca.pem\"\n"
	    "        verify:         true\n"
	    "        timeout:        2\n"
	    "\n"
	    "        cipher_suites: [\n"
	    "            \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\",\n"
	    "            \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"\n"
	    "        ]\n"
	    "        curve_preferences: [\n"
	    "            \"CurveP256\",\n"
	    "            \"CurveP384\",\n"
	    "            \"CurveP521\"\n"
	    "        ]\n"
	    "    }\n"
	    "\n"
	    "or with the flags --tls, --tlscert, --tlskey, --tlsverify and "
	    "--tlscacert.\n"
	    "\nAvailable cipher suites include:\n");
	for (i = 0; (n = tls_cipher_go_name(i)) != NULL; i++)
		fprintf(fp, "    %s\n", n);
	fprintf(fp, "\nAvailable curve preferences include:\n");
	for (i = 0; (n = tls_curve_go_name(i)) != NULL; i++)
		fprintf(fp, "    %s\n", n);
	fprintf(fp, "\n");
}
