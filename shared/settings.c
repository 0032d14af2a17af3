#include "config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "natsd.h"
#include "settings.h"

void
settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->host = strdup(DEFAULT_HOST);
	s->port = DEFAULT_PORT;
	s->workers = 0;		/* 0: online CPUs */
	s->ring_size = DEFAULT_RING_SIZE;
	s->logtime = true;
	s->max_payload = DEFAULT_MAX_PAYLOAD;
	s->max_control_line = DEFAULT_MAX_CONTROL_LINE;
	s->max_connections = DEFAULT_MAX_CONNECTIONS;
	s->max_pending = DEFAULT_MAX_PENDING;
	s->ping_interval_ms = DEFAULT_PING_INTERVAL_MS;
	s->ping_max = DEFAULT_PING_MAX;
	s->write_deadline_ms = DEFAULT_WRITE_DEADLINE_MS;
	s->auth.timeout_ms = DEFAULT_AUTH_TIMEOUT_MS;
	s->tls.timeout_ms = DEFAULT_TLS_TIMEOUT_MS;
}

/*
 * The fields a reload hands from the master to the children, and that
 * settings_free() releases: one table, so a field added to struct
 * settings is added here once.
 */
enum field_type { F_STR, F_INT, F_I64, F_SIZE, F_BOOL };

struct field {
	const char	*name;
	enum field_type	 type;
	size_t		 off;
};

#define FIELD(name, type)	{ #name, type, offsetof(struct settings, name) }
static const struct field fields[] = {
	FIELD(host, F_STR),
	FIELD(port, F_INT),
	FIELD(server_name, F_STR),
	FIELD(workers, F_INT),
	FIELD(ring_size, F_SIZE),
	FIELD(pid_file, F_STR),
	FIELD(log_file, F_STR),
	FIELD(debug, F_BOOL),
	FIELD(trace, F_BOOL),
	FIELD(logtime, F_BOOL),
	FIELD(syslog, F_BOOL),
	FIELD(remote_syslog, F_STR),
	FIELD(http_host, F_STR),
	FIELD(http_port, F_INT),
	FIELD(https_host, F_STR),
	FIELD(https_port, F_INT),
	FIELD(max_payload, F_I64),
	FIELD(max_control_line, F_I64),
	FIELD(max_connections, F_I64),
	FIELD(max_pending, F_I64),
	FIELD(ping_interval_ms, F_I64),
	FIELD(ping_max, F_I64),
	FIELD(write_deadline_ms, F_I64),
	FIELD(config_file, F_STR),
};
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

#define AT(s, f, type)	((type *)(void *)((char *)(s) + (f)->off))

bool
settings_auth_required(const struct settings *s)
{
	const struct auth_settings *a = &s->auth;

	return a->user != NULL || a->password != NULL || a->token != NULL ||
	    a->nusers > 0;
}

bool
settings_tls_enabled(const struct settings *s)
{
	return s->tls.cert_file != NULL;
}

static void
perm_list_free(struct perm_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->rules[i].subject);
		free(l->rules[i].queue);
	}
	free(l->rules);
	l->rules = NULL;
	l->n = 0;
}

void
permissions_free(struct permissions *p)
{
	if (p == NULL)
		return;
	perm_list_free(&p->pub.allow);
	perm_list_free(&p->pub.deny);
	perm_list_free(&p->sub.allow);
	perm_list_free(&p->sub.deny);
	free(p);
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
settings_auth_free(struct auth_settings *a)
{
	size_t i;

	free(a->user);
	free(a->password);
	free(a->token);
	for (i = 0; i < a->nusers; i++) {
		free(a->users[i].user);
		free(a->users[i].password);
		permissions_free(a->users[i].perms);
	}
	free(a->users);
	permissions_free(a->default_perms);
	memset(a, 0, sizeof(*a));
}

void
settings_tls_free(struct tls_settings *t)
{
	free(t->cert_file);
	free(t->key_file);
	free(t->ca_file);
	strv_free(t->cipher_suites, t->ncipher_suites);
	strv_free(t->curve_preferences, t->ncurve_preferences);
	memset(t, 0, sizeof(*t));
}

void
settings_cluster_free(struct cluster_settings *c)
{
	free(c->name);
	free(c->host);
	strv_free(c->routes, c->nroutes);
	free(c->user);
	free(c->password);
	settings_tls_free(&c->tls);
	free(c->advertise);
	memset(c, 0, sizeof(*c));
}

bool
settings_cluster_enabled(const struct settings *s)
{
	return s->cluster.port != 0 || s->cluster.nroutes > 0;
}

void
settings_free(struct settings *s)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (fields[i].type == F_STR)
			free(*AT(s, &fields[i], char *));
	settings_auth_free(&s->auth);
	settings_tls_free(&s->tls);
	settings_cluster_free(&s->cluster);
	conf_cfg_free(s->cfg);
	memset(s, 0, sizeof(*s));
}

/*
 * The security blocks in JSON, for the reload hand-over.  Building
 * returns NULL on allocation failure; json_*_set_new() takes the
 * reference even then, so a NULL child just fails its parent.
 */
static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
strv_to_json(char *const *v, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
perm_list_to_json(const struct perm_list *l)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (json_array_append_new(a, json_pack("[so]",
		    l->rules[i].subject, jstr(l->rules[i].queue))) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
perms_to_json(const struct permissions *p)
{
	if (p == NULL)
		return json_null();
	return json_pack("{s{soso}s{soso}}",
	    "pub", "allow", perm_list_to_json(&p->pub.allow),
	    "deny", perm_list_to_json(&p->pub.deny),
	    "sub", "allow", perm_list_to_json(&p->sub.allow),
	    "deny", perm_list_to_json(&p->sub.deny));
}

static json_t *
auth_to_json(const struct auth_settings *a)
{
	json_t	*users, *o;
	size_t	 i;

	if ((users = json_array()) == NULL)
		return NULL;
	for (i = 0; i < a->nusers; i++)
		if (json_array_append_new(users, json_pack("{sssoso}",
		    "user", a->users[i].user,
		    "password", jstr(a->users[i].password),
		    "perms", perms_to_json(a->users[i].perms))) == -1) {
			json_decref(users);
			return NULL;
		}
	o = json_pack("{sosososIsoso}", "user", jstr(a->user),
	    "password", jstr(a->password), "token", jstr(a->token),
	    "timeout_ms", (json_int_t)a->timeout_ms, "users", users,
	    "default_perms", perms_to_json(a->default_perms));
	return o;
}

static json_t *
tls_to_json(const struct tls_settings *t)
{
	return json_pack("{sosososbsbsIsoso}", "cert_file", jstr(t->cert_file),
	    "key_file", jstr(t->key_file), "ca_file", jstr(t->ca_file),
	    "verify", t->verify, "verify_and_map", t->verify_and_map,
	    "timeout_ms", (json_int_t)t->timeout_ms,
	    "cipher_suites", strv_to_json(t->cipher_suites, t->ncipher_suites),
	    "curve_preferences", strv_to_json(t->curve_preferences,
	    t->ncurve_preferences));
}

static json_t *
cluster_to_json(const struct cluster_settings *c)
{
	return json_pack("{sosososisosososIsosbsI}", "name", jstr(c->name),
	    "host", jstr(c->host), "routes", strv_to_json(c->routes,
	    c->nroutes), "port", c->port, "user", jstr(c->user),
	    "password", jstr(c->password), "advertise", jstr(c->advertise),
	    "auth_timeout_ms", (json_int_t)c->auth_timeout_ms,
	    "tls", tls_to_json(&c->tls),
	    "no_advertise", c->no_advertise,
	    "connect_retries", (json_int_t)c->connect_retries);
}

static int
jdup(json_t *v, char **dst)
{
	*dst = NULL;
	if (!json_is_string(v))
		return 0;
	return (*dst = strdup(json_string_value(v))) == NULL ? -1 : 0;
}

static int
strv_from_json(json_t *a, char ***v, size_t *n)
{
	size_t i;

	*v = NULL;
	*n = 0;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return 0;
	if ((*v = calloc(json_array_size(a), sizeof(**v))) == NULL)
		return -1;
	for (i = 0; i < json_array_size(a); i++) {
		if (jdup(json_array_get(a, i), &(*v)[i]) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

static int
perm_list_from_json(json_t *a, struct perm_list *l)
{
	json_t	*r;
	size_t	 i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return 0;
	if ((l->rules = calloc(json_array_size(a), sizeof(*l->rules))) == NULL)
		return -1;
	json_array_foreach(a, i, r) {
		if (jdup(json_array_get(r, 0), &l->rules[i].subject) == -1 ||
		    jdup(json_array_get(r, 1), &l->rules[i].queue) == -1)
			return -1;
		l->n++;
		if (l->rules[i].subject == NULL)
			return -1;
	}
	return 0;
}

static int
perms_from_json(json_t *o, struct permissions **pp)
{
	struct permissions *p;

	*pp = NULL;
	if (!json_is_object(o))
		return 0;
	if ((p = *pp = calloc(1, sizeof(*p))) == NULL)
		return -1;
	if (perm_list_from_json(json_object_get(json_object_get(o, "pub"),
	    "allow"), &p->pub.allow) == -1 ||
	    perm_list_from_json(json_object_get(json_object_get(o, "pub"),
	    "deny"), &p->pub.deny) == -1 ||
	    perm_list_from_json(json_object_get(json_object_get(o, "sub"),
	    "allow"), &p->sub.allow) == -1 ||
	    perm_list_from_json(json_object_get(json_object_get(o, "sub"),
	    "deny"), &p->sub.deny) == -1)
		return -1;
	return 0;
}

static int
auth_from_json(json_t *o, struct auth_settings *a)
{
	json_t	*users, *u;
	size_t	 i;

	if (jdup(json_object_get(o, "user"), &a->user) == -1 ||
	    jdup(json_object_get(o, "password"), &a->password) == -1 ||
	    jdup(json_object_get(o, "token"), &a->token) == -1 ||
	    perms_from_json(json_object_get(o, "default_perms"),
	    &a->default_perms) == -1)
		return -1;
	a->timeout_ms = json_integer_value(json_object_get(o, "timeout_ms"));
	users = json_object_get(o, "users");
	if (!json_is_array(users) || json_array_size(users) == 0)
		return 0;
	if ((a->users = calloc(json_array_size(users), sizeof(*a->users))) ==
	    NULL)
		return -1;
	json_array_foreach(users, i, u) {
		a->nusers++;
		if (jdup(json_object_get(u, "user"), &a->users[i].user) == -1 ||
		    jdup(json_object_get(u, "password"),
		    &a->users[i].password) == -1 ||
		    perms_from_json(json_object_get(u, "perms"),
		    &a->users[i].perms) == -1 || a->users[i].user == NULL)
			return -1;
	}
	return 0;
}

static int
tls_from_json(json_t *o, struct tls_settings *t)
{
	if (jdup(json_object_get(o, "cert_file"), &t->cert_file) == -1 ||
	    jdup(json_object_get(o, "key_file"), &t->key_file) == -1 ||
	    jdup(json_object_get(o, "ca_file"), &t->ca_file) == -1 ||
	    strv_from_json(json_object_get(o, "cipher_suites"),
	    &t->cipher_suites, &t->ncipher_suites) == -1 ||
	    strv_from_json(json_object_get(o, "curve_preferences"),
	    &t->curve_preferences, &t->ncurve_preferences) == -1)
		return -1;
	t->verify = json_is_true(json_object_get(o, "verify"));
	t->verify_and_map = json_is_true(json_object_get(o, "verify_and_map"));
	t->timeout_ms = json_integer_value(json_object_get(o, "timeout_ms"));
	return 0;
}

char *
settings_to_json(const struct settings *s)
{
	const struct field	*f;
	json_t			*o, *v;
	char			*out;
	size_t			 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		switch (f->type) {
		case F_STR: {
			const char *str = *AT(s, f, char *);

			v = str ? json_string(str) : json_null();
			break;
		}
		case F_INT:
			v = json_integer(*AT(s, f, int));
			break;
		case F_I64:
			v = json_integer(*AT(s, f, int64_t));
			break;
		case F_SIZE:
			v = json_integer((json_int_t)*AT(s, f, size_t));
			break;
		case F_BOOL:
			v = json_boolean(*AT(s, f, bool));
			break;
		default:
			v = NULL;
		}
		if (v == NULL || json_object_set_new(o, f->name, v) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	if (json_object_set_new(o, "auth", auth_to_json(&s->auth)) == -1 ||
	    json_object_set_new(o, "tls", tls_to_json(&s->tls)) == -1 ||
	    json_object_set_new(o, "cluster", cluster_to_json(&s->cluster)) ==
	    -1) {
		json_decref(o);
		return NULL;
	}
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static int
cluster_from_json(json_t *o, struct cluster_settings *c)
{
	if (jdup(json_object_get(o, "name"), &c->name) == -1 ||
	    jdup(json_object_get(o, "host"), &c->host) == -1 ||
	    strv_from_json(json_object_get(o, "routes"), &c->routes,
	    &c->nroutes) == -1 ||
	    jdup(json_object_get(o, "user"), &c->user) == -1 ||
	    jdup(json_object_get(o, "password"), &c->password) == -1 ||
	    jdup(json_object_get(o, "advertise"), &c->advertise) == -1 ||
	    tls_from_json(json_object_get(o, "tls"), &c->tls) == -1)
		return -1;
	c->port = (int)json_integer_value(json_object_get(o, "port"));
	c->auth_timeout_ms = json_integer_value(json_object_get(o,
	    "auth_timeout_ms"));
	c->no_advertise = json_is_true(json_object_get(o, "no_advertise"));
	c->connect_retries = json_integer_value(json_object_get(o,
	    "connect_retries"));
	return 0;
}

int
settings_from_json(const char *text, size_t len, struct settings *s)
{
	const struct field	*f;
	json_t			*o, *v;
	json_error_t		 jerr;
	size_t			 i;

	memset(s, 0, sizeof(*s));
	if ((o = json_loadb(text, len, 0, &jerr)) == NULL)
		return -1;
	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		v = json_object_get(o, f->name);
		switch (f->type) {
		case F_STR:
			if (json_is_string(v) &&
			    (*AT(s, f, char *) = strdup(json_string_value(v)))
			    == NULL)
				goto fail;
			break;
		case F_INT:
			*AT(s, f, int) = (int)json_integer_value(v);
			break;
		case F_I64:
			*AT(s, f, int64_t) = json_integer_value(v);
			break;
		case F_SIZE:
			*AT(s, f, size_t) = (size_t)json_integer_value(v);
			break;
		case F_BOOL:
			*AT(s, f, bool) = json_is_true(v);
			break;
		}
	}
	if (auth_from_json(json_object_get(o, "auth"), &s->auth) == -1 ||
	    tls_from_json(json_object_get(o, "tls"), &s->tls) == -1 ||
	    cluster_from_json(json_object_get(o, "cluster"), &s->cluster) == -1)
		goto fail;
	json_decref(o);
	return 0;
fail:
	json_decref(o);
	settings_free(s);
	return -1;
}

int
settings_check(struct settings *s, char *err, size_t errlen)
{
	size_t size = 4096;

	/* Rings are a power of two, and a record may use a quarter of one. */
	while (size < s->ring_size)
		size <<= 1;
	s->ring_size = size;
	if ((size_t)s->max_payload + 2 * (size_t)s->max_control_line + 64 >
	    s->ring_size / 4) {
		snprintf(err, errlen, "ring_size (%zu) must be at least four "
		    "times max_payload plus control lines (%lld)", s->ring_size,
		    (long long)s->max_payload);
		return -1;
	}
	if (s->max_payload > s->max_pending) {
		snprintf(err, errlen, "max_payload (%lld) cannot be higher than "
		    "max_pending (%lld)", (long long)s->max_payload,
		    (long long)s->max_pending);
		return -1;
	}
	if (s->max_control_line < 32 || s->max_payload < 1 ||
	    s->max_pending < 1 || s->ping_interval_ms < 1 || s->ping_max < 0) {
		snprintf(err, errlen, "limits must be positive");
		return -1;
	}
	return 0;
}


int
settings_log_init(const struct settings *s)
{
	struct log_opts lo;

	memset(&lo, 0, sizeof(lo));
	lo.file = s->log_file;
	lo.debug = s->debug;
	lo.trace = s->trace;
	lo.logtime = s->logtime;
	lo.syslog = s->syslog;
	lo.remote_syslog = s->remote_syslog;
	return log_init(&lo);
}
