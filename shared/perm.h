/*
 * Subject permissions of one connection, as nats-server checks them.
 *
 * A connection holds a pointer to its user's struct permissions (NULL:
 * everything allowed) and a perm_cache of recent answers, so a publisher
 * sending to the same subjects pays for the rule walk once.
 *
 * Publish: the literal subject must match an allow rule (when there are
 * any) and no deny rule.  Subscribe: the subscription subject, wildcards
 * and all, is matched token by token against the rules as if it were
 * literal (so "foo.*" is allowed by "foo.*", "foo.>" or ">" but not by
 * "foo.bar"), and queue rules ("foo.* workers") allow or deny only
 * queue subscriptions of that group; plain rules cover every
 * subscription.  Delivery: a wildcard subscription that a deny rule
 * overlaps ("foo.*" with deny "foo.bar") is allowed, but the messages on
 * denied subjects are withheld from it.
 */
#ifndef NATSD_PERM_H
#define NATSD_PERM_H

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"

struct perm_cache;

struct perm_cache	*perm_cache_new(void);
void			 perm_cache_free(struct perm_cache *);
/* Forget every answer: the permissions changed (reload). */
void			 perm_cache_clear(struct perm_cache *);

bool	perm_can_publish(const struct permissions *, struct perm_cache *,
	    const char *subject, size_t len);
bool	perm_can_subscribe(const struct permissions *, const char *subject,
	    size_t len, const char *queue, size_t qlen);
/*
 * Does a subscription on this subject need perm_can_deliver() for each
 * message?  True when it has wildcards that a plain subscribe deny rule
 * overlaps.
 */
bool	perm_needs_deliver_check(const struct permissions *,
	    const char *subject, size_t len);
/* May a message on literal subject reach this connection's subscriptions? */
bool	perm_can_deliver(const struct permissions *, struct perm_cache *,
	    const char *subject, size_t len);

#endif
