/*
 * Subject syntax, as nats-server checks it.  Tokens are separated by '.';
 * no token may be empty.  '*' matches one token and '>' the rest (it must
 * be the last token); both are wildcards only when they are a whole token.
 * Whitespace is never allowed inside a subject.
 */
#ifndef NATSD_SUBJECT_H
#define NATSD_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

/* A subscription subject: wildcards allowed. */
bool	subject_valid(const char *s, size_t len);
/* A publish subject: no wildcards (checked in pedantic mode only, as nats-server). */
bool	subject_valid_literal(const char *s, size_t len);
/* Does literal subject s match pattern p (which may hold wildcards)? */
bool	subject_matches(const char *p, size_t plen, const char *s, size_t slen);
/* A queue group name: one token, no whitespace. */
bool	queue_valid(const char *q, size_t len);
/*
 * Order of (subject, queue) keys for the interest trees: by subject
 * (shorter first, then bytes), a plain one (queue NULL) before any
 * queue group of the same subject, then by queue the same way.
 */
int	subject_queue_cmp(const char *s1, size_t l1, const char *q1,
	    size_t ql1, const char *s2, size_t l2, const char *q2, size_t ql2);

#endif
