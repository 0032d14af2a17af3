/*
 * Answering the monitor's subscription dumps.  The monitor names the
 * connections on the /connz page it is building; this walks the
 * worker's clients once, and for each one named writes its
 * subscriptions into the mailbox.  It runs between two batches of
 * client work and takes no lock; its cost is one pass over the clients
 * and at most the mailbox's size (1 MB) of writes, and only when asked.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/tree.h>

#include "client.h"
#include "mesh.h"
#include "stats.h"
#include "subsdump.h"
#include "worker.h"

/*
 * In-order walk of a client's subscriptions.  client.c generates the
 * tree's functions static; a walk needs only the links, which are
 * macros.
 */
static struct csub *
csub_first(struct csub_tree *t)
{
	struct csub *cs = RB_ROOT(t);

	while (cs != NULL && RB_LEFT(cs, entry) != NULL)
		cs = RB_LEFT(cs, entry);
	return cs;
}

static struct csub *
csub_next(struct csub *cs)
{
	struct csub *up;

	if (RB_RIGHT(cs, entry) != NULL) {
		cs = RB_RIGHT(cs, entry);
		while (RB_LEFT(cs, entry) != NULL)
			cs = RB_LEFT(cs, entry);
		return cs;
	}
	/* Climb while coming from the right: that subtree is done. */
	while ((up = RB_PARENT(cs, entry)) != NULL && RB_RIGHT(up, entry) == cs)
		cs = up;
	return up;
}

/* The client's subscriptions; false once the mailbox is full. */
static bool
put_client(struct subsdump_writer *w, struct client *c)
{
	struct subsdump_sub	 sd;
	struct csub		*cs;

	if (!subsdump_put_conn(w, c->cid))
		return false;
	for (cs = csub_first(&c->subs); cs != NULL; cs = csub_next(cs)) {
		sd.subject = cs->s.subject;
		sd.subject_len = cs->s.subject_len;
		sd.queue = cs->s.queue;
		sd.queue_len = cs->s.queue_len;
		sd.sid = cs->sid;
		sd.sid_len = cs->sid_len;
		sd.msgs = cs->delivered;
		sd.max = cs->max;
		if (!subsdump_put_sub(w, &sd))
			return false;
	}
	return true;
}

void
subsdump_serve(void)
{
	struct subsdump		*d = mesh_subsdump(wk.mesh, wk.slot);
	struct subsdump_writer	 w;
	struct client		*c;

	if (!subsdump_pending(d))
		return;
	subsdump_begin(d, &w);
	LIST_FOREACH(c, &clients, entry) {
		/* No record for a client without subscriptions: none to list. */
		if (c->nsubs == 0 || (c->flags & CF_DEAD) ||
		    !subsdump_wants(&w, c->cid))
			continue;
		if (!put_client(&w, c))
			break;
	}
	subsdump_end(&w);
}
