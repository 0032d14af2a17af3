#ifndef NATSD_SUPERVISOR_H
#define NATSD_SUPERVISOR_H

#include "mesh.h"
#include "reload.h"
#include "settings.h"
#include "util.h"

/* Fork the children, supervise them until told to stop; returns the exit code. */
/* The sockets the master binds for its children; -1 when not configured. */
struct listeners {
	int	client;
	int	http;
	int	https;
	int	route;
};

int	supervisor_run(struct settings *, struct mesh *, const struct listeners *,
	    reload_load_fn);

#endif
