/*
 * Subject permissions: shared/perm.c against the behaviour of nats-server
 * 2.9's canPublish / canSubscribe / canQueueSubscribe / checkDenySub, and
 * the per-connection answer cache against the uncached answers.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perm.h"
#include "settings.h"
#include "../tap.h"

/* "subject" or "subject queue", as the configuration gives them. */
static void
list_set(struct perm_list *l, const char *const *v)
{
	const char	*sp;
	size_t		 i, n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	l->n = n;
	l->rules = n > 0 ? calloc(n, sizeof(*l->rules)) : NULL;
	if (n > 0 && l->rules == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if ((sp = strchr(v[i], ' ')) != NULL) {
			l->rules[i].subject = strndup(v[i], sp - v[i]);
			l->rules[i].queue = strdup(sp + 1);
			if (l->rules[i].queue == NULL)
				abort();
		} else
			l->rules[i].subject = strdup(v[i]);
		if (l->rules[i].subject == NULL)
			abort();
	}
}

#define L(...)	((const char *const[]){ __VA_ARGS__, NULL })

static struct permissions *
mk(const char *const *pa, const char *const *pd, const char *const *sa,
    const char *const *sd)
{
	struct permissions *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		abort();
	list_set(&p->pub.allow, pa);
	list_set(&p->pub.deny, pd);
	list_set(&p->sub.allow, sa);
	list_set(&p->sub.deny, sd);
	return p;
}

static bool
pub(const struct permissions *p, struct perm_cache *c, const char *s)
{
	return perm_can_publish(p, c, s, strlen(s));
}

static bool
sub(const struct permissions *p, const char *s)
{
	return perm_can_subscribe(p, s, strlen(s), NULL, 0);
}

static bool
qsub(const struct permissions *p, const char *s, const char *q)
{
	return perm_can_subscribe(p, s, strlen(s), q, strlen(q));
}

static bool
needs(const struct permissions *p, const char *s)
{
	return perm_needs_deliver_check(p, s, strlen(s));
}

static bool
deliver(const struct permissions *p, struct perm_cache *c, const char *s)
{
	return perm_can_deliver(p, c, s, strlen(s));
}

static void
test_null(void)
{
	struct permissions	*p;

	ok(pub(NULL, NULL, "foo"), "no permissions: publish");
	ok(sub(NULL, "foo.>"), "no permissions: subscribe");
	ok(qsub(NULL, "foo", "q"), "no permissions: queue subscribe");
	ok(!needs(NULL, "foo.*"), "no permissions: no deliver check");
	ok(deliver(NULL, NULL, "foo"), "no permissions: deliver");

	p = mk(NULL, NULL, NULL, NULL);
	ok(pub(p, NULL, "anything.at.all"), "empty permissions: publish");
	ok(sub(p, ">"), "empty permissions: subscribe");
	ok(qsub(p, ">", "q"), "empty permissions: queue subscribe");
	ok(!needs(p, ">"), "empty permissions: no deliver check");
	ok(deliver(p, NULL, "foo"), "empty permissions: deliver");
	permissions_free(p);
}

/* The example of nats-server's README (the seed's authorization block). */
static void
test_readme(void)
{
	struct permissions	*admin, *req, *def;
	struct perm_cache	*c;

	admin = mk(L(">"), NULL, L(">"), NULL);
	req = mk(L("req.foo", "req.bar"), NULL, L("_INBOX.*"), NULL);
	def = mk(L("SANDBOX.*"), NULL, L("PUBLIC.>", "_INBOX.>"), NULL);
	if ((c = perm_cache_new()) == NULL)
		abort();

	ok(pub(admin, c, "foo") && pub(admin, c, "a.b.c"),
	    "ADMIN publishes anywhere");
	ok(sub(admin, ">") && sub(admin, "foo.*") && qsub(admin, "x", "q"),
	    "ADMIN subscribes anywhere");
	perm_cache_clear(c);

	ok(pub(req, c, "req.foo"), "REQUESTOR publishes req.foo");
	ok(pub(req, c, "req.bar"), "REQUESTOR publishes req.bar");
	ok(!pub(req, c, "req.baz"), "REQUESTOR may not publish req.baz");
	ok(!pub(req, c, "req"), "REQUESTOR may not publish req");
	ok(!pub(req, c, "req.foo.x"), "REQUESTOR may not publish req.foo.x");
	ok(!pub(req, c, "_INBOX.abc"), "REQUESTOR may not publish _INBOX.abc");
	ok(sub(req, "_INBOX.abc"), "REQUESTOR subscribes _INBOX.abc");
	ok(sub(req, "_INBOX.*"), "REQUESTOR subscribes _INBOX.*");
	ok(!sub(req, "_INBOX.a.b"), "REQUESTOR may not subscribe _INBOX.a.b");
	ok(sub(req, "_INBOX.>"),
	    "REQUESTOR subscribes _INBOX.> ('*' takes the token '>')");
	ok(!sub(req, "_INBOX"), "REQUESTOR may not subscribe _INBOX");
	ok(!sub(req, "req.foo"), "REQUESTOR may not subscribe req.foo");
	ok(!sub(req, ">"), "REQUESTOR may not subscribe >");
	ok(qsub(req, "_INBOX.x", "any"), "REQUESTOR queue subscribes _INBOX.x");
	perm_cache_clear(c);

	ok(pub(def, c, "SANDBOX.x"), "default publishes SANDBOX.x");
	ok(!pub(def, c, "SANDBOX.x.y"), "default may not publish SANDBOX.x.y");
	ok(!pub(def, c, "SANDBOX"), "default may not publish SANDBOX");
	ok(!pub(def, c, "PUBLIC.x"), "default may not publish PUBLIC.x");
	ok(sub(def, "PUBLIC.x") && sub(def, "PUBLIC.x.y.z"),
	    "default subscribes under PUBLIC");
	ok(sub(def, "PUBLIC.>") && sub(def, "PUBLIC.*"),
	    "default subscribes PUBLIC.> and PUBLIC.*");
	ok(!sub(def, "PUBLIC"), "default may not subscribe PUBLIC");
	ok(!sub(def, "*.x"), "default may not subscribe *.x");
	ok(!sub(def, ">"), "default may not subscribe >");
	ok(sub(def, "_INBOX.a.b"), "default subscribes _INBOX.a.b");

	perm_cache_free(c);
	permissions_free(admin);
	permissions_free(req);
	permissions_free(def);
}

static void
test_publish(void)
{
	struct permissions	*p;
	struct perm_cache	*c;
	int			 pass;

	if ((c = perm_cache_new()) == NULL)
		abort();
	/* Twice: computed, then from the cache. */
	for (pass = 0; pass < 2; pass++) {
		p = mk(NULL, L("secret.>", "admin"), NULL, NULL);
		ok(pub(p, c, "foo") && pub(p, c, "secret") &&
		    pub(p, c, "admin.x"), "deny only: others allowed (%d)", pass);
		ok(!pub(p, c, "secret.a") && !pub(p, c, "secret.a.b") &&
		    !pub(p, c, "admin"), "deny only: denied (%d)", pass);
		permissions_free(p);
		perm_cache_clear(c);

		p = mk(L("foo.>", "bar"), L("foo.secret", "foo.*.x"), NULL,
		    NULL);
		ok(pub(p, c, "foo.a") && pub(p, c, "foo.a.b") &&
		    pub(p, c, "bar"), "allow and deny: allowed (%d)", pass);
		ok(!pub(p, c, "foo.secret") && !pub(p, c, "foo.a.x"),
		    "allow and deny: deny wins (%d)", pass);
		ok(!pub(p, c, "foo") && !pub(p, c, "baz") &&
		    !pub(p, c, "bar.x"), "allow and deny: not allowed (%d)",
		    pass);
		permissions_free(p);
		perm_cache_clear(c);

		/* Queue rules are not publish rules. */
		p = mk(L("foo q"), L("bar q"), NULL, NULL);
		ok(!pub(p, c, "foo"), "publish allow 'foo q' allows nothing "
		    "(%d)", pass);
		permissions_free(p);
		perm_cache_clear(c);
		p = mk(L("foo q", "bar"), L("bar q"), NULL, NULL);
		ok(pub(p, c, "bar"), "publish deny 'bar q' denies nothing "
		    "(%d)", pass);
		ok(!pub(p, c, "foo"), "publish allow 'foo q' ignored (%d)",
		    pass);
		permissions_free(p);
		perm_cache_clear(c);

		/* Literal wildcards in a published subject, as Match(). */
		p = mk(L("foo.*"), L("foo.bar"), NULL, NULL);
		ok(pub(p, c, "foo.*") && pub(p, c, "foo.>"),
		    "publish to foo.* and foo.> matched as tokens (%d)", pass);
		ok(!pub(p, c, "foo.bar"), "publish foo.bar denied (%d)", pass);
		permissions_free(p);
		perm_cache_clear(c);

		/* Subscribe rules do not touch publish. */
		p = mk(NULL, NULL, L("x"), L(">"));
		ok(pub(p, c, "foo"), "subscribe rules leave publish (%d)",
		    pass);
		permissions_free(p);
		perm_cache_clear(c);
	}
	perm_cache_free(c);
}

static void
test_subscribe(void)
{
	struct permissions *p;

	p = mk(NULL, NULL, L("foo.*"), NULL);
	ok(sub(p, "foo.bar"), "foo.* allows foo.bar");
	ok(sub(p, "foo.*"), "foo.* allows foo.*");
	ok(sub(p, "foo.>"), "foo.* allows foo.> (nats-server's Match)");
	ok(!sub(p, "foo.bar.baz"), "foo.* refuses foo.bar.baz");
	ok(!sub(p, "foo"), "foo.* refuses foo");
	ok(!sub(p, "*.bar"), "foo.* refuses *.bar");
	ok(!sub(p, ">"), "foo.* refuses >");
	ok(!sub(p, "*"), "foo.* refuses *");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo.>"), NULL);
	ok(sub(p, "foo.*") && sub(p, "foo.>") && sub(p, "foo.a.b.c") &&
	    sub(p, "foo.*.c"), "foo.> allows what is under foo");
	ok(!sub(p, "foo") && !sub(p, "*.a") && !sub(p, ">"),
	    "foo.> refuses foo, *.a, >");
	permissions_free(p);

	p = mk(NULL, NULL, L("*.*"), NULL);
	ok(sub(p, "foo.*") && sub(p, "*.*") && sub(p, "*.>") &&
	    sub(p, "a.b"), "*.* allows foo.*, *.*, *.>, a.b");
	ok(!sub(p, "a") && !sub(p, "a.b.c") && !sub(p, ">"),
	    "*.* refuses a, a.b.c, >");
	permissions_free(p);

	p = mk(NULL, NULL, L(">"), NULL);
	ok(sub(p, "foo.*") && sub(p, ">") && sub(p, "a"), "> allows all");
	permissions_free(p);

	p = mk(NULL, NULL, L("*"), NULL);
	ok(sub(p, ">") && sub(p, "*") && sub(p, "a"), "* allows >, *, a");
	ok(!sub(p, "a.b") && !sub(p, "a.>"), "* refuses a.b, a.>");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo.bar"), NULL);
	ok(sub(p, "foo.bar"), "literal rule allows itself");
	ok(!sub(p, "foo.*") && !sub(p, "foo.>") && !sub(p, ">"),
	    "literal rule refuses wildcards over it");
	permissions_free(p);

	/* A '*' inside a token is an ordinary character. */
	p = mk(NULL, NULL, L("foo.a*"), NULL);
	ok(sub(p, "foo.a*") && !sub(p, "foo.ab") && !sub(p, "foo.*"),
	    "'a*' is a literal token");
	permissions_free(p);

	/* Deny. */
	p = mk(NULL, NULL, NULL, L("foo.bar", "secret.>"));
	ok(sub(p, "foo.baz") && sub(p, "x") && sub(p, "secret"),
	    "deny only: others allowed");
	ok(!sub(p, "foo.bar") && !sub(p, "secret.a") && !sub(p, "secret.*") &&
	    !sub(p, "secret.>"), "deny only: denied");
	ok(sub(p, "foo.*") && sub(p, ">") && sub(p, "*.bar"),
	    "wildcards over a deny rule are allowed (checked at delivery)");
	permissions_free(p);

	p = mk(NULL, NULL, NULL, L("foo.*"));
	ok(!sub(p, "foo.>"), "deny foo.* refuses foo.> ('*' takes '>')");
	ok(!sub(p, "foo.*") && !sub(p, "foo.x"), "deny foo.* refuses foo.*");
	ok(sub(p, "foo.x.y") && sub(p, "foo"), "deny foo.* leaves foo.x.y");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo.>"), L("foo.secret"));
	ok(sub(p, "foo.a") && sub(p, "foo.*") && sub(p, "foo.>"),
	    "allow and deny: allowed");
	ok(!sub(p, "foo.secret"), "allow and deny: deny wins");
	ok(!sub(p, "bar"), "allow and deny: not allowed");
	permissions_free(p);

	/* Publish rules do not touch subscribe. */
	p = mk(L("x"), L(">"), NULL, NULL);
	ok(sub(p, "foo") && qsub(p, "foo", "q"), "publish rules leave subscribe");
	permissions_free(p);
}

static void
test_queue(void)
{
	struct permissions *p;

	/* processSub()'s comment in nats-server, case by case. */
	p = mk(NULL, NULL, L("foo"), NULL);
	ok(sub(p, "foo"), "allow foo: plain");
	ok(qsub(p, "foo", "v1") && qsub(p, "foo", "v2"), "allow foo: any group");
	ok(!qsub(p, "bar", "v1"), "allow foo: not bar");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo v1"), NULL);
	ok(!sub(p, "foo"), "allow 'foo v1': no plain subscription");
	ok(qsub(p, "foo", "v1"), "allow 'foo v1': group v1");
	ok(!qsub(p, "foo", "v2"), "allow 'foo v1': not group v2");
	ok(!qsub(p, "bar", "v1"), "allow 'foo v1': not bar");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo", "foo v1"), NULL);
	ok(sub(p, "foo"), "allow foo, 'foo v1': plain");
	ok(qsub(p, "foo", "v1"), "allow foo, 'foo v1': group v1");
	ok(!qsub(p, "foo", "v2"),
	    "allow foo, 'foo v1': only group v1 (queue rules decide)");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo.>", "foo.a v1"), NULL);
	ok(qsub(p, "foo.b", "v2"), "queue rule on another subject: plain decides");
	ok(!qsub(p, "foo.a", "v2") && qsub(p, "foo.a", "v1"),
	    "queue rule on this subject decides");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo v1", "foo v2"), NULL);
	ok(qsub(p, "foo", "v1") && qsub(p, "foo", "v2") && !qsub(p, "foo", "v3"),
	    "two queue rules: either group");
	permissions_free(p);

	/* nats-server's TestQueueSubscribePermissions. */
	p = mk(NULL, NULL, L("foo bar.*"), NULL);
	ok(qsub(p, "foo", "bar.fizz"), "allow 'foo bar.*': group bar.fizz");
	ok(qsub(p, "foo", "bar.*"), "allow 'foo bar.*': group bar.* (literal)");
	ok(!qsub(p, "foo", "bar") && !qsub(p, "foo", "bar.a.b"),
	    "allow 'foo bar.*': not bar, bar.a.b");
	ok(!qsub(p, "foo", "bar.>"), "allow 'foo bar.*': not bar.>");
	permissions_free(p);

	p = mk(NULL, NULL, L("> bar.>"), NULL);
	ok(qsub(p, "whizz", "bar.bang") && qsub(p, "a.b", "bar.x.y"),
	    "allow '> bar.>': groups under bar");
	ok(!sub(p, "whizz"), "allow '> bar.>': no plain subscription");
	ok(!qsub(p, "whizz", "bar"), "allow '> bar.>': not group bar");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo v1.*"), NULL);
	ok(qsub(p, "foo", "v1.*"), "group v1.* matches rule v1.* literally");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo a*"), NULL);
	ok(qsub(p, "foo", "a*") && !qsub(p, "foo", "ab"),
	    "'a*' is no wildcard in a group");
	permissions_free(p);

	/* Deny. */
	p = mk(NULL, NULL, NULL, L("foo bar"));
	ok(!qsub(p, "foo", "bar"), "deny 'foo bar': group bar");
	ok(qsub(p, "foo", "baz"), "deny 'foo bar': group baz allowed");
	ok(sub(p, "foo"), "deny 'foo bar': plain allowed");
	permissions_free(p);

	p = mk(NULL, NULL, NULL, L("foo bar.*"));
	ok(!qsub(p, "foo", "bar.fizz"), "deny 'foo bar.*': group bar.fizz");
	ok(qsub(p, "foo", "bar"), "deny 'foo bar.*': group bar allowed");
	permissions_free(p);

	p = mk(NULL, NULL, NULL, L("> bar.>"));
	ok(!qsub(p, "whizz", "bar.bang"), "deny '> bar.>': denied");
	ok(qsub(p, "whizz", "baz") && sub(p, "whizz"),
	    "deny '> bar.>': others allowed");
	permissions_free(p);

	p = mk(NULL, NULL, NULL, L("foo"));
	ok(!qsub(p, "foo", "any"), "plain deny denies queue subscriptions");
	permissions_free(p);

	/* Safer than nats-server: a plain deny is not lifted by a queue deny. */
	p = mk(NULL, NULL, NULL, L("foo", "foo v1"));
	ok(!qsub(p, "foo", "v2") && !qsub(p, "foo", "v1") && !sub(p, "foo"),
	    "deny foo, 'foo v1': every group denied");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo.*"), L("foo.bar q"));
	ok(qsub(p, "foo.*", "q"), "queue deny on foo.bar leaves foo.* for q");
	ok(!qsub(p, "foo.bar", "q") && qsub(p, "foo.bar", "r"),
	    "queue deny on foo.bar: group q only");
	ok(!qsub(p, "baz", "r"), "allow foo.*: not baz");
	permissions_free(p);

	p = mk(NULL, NULL, L("foo v1"), L("foo v1"));
	ok(!qsub(p, "foo", "v1"), "allowed and denied group: denied");
	permissions_free(p);
}

static void
test_deliver(void)
{
	struct permissions	*p;
	struct perm_cache	*c;
	int			 pass;

	if ((c = perm_cache_new()) == NULL)
		abort();

	p = mk(NULL, NULL, NULL, L("foo.bar", "secret.>", "q.x grp"));
	ok(needs(p, "foo.*"), "foo.* over deny foo.bar: check");
	ok(needs(p, "foo.>") && needs(p, ">") && needs(p, "*.bar"),
	    "foo.>, >, *.bar over deny foo.bar: check");
	ok(needs(p, "*.*"), "*.* over deny foo.bar: check");
	ok(!needs(p, "foo.baz"), "literal subscription: no check");
	ok(!needs(p, "foo.*.x"), "foo.*.x misses the deny rules: no check");
	ok(!needs(p, "bar.*") && !needs(p, "foo"),
	    "bar.*, foo miss the deny rules: no check");
	ok(!needs(p, "q.*"), "queue deny rules: no check");
	ok(needs(p, "*.a"), "*.a overlaps secret.>: check");
	ok(!needs(p, "*"), "* misses foo.bar and secret.>: no check");
	for (pass = 0; pass < 2; pass++) {
		ok(!deliver(p, c, "foo.bar"), "foo.bar withheld (%d)", pass);
		ok(!deliver(p, c, "secret.a") && !deliver(p, c, "secret.a.b"),
		    "secret.* withheld (%d)", pass);
		ok(deliver(p, c, "foo.baz") && deliver(p, c, "secret") &&
		    deliver(p, c, "q.x"), "others delivered (%d)", pass);
	}
	ok(deliver(p, NULL, "foo.baz") && !deliver(p, NULL, "foo.bar"),
	    "deliver without a cache");
	permissions_free(p);
	perm_cache_clear(c);

	/* Deny rules broader than the subscription: refused anyway. */
	p = mk(NULL, NULL, NULL, L("*.bar"));
	ok(sub(p, "foo.*") && needs(p, "foo.*"),
	    "deny *.bar: foo.* allowed, checked (overlap, not subset)");
	ok(!deliver(p, c, "foo.bar") && deliver(p, c, "foo.baz"),
	    "deny *.bar: foo.bar withheld");
	permissions_free(p);
	perm_cache_clear(c);

	p = mk(NULL, NULL, L(">"), NULL);
	ok(!needs(p, ">"), "no deny rules: no check");
	ok(deliver(p, c, "foo"), "no deny rules: delivered");
	permissions_free(p);
	perm_cache_clear(c);

	/* Publish and deliver answers for one subject stay apart. */
	p = mk(L("foo.bar"), NULL, NULL, L("foo.bar"));
	ok(pub(p, c, "foo.bar") && !deliver(p, c, "foo.bar") &&
	    pub(p, c, "foo.bar") && !deliver(p, c, "foo.bar"),
	    "publish and deliver answers cached apart");
	permissions_free(p);
	perm_cache_free(c);
}

/* Pseudo-random, reproducible. */
static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;

static uint32_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 11);
}

static const char *const words[] = {
	"foo", "bar", "baz", "secret", "a", "b", "req", "_INBOX", "x"
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

/* A literal subject of 1 to 5 tokens, sometimes long. */
static size_t
rnd_subject(char *buf, size_t size)
{
	size_t	n, i, len = 0;
	int	w;

	n = 1 + rnd() % 5;
	for (i = 0; i < n; i++) {
		if (rnd() % 4 == 0)
			w = snprintf(buf + len, size - len, "%s%u",
			    i ? "." : "", rnd() % 50);
		else
			w = snprintf(buf + len, size - len, "%s%s",
			    i ? "." : "", words[rnd() % NWORDS]);
		len += w;
	}
	if (rnd() % 64 == 0) {		/* past the cacheable length */
		buf[len++] = '.';
		memset(buf + len, 'L', 300);
		len += 300;
	}
	buf[len] = '\0';
	return len;
}

static void
test_cache(void)
{
	struct permissions	*p, *p2;
	struct perm_cache	*c;
	char			 s[64], buf[512];
	bool			 want[512];
	size_t			 len;
	int			 i, pass, bad;

	if ((c = perm_cache_new()) == NULL)
		abort();
	p = mk(L("ok.>"), L("ok.bad.*"), NULL, L("ok.bad.*"));

	/* More distinct subjects than the cache holds, several times over. */
	for (i = 0; i < 512; i++)
		want[i] = i % 3 == 1;
	for (pass = 0, bad = 0; pass < 3; pass++)
		for (i = 0; i < 512; i++) {
			snprintf(s, sizeof(s), i % 3 == 0 ? "ok.bad.%d" :
			    i % 3 == 1 ? "ok.good.%d" : "no.%d", i);
			if (pub(p, c, s) != want[i] || pub(p, NULL, s) != want[i])
				bad++;
		}
	is_int(bad, 0, "512 subjects, 3 passes: cached answers right");

	/* A small working set stays right on repeated hits. */
	for (i = 0, bad = 0; i < 1000; i++) {
		if (!pub(p, c, "ok.a") || pub(p, c, "ok.bad.x") ||
		    pub(p, c, "no"))
			bad++;
	}
	is_int(bad, 0, "hot subjects: cached answers right");

	/* Long subjects are computed, not cached, and still right. */
	len = snprintf(buf, sizeof(buf), "ok.");
	memset(buf + len, 'x', 400);
	buf[len + 400] = '\0';
	ok(pub(p, c, buf) && pub(p, c, buf), "long allowed subject");
	memcpy(buf, "no.", 3);
	ok(!pub(p, c, buf) && !pub(p, c, buf), "long denied subject");

	/* Subjects differing by one byte, or a prefix of another. */
	ok(pub(p, c, "ok.bad") && !pub(p, c, "ok.bad.x") &&
	    pub(p, c, "ok.bax.x") && pub(p, c, "ok.bad.x.y") &&
	    pub(p, c, "ok.bad") && !pub(p, c, "ok.bad.x"),
	    "near subjects kept apart");

	/* Clear after a permission change. */
	permissions_free(p);
	perm_cache_clear(c);
	p = mk(L("no.>"), NULL, NULL, NULL);
	ok(!pub(p, c, "ok.a") && pub(p, c, "no.1"),
	    "after clear: new permissions' answers");
	perm_cache_clear(c);
	perm_cache_clear(c);
	ok(!pub(p, c, "ok.a") && pub(p, c, "no.1"), "clear twice is harmless");

	/*
	 * Another permissions struct with the same cache: old answers go.
	 * (The old one is still allocated, so the addresses differ.)
	 */
	p2 = mk(L("ok.>"), NULL, NULL, NULL);
	ok(pub(p2, c, "ok.a") && !pub(p2, c, "no.1"),
	    "switching permissions forgets answers");
	ok(!pub(p, c, "ok.a") && pub(p, c, "no.1"),
	    "switching back forgets them again");
	permissions_free(p);
	permissions_free(p2);

	perm_cache_clear(NULL);
	perm_cache_free(NULL);
	perm_cache_free(c);
}

/*
 * Random rule sets and subjects: the cached answers equal the uncached
 * ones, over a few thousand subjects with many repeats.
 */
static void
test_random(void)
{
	static const char *const pats[] = {
		"foo.>", "foo.*", "*.bar", "secret.>", "a.b", ">", "*",
		"_INBOX.*", "req.*.x", "x.>", "baz", "*.*.*"
	};
	struct permissions	*p;
	struct perm_cache	*c;
	const char		*pa[4], *pd[4], *sd[4];
	char			 subjects[128][400];
	size_t			 lens[128];
	int			 round, i, j, k, bad = 0, n = 0;

	if ((c = perm_cache_new()) == NULL)
		abort();
	for (round = 0; round < 8; round++) {
		for (i = 0; i < 3; i++) {
			pa[i] = pats[rnd() % 12];
			pd[i] = pats[rnd() % 12];
			sd[i] = pats[rnd() % 12];
		}
		k = round % 3;
		pa[k + 1] = pd[k + 1] = sd[k + 1] = NULL;
		p = mk(round % 4 == 3 ? NULL : pa, pd, NULL, sd);
		for (i = 0; i < 128; i++)
			lens[i] = rnd_subject(subjects[i], sizeof(subjects[i]));
		/* Repeats: the subjects come back at random. */
		for (j = 0; j < 600; j++, n++) {
			i = rnd() % 128;
			if (pub(p, c, subjects[i]) != pub(p, NULL, subjects[i]))
				bad++;
			if (perm_can_deliver(p, c, subjects[i], lens[i]) !=
			    perm_can_deliver(p, NULL, subjects[i], lens[i]))
				bad++;
		}
		permissions_free(p);
		perm_cache_clear(c);
	}
	is_int(bad, 0, "random: %d cached answers equal uncached", 2 * n);
	perm_cache_free(c);
}

int
main(void)
{
	test_null();
	test_readme();
	test_publish();
	test_subscribe();
	test_queue();
	test_deliver();
	test_cache();
	test_random();
	return done_testing();
}
