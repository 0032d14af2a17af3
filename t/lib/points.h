/*
 * Checks that several test programs make the same way: stopping a
 * server or a cluster node as the last points of a test.  Header-only,
 * like ../tap.h, because the point counter lives in each program: the
 * harness library reports and returns, only a test makes points.
 * Include it after ../tap.h and harness.h.
 */
#ifndef NATSD_POINTS_H
#define NATSD_POINTS_H

/*
 * Stop s, check its log allowing the NULL-terminated patterns in allow
 * (or NULL), free it.  Two points named after what.
 */
static inline void
server_finish(struct server *s, const char *what, const char *const *allow)
{
	server_log_allow_list(s, allow);
	ok(server_stop(s) == 0, "%s: clean stop", what);
	ok(server_log_check(s) == 0, "%s: no unexpected errors in the log",
	    what);
	server_free(s);
}

/*
 * The same for a node that started (two points named after what, when
 * not NULL, and the node's label); its seed or peers going away first
 * is logged, as nats-server does, and allowed.
 */
static inline void
node_finish(struct node *n, const char *what, const char *const *allow)
{
	static const char *const shutdown[] = {
		"Error trying to connect to route",
		NULL
	};
	const char *sep = what != NULL ? ": " : "";

	if (n->s == NULL)
		return;
	what = what != NULL ? what : "";
	server_log_allow_list(n->s, shutdown);
	server_log_allow_list(n->s, allow);
	ok(server_stop(n->s) == 0, "%s%snode %s stops cleanly", what, sep,
	    n->label);
	ok(server_log_check(n->s) == 0, "%s%snode %s log has no unexpected "
	    "errors", what, sep, n->label);
	server_free(n->s);
	n->s = NULL;
}

/*
 * One point per ordered pair of the count nodes (only the pairs that
 * involve node only, unless only is -1): a message published on the
 * first reaches a subscriber on the second within ms.  fmt names the
 * point from the two nodes' names (their labels when names is NULL).
 */
static inline void
node_mesh_ok(struct node *n, int count, int only, const char *const *names,
    int ms, const char *fmt)
{
	int i, j;

	for (i = 0; i < count; i++)
		for (j = 0; j < count; j++)
			if (i != j && (only == -1 || i == only || j == only))
				ok(harness_route_probe(n[i].s->port,
				    n[j].s->port, ms), fmt, names != NULL ?
				    names[i] : n[i].label, names != NULL ?
				    names[j] : n[j].label);
}

#endif
