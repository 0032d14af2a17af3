/*
 * Client authentication and subject permissions (see client_auth.h).
 *
 * Credentials are compared as nats-server does: the user name exactly,
 * the password or token through passwd_check(), which is constant time
 * for plaintext.  A bcrypt hash is never checked on the event loop: the
 * client stops being read (CF_AUTH_WAIT) until worker/bcrypt.c answers,
 * and what it sent after CONNECT waits in its stash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bcrypt.h"
#include "client.h"
#include "client_auth.h"
#include "log.h"
#include "passwd.h"
#include "perm.h"
#include "worker.h"

/* The credentials a CONNECT offered, kept only while bcrypt runs. */
struct auth_offer {
	char	*user;
	char	*secret;
};

static const char *
jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const struct auth_user *
user_find(const struct auth_settings *a, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < a->nusers; i++)
		if (strcmp(a->users[i].user, name) == 0)
			return &a->users[i];
	return NULL;
}

/* The configured secret the client must match, and whose name it is. */
static const char *
expected_secret(const struct auth_settings *a, const char *user,
    const struct auth_user **u)
{
	*u = NULL;
	if (a->token != NULL)
		return a->token;
	if (a->nusers > 0) {
		if ((*u = user_find(a, user)) == NULL)
			return NULL;
		return (*u)->password != NULL ? (*u)->password : "";
	}
	if (a->user != NULL && (user == NULL || strcmp(user, a->user) != 0))
		return NULL;
	return a->password != NULL ? a->password : "";
}

static void
auth_log_failure(struct client *c, const char *user)
{
	if (wk.s->auth.nusers > 0 && user != NULL)
		client_log(c, "E", "authentication error - User \"%s\"", user);
	else
		client_log(c, "E", "authentication error");
}

void
client_auth_violation(struct client *c)
{
	client_err(c, proto_err_text[ERR_AUTH_VIOLATION]);
	client_close(c, CLOSE_AUTH_VIOLATION);
}

/* Accepted: who the client is and what it may do, from the settings now in force. */
static void
auth_grant(struct client *c, const char *user)
{
	const struct auth_user	*u = user_find(&wk.s->auth, user);
	char			*name = NULL;

	/* user may be c->user itself (reload). */
	if (user != NULL && (name = strdup(user)) == NULL)
		fatal("strdup");
	free(c->user);
	c->user = name;
	c->perms = u != NULL && u->perms != NULL ? u->perms :
	    wk.s->auth.default_perms;
	if (c->perms != NULL && c->pcache == NULL &&
	    (c->pcache = perm_cache_new()) == NULL)
		fatal("permission cache");
	if (c->pcache != NULL)
		perm_cache_clear(c->pcache);
	c->flags |= CF_AUTHED;
}

static void
offered_free(struct auth_offer *o)
{
	if (o == NULL)
		return;
	free(o->user);
	if (o->secret != NULL) {
		explicit_bzero(o->secret, strlen(o->secret));
		free(o->secret);
	}
	free(o);
}

static void	bcrypt_done(void *, bool);

static enum auth_result
auth_check(struct client *c, const char *user, const char *secret)
{
	const struct auth_user	*u;
	const char		*want;
	struct auth_offer		*o;

	want = expected_secret(&wk.s->auth, user, &u);
	if (want == NULL || secret == NULL) {
		auth_log_failure(c, user);
		client_auth_violation(c);
		return AUTH_FAILED;
	}
	if (!passwd_is_bcrypt(want)) {
		if (!passwd_equal(want, secret)) {
			auth_log_failure(c, user);
			client_auth_violation(c);
			return AUTH_FAILED;
		}
		auth_grant(c, user);
		return AUTH_OK;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (user != NULL && (o->user = strdup(user)) == NULL) ||
	    (o->secret = strdup(secret)) == NULL)
		fatal("credentials");
	c->bcrypt_ticket = bcrypt_submit(want, secret, bcrypt_done, c);
	if (c->bcrypt_ticket == 0) {
		offered_free(o);
		client_log(c, "E", "authentication error: no bcrypt helper");
		client_auth_violation(c);
		return AUTH_FAILED;
	}
	c->offer = o;
	c->flags |= CF_AUTH_WAIT;
	client_events(c);
	worker_watch_bcrypt();
	return AUTH_PENDING;
}

static struct auth_offer *
offer_take(struct client *c)
{
	struct auth_offer *o = c->offer;

	c->offer = NULL;
	return o;
}

static void
bcrypt_done(void *arg, bool ok)
{
	struct client	*c = arg;
	struct auth_offer	*o = offer_take(c);

	c->bcrypt_ticket = 0;
	c->flags &= ~CF_AUTH_WAIT;
	if (c->flags & CF_DEAD) {
		offered_free(o);
		return;
	}
	if (!ok) {
		auth_log_failure(c, o != NULL ? o->user : NULL);
		offered_free(o);
		client_auth_violation(c);
		return;
	}
	auth_grant(c, o != NULL ? o->user : NULL);
	offered_free(o);
	client_connect_finish(c);
}

enum auth_result
client_auth_connect(struct client *c, json_t *connect)
{
	const struct auth_settings	*a = &wk.s->auth;
	const char			*user = jget(connect, "user");
	const char			*secret;

	if (c->flags & CF_AUTH_WAIT)
		return AUTH_PENDING;
	secret = a->token != NULL ? jget(connect, "auth_token") :
	    jget(connect, "pass");
	return auth_check(c, a->token != NULL ? NULL : user, secret);
}

/* Permissions */

bool
client_may_publish(struct client *c, const char *subject, size_t len)
{
	char msg[512];

	if (c->perms == NULL ||
	    perm_can_publish(c->perms, c->pcache, subject, len))
		return true;
	snprintf(msg, sizeof(msg), "Permissions Violation for Publish to "
	    "\"%.*s\"", (int)(len > 256 ? 256 : len), subject);
	client_err(c, msg);
	client_log(c, "E", "Publish Violation - User \"%s\", Subject \"%.*s\"",
	    c->user != NULL ? c->user : "", (int)len, subject);
	return false;
}

bool
client_may_subscribe(struct client *c, const char *subject, size_t len,
    const char *queue, size_t qlen, const char *sid, size_t sidlen)
{
	char msg[640];

	if (c->perms == NULL ||
	    perm_can_subscribe(c->perms, subject, len, queue, qlen))
		return true;
	if (qlen > 0)
		snprintf(msg, sizeof(msg), "Permissions Violation for "
		    "Subscription to \"%.*s\" using queue \"%.*s\"",
		    (int)(len > 256 ? 256 : len), subject,
		    (int)(qlen > 256 ? 256 : qlen), queue);
	else
		snprintf(msg, sizeof(msg), "Permissions Violation for "
		    "Subscription to \"%.*s\"", (int)(len > 256 ? 256 : len),
		    subject);
	client_err(c, msg);
	if (qlen > 0)
		client_log(c, "E", "Subscription Violation - User \"%s\", "
		    "Subject \"%.*s\", Queue: \"%.*s\", SID %.*s",
		    c->user != NULL ? c->user : "", (int)len, subject,
		    (int)qlen, queue, (int)sidlen, sid);
	else
		client_log(c, "E", "Subscription Violation - User \"%s\", "
		    "Subject \"%.*s\", SID %.*s",
		    c->user != NULL ? c->user : "", (int)len, subject,
		    (int)sidlen, sid);
	return false;
}

bool
client_may_receive(struct client *c, const char *subject, size_t len)
{
	return c->perms == NULL ||
	    perm_can_deliver(c->perms, c->pcache, subject, len);
}

/* Reload */

/* Is the client still who it was under old, with the same secret? */
static bool
still_allowed(struct client *c, const struct settings *old)
{
	const struct auth_settings	*o = &old->auth, *n = &wk.s->auth;
	const struct auth_user		*ou, *nu;
	const char			*os, *ns;

	if (!settings_auth_required(wk.s))
		return true;
	if (!(c->flags & CF_AUTHED))
		return false;
	/* The same kind of authorization, the same name, the same secret. */
	if ((o->token != NULL) != (n->token != NULL) ||
	    (o->nusers > 0) != (n->nusers > 0))
		return false;
	os = expected_secret(o, c->user, &ou);
	ns = expected_secret(n, c->user, &nu);
	return os != NULL && ns != NULL && strcmp(os, ns) == 0;
}

void
client_auth_reload(const struct settings *old)
{
	struct client	*c;
	struct auth_offer	*o;

	LIST_FOREACH(c, &clients, entry) {
		if (c->flags & CF_DEAD)
			continue;
		if (c->flags & CF_AUTH_WAIT) {
			/* Checked against a hash that may be gone: check again. */
			bcrypt_cancel(c->bcrypt_ticket);
			c->bcrypt_ticket = 0;
			c->flags &= ~CF_AUTH_WAIT;
			o = offer_take(c);
			if (settings_auth_required(wk.s))
				(void)auth_check(c, o->user, o->secret);
			else {
				auth_grant(c, NULL);
				client_connect_finish(c);
			}
			offered_free(o);
			continue;
		}
		if (!(c->flags & CF_CONNECTED)) {
			/* Not yet authenticated: CONNECT will be checked anew. */
			c->perms = NULL;
			continue;
		}
		if (!still_allowed(c, old)) {
			auth_log_failure(c, c->user);
			client_auth_violation(c);
			continue;
		}
		if (settings_auth_required(wk.s))
			auth_grant(c, c->user);
		else {
			c->perms = NULL;
			if (c->pcache != NULL)
				perm_cache_clear(c->pcache);
		}
		client_recheck_subs(c);
	}
}

void
client_auth_free(struct client *c)
{
	if (c->bcrypt_ticket != 0)
		bcrypt_cancel(c->bcrypt_ticket);
	c->bcrypt_ticket = 0;
	offered_free(offer_take(c));
	perm_cache_free(c->pcache);
	c->pcache = NULL;
	free(c->user);
	c->user = NULL;
}
