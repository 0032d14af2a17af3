/*
 * A connection's two buffers, as client connections (worker/client.c)
 * and route connections (router/route_io.c) both keep them:
 *
 * - the outbound queue: delivery reserves room at its end, writes a
 *   frame in place and commits it; the loop flushes it once per turn;
 * - the input stash: the tail of a frame split across reads, kept until
 *   the rest arrives (see stash_prepare()).
 *
 * Only the mechanism is here.  How much a connection may hold, what it
 * logs and why it is closed are each side's own: a caller checks its own
 * limit before outbuf_reserve() and reports a failed flush in its words.
 *
 * What delivery calls for every message (outbuf_reserve, outbuf_commit,
 * outbuf_put, outbuf_put_u64) is inline: LTO is off and this is the hot
 * path.
 */
#ifndef NATSD_OUTBUF_H
#define NATSD_OUTBUF_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OUTBUF_KEEP_MAX	(64 * 1024)	/* a larger one is freed once empty */
#define OUTBUF_IDLE_MS	1000		/* any is freed after this unused */

struct outbuf {
	char	*buf;
	size_t	 off;		/* written up to here */
	size_t	 len;		/* queued up to here */
	size_t	 cap;
	int64_t	 last_write;	/* ms: last write progress, or since pending */
};

struct stash {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* write(2)'s contract, on whatever the connection writes through. */
typedef ssize_t	(*outbuf_send_fn)(void *, const char *, size_t);

/* Grow to hold need bytes; fatal (naming what) when memory is out. */
void	outbuf_grow(struct outbuf *, size_t need, const char *what);
/*
 * Write what is pending until all is or the socket is full.  0 then;
 * -1 when send failed, errno saying why (the caller logs and closes).
 */
int	outbuf_flush(struct outbuf *, outbuf_send_fn, void *, int64_t now);
/* Free the memory of a buffer left empty for OUTBUF_IDLE_MS. */
void	outbuf_trim_idle(struct outbuf *, int64_t now);
void	outbuf_free(struct outbuf *);

/*
 * Where the next read goes; true if straight into the stash.  A large
 * frame (its stash bigger than rbuf) is read into the stash, so its
 * payload is copied once; otherwise what the stash holds is copied to the
 * front of rbuf.  *buf is where parsing starts, the read goes to
 * *buf + st->len, at most *room bytes.
 */
bool	stash_prepare(struct stash *, char *rbuf, size_t rbuf_size,
	    char **buf, size_t *room);
/*
 * After parsing: keep the n bytes at rest, the start of a frame of need
 * bytes (0: not known yet), for the next read.  what names the owner if
 * memory is out.
 */
void	stash_save(struct stash *, const char *rest, size_t n, size_t need,
	    size_t rbuf_size, const char *what);
/*
 * After parsing all there was: empty, and free a stash that grew past
 * what small frames need or was sized for a large one (big: what
 * stash_prepare() said).
 */
void	stash_clear(struct stash *, bool big);
void	stash_free(struct stash *);

static inline size_t
outbuf_pending(const struct outbuf *ob)
{
	return ob->len - ob->off;
}

/*
 * Room for n more bytes at the end; the caller has checked its limit.
 * What was written is dropped from the front first when that is all of
 * the buffer or more than half of it.
 */
static inline char *
outbuf_reserve(struct outbuf *ob, size_t n, int64_t now, const char *what)
{
	if (ob->off > 0 && (ob->off == ob->len || ob->off > ob->cap / 2)) {
		memmove(ob->buf, ob->buf + ob->off, ob->len - ob->off);
		ob->len -= ob->off;
		ob->off = 0;
	}
	if (ob->len + n > ob->cap)
		outbuf_grow(ob, ob->len + n, what);
	/* The write deadline runs from the moment bytes are owed. */
	if (ob->len == ob->off)
		ob->last_write = now;
	return ob->buf + ob->len;
}

/* n bytes of what outbuf_reserve() returned are now queued. */
static inline void
outbuf_commit(struct outbuf *ob, size_t n)
{
	ob->len += n;
}

/* Forget what is pending: the connection is closing and owes nothing. */
static inline void
outbuf_drop(struct outbuf *ob)
{
	ob->off = ob->len;
}

/* Bytes owed and no write progress for longer than deadline ms. */
static inline bool
outbuf_stalled(const struct outbuf *ob, int64_t now, int64_t deadline)
{
	return ob->len > ob->off && now - ob->last_write > deadline;
}

/* n bytes of src at p; returns the end (nginx's ngx_cpymem). */
static inline char *
outbuf_put(char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

/* v in decimal at p; returns the end.  p has room for 20 digits. */
static inline char *
outbuf_put_u64(char *p, uint64_t v)
{
	char	tmp[20];
	int	n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

#endif
