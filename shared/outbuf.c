/*
 * The outbound queue and the input stash of a connection (see outbuf.h).
 *
 * Memory follows traffic: an outbound buffer doubles as it needs to and
 * is freed once it has been empty a while, or as soon as it empties if
 * it grew large; a stash is freed once empty if it grew past a few
 * kilobytes or was sized for a large frame.  An idle connection so costs
 * its structure and little else.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbuf.h"

#define STASH_KEEP_MAX	4096	/* a larger empty stash is freed */

static void
release(char **buf, size_t *cap)
{
	free(*buf);
	*buf = NULL;
	*cap = 0;
}

void
outbuf_grow(struct outbuf *ob, size_t need, const char *what)
{
	size_t	 cap;
	char	*p;

	cap = ob->cap ? ob->cap : 512;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(ob->buf, cap)) == NULL)
		fatal("%s outbound %zu bytes", what, cap);
	ob->buf = p;
	ob->cap = cap;
}

/* The memory only: what is queued must have been written or dropped. */
void
outbuf_free(struct outbuf *ob)
{
	release(&ob->buf, &ob->cap);
}

int
outbuf_flush(struct outbuf *ob, outbuf_send_fn sendfn, void *arg,
    int64_t now)
{
	ssize_t n;

	while (ob->len > ob->off) {
		n = sendfn(arg, ob->buf + ob->off, ob->len - ob->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		ob->off += (size_t)n;
		ob->last_write = now;
	}
	if (ob->off == ob->len) {
		ob->off = ob->len = 0;
		if (ob->cap > OUTBUF_KEEP_MAX)
			outbuf_free(ob);
	}
	return 0;
}

void
outbuf_trim_idle(struct outbuf *ob, int64_t now)
{
	if (ob->len == 0 && ob->cap > 0 && now - ob->last_write >
	    OUTBUF_IDLE_MS)
		outbuf_free(ob);
}

bool
stash_prepare(struct stash *st, char *rbuf, size_t rbuf_size, char **buf,
    size_t *room)
{
	if (st->len > 0 && st->cap > rbuf_size) {
		/* The rest of a large frame goes straight to its stash. */
		*buf = st->buf;
		*room = st->cap - st->len;
		return true;
	}
	if (st->len > 0)
		memcpy(rbuf, st->buf, st->len);
	*buf = rbuf;
	*room = rbuf_size - st->len;
	return false;
}

void
stash_save(struct stash *st, const char *rest, size_t n, size_t need,
    size_t rbuf_size, const char *what)
{
	size_t	 cap = need > n ? need : n;
	char	*p;

	/*
	 * A frame that fits rbuf never keeps a large stash.  rest may lie in
	 * the old stash: it is copied out before that is freed.
	 */
	if (cap > st->cap || (st->cap > rbuf_size && cap <= rbuf_size)) {
		if ((p = malloc(cap)) == NULL)
			fatal("%s stash %zu", what, cap);
		memmove(p, rest, n);
		free(st->buf);
		st->buf = p;
		st->cap = cap;
	} else
		memmove(st->buf, rest, n);
	st->len = n;
}

void
stash_clear(struct stash *st, bool big)
{
	st->len = 0;
	if (st->cap > STASH_KEEP_MAX || big)
		stash_free(st);
}

void
stash_free(struct stash *st)
{
	release(&st->buf, &st->cap);
}
