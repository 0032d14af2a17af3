/*
 * Message routing.  The worker a client published on does all of it
 * (DESIGN.md, delivery rule): one sublist match yields the local
 * subscribers and the peers with interest.  Each plain local subscriber
 * gets the message; each interested peer gets exactly one copy whatever
 * number of its entries matched; each queue group gets exactly one
 * member, chosen across the whole server with peers weighted by how many
 * members they stand for, and the chosen peer is told which groups it
 * serves.  A receiver delivers to its own clients only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "client_auth.h"
#include "deliver.h"
#include "log.h"
#include "peer.h"
#include "worker.h"

struct peer_mark {
	bool			 marked;
	unsigned		 nq;
	struct proto_slice	 q[REC_MAX_QUEUES];
};

static struct peer_mark	 marks[MAX_WORKERS + 1];
static int		 marked[MAX_WORKERS + 1];
static int		 nmarked;

/* Subscriptions that reached their UNSUB max; removed after delivery. */
static struct csub	**done_subs;
static size_t		 ndone, done_cap;

static struct peer_mark *
mark_peer(const struct sub *s)
{
	int slot = peer_slot(s->owner);

	if (!marks[slot].marked) {
		marks[slot].marked = true;
		marks[slot].nq = 0;
		marked[nmarked++] = slot;
	}
	return &marks[slot];
}

static void
deliver_local(struct csub *cs, const char *subject, size_t slen,
    const char *reply, size_t rlen, const char *payload, size_t hdr_len,
    size_t total_len)
{
	struct client *c = cs->s.owner;

	if (c->flags & (CF_DEAD | CF_CLOSING))
		return;
	if (cs->max != 0 && cs->delivered >= cs->max)
		return;
	if (cs->deliver_check && !client_may_receive(c, subject, slen))
		return;
	client_send_msg(c, cs, subject, slen, reply, rlen, payload, hdr_len,
	    total_len);
	if (cs->max != 0 && ++cs->delivered >= cs->max) {
		if (ndone == done_cap) {
			done_cap = done_cap ? done_cap * 2 : 16;
			done_subs = reallocarray(done_subs, done_cap,
			    sizeof(*done_subs));
			if (done_subs == NULL)
				fatal("done subs");
		}
		done_subs[ndone++] = cs;
	} else if (cs->max == 0)
		cs->delivered++;
}

void
deliver_reap_subs(void)
{
	size_t i;

	for (i = 0; i < ndone; i++)
		client_sub_delivered(done_subs[i]);
	ndone = 0;
}

/*
 * Is this member eligible for a message on subject published by `from'?
 * A member whose permissions withhold the subject is not, so a queue
 * group picks among the others.
 */
static bool
member_ok(const struct sub *s, const struct client *from,
    const struct proto_slice *subject)
{
	const struct client *c;

	if (s->kind != SUB_CLIENT)
		return true;
	c = s->owner;
	if (c->flags & (CF_DEAD | CF_CLOSING))
		return false;
	if (c == from && (from->flags & CF_NO_ECHO))
		return false;
	return !((const struct csub *)s)->deliver_check ||
	    client_may_receive((struct client *)c, subject->p, subject->len);
}

static void
send_no_responders(struct client *c, const struct proto_frame *f)
{
	const struct sublist_result	*res;
	static const char		 hdr[] = "NATS/1.0 503\r\n\r\n";
	size_t				 i;

	res = sublist_match(wk.sl, f->reply.p, f->reply.len);
	for (i = 0; i < res->nplain; i++) {
		struct sub *s = res->plain[i];

		if (s->kind != SUB_CLIENT || s->owner != c)
			continue;
		client_send_msg(c, (struct csub *)s, f->reply.p, f->reply.len,
		    NULL, 0, hdr, sizeof(hdr) - 1, sizeof(hdr) - 1);
		return;
	}
}

bool
deliver_publish(struct client *c, const struct proto_frame *f)
{
	const struct sublist_result	*res;
	const struct sublist_qgroup	*g;
	struct sub			*s;
	struct peer_mark		*pm;
	size_t				 i, j;
	uint64_t			 total, pick;
	bool				 any = false, local = false, pause = false;
	int				 k;

	res = sublist_match(wk.sl, f->subject.p, f->subject.len);
	for (i = 0; i < res->nplain; i++) {
		s = res->plain[i];
		if (s->kind == SUB_PEER) {
			mark_peer(s);
			any = true;
		} else if (member_ok(s, c, &f->subject)) {
			deliver_local((struct csub *)s, f->subject.p,
			    f->subject.len, f->reply.p, f->reply.len,
			    f->payload, f->hdr_len, f->total_len);
			any = local = true;
		}
	}
	for (i = 0; i < res->nqueues; i++) {
		g = &res->queues[i];
		total = 0;
		for (j = 0; j < g->n; j++)
			if (member_ok(g->members[j], c, &f->subject))
				total += g->members[j]->kind == SUB_PEER ?
				    g->members[j]->weight : 1;
		if (total == 0)
			continue;
		any = true;
		pick = random_below((uint32_t)(total > UINT32_MAX ?
		    UINT32_MAX : total));
		for (j = 0; j < g->n; j++) {
			s = g->members[j];
			if (!member_ok(s, c, &f->subject))
				continue;
			if (pick < (s->kind == SUB_PEER ? s->weight : 1))
				break;
			pick -= s->kind == SUB_PEER ? s->weight : 1;
		}
		if (j == g->n)
			continue;
		if (s->kind == SUB_PEER) {
			pm = mark_peer(s);
			if (pm->nq < REC_MAX_QUEUES) {
				pm->q[pm->nq].p = g->name;
				pm->q[pm->nq].len = g->name_len;
				pm->nq++;
			}
		} else {
			deliver_local((struct csub *)s, f->subject.p,
			    f->subject.len, f->reply.p, f->reply.len,
			    f->payload, f->hdr_len, f->total_len);
			local = true;
		}
	}
	for (k = 0; k < nmarked; k++) {
		pm = &marks[marked[k]];
		if (peer_send_msg(marked[k], f, pm->q, pm->nq))
			pause = true;
		pm->marked = false;
	}
	nmarked = 0;
	if (!any && f->reply.len != 0 &&
	    (c->flags & (CF_NO_RESPONDERS | CF_HEADERS)) ==
	    (CF_NO_RESPONDERS | CF_HEADERS))
		send_no_responders(c, f);
	deliver_reap_subs();
	return pause || (local && wk.ncongested > 0);
}

void
deliver_from_peer(const struct rec *r)
{
	const struct sublist_result	*res;
	const struct sublist_qgroup	*g;
	struct sub			*s;
	size_t				 i, j, n;
	unsigned			 q;
	uint32_t			 pick;

	res = sublist_match(wk.sl, r->subject.p, r->subject.len);
	for (i = 0; i < res->nplain; i++) {
		s = res->plain[i];
		if (s->kind == SUB_CLIENT && member_ok(s, NULL, &r->subject))
			deliver_local((struct csub *)s, r->subject.p,
			    r->subject.len, r->reply.p, r->reply.len,
			    r->payload, r->hdr_len, r->total_len);
	}
	for (q = 0; q < r->nqueues; q++) {
		for (i = 0; i < res->nqueues; i++) {
			g = &res->queues[i];
			if (g->name_len == r->queues[q].len &&
			    memcmp(g->name, r->queues[q].p, g->name_len) == 0)
				break;
		}
		if (i == res->nqueues)
			continue;	/* the group left meanwhile */
		for (j = 0, n = 0; j < g->n; j++)
			n += g->members[j]->kind == SUB_CLIENT &&
			    member_ok(g->members[j], NULL, &r->subject);
		if (n == 0)
			continue;
		pick = random_below((uint32_t)n);
		for (j = 0; j < g->n; j++) {
			s = g->members[j];
			if (s->kind != SUB_CLIENT ||
			    !member_ok(s, NULL, &r->subject))
				continue;
			if (pick-- == 0) {
				deliver_local((struct csub *)s, r->subject.p,
				    r->subject.len, r->reply.p, r->reply.len,
				    r->payload, r->hdr_len, r->total_len);
				break;
			}
		}
	}
	deliver_reap_subs();
}
