/*
 * The router process: owns the cluster.  It is a peer on the mesh like a
 * worker (slot mesh_router_slot()), with routes where a worker has
 * clients: see router/forward.c for what crosses between the two and
 * router/route.c for the connections.
 */
#ifndef NATSD_ROUTER_H
#define NATSD_ROUTER_H

#include "mesh.h"
#include "settings.h"

/* lfd: the route listen socket the master bound, or -1. */
int	router_main(struct settings *, struct mesh *, int lfd);
/* The routes' client URLs changed: publish them for the workers' INFO. */
void	router_cluster_urls_changed(void);

#endif
