/*
 * Cluster topology (router process): the route URLs this server
 * solicits, explicit (configured) and implicit (learned by gossip), their
 * connects and reconnects as nats-server times them; the INFO that tells
 * the other routes about a newly registered one; duplicate routes between
 * one pair of servers; our INFO and the cluster name; the client URLs
 * (connect_urls) of the remotes; /routez.
 * router/route*.c call these; see route_priv.h for struct route.
 */
#ifndef NATSD_GOSSIP_H
#define NATSD_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct route;
struct target;

/* The cluster name, our INFO, and every configured route solicited. */
void	gossip_init(void);
/* Settings changed (reload): cluster name, INFO, the routes list. */
void	gossip_reload(void);
/* Our route INFO line ("INFO {...} \r\n"), as it stands. */
const char *gossip_info(size_t *len);
/*
 * A dynamic cluster name gives way to the remote's (dynamic: whether
 * ours stays negotiable): every registered route but keep is closed.
 */
void	gossip_cluster_adopt(struct route *keep, const char *name,
	    bool dynamic);
/* Every tick: due connects and reconnects. */
void	gossip_tick(void);
/* A connect(2) in progress ended: err is 0 or an errno. */
void	gossip_connect_done(struct route *, int err);
/* The TLS host name to verify for a solicited route (NULL: none). */
const char *gossip_tls_name(const struct target *, bool *is_ip);
/* The URL's user and password for CONNECT (either may be NULL). */
void	gossip_credentials(const struct target *, const char **user,
	    const char **pass);
/* r registered; info is its INFO: tell every other route about it. */
void	gossip_route_up(struct route *, json_t *info);
/* r is a second route to a server that kept already has. */
void	gossip_duplicate(struct route *r, struct route *kept);
/* An INFO on an up route about another server: maybe solicit it. */
void	gossip_implicit(json_t *info);
/* r is being freed (after router_route_down if it was up): reconnect? */
void	gossip_route_closed(struct route *);
/* The remotes' client URLs changed: tell the workers. */
void	gossip_urls_changed(void);

#endif
