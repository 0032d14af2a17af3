/*
 * Subject syntax and matching, as nats-server's server/sublist.go has them.
 *
 * A subject is a list of tokens separated by '.'.  No token is empty, so a
 * subject neither starts nor ends with '.' and never holds "..".  A token
 * that is exactly "*" matches any one token, one that is exactly ">"
 * matches one or more tokens and must be the last; '*' or '>' inside a
 * longer token ("foo.*bar", "a>b") is an ordinary character, so such a
 * subject is valid and even literal.  No whitespace (space, tab, CR, LF,
 * FF: the set nats-server's IsValidSubject() refuses) may appear anywhere.
 *
 * Everything works on (pointer, length) pairs straight from the read
 * buffer: nothing is copied, nothing allocated, nothing NUL-terminated.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "subject.h"

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/*
 * The one walk behind both validity checks.  With literal, a wildcard
 * token makes the subject invalid; without, a '>' token must be last.
 */
static bool
subject_check(const char *s, size_t len, bool literal)
{
	size_t	i, tok = 0;		/* tok: start of the current token */
	bool	fwc = false;		/* the previous token was ">" */

	if (len == 0)
		return false;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (is_space(s[i]))
				return false;
			continue;
		}
		/* s[tok, i) is a whole token. */
		if (i == tok || fwc)
			return false;
		if (i - tok == 1 && (s[tok] == '>' || s[tok] == '*')) {
			if (literal)
				return false;
			fwc = s[tok] == '>';
		}
		tok = i + 1;
	}
	return true;
}

bool
subject_valid(const char *s, size_t len)
{
	return subject_check(s, len, false);
}

bool
subject_valid_literal(const char *s, size_t len)
{
	return subject_check(s, len, true);
}

/*
 * Token by token.  The subject is taken as literal: a "*" or ">" token in
 * it only matches the same token in the pattern, or a wildcard there.
 * Neither argument is validated; an empty one matches nothing.
 */
bool
subject_matches(const char *p, size_t plen, const char *s, size_t slen)
{
	const char	*pd, *sd;
	size_t		 pi = 0, si = 0, pt, st;

	if (plen == 0 || slen == 0)
		return false;
	for (;;) {
		if (si > slen)			/* subject has no tokens left */
			return false;
		pd = memchr(p + pi, '.', plen - pi);
		pt = pd != NULL ? (size_t)(pd - p) - pi : plen - pi;
		if (pt == 1 && p[pi] == '>')	/* one or more: there is one */
			return true;
		sd = memchr(s + si, '.', slen - si);
		st = sd != NULL ? (size_t)(sd - s) - si : slen - si;
		if (!(pt == 1 && p[pi] == '*') &&
		    (pt != st || memcmp(p + pi, s + si, pt) != 0))
			return false;
		if (pd == NULL)			/* pattern done: subject too? */
			return sd == NULL;
		pi += pt + 1;
		si = sd != NULL ? si + st + 1 : slen + 1;
	}
}

/*
 * A queue group name is one protocol argument: not empty and no
 * whitespace.  Dots, '*' and '>' are allowed: nats-server does not look
 * inside queue names (its permissions even match "v1.*" as a literal name)
 * and client libraries refuse only whitespace.
 */
bool
queue_valid(const char *q, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (is_space(q[i]))
			return false;
	return true;
}

int
subject_queue_cmp(const char *s1, size_t l1, const char *q1, size_t ql1,
    const char *s2, size_t l2, const char *q2, size_t ql2)
{
	int c;

	if (l1 != l2)
		return l1 < l2 ? -1 : 1;
	if ((c = memcmp(s1, s2, l1)) != 0)
		return c;
	if ((q1 == NULL) != (q2 == NULL))
		return q1 == NULL ? -1 : 1;
	if (q1 == NULL)
		return 0;
	if (ql1 != ql2)
		return ql1 < ql2 ? -1 : 1;
	return memcmp(q1, q2, ql1);
}
