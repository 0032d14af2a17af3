/*
 * Between the mesh and the routes (router process): interest summed over
 * the workers goes out as RS+/RS-, a route's interest becomes the router's
 * interest on the mesh, messages cross in both directions, one hop only.
 */
#ifndef NATSD_FORWARD_H
#define NATSD_FORWARD_H

#include "record.h"
#include "sublist.h"

struct route;

void	forward_init(void);
/* Resume routes paused because the mesh was backed up, when it drains. */
void	forward_resume_due(void);
/* A route's interest, for /routez: the count, and each subject. */
size_t	forward_route_subs(const struct route *);
void	forward_route_subjects(const struct route *,
	    void (*fn)(void *arg, const char *subject, const char *queue),
	    void *arg);

#endif
