/*
 * Subject permissions, as nats-server 2.9 checks them in client.go
 * (pubAllowed, canSubscribe, canQueueSubscribe, checkDenySub).
 *
 * nats-server keeps each rule list in a sublist and asks Match() with the
 * subject the client sent, wildcards and all.  Match() treats the
 * subject's own "*" and ">" tokens as plain tokens, which can only meet a
 * wildcard of the rule: "foo.*" is allowed by "foo.*", "foo.>", "*.*" or
 * ">", and "foo.>" also by "foo.*", because a "*" in the rule matches the
 * single token ">".  subject_matches() walks subjects exactly that way, so
 * the rules are kept as the configuration gave them and walked in order:
 * lists are short, and the answers that matter for speed (publish, and
 * delivery past a deny rule) are cached per connection.
 *
 * Where nats-server is not what its own comments say it means to be, we
 * keep to the safer reading; each such place says so.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perm.h"
#include "subject.h"

/*
 * The cache: 2-way set associative, 64 sets, 128 answers in all
 * (nats-server keeps 128 publish answers and prunes when over).  A set is
 * chosen by hash; a way hits when hash, length and kind agree and the
 * stored subject bytes compare equal, so a hash collision can cost a
 * miss but never hand out another subject's answer.  A miss evicts the
 * way of the set used less recently, so a publisher alternating between
 * two subjects that share a set keeps both.  Subjects are malloc'd to
 * fit (the table itself is 3 KB), and long subjects are not cached: a
 * rule walk over them costs about what copying them would.
 */
#define PC_SETS		64			/* power of two */
#define PC_WAYS		2
#define PC_MAXLEN	256

enum pc_kind {
	PC_PUBLISH,
	PC_DELIVER
};

struct pc_entry {
	uint32_t	 hash;
	uint16_t	 len;			/* 0: empty */
	uint16_t	 cap;			/* bytes at subject */
	uint8_t		 kind;			/* enum pc_kind */
	uint8_t		 allowed;
	char		*subject;
};

struct perm_cache {
	/* Whose answers these are: a different struct drops them. */
	const struct permissions *perms;
	uint64_t	 victim;		/* bit s: way to evict in set s */
	struct pc_entry	 e[PC_SETS][PC_WAYS];
};

struct perm_cache *
perm_cache_new(void)
{
	return calloc(1, sizeof(struct perm_cache));
}

void
perm_cache_clear(struct perm_cache *c)
{
	size_t s, w;

	if (c == NULL)
		return;
	for (s = 0; s < PC_SETS; s++)
		for (w = 0; w < PC_WAYS; w++) {
			free(c->e[s][w].subject);
			memset(&c->e[s][w], 0, sizeof(c->e[s][w]));
		}
	c->victim = 0;
	c->perms = NULL;
}

void
perm_cache_free(struct perm_cache *c)
{
	if (c == NULL)
		return;
	perm_cache_clear(c);
	free(c);
}

/*
 * A word at a time: subjects are short and hashed on every publish.  Not
 * keyed: a client able to make its own subjects collide only slows its
 * own cache.
 */
static uint32_t
pc_hash(const char *s, size_t len, enum pc_kind kind)
{
	uint64_t	h = 0x9e3779b97f4a7c15ULL ^ (len << 1) ^ kind;
	uint64_t	w;

	while (len >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/*
 * Look the answer up; on a hit store it in *allowed and return true.  On
 * a miss *hash is set for pc_put().  Switching to another permissions
 * struct forgets everything, as a guard: a reload must still call
 * perm_cache_clear(), since a new struct may come back at the old address.
 */
static bool
pc_get(struct perm_cache *c, const struct permissions *p, enum pc_kind kind,
    const char *subject, size_t len, uint32_t *hash, bool *allowed)
{
	struct pc_entry	*e;
	uint32_t	 h, set;
	size_t		 w;

	if (c->perms != p) {
		perm_cache_clear(c);
		c->perms = p;
	}
	h = pc_hash(subject, len, kind);
	set = h & (PC_SETS - 1);
	for (w = 0; w < PC_WAYS; w++) {
		e = &c->e[set][w];
		if (e->hash == h && e->len == len && e->kind == kind &&
		    memcmp(e->subject, subject, len) == 0) {
			c->victim = (c->victim & ~(1ULL << set)) |
			    ((uint64_t)(w ^ 1) << set);
			*allowed = e->allowed;
			return true;
		}
	}
	*hash = h;
	return false;
}

/* Remember an answer; out of memory it is simply not remembered. */
static void
pc_put(struct perm_cache *c, enum pc_kind kind, const char *subject,
    size_t len, uint32_t h, bool allowed)
{
	struct pc_entry	*e;
	uint32_t	 set = h & (PC_SETS - 1);
	size_t		 w, cap;
	char		*s;

	if (c->e[set][0].len == 0)
		w = 0;
	else if (c->e[set][1].len == 0)
		w = 1;
	else
		w = (c->victim >> set) & 1;
	e = &c->e[set][w];
	if (e->cap < len) {
		cap = (len + 31) & ~(size_t)31;	/* fewer reallocs on reuse */
		if ((s = realloc(e->subject, cap)) == NULL) {
			free(e->subject);
			memset(e, 0, sizeof(*e));
			return;
		}
		e->subject = s;
		e->cap = cap;
	}
	memcpy(e->subject, subject, len);
	e->hash = h;
	e->len = len;
	e->kind = kind;
	e->allowed = allowed;
	c->victim = (c->victim & ~(1ULL << set)) | ((uint64_t)(w ^ 1) << set);
}

/* Is one whole token "*" or ">"? */
static bool
has_wildcard(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((s[i] == '*' || s[i] == '>') &&
		    (i == 0 || s[i - 1] == '.') &&
		    (i + 1 == len || s[i + 1] == '.'))
			return true;
	return false;
}

/*
 * The token starting at *pos in s (len bytes): its start and length,
 * with *pos moved past the following dot.  False when s has no token
 * left.
 */
static bool
next_token(const char *s, size_t len, size_t *pos, const char **tok,
    size_t *tlen)
{
	const char *dot;

	if (*pos > len)
		return false;
	*tok = s + *pos;
	dot = memchr(*tok, '.', len - *pos);
	*tlen = dot != NULL ? (size_t)(dot - *tok) : len - *pos;
	*pos += *tlen + 1;
	return true;
}

static inline bool
is_tok(const char *t, size_t tlen, char wc)
{
	return tlen == 1 && t[0] == wc;
}

/*
 * Is everything s matches also matched by pattern p?  nats-server's
 * subjectIsSubsetMatch(): a "*" in s needs a "*" (or ">") in p, a ">"
 * in s needs a ">" in p.  An empty token on either side fails.
 */
static bool
is_subset(const char *s, size_t slen, const char *p, size_t plen)
{
	const char	*st, *pt;
	size_t		 si = 0, pi = 0, stl, ptl;

	if (slen == 0 || plen == 0)
		return false;
	while (next_token(p, plen, &pi, &pt, &ptl)) {
		if (!next_token(s, slen, &si, &st, &stl))
			return false;
		if (ptl == 0)
			return false;
		if (is_tok(pt, ptl, '>'))
			return true;
		if (stl == 0 || is_tok(st, stl, '>'))
			return false;
		if (is_tok(st, stl, '*')) {
			if (!is_tok(pt, ptl, '*'))
				return false;
			continue;
		}
		if (!is_tok(pt, ptl, '*') &&
		    (stl != ptl || memcmp(st, pt, stl) != 0))
			return false;
	}
	return si > slen;			/* s has no tokens left */
}

/*
 * Is there a literal subject both patterns match?  ">" stands for one
 * token or more, so "foo" and "foo.>" have none in common.
 */
static bool
overlaps(const char *a, size_t alen, const char *b, size_t blen)
{
	const char	*at, *bt;
	size_t		 ai = 0, bi = 0, atl, btl;
	bool		 amore, bmore;

	if (alen == 0 || blen == 0)
		return false;
	for (;;) {
		amore = next_token(a, alen, &ai, &at, &atl);
		bmore = next_token(b, blen, &bi, &bt, &btl);
		if (!amore || !bmore)
			return amore == bmore;
		if (is_tok(at, atl, '>') || is_tok(bt, btl, '>'))
			return true;
		if (is_tok(at, atl, '*') || is_tok(bt, btl, '*'))
			continue;
		if (atl != btl || memcmp(at, bt, atl) != 0)
			return false;
	}
}

/*
 * A queue group against a rule's group: equal, or the rule's group has
 * wildcards and takes this one in ("bar.*" takes "bar.fizz").  Groups may
 * contain "*" and ">" literally, hence the plain comparison first
 * (nats-server's queueMatches()).
 */
static bool
queue_matches(const char *queue, size_t qlen, const char *rq)
{
	size_t rqlen = strlen(rq);

	if (qlen == rqlen && memcmp(queue, rq, qlen) == 0)
		return true;
	return has_wildcard(rq, rqlen) && is_subset(queue, qlen, rq, rqlen);
}

static inline bool
rule_matches(const struct perm_rule *r, const char *subject, size_t len)
{
	return subject_matches(r->subject, strlen(r->subject), subject, len);
}

/* Does a rule without a queue group match? */
static bool
plain_match(const struct perm_list *l, const char *subject, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->rules[i].queue == NULL &&
		    rule_matches(&l->rules[i], subject, len))
			return true;
	return false;
}

/*
 * Queue rules on this subject: -1 when none matches the subject, else
 * whether one of them also takes the queue group.
 */
static int
queue_match(const struct perm_list *l, const char *subject, size_t len,
    const char *queue, size_t qlen)
{
	const struct perm_rule	*r;
	size_t			 i;
	int			 found = -1;

	for (i = 0; i < l->n; i++) {
		r = &l->rules[i];
		if (r->queue == NULL || !rule_matches(r, subject, len))
			continue;
		if (queue_matches(queue, qlen, r->queue))
			return 1;
		found = 0;
	}
	return found;
}

/*
 * Publish rules carrying a queue group are not rules for publish: they
 * never match.  As in nats-server (which inserts "foo q" as a subject no
 * one can publish to), they still make the allow list non-empty.
 */
static bool
pub_check(const struct permissions *p, const char *subject, size_t len)
{
	if (p->pub.allow.n > 0 && !plain_match(&p->pub.allow, subject, len))
		return false;
	return !plain_match(&p->pub.deny, subject, len);
}

bool
perm_can_publish(const struct permissions *p, struct perm_cache *c,
    const char *subject, size_t len)
{
	uint32_t	h;
	bool		allowed;

	if (p == NULL || (p->pub.allow.n == 0 && p->pub.deny.n == 0))
		return true;
	if (c == NULL || len == 0 || len > PC_MAXLEN)
		return pub_check(p, subject, len);
	if (pc_get(c, p, PC_PUBLISH, subject, len, &h, &allowed))
		return allowed;
	allowed = pub_check(p, subject, len);
	pc_put(c, PC_PUBLISH, subject, len, h, allowed);
	return allowed;
}

/*
 * Plain subscriptions: allowed by a plain allow rule (queue rules allow
 * only their group: "foo v1" alone allows no plain "foo"), denied by a
 * plain deny rule.
 *
 * Queue subscriptions, as nats-server's processSub() documents them:
 *   allow "foo"           any group may subscribe to foo;
 *   allow "foo v1"        only group v1;
 *   allow "foo", "foo v1" plain subscriptions to foo, but group v1 only:
 * queue allow rules on the subject, when there are any, decide alone.
 * Any plain deny rule on the subject denies, as does a queue deny rule
 * taking the group.  nats-server lets the queue deny rules decide alone
 * here too, so deny "foo", "foo v1" would let group v2 subscribe to foo;
 * a deny rule without a group is meant to deny everyone, so we do not.
 */
bool
perm_can_subscribe(const struct permissions *p, const char *subject,
    size_t len, const char *queue, size_t qlen)
{
	int q;

	if (p == NULL)
		return true;
	if (queue == NULL || qlen == 0) {
		if (p->sub.allow.n > 0 &&
		    !plain_match(&p->sub.allow, subject, len))
			return false;
		return !plain_match(&p->sub.deny, subject, len);
	}
	if (p->sub.allow.n > 0) {
		q = queue_match(&p->sub.allow, subject, len, queue, qlen);
		if (q == 0 || (q < 0 &&
		    !plain_match(&p->sub.allow, subject, len)))
			return false;
	}
	if (plain_match(&p->sub.deny, subject, len))
		return false;
	return queue_match(&p->sub.deny, subject, len, queue, qlen) != 1;
}

/*
 * A wildcard subscription the deny rules let through can still match
 * denied subjects ("foo.*" and deny "foo.bar").  nats-server starts
 * checking deliveries when a plain deny rule is a subset of the
 * subscription; we check whenever one overlaps it, so deny "*.bar" also
 * withholds foo.bar from "foo.*" (nats-server delivers it).  Queue deny
 * rules play no part: nats-server's delivery filter holds them as
 * subjects "foo q" that no message has.
 */
bool
perm_needs_deliver_check(const struct permissions *p, const char *subject,
    size_t len)
{
	const struct perm_rule	*r;
	size_t			 i;

	if (p == NULL || p->sub.deny.n == 0 || !has_wildcard(subject, len))
		return false;
	for (i = 0; i < p->sub.deny.n; i++) {
		r = &p->sub.deny.rules[i];
		if (r->queue == NULL &&
		    overlaps(r->subject, strlen(r->subject), subject, len))
			return true;
	}
	return false;
}

bool
perm_can_deliver(const struct permissions *p, struct perm_cache *c,
    const char *subject, size_t len)
{
	uint32_t	h;
	bool		allowed;

	if (p == NULL || p->sub.deny.n == 0)
		return true;
	if (c == NULL || len == 0 || len > PC_MAXLEN)
		return !plain_match(&p->sub.deny, subject, len);
	if (pc_get(c, p, PC_DELIVER, subject, len, &h, &allowed))
		return allowed;
	allowed = !plain_match(&p->sub.deny, subject, len);
	pc_put(c, PC_DELIVER, subject, len, h, allowed);
	return allowed;
}
