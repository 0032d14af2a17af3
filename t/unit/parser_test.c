/*
 * Unit tests for the protocol parser (shared/parser.c) and the subject
 * rules (shared/subject.c).
 *
 * Most parser tests are table rows: an input, the limits, and the
 * transcript it must produce.  A transcript lists every frame the parser
 * returned ("PUB s=foo h=0 t=2 p=hi"), the error that stopped it
 * ("ERR:UNKNOWN_OP"), and what was left waiting at the end
 * ("MORE(5,0)": 5 bytes kept, need hint 0).  Route frames add their
 * account ("acc="), queue names ("qs=", as they appear) and, for RS+, the
 * weight ("w=").  It is produced by drive(),
 * which behaves like a client's read loop: bytes arrive in chunks, the
 * unconsumed tail is stashed and handed back with the next chunk.  Every
 * row is run whole, split in two at every byte position, and fed one byte
 * at a time; all runs must give the same transcript.  Along the way
 * drive() checks that every slice points into the buffer it passed, that
 * a need hint is larger than what is there and equals the frame's length
 * once it completes, and it hands the parser exactly-sized heap copies so
 * that valgrind and ASan see any read past the end.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "subject.h"
#include "../tap.h"

#define DEF_MCL		4096
#define DEF_PAYLOAD	(1024 * 1024)

/* max_control_line, max_payload, client_side, route_side */
static const struct proto_limits lim_def = { DEF_MCL, DEF_PAYLOAD, 0, 0 };
static const struct proto_limits lim_small = { 40, 16, 0, 0 };
static const struct proto_limits lim_client = { DEF_MCL, DEF_PAYLOAD, 1, 0 };
static const struct proto_limits lim_route = { DEF_MCL, DEF_PAYLOAD, 0, 1 };
static const struct proto_limits lim_rsmall = { 40, 16, 0, 1 };
static const struct proto_limits lim_both = { DEF_MCL, DEF_PAYLOAD, 1, 1 };

/* A growing string. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

static void
sb_grow(struct sbuf *sb, size_t n)
{
	if (sb->len + n + 1 <= sb->cap)
		return;
	while (sb->len + n + 1 > sb->cap)
		sb->cap = sb->cap ? sb->cap * 2 : 256;
	if ((sb->p = realloc(sb->p, sb->cap)) == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
}

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/* Bytes, readable: CR LF as \r \n, other odd bytes as \xHH. */
static void
sb_esc(struct sbuf *sb, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i;
	unsigned char	c;
	char		*o;

	sb_grow(sb, 4 * n);		/* the longest escape is 4 bytes */
	o = sb->p + sb->len;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '\r' || c == '\n') {
			*o++ = '\\';
			*o++ = c == '\r' ? 'r' : 'n';
		} else if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\') {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else
			*o++ = (char)c;
	}
	*o = '\0';
	sb->len = (size_t)(o - sb->p);
}

static void
sb_reset(struct sbuf *sb)
{
	sb->len = 0;
	sb_grow(sb, 0);
	sb->p[0] = '\0';
}

static const char *
err_name(int r)
{
	switch (r) {
	case PROTO_E_UNKNOWN_OP:
		return "UNKNOWN_OP";
	case PROTO_E_CONTROL_LINE:
		return "CONTROL_LINE";
	case PROTO_E_PAYLOAD:
		return "PAYLOAD";
	case PROTO_E_ARGS:
		return "ARGS";
	default:
		return "?";
	}
}

static void
slice_desc(struct sbuf *tr, const char *tag, const struct proto_slice *s)
{
	if (s->len == 0)
		return;
	sb_add(tr, " %s=", tag);
	sb_esc(tr, s->p, s->len);
}

static void
frame_desc(struct sbuf *tr, const struct proto_frame *f)
{
	if (tr->len > 0)
		sb_add(tr, "|");
	sb_add(tr, "%s", proto_op_name(f->op));
	slice_desc(tr, "acc", &f->account);
	slice_desc(tr, "s", &f->subject);
	slice_desc(tr, "r", &f->reply);
	slice_desc(tr, "q", &f->queue);
	slice_desc(tr, "qs", &f->queues);
	slice_desc(tr, "sid", &f->sid);
	slice_desc(tr, "a", &f->arg);
	if (f->op == OP_RSUB || f->weight != 0)
		sb_add(tr, " w=%u", f->weight);
	if (f->max_msgs != 0)
		sb_add(tr, " m=%lld", (long long)f->max_msgs);
	if (f->payload != NULL) {
		sb_add(tr, " h=%zu t=%zu p=", f->hdr_len, f->total_len);
		sb_esc(tr, f->payload, f->total_len);
	}
}

/* Problems drive() found besides the transcript. */
struct dstats {
	size_t	calls;
	size_t	bad_slice;	/* a slice outside the buffer */
	size_t	bad_need;	/* a need hint that was wrong */
	size_t	bad_used;	/* used 0 or past the buffer */
};

static bool
slice_in(const struct proto_slice *s, const char *b, size_t n)
{
	return s->len == 0 || (s->p >= b && s->p + s->len <= b + n);
}

/*
 * Feed in[0, n) in chunks ending at cuts[0..ncuts) and then n, like a
 * read loop; append the transcript to tr.
 */
static void
drive(const struct proto_limits *lim, const char *in, size_t n,
    const size_t *cuts, size_t ncuts, struct sbuf *tr, struct dstats *st)
{
	struct proto_frame	 f;
	char			*pend, *b;
	size_t			 plen = 0, pos = 0, end, ci, off, used, need;
	size_t			 hint = 0, last_need = 0;
	int			 r = PROTO_MORE;

	sb_reset(tr);
	pend = xmalloc(n);
	for (ci = 0; ci <= ncuts; ci++) {
		end = ci < ncuts ? cuts[ci] : n;
		if (end <= pos)
			continue;
		memcpy(pend + plen, in + pos, end - pos);
		plen += end - pos;
		pos = end;

		/* One exact-size copy per read, as a read buffer would be. */
		b = xmalloc(plen);
		memcpy(b, pend, plen);
		off = 0;
		while (off < plen) {
			memset(&f, 0xa5, sizeof(f));
			r = proto_parse(lim, b + off, plen - off, &f, &used,
			    &need);
			st->calls++;
			if (r != PROTO_FRAME)
				break;
			if (used == 0 || used > plen - off) {
				st->bad_used++;
				break;
			}
			if (!slice_in(&f.subject, b + off, used) ||
			    !slice_in(&f.reply, b + off, used) ||
			    !slice_in(&f.queue, b + off, used) ||
			    !slice_in(&f.sid, b + off, used) ||
			    !slice_in(&f.arg, b + off, used) ||
			    !slice_in(&f.account, b + off, used) ||
			    !slice_in(&f.queues, b + off, used) ||
			    (f.payload != NULL && (f.payload < b + off ||
			    f.payload + f.total_len + 2 != b + off + used)))
				st->bad_slice++;
			if (hint != 0 && hint != used)
				st->bad_need++;
			if (need != 0)
				st->bad_need++;
			hint = 0;
			frame_desc(tr, &f);
			off += used;
		}
		if (r == PROTO_MORE && off < plen) {
			/* A hint, once given, holds until the frame is done. */
			if (need != 0 && (need <= plen - off ||
			    (hint != 0 && need != hint)))
				st->bad_need++;
			if (need == 0 && hint != 0)
				st->bad_need++;
			if (need != 0)
				hint = need;
			last_need = need;
		}
		free(b);
		if (r < 0) {
			if (tr->len > 0)
				sb_add(tr, "|");
			sb_add(tr, "ERR:%s", err_name(r));
			free(pend);
			return;
		}
		memmove(pend, pend + off, plen - off);
		plen -= off;
	}
	if (plen > 0) {
		if (tr->len > 0)
			sb_add(tr, "|");
		sb_add(tr, "MORE(%zu,%zu)", plen, last_need);
	}
	free(pend);
}

static bool
stats_clean(const struct dstats *st)
{
	return st->bad_slice == 0 && st->bad_need == 0 && st->bad_used == 0;
}

/* drive() with one byte per read. */
static void
drive_bytes(const struct proto_limits *lim, const char *in, size_t n,
    struct sbuf *tr, struct dstats *st)
{
	size_t	*cuts, k;

	cuts = xmalloc(n * sizeof(*cuts));
	for (k = 1; k < n; k++)
		cuts[k - 1] = k;
	drive(lim, in, n, cuts, n > 0 ? n - 1 : 0, tr, st);
	free(cuts);
}

/*
 * Run one input whole, split at every byte and byte by byte; the
 * transcript must be want (if not NULL) and the same in every run.
 */
static void
check_splits(const struct proto_limits *lim, const char *in, size_t n,
    const char *want, const char *name)
{
	struct sbuf	 whole = { 0 }, tr = { 0 };
	struct dstats	 st = { 0 };
	size_t		 k, bad = 0, first_bad = 0;

	drive(lim, in, n, NULL, 0, &whole, &st);
	if (want != NULL && !ok(strcmp(whole.p, want) == 0, "%s", name)) {
		printf("#   got  \"%s\"\n#   want \"%s\"\n", whole.p, want);
	}
	for (k = 1; k < n; k++) {
		drive(lim, in, n, &k, 1, &tr, &st);
		if (strcmp(tr.p, whole.p) != 0 && bad++ == 0) {
			first_bad = k;
			printf("#   split at %zu: \"%s\"\n", k, tr.p);
		}
	}
	if (!ok(bad == 0, "%s: same frames split at each of %zu positions",
	    name, n > 0 ? n - 1 : 0))
		printf("#   %zu splits differ, first at %zu\n", bad, first_bad);

	drive_bytes(lim, in, n, &tr, &st);
	if (!ok(strcmp(tr.p, whole.p) == 0 && stats_clean(&st),
	    "%s: same frames byte by byte; slices and hints sane", name))
		printf("#   got \"%s\"; bad slice %zu need %zu used %zu\n",
		    tr.p, st.bad_slice, st.bad_need, st.bad_used);
	free(whole.p);
	free(tr.p);
}

struct row {
	const struct proto_limits	*lim;
	const char			*in;
	size_t				 len;
	const char			*want;
};

#define ROW(l, s, w)	{ (l), (s), sizeof(s) - 1, (w) }

static const struct row rows[] = {
	/* Every operation. */
	ROW(&lim_def, "CONNECT {\"verbose\":false}\r\n",
	    "CONNECT a={\"verbose\":false}"),
	ROW(&lim_def, "PUB foo 5\r\nhello\r\n", "PUB s=foo h=0 t=5 p=hello"),
	ROW(&lim_def, "PUB foo bar 5\r\nhello\r\n",
	    "PUB s=foo r=bar h=0 t=5 p=hello"),
	ROW(&lim_def, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
	    "HPUB s=foo h=12 t=14 p=NATS/1.0\\r\\n\\r\\nhi"),
	ROW(&lim_def, "HPUB foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n",
	    "HPUB s=foo r=rep h=12 t=12 p=NATS/1.0\\r\\n\\r\\n"),
	ROW(&lim_def, "SUB foo 1\r\n", "SUB s=foo sid=1"),
	ROW(&lim_def, "SUB foo.* q1 22\r\n", "SUB s=foo.* q=q1 sid=22"),
	ROW(&lim_def, "UNSUB 1\r\n", "UNSUB sid=1"),
	ROW(&lim_def, "UNSUB 1 10\r\n", "UNSUB sid=1 m=10"),
	ROW(&lim_def, "UNSUB 1 999999999\r\n", "UNSUB sid=1 m=999999999"),
	ROW(&lim_def, "PING\r\n", "PING"),
	ROW(&lim_def, "PONG\r\n", "PONG"),
	ROW(&lim_def, "INFO {\"server_id\":\"x\"}\r\n",
	    "INFO a={\"server_id\":\"x\"}"),
	ROW(&lim_def, "+OK\r\n", "+OK"),
	ROW(&lim_def, "-ERR 'Unknown Protocol Operation'\r\n",
	    "-ERR a='Unknown Protocol Operation'"),
	/* Case does not matter in operation names. */
	ROW(&lim_def, "connect {}\r\n", "CONNECT a={}"),
	ROW(&lim_def, "CoNnEcT {}\r\n", "CONNECT a={}"),
	ROW(&lim_def, "pub foo 1\r\nx\r\n", "PUB s=foo h=0 t=1 p=x"),
	ROW(&lim_def, "pUb Foo 1\r\nx\r\n", "PUB s=Foo h=0 t=1 p=x"),
	ROW(&lim_def, "hpub foo 0 0\r\n\r\n", "HPUB s=foo h=0 t=0 p="),
	ROW(&lim_def, "HpUb foo 0 1\r\nx\r\n", "HPUB s=foo h=0 t=1 p=x"),
	ROW(&lim_def, "sub foo 1\r\nsUB bar 2\r\n",
	    "SUB s=foo sid=1|SUB s=bar sid=2"),
	ROW(&lim_def, "unsub 1\r\nUnSuB 2\r\n", "UNSUB sid=1|UNSUB sid=2"),
	ROW(&lim_def, "ping\r\nPiNg\r\npong\r\npONG\r\n", "PING|PING|PONG|PONG"),
	ROW(&lim_def, "info {}\r\n", "INFO a={}"),
	ROW(&lim_def, "+ok\r\n+Ok\r\n", "+OK|+OK"),
	ROW(&lim_def, "-err 'x'\r\n", "-ERR a='x'"),
	/* Blanks: tabs, several of them, trailing ones. */
	ROW(&lim_def, "PUB\tfoo\t\tbar \t 2\r\nhi\r\n",
	    "PUB s=foo r=bar h=0 t=2 p=hi"),
	ROW(&lim_def, "PUB foo 2  \t\r\nhi\r\n", "PUB s=foo h=0 t=2 p=hi"),
	ROW(&lim_def, "HPUB\t foo \t1\t 2 \r\nab\r\n",
	    "HPUB s=foo h=1 t=2 p=ab"),
	ROW(&lim_def, "SUB \t foo \t q \t 9 \t\r\n", "SUB s=foo q=q sid=9"),
	ROW(&lim_def, "UNSUB\t\t7\t 3 \r\n", "UNSUB sid=7 m=3"),
	ROW(&lim_def, "PING \t \r\nPONG\t\r\n", "PING|PONG"),
	ROW(&lim_def, "CONNECT  \t {}\r\n", "CONNECT a={}"),
	ROW(&lim_def, "-ERR\t 'x y'\r\n", "-ERR a='x y'"),
	/* Bare LF ends a control line (telnet). */
	ROW(&lim_def, "PUB foo 2\nhi\r\n", "PUB s=foo h=0 t=2 p=hi"),
	ROW(&lim_def, "SUB foo 1\nUNSUB 1\nPING\nPONG\n",
	    "SUB s=foo sid=1|UNSUB sid=1|PING|PONG"),
	ROW(&lim_def, "CONNECT {}\nINFO {}\n+OK\n-ERR 'e'\n",
	    "CONNECT a={}|INFO a={}|+OK|-ERR a='e'"),
	/* What nats-server lets through, so do we. */
	ROW(&lim_def, "CONNECT{\"a\":1}\r\n", "CONNECT a={\"a\":1}"),
	ROW(&lim_def, "INFO{}\r\n", "INFO a={}"),
	ROW(&lim_def, "CONNECT\r\n", "CONNECT"),
	ROW(&lim_def, "PINGX\r\nPONG foo\r\n+OKAY\r\n", "PING|PONG|+OK"),
	ROW(&lim_def, "UNSUB 1 abc\r\n", "UNSUB sid=1"),
	ROW(&lim_def, "UNSUB 1 1000000000\r\n", "UNSUB sid=1"),
	ROW(&lim_def, "PUB foo 000000002\r\nhi\r\n", "PUB s=foo h=0 t=2 p=hi"),
	ROW(&lim_def, "SUB foo\r 5\r\n", "SUB s=foo sid=5"),
	ROW(&lim_def, "PUB fo\ro 1\r\nx\r\n", "PUB s=fo\\ro h=0 t=1 p=x"),
	/* Zero-length and binary payloads. */
	ROW(&lim_def, "PUB foo 0\r\n\r\n", "PUB s=foo h=0 t=0 p="),
	ROW(&lim_def, "PUB foo 0\r\n\r\nPUB bar r 0\r\n\r\n",
	    "PUB s=foo h=0 t=0 p=|PUB s=bar r=r h=0 t=0 p="),
	ROW(&lim_def, "PUB bin 8\r\n\r\n\r\n\0\xff\n\r\r\n",
	    "PUB s=bin h=0 t=8 p=\\r\\n\\r\\n\\x00\\xff\\n\\r"),
	ROW(&lim_def, "PUB x 11\r\nPING\r\nPONG\r\r\nPING\r\n",
	    "PUB s=x h=0 t=11 p=PING\\r\\nPONG\\r|PING"),
	ROW(&lim_def, "HPUB h 12 14\r\nNATS/1.0\r\n\r\n\r\n\r\n",
	    "HPUB s=h h=12 t=14 p=NATS/1.0\\r\\n\\r\\n\\r\\n"),
	/* Pipelined, mixed. */
	ROW(&lim_def, "CONNECT {}\r\nSUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n"
	    "HPUB a r 2 3\r\nhdy\r\nUNSUB 1 5\r\nPONG\r\n",
	    "CONNECT a={}|SUB s=a sid=1|PUB s=a h=0 t=1 p=x|PING|"
	    "HPUB s=a r=r h=2 t=3 p=hdy|UNSUB sid=1 m=5|PONG"),
	/* Incomplete input waits; a known size gives a need hint. */
	ROW(&lim_def, "PUB foo 5\r\nhel", "MORE(14,18)"),
	ROW(&lim_def, "PUB foo 5\r\nhello\r", "MORE(17,18)"),
	ROW(&lim_def, "PING\r\nPUB foo 5", "PING|MORE(9,0)"),
	ROW(&lim_def, "PING\r", "MORE(5,0)"),
	ROW(&lim_def, "HPU", "MORE(3,0)"),
	/* Unknown operations, found at the first byte that rules them out. */
	ROW(&lim_def, "XYZ\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "X", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUX foo 1\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUBfoo 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "SUB\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "UNSUB\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "UNSUBX 1\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "-ERRx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "+OX\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PIN\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "CONNEX {}\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "HPX", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, " PING\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "\0", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "\xc3\xa9", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PING\r\nXYZ\r\nPING\r\n", "PING|ERR:UNKNOWN_OP"),
	ROW(&lim_def, "MSG foo 1 5\r\nhello\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "HMSG foo 1 0 5\r\nhello\r\n", "ERR:UNKNOWN_OP"),
	/* A payload must be followed by CR LF (nats-server: unknown op). */
	ROW(&lim_def, "PUB foo 2\r\nhiXX", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB foo 2\r\nhiX", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB foo 2\r\nhi\rX", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB foo 2\r\nhi\nPING\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB foo 2\r\nhi\r\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB foo 0\r\nX", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PUB foo 1\r\nx\r\nPUB foo 1\r\nxy\r\n",
	    "PUB s=foo h=0 t=1 p=x|ERR:UNKNOWN_OP"),
	/* Malformed arguments of known operations. */
	ROW(&lim_def, "PUB foo\r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB \r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB foo a b 2\r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB foo 2x\r\nhi\r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB foo -2\r\nhi\r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB foo +2\r\nhi\r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB foo 0000000002\r\nhi\r\n", "ERR:ARGS"),
	ROW(&lim_def, "PUB foo 99999999999999999999999\r\n", "ERR:ARGS"),
	ROW(&lim_def, "HPUB foo 14\r\n", "ERR:ARGS"),
	ROW(&lim_def, "HPUB foo 15 14\r\n", "ERR:ARGS"),
	ROW(&lim_def, "HPUB foo x 14\r\n", "ERR:ARGS"),
	ROW(&lim_def, "HPUB foo 1 x\r\n", "ERR:ARGS"),
	ROW(&lim_def, "HPUB foo a b 1 2\r\n", "ERR:ARGS"),
	ROW(&lim_def, "SUB foo\r\n", "ERR:ARGS"),
	ROW(&lim_def, "SUB \r\n", "ERR:ARGS"),
	ROW(&lim_def, "SUB foo q 1 x\r\n", "ERR:ARGS"),
	ROW(&lim_def, "UNSUB \r\n", "ERR:ARGS"),
	ROW(&lim_def, "UNSUB 1 2 3\r\n", "ERR:ARGS"),
	ROW(&lim_def, "SUB a 1\r\nSUB b\r\nSUB c 3\r\n",
	    "SUB s=a sid=1|ERR:ARGS"),
	/* max_payload 16: exactly 16 is fine, 17 is refused at once. */
	ROW(&lim_small, "PUB foo 16\r\n0123456789abcdef\r\n",
	    "PUB s=foo h=0 t=16 p=0123456789abcdef"),
	ROW(&lim_small, "PUB foo 17\r\n", "ERR:PAYLOAD"),
	ROW(&lim_small, "PUB foo 17\r\n0123456789abcdefg\r\n", "ERR:PAYLOAD"),
	ROW(&lim_small, "PUB foo 999999999\r\n", "ERR:PAYLOAD"),
	ROW(&lim_small, "HPUB foo 2 16\r\n0123456789abcdef\r\n",
	    "HPUB s=foo h=2 t=16 p=0123456789abcdef"),
	ROW(&lim_small, "HPUB foo 2 17\r\n", "ERR:PAYLOAD"),
	ROW(&lim_small, "HPUB foo 18 17\r\n", "ERR:ARGS"),
	/*
	 * max_control_line 40, counted as nats-server does: the argument
	 * only, without the operation name, the blanks after it or the CR.
	 */
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2\r\nhi\r\n",
	    "PUB s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa h=0 t=2 p=hi"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2\r\nhi\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PUB  \t aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2\n",
	    "MORE(48,52)"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2 \r\nhi\r\n",
	    "PUB s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa h=0 t=2 p=hi"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2 \r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2",
	    "MORE(44,0)"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2\r",
	    "MORE(45,0)"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2x",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "SUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1\r\n",
	    "SUB s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa sid=1"),
	ROW(&lim_small, "SUB aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "UNSUB 99999999999999999999999999999999999999999\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "CONNECT {\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\r\n",
	    "CONNECT a={\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"),
	ROW(&lim_small, "CONNECT {\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PING0123456789012345678901234567890123456789\r\n",
	    "PING"),
	ROW(&lim_small, "PING01234567890123456789012345678901234567890\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PING01234567890123456789012345678901234567890",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PUB                                         a 1\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PUB                                         ",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_small, "PUB                                        a 1\r\nx\r\n",
	    "PUB s=a h=0 t=1 p=x"),
	/* Client side: MSG and HMSG. */
	ROW(&lim_client, "MSG foo 1 5\r\nhello\r\n",
	    "MSG s=foo sid=1 h=0 t=5 p=hello"),
	ROW(&lim_client, "msg foo 1 _INBOX.x 0\r\n\r\n",
	    "MSG s=foo r=_INBOX.x sid=1 h=0 t=0 p="),
	ROW(&lim_client, "HMSG foo 9 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
	    "HMSG s=foo sid=9 h=12 t=14 p=NATS/1.0\\r\\n\\r\\nhi"),
	ROW(&lim_client, "hMsG\tfoo 9\trep 0 1\r\nx\r\n",
	    "HMSG s=foo r=rep sid=9 h=0 t=1 p=x"),
	ROW(&lim_client, "INFO {}\r\n+OK\r\nPING\r\nMSG a 1 1\r\nx\r\n-ERR 'e'\r\n",
	    "INFO a={}|+OK|PING|MSG s=a sid=1 h=0 t=1 p=x|-ERR a='e'"),
	ROW(&lim_client, "MSG foo 5\r\nhello\r\n", "ERR:ARGS"),
	ROW(&lim_client, "MSG foo 1 a b 5\r\n", "ERR:ARGS"),
	ROW(&lim_client, "HMSG foo 1 5\r\n", "ERR:ARGS"),
	ROW(&lim_client, "HMSG foo 1 6 5\r\n", "ERR:ARGS"),
	ROW(&lim_client, "MSGX\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_client, "MSG foo 1 5\r\nhelloXX", "ERR:UNKNOWN_OP"),
	ROW(&lim_client, "PUB foo 1\r\nx\r\n", "PUB s=foo h=0 t=1 p=x"),
	/* Route side: every operation and form. */
	ROW(&lim_route, "RS+ $G foo\r\n", "RS+ acc=$G s=foo w=1"),
	ROW(&lim_route, "RS+ $G foo.* bar 3\r\n",
	    "RS+ acc=$G s=foo.* q=bar w=3"),
	ROW(&lim_route, "RS+ $G foo bar 999999999\r\n",
	    "RS+ acc=$G s=foo q=bar w=999999999"),
	ROW(&lim_route, "RS+ $G foo bar 0\r\n", "RS+ acc=$G s=foo q=bar w=0"),
	ROW(&lim_route, "RS+ $G foo bar\r\n", "RS+ acc=$G s=foo q=bar w=1"),
	ROW(&lim_route, "RS+ $SYS $SYS.REQ.> q 2\r\n",
	    "RS+ acc=$SYS s=$SYS.REQ.> q=q w=2"),
	ROW(&lim_route, "RS- $G foo\r\n", "RS- acc=$G s=foo"),
	ROW(&lim_route, "RS- $G foo bar\r\n", "RS- acc=$G s=foo q=bar"),
	ROW(&lim_route, "RMSG $G foo 5\r\nhello\r\n",
	    "RMSG acc=$G s=foo h=0 t=5 p=hello"),
	ROW(&lim_route, "RMSG $G foo _INBOX.1 5\r\nhello\r\n",
	    "RMSG acc=$G s=foo r=_INBOX.1 h=0 t=5 p=hello"),
	ROW(&lim_route, "RMSG $G foo + _INBOX.1 q1 q2 5\r\nhello\r\n",
	    "RMSG acc=$G s=foo r=_INBOX.1 qs=q1 q2 h=0 t=5 p=hello"),
	ROW(&lim_route, "RMSG $G foo + _INBOX.1 q1 5\r\nhello\r\n",
	    "RMSG acc=$G s=foo r=_INBOX.1 qs=q1 h=0 t=5 p=hello"),
	ROW(&lim_route, "RMSG $G foo + _INBOX.1 5\r\nhello\r\n",
	    "RMSG acc=$G s=foo r=_INBOX.1 h=0 t=5 p=hello"),
	ROW(&lim_route, "RMSG $G foo | q1 5\r\nhello\r\n",
	    "RMSG acc=$G s=foo qs=q1 h=0 t=5 p=hello"),
	ROW(&lim_route, "RMSG $G foo | q1 q2 q3 0\r\n\r\n",
	    "RMSG acc=$G s=foo qs=q1 q2 q3 h=0 t=0 p="),
	ROW(&lim_route, "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
	    "HMSG acc=$G s=foo h=12 t=14 p=NATS/1.0\\r\\n\\r\\nhi"),
	ROW(&lim_route, "HMSG $G foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n",
	    "HMSG acc=$G s=foo r=rep h=12 t=12 p=NATS/1.0\\r\\n\\r\\n"),
	ROW(&lim_route, "HMSG $G foo + rep q1 q2 1 2\r\nhb\r\n",
	    "HMSG acc=$G s=foo r=rep qs=q1 q2 h=1 t=2 p=hb"),
	ROW(&lim_route, "HMSG $G foo + rep 1 2\r\nhb\r\n",
	    "HMSG acc=$G s=foo r=rep h=1 t=2 p=hb"),
	ROW(&lim_route, "HMSG $G foo | q1 0 2\r\nhb\r\n",
	    "HMSG acc=$G s=foo qs=q1 h=0 t=2 p=hb"),
	ROW(&lim_route, "HMSG $G foo | q1 q2 q3 2 2\r\nhb\r\n",
	    "HMSG acc=$G s=foo qs=q1 q2 q3 h=2 t=2 p=hb"),
	/* One argument before the size is the reply, whatever it is. */
	ROW(&lim_route, "RMSG $G foo + 1\r\nx\r\n",
	    "RMSG acc=$G s=foo r=+ h=0 t=1 p=x"),
	ROW(&lim_route, "RMSG $G foo | 1\r\nx\r\n",
	    "RMSG acc=$G s=foo r=\\x7c h=0 t=1 p=x"),
	ROW(&lim_route, "HMSG $G foo | 0 1\r\nx\r\n",
	    "HMSG acc=$G s=foo r=\\x7c h=0 t=1 p=x"),
	/* The other operations a route speaks. */
	ROW(&lim_route, "INFO {\"server_id\":\"x\"}\r\nCONNECT {}\r\n"
	    "PING\r\nPONG\r\n+OK\r\n-ERR 'Authorization Violation'\r\n",
	    "INFO a={\"server_id\":\"x\"}|CONNECT a={}|PING|PONG|+OK|"
	    "-ERR a='Authorization Violation'"),
	/* Case, blanks, tabs, bare LF, a stray CR (nats-server's splitArg). */
	ROW(&lim_route, "rs+ $G a\r\nRs- $G a\r\nrS+ $G a q 2\r\n",
	    "RS+ acc=$G s=a w=1|RS- acc=$G s=a|RS+ acc=$G s=a q=q w=2"),
	ROW(&lim_route, "rmsg $G a 1\r\nx\r\nrMsG $G a 1\r\ny\r\n"
	    "hmsg $G a 0 1\r\nz\r\n",
	    "RMSG acc=$G s=a h=0 t=1 p=x|RMSG acc=$G s=a h=0 t=1 p=y|"
	    "HMSG acc=$G s=a h=0 t=1 p=z"),
	ROW(&lim_route, "RS+\t$G \t foo\t q \t 7 \t\r\n",
	    "RS+ acc=$G s=foo q=q w=7"),
	ROW(&lim_route, "RMSG\t$G \t foo\t|\tq1 \t q2\t 2 \r\nhi\r\n",
	    "RMSG acc=$G s=foo qs=q1 \\x09 q2 h=0 t=2 p=hi"),
	ROW(&lim_route, "HMSG  $G  foo  +  r  q1  q2  1  2  \r\nhi\r\n",
	    "HMSG acc=$G s=foo r=r qs=q1  q2 h=1 t=2 p=hi"),
	ROW(&lim_route, "RS+ $G foo\nRS- $G foo\nRMSG $G foo 1\nx\r\n",
	    "RS+ acc=$G s=foo w=1|RS- acc=$G s=foo|"
	    "RMSG acc=$G s=foo h=0 t=1 p=x"),
	ROW(&lim_route, "RS+ $G foo\rq 2\r\n", "RS+ acc=$G s=foo q=q w=2"),
	ROW(&lim_route, "RMSG $G foo | q1\rq2 1\r\nx\r\n",
	    "RMSG acc=$G s=foo qs=q1\\rq2 h=0 t=1 p=x"),
	/* Pipelined, mixed; binary payloads. */
	ROW(&lim_route, "INFO {}\r\nCONNECT {}\r\nRS+ $G a\r\nRMSG $G a 1\r\n"
	    "x\r\nPING\r\nHMSG $G a | q 2 3\r\nhdy\r\nRS- $G a\r\nPONG\r\n"
	    "RMSG $G b + r q1 q2 4\r\n\r\n\r\n\r\n",
	    "INFO a={}|CONNECT a={}|RS+ acc=$G s=a w=1|"
	    "RMSG acc=$G s=a h=0 t=1 p=x|PING|HMSG acc=$G s=a qs=q h=2 t=3 "
	    "p=hdy|RS- acc=$G s=a|PONG|RMSG acc=$G s=b r=r qs=q1 q2 h=0 t=4 "
	    "p=\\r\\n\\r\\n"),
	/* Incomplete input waits; a known size gives a need hint. */
	ROW(&lim_route, "RMSG $G foo 5\r\nhel", "MORE(18,22)"),
	ROW(&lim_route, "RMSG $G foo | q1 q2 5\r\nhello\r",
	    "MORE(29,30)"),
	ROW(&lim_route, "PING\r\nRS+ $G foo", "PING|MORE(10,0)"),
	ROW(&lim_route, "RS", "MORE(2,0)"),
	/* Malformed arguments. */
	ROW(&lim_route, "RS+ \r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G foo q 1 x\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G foo q x\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G foo q -1\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G foo q 1x\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G foo q 1000000000\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS- $G\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS- $G foo q 1\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG \r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo x\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo bar -1\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo 1000000000\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo a b 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo ++ r q 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo | q1 q2\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RMSG $G foo + r q1 x\r\n", "ERR:ARGS"),
	ROW(&lim_route, "HMSG $G foo 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "HMSG $G foo 6 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "HMSG $G foo r x 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "HMSG $G foo | q 6 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "HMSG $G foo | q x 5\r\n", "ERR:ARGS"),
	ROW(&lim_route, "HMSG $G foo a b 1 2\r\n", "ERR:ARGS"),
	ROW(&lim_route, "RS+ $G a\r\nRS+ $G\r\nRS+ $G c\r\n",
	    "RS+ acc=$G s=a w=1|ERR:ARGS"),
	/* Unknown operations: malformed route names. */
	ROW(&lim_route, "RS+\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RS+$G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RS* $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RS\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RS\x0b $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RMSX $G foo 1\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RMSG\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RX\r\n", "ERR:UNKNOWN_OP"),
	/* The client's operations are unknown on a route... */
	ROW(&lim_route, "PUB foo 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "HPUB foo 0 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "SUB foo 1\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "UNSUB 1\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "MSG foo 1 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "LS+ $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "LS- $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "LMSG $G foo 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "PING\r\nSUB foo 1\r\n", "PING|ERR:UNKNOWN_OP"),
	/* ...and the route's unknown to a client, test client or not. */
	ROW(&lim_def, "RS+ $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "RS- $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "RMSG $G foo 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "HMSG $G foo 0 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_def, "PING\r\nRS+ $G foo\r\n", "PING|ERR:UNKNOWN_OP"),
	ROW(&lim_client, "RS+ $G foo\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_client, "RMSG $G foo 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	/* Both flags: the route side wins. */
	ROW(&lim_both, "HMSG $G foo 0 1\r\nx\r\n",
	    "HMSG acc=$G s=foo h=0 t=1 p=x"),
	ROW(&lim_both, "MSG foo 1 1\r\nx\r\n", "ERR:UNKNOWN_OP"),
	ROW(&lim_both, "RS+ $G foo\r\n", "RS+ acc=$G s=foo w=1"),
	/* Payload: max_payload 16, exactly 16 passes, 17 is refused at once. */
	ROW(&lim_rsmall, "RMSG $G foo 16\r\n0123456789abcdef\r\n",
	    "RMSG acc=$G s=foo h=0 t=16 p=0123456789abcdef"),
	ROW(&lim_rsmall, "RMSG $G foo 17\r\n", "ERR:PAYLOAD"),
	ROW(&lim_rsmall, "RMSG $G foo | q 17\r\n0123456789abcdefg\r\n",
	    "ERR:PAYLOAD"),
	ROW(&lim_rsmall, "HMSG $G foo 2 16\r\n0123456789abcdef\r\n",
	    "HMSG acc=$G s=foo h=2 t=16 p=0123456789abcdef"),
	ROW(&lim_rsmall, "HMSG $G foo + r q 2 17\r\n", "ERR:PAYLOAD"),
	ROW(&lim_rsmall, "HMSG $G foo 18 17\r\n", "ERR:ARGS"),
	/* A payload must be followed by CR LF. */
	ROW(&lim_route, "RMSG $G foo 2\r\nhiX", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "RMSG $G foo | q 2\r\nhi\rX", "ERR:UNKNOWN_OP"),
	ROW(&lim_route, "HMSG $G foo 0 2\r\nhi\nPING\r\n", "ERR:UNKNOWN_OP"),
	/* max_control_line 40 bounds the argument, as for a client. */
	ROW(&lim_rsmall, "RS+ $G aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa q 1\r\n",
	    "RS+ acc=$G s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa q=q w=1"),
	ROW(&lim_rsmall, "RS+ $G aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa q 1\r\n",
	    "ERR:CONTROL_LINE"),
	ROW(&lim_rsmall, "RMSG $G foo | q1 q2 q3 q4 q5 q6 q7 q8 q9 q10 q11",
	    "ERR:CONTROL_LINE"),
};

static void
test_rows(void)
{
	size_t	i;
	char	name[64];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(name, sizeof(name), "row %zu", i);
		check_splits(rows[i].lim, rows[i].in, rows[i].len,
		    rows[i].want, name);
	}
}

/* One call on a literal; returns the result, fills the rest. */
static int
parse1(const struct proto_limits *lim, const char *s, size_t n,
    struct proto_frame *f, size_t *used, size_t *need)
{
	char	*b = xmalloc(n);
	int	 r;

	memcpy(b, s, n);
	r = proto_parse(lim, b, n, f, used, need);
	free(b);
	return r;
}

/* An input and what the parser must say to it alone. */
struct prefix {
	const char	*in;
	int		 want;
};

/*
 * One point: each of the n inputs, parsed alone with lim, gets its
 * result, with used and need 0 when that is PROTO_MORE.
 */
static void
prefixes_ok(const struct proto_limits *lim, const struct prefix *t,
    size_t n, const char *what)
{
	struct proto_frame	 f;
	size_t			 i, used, need, bad = 0;
	int			 r;

	for (i = 0; i < n; i++) {
		used = need = 99;
		r = parse1(lim, t[i].in, strlen(t[i].in), &f, &used, &need);
		if (r != t[i].want || (r == PROTO_MORE &&
		    (used != 0 || need != 0))) {
			printf("#   \"%s\": got %d want %d\n", t[i].in, r,
			    t[i].want);
			bad++;
		}
	}
	ok(bad == 0, "%s refused at the first impossible byte (%zu prefixes)",
	    what, n);
}

static void
test_early(void)
{
	static const struct prefix t[] = {
		{ "", PROTO_MORE },
		{ "P", PROTO_MORE },
		{ "PU", PROTO_MORE },
		{ "PUB", PROTO_MORE },
		{ "PUB ", PROTO_MORE },
		{ "PUB\r", PROTO_E_UNKNOWN_OP },
		{ "PUX", PROTO_E_UNKNOWN_OP },
		{ "PX", PROTO_E_UNKNOWN_OP },
		{ "X", PROTO_E_UNKNOWN_OP },
		{ "\r", PROTO_E_UNKNOWN_OP },
		{ "C", PROTO_MORE },
		{ "CONNEC", PROTO_MORE },
		{ "CONNECT", PROTO_MORE },
		{ "CONNECX", PROTO_E_UNKNOWN_OP },
		{ "H", PROTO_MORE },
		{ "HM", PROTO_E_UNKNOWN_OP },	/* not client side */
		{ "M", PROTO_E_UNKNOWN_OP },
		{ "-", PROTO_MORE },
		{ "-E", PROTO_MORE },
		{ "-EX", PROTO_E_UNKNOWN_OP },
		{ "+", PROTO_MORE },
		{ "+O", PROTO_MORE },
		{ "+OK", PROTO_MORE },
		{ "PING", PROTO_MORE },
		{ "PONG junk", PROTO_MORE },
		{ "UNSU", PROTO_MORE },
		{ "UNSUB", PROTO_MORE },
		{ "UNSUB\t", PROTO_MORE },
		{ "UNSUB\n", PROTO_E_UNKNOWN_OP },
		{ "SUB foo 1", PROTO_MORE },
		{ "INFO", PROTO_MORE },
		{ "INFX", PROTO_E_UNKNOWN_OP },
		{ "R", PROTO_E_UNKNOWN_OP },	/* not route side */
	};
	struct proto_frame	 f;
	size_t			 used, need;
	int			 r;

	prefixes_ok(&lim_def, t, sizeof(t) / sizeof(t[0]), "unknown ops");
	r = parse1(&lim_client, "HM", 2, &f, &used, &need);
	is_int(r, PROTO_MORE, "HM is a prefix on the client side");
	r = parse1(&lim_client, "M", 1, &f, &used, &need);
	is_int(r, PROTO_MORE, "M is a prefix on the client side");
	r = parse1(&lim_client, "R", 1, &f, &used, &need);
	is_int(r, PROTO_E_UNKNOWN_OP, "R is unknown on the client side");
}

static void
test_early_route(void)
{
	static const struct prefix t[] = {
		{ "", PROTO_MORE },
		{ "R", PROTO_MORE },
		{ "r", PROTO_MORE },
		{ "RS", PROTO_MORE },
		{ "RS+", PROTO_MORE },
		{ "RS+ ", PROTO_MORE },
		{ "RS+\t$G", PROTO_MORE },
		{ "RS+\r", PROTO_E_UNKNOWN_OP },
		{ "RS+x", PROTO_E_UNKNOWN_OP },
		{ "RS-", PROTO_MORE },
		{ "rs-", PROTO_MORE },
		{ "RS*", PROTO_E_UNKNOWN_OP },
		{ "RS\r", PROTO_E_UNKNOWN_OP },	/* CR | 0x20 is '-' */
		{ "RS\v", PROTO_E_UNKNOWN_OP },	/* VT | 0x20 is '+' */
		{ "RS ", PROTO_E_UNKNOWN_OP },
		{ "RM", PROTO_MORE },
		{ "RMS", PROTO_MORE },
		{ "RMSG", PROTO_MORE },
		{ "RMSG ", PROTO_MORE },
		{ "RMSX", PROTO_E_UNKNOWN_OP },
		{ "RX", PROTO_E_UNKNOWN_OP },
		{ "HM", PROTO_MORE },
		{ "HMSG $G foo 0", PROTO_MORE },
		{ "HP", PROTO_E_UNKNOWN_OP },
		{ "P", PROTO_MORE },
		{ "PI", PROTO_MORE },
		{ "PO", PROTO_MORE },
		{ "PU", PROTO_E_UNKNOWN_OP },
		{ "S", PROTO_E_UNKNOWN_OP },
		{ "U", PROTO_E_UNKNOWN_OP },
		{ "M", PROTO_E_UNKNOWN_OP },
		{ "L", PROTO_E_UNKNOWN_OP },
		{ "C", PROTO_MORE },
		{ "I", PROTO_MORE },
		{ "+", PROTO_MORE },
		{ "-", PROTO_MORE },
	};

	prefixes_ok(&lim_route, t, sizeof(t) / sizeof(t[0]), "route side: ops");
}

static void
test_need(void)
{
	struct proto_frame	 f;
	size_t			 used, need, n, line;
	char			*b;
	int			 r;

	r = parse1(&lim_def, "PUB foo 5\r\n", 11, &f, &used, &need);
	is_int(r, PROTO_MORE, "PUB control line alone: more");
	is_int(need, 18, "need is the whole frame, 11 + 5 + 2");
	is_int(used, 0, "used 0 while incomplete");
	r = parse1(&lim_def, "PUB foo 5\r", 10, &f, &used, &need);
	ok(r == PROTO_MORE && need == 0, "incomplete control line: need 0");
	r = parse1(&lim_def, "PING\r\n", 6, &f, &used, &need);
	ok(r == PROTO_FRAME && used == 6 && need == 0, "PING: used 6, need 0");

	/* 1 MB, exactly max_payload: one allocation from the first read. */
	n = DEF_PAYLOAD;
	line = strlen("PUB big 1048576\r\n");
	b = xmalloc(line + n + 2);
	memcpy(b, "PUB big 1048576\r\n", line);
	memset(b + line, 'z', n);
	memcpy(b + line + n, "\r\n", 2);
	r = proto_parse(&lim_def, b, line, &f, &used, &need);
	ok(r == PROTO_MORE && need == line + n + 2,
	    "1MB PUB: need %zu after its control line", need);
	r = proto_parse(&lim_def, b, line + 4096, &f, &used, &need);
	ok(r == PROTO_MORE && need == line + n + 2, "1MB PUB: same need later");
	r = proto_parse(&lim_def, b, line + n + 1, &f, &used, &need);
	ok(r == PROTO_MORE && need == line + n + 2, "1MB PUB: one byte short");
	r = proto_parse(&lim_def, b, line + n + 2, &f, &used, &need);
	ok(r == PROTO_FRAME && used == line + n + 2 && f.total_len == n &&
	    f.payload == b + line, "1MB PUB (= max_payload): frame");
	free(b);

	r = parse1(&lim_def, "PUB big 1048577\r\n", 17, &f, &used, &need);
	is_int(r, PROTO_E_PAYLOAD, "1MB + 1 refused before any payload");

	r = parse1(&lim_route, "RMSG $G foo | q1 q2 5\r\n", 23, &f, &used,
	    &need);
	ok(r == PROTO_MORE && need == 30 && used == 0,
	    "RMSG control line alone: need the whole frame, 23 + 5 + 2");
	r = parse1(&lim_route, "HMSG $G foo + r q 2 5\r\n", 23, &f, &used,
	    &need);
	ok(r == PROTO_MORE && need == 30, "HMSG control line alone: need 30");
	r = parse1(&lim_route, "RMSG $G big 1048577\r\n", 22, &f, &used,
	    &need);
	is_int(r, PROTO_E_PAYLOAD, "RMSG 1MB + 1 refused before any payload");
	r = parse1(&lim_route, "HMSG $G big | q 0 1048577\r\n", 28, &f,
	    &used, &need);
	is_int(r, PROTO_E_PAYLOAD, "HMSG 1MB + 1 refused before any payload");
}

/* The default limit, 4096, at its boundary. */
static void
test_control_line_default(void)
{
	struct proto_frame	 f;
	char			*b;
	size_t			 n, used, need;
	int			 r;

	/* "SUB " + subject + " 1\r\n": argument = subject + 2 bytes. */
	b = xmalloc(4 + DEF_MCL + 8);
	memcpy(b, "SUB ", 4);
	memset(b + 4, 's', DEF_MCL - 2);
	memcpy(b + 4 + DEF_MCL - 2, " 1\r\n", 4);
	n = 4 + DEF_MCL + 2;
	r = proto_parse(&lim_def, b, n, &f, &used, &need);
	ok(r == PROTO_FRAME && used == n && f.subject.len == DEF_MCL - 2,
	    "argument of exactly 4096 bytes passes");
	r = proto_parse(&lim_def, b, n - 2, &f, &used, &need);
	ok(r == PROTO_MORE, "4096 bytes without line end: more");

	memset(b + 4, 's', DEF_MCL - 1);
	memcpy(b + 4 + DEF_MCL - 1, " 1\r\n", 4);
	n = 4 + DEF_MCL + 3;
	r = proto_parse(&lim_def, b, n, &f, &used, &need);
	is_int(r, PROTO_E_CONTROL_LINE, "argument of 4097 bytes refused");
	r = proto_parse(&lim_def, b, n - 2, &f, &used, &need);
	is_int(r, PROTO_E_CONTROL_LINE, "4097 bytes, no line end: refused");
	check_splits(&lim_def, b, n, "ERR:CONTROL_LINE", "4097-byte SUB");
	free(b);
}

/*
 * Thousands of frames in one buffer.  The builder writes each frame and
 * its expected transcript entry side by side.
 */
static uint32_t rng = 2463534242u;

static uint32_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/*
 * A random payload of at most max bytes in pay, binary with CR and LF
 * frequent; empty when empty is set (its length is drawn all the same,
 * so that the sequence of numbers does not depend on it).  Its length.
 */
static size_t
random_payload(char *pay, size_t max, bool empty)
{
	size_t	plen = xorshift() % max, j;

	if (empty)
		plen = 0;
	for (j = 0; j < plen; j++)
		pay[j] = (char)(xorshift() % 5 == 0 ? "\r\n"[j % 2] :
		    (char)xorshift());
	return plen;
}

/* A payload and the CR LF after it. */
static void
sb_payload(struct sbuf *sb, const char *pay, size_t plen)
{
	sb_grow(sb, plen + 2);
	memcpy(sb->p + sb->len, pay, plen);
	sb->len += plen;
	sb_add(sb, "\r\n");
}

static void
build_pipeline(size_t nframes, struct sbuf *in, struct sbuf *want)
{
	char	pay[300];
	size_t	i, plen, hlen;

	for (i = 0; i < nframes; i++) {
		plen = random_payload(pay, sizeof(pay), i % 17 == 0);
		if (want->len > 0)
			sb_add(want, "|");
		switch (i % 8) {
		case 0:
		case 1:
		case 2:
			sb_add(in, "PUB s.%zu %zu\r\n", i, plen);
			sb_payload(in, pay, plen);
			sb_add(want, "PUB s=s.%zu h=0 t=%zu p=", i, plen);
			sb_esc(want, pay, plen);
			break;
		case 3:
			hlen = plen ? xorshift() % plen : 0;
			sb_add(in, "hpub s.%zu _INBOX.%zu %zu %zu\r\n", i, i,
			    hlen, plen);
			sb_payload(in, pay, plen);
			sb_add(want, "HPUB s=s.%zu r=_INBOX.%zu h=%zu t=%zu p=",
			    i, i, hlen, plen);
			sb_esc(want, pay, plen);
			break;
		case 4:
			sb_add(in, "SUB s.*.%zu q%zu %zu\r\n", i, i % 3, i);
			sb_add(want, "SUB s=s.*.%zu q=q%zu sid=%zu", i, i % 3,
			    i);
			break;
		case 5:
			sb_add(in, "UNSUB %zu %zu\n", i, i % 5);
			sb_add(want, "UNSUB sid=%zu", i);
			if (i % 5)
				sb_add(want, " m=%zu", i % 5);
			break;
		case 6:
			sb_add(in, "PING\r\n");
			sb_add(want, "PING");
			break;
		default:
			sb_add(in, "PONG\r\n");
			sb_add(want, "PONG");
			break;
		}
	}
}

/* The route side's frames: every RMSG / HMSG form, RS+, RS-, PING, PONG. */
static void
build_route_pipeline(size_t nframes, struct sbuf *in, struct sbuf *want)
{
	char	pay[300], line[128], tr[128];
	size_t	i, plen, hlen, nq;

	for (i = 0; i < nframes; i++) {
		plen = random_payload(pay, sizeof(pay), i % 13 == 0);
		hlen = i % 2 && plen ? xorshift() % plen : 0;
		nq = 1 + xorshift() % 3;
		if (want->len > 0)
			sb_add(want, "|");
		/* The part between the subject and the sizes, both ways. */
		switch (i / 2 % 4) {
		case 0:
			line[0] = tr[0] = '\0';
			break;
		case 1:
			snprintf(line, sizeof(line), " _INBOX.%zu", i);
			snprintf(tr, sizeof(tr), " r=_INBOX.%zu", i);
			break;
		case 2:
			snprintf(line, sizeof(line), " + _R.%zu %s", i,
			    nq == 1 ? "g1" : nq == 2 ? "g1 g2" : "g1 g2 g3");
			snprintf(tr, sizeof(tr), " r=_R.%zu qs=%s", i,
			    nq == 1 ? "g1" : nq == 2 ? "g1 g2" : "g1 g2 g3");
			break;
		default:
			snprintf(line, sizeof(line), " | %s",
			    nq == 1 ? "g1" : nq == 2 ? "g1 g2" : "g1 g2 g3");
			snprintf(tr, sizeof(tr), " qs=%s",
			    nq == 1 ? "g1" : nq == 2 ? "g1 g2" : "g1 g2 g3");
			break;
		}
		switch (i % 7) {
		case 0:
		case 1:
		case 2:
		case 3:
			if (i % 2)
				sb_add(in, "HMSG $G s.%zu%s %zu %zu\r\n", i,
				    line, hlen, plen);
			else
				sb_add(in, "RMSG $G s.%zu%s %zu\r\n", i, line,
				    plen);
			sb_payload(in, pay, plen);
			sb_add(want, "%s acc=$G s=s.%zu%s h=%zu t=%zu p=",
			    i % 2 ? "HMSG" : "RMSG", i, tr, hlen, plen);
			sb_esc(want, pay, plen);
			break;
		case 4:
			if (i % 3) {
				sb_add(in, "RS+ $G s.*.%zu q%zu %zu\r\n", i,
				    i % 3, i % 100);
				sb_add(want,
				    "RS+ acc=$G s=s.*.%zu q=q%zu w=%zu", i,
				    i % 3, i % 100);
			} else {
				sb_add(in, "RS+ $G s.>.%zu\r\n", i);
				sb_add(want, "RS+ acc=$G s=s.>.%zu w=1", i);
			}
			break;
		case 5:
			sb_add(in, "RS- $G s.%zu%s\n", i, i % 2 ? " q" : "");
			sb_add(want, "RS- acc=$G s=s.%zu%s", i,
			    i % 2 ? " q=q" : "");
			break;
		default:
			sb_add(in, i % 2 ? "PING\r\n" : "PONG\r\n");
			sb_add(want, i % 2 ? "PING" : "PONG");
			break;
		}
	}
}

/*
 * nframes frames made by build, through a parser with lim: in one
 * buffer, through 20 read loops of random read sizes, in two reads split
 * at a spread of positions (when two_reads is set), and the first
 * nbytes frames byte by byte.  Those last bytes are left in in.  Points
 * named after what.
 */
static void
pipeline_run(const char *what, const struct proto_limits *lim,
    void (*build)(size_t, struct sbuf *, struct sbuf *), size_t nframes,
    size_t nbytes, bool two_reads, struct sbuf *in)
{
	struct sbuf	 want = { 0 }, tr = { 0 };
	struct dstats	 st = { 0 };
	size_t		*cuts, ncuts, pos, k, run, bad;

	sb_reset(in);
	sb_reset(&want);
	build(nframes, in, &want);
	diag("%spipeline: %zu frames, %zu bytes", what, nframes, in->len);
	drive(lim, in->p, in->len, NULL, 0, &tr, &st);
	if (!ok(strcmp(tr.p, want.p) == 0 && stats_clean(&st),
	    "%s%zu pipelined frames in one buffer", what, nframes))
		printf("#   got  %.200s\n#   want %.200s\n", tr.p, want.p);

	/* Reads of random sizes, as a socket would deliver them. */
	cuts = xmalloc(in->len * sizeof(*cuts));
	bad = 0;
	for (run = 0; run < 20; run++) {
		ncuts = 0;
		for (pos = 0;;) {
			pos += 1 + xorshift() % (run < 10 ? 64 : 4096);
			if (pos >= in->len)
				break;
			cuts[ncuts++] = pos;
		}
		drive(lim, in->p, in->len, cuts, ncuts, &tr, &st);
		if (strcmp(tr.p, want.p) != 0)
			bad++;
	}
	free(cuts);
	ok(bad == 0 && stats_clean(&st),
	    "%spipeline through 20 read loops of random read sizes", what);

	if (two_reads) {
		bad = 0;
		for (k = 1; k < in->len; k += 1 + k / 8) {
			drive(lim, in->p, in->len, &k, 1, &tr, &st);
			if (strcmp(tr.p, want.p) != 0)
				bad++;
		}
		ok(bad == 0 && stats_clean(&st), "%spipeline split in two "
		    "reads", what);
	}

	sb_reset(in);
	sb_reset(&want);
	build(nbytes, in, &want);
	drive_bytes(lim, in->p, in->len, &tr, &st);
	ok(strcmp(tr.p, want.p) == 0 && stats_clean(&st),
	    "%s%zu pipelined frames byte by byte", what, nbytes);
	free(want.p);
	free(tr.p);
}

static void
test_pipeline(void)
{
	struct sbuf in = { 0 };

	pipeline_run("", &lim_def, build_pipeline, 3000, 300, true, &in);
	free(in.p);
}

static void
test_route_pipeline(void)
{
	struct sbuf	 in = { 0 }, tr = { 0 };
	struct dstats	 st = { 0 };

	pipeline_run("route: ", &lim_route, build_route_pipeline, 2000, 200,
	    false, &in);
	/* The same bytes are refused by a client parser at the first one. */
	drive(&lim_def, in.p, in.len, NULL, 0, &tr, &st);
	is_str(tr.p, "ERR:UNKNOWN_OP", "route pipeline refused client side");
	free(in.p);
	free(tr.p);
}

static void
test_frame_fields(void)
{
	struct proto_frame	 f;
	size_t			 used, need;
	char			 b[] = "HPUB a.b _R.1 3 8\r\nh:\r12345\r\n";
	int			 r;

	r = proto_parse(&lim_def, b, sizeof(b) - 1, &f, &used, &need);
	ok(r == PROTO_FRAME && f.op == OP_HPUB, "HPUB frame");
	ok(f.subject.p == b + 5 && f.subject.len == 3, "subject in place");
	ok(f.reply.p == b + 9 && f.reply.len == 4, "reply in place");
	ok(f.payload == b + 19 && f.hdr_len == 3 && f.total_len == 8,
	    "payload in place, headers then body");
	ok(f.queue.len == 0 && f.sid.len == 0 && f.arg.len == 0 &&
	    f.max_msgs == 0 && f.account.len == 0 && f.queues.len == 0 &&
	    f.weight == 0, "unused fields empty");
	is_int(used, sizeof(b) - 1, "used is the frame");
}

static void
test_route_fields(void)
{
	struct proto_frame	 f;
	size_t			 used, need;
	char			 m[] = "RMSG $G a.b + _R.1 q1 q2 3\r\nabc\r\n";
	char			 h[] = "HMSG acc a | q 1 2\r\nhb\r\n";
	char			 s[] = "RS+ $G foo bar 5\r\n";
	char			 u[] = "RS- $G foo\r\n";
	int			 r;

	memset(&f, 0xa5, sizeof(f));
	r = proto_parse(&lim_route, m, sizeof(m) - 1, &f, &used, &need);
	ok(r == PROTO_FRAME && f.op == OP_RMSG, "RMSG frame");
	ok(f.account.p == m + 5 && f.account.len == 2, "account in place");
	ok(f.subject.p == m + 8 && f.subject.len == 3, "subject in place");
	ok(f.reply.p == m + 14 && f.reply.len == 4, "reply in place");
	ok(f.queues.p == m + 19 && f.queues.len == 5, "queues in place");
	ok(f.payload == m + 28 && f.hdr_len == 0 && f.total_len == 3,
	    "payload in place");
	ok(f.queue.len == 0 && f.sid.len == 0 && f.arg.len == 0 &&
	    f.max_msgs == 0 && f.weight == 0, "RMSG: unused fields empty");
	is_int(used, sizeof(m) - 1, "RMSG: used is the frame");

	memset(&f, 0xa5, sizeof(f));
	r = proto_parse(&lim_route, h, sizeof(h) - 1, &f, &used, &need);
	ok(r == PROTO_FRAME && f.op == OP_HMSG && f.account.p == h + 5 &&
	    f.account.len == 3 && f.reply.len == 0 && f.queues.p == h + 13 &&
	    f.queues.len == 1 && f.hdr_len == 1 && f.total_len == 2 &&
	    f.sid.len == 0, "route HMSG frame");

	memset(&f, 0xa5, sizeof(f));
	r = proto_parse(&lim_route, s, sizeof(s) - 1, &f, &used, &need);
	ok(r == PROTO_FRAME && f.op == OP_RSUB && f.account.p == s + 4 &&
	    f.subject.p == s + 7 && f.queue.p == s + 11 &&
	    f.queue.len == 3 && f.weight == 5 && f.payload == NULL &&
	    f.queues.len == 0 && f.reply.len == 0 && used == sizeof(s) - 1,
	    "RS+ frame");

	memset(&f, 0xa5, sizeof(f));
	r = proto_parse(&lim_route, u, sizeof(u) - 1, &f, &used, &need);
	ok(r == PROTO_FRAME && f.op == OP_RUNSUB && f.account.len == 2 &&
	    f.subject.len == 3 && f.queue.len == 0 && f.weight == 0 &&
	    f.payload == NULL && used == sizeof(u) - 1, "RS- frame");
}

/* Queue names: split in place, bounded by max, walked one by one. */
static void
test_split_queues(void)
{
	static const struct {
		const char	*in;
		const char	*want;	/* names joined with ',' */
	} t[] = {
		{ "", "" },
		{ "q1", "q1" },
		{ "q1 q2", "q1,q2" },
		{ "q1\tq2  \t q3", "q1,q2,q3" },
		{ "  q1  ", "q1" },
		{ " \t ", "" },
		{ "q1\rq2", "q1,q2" },
		{ "a.b.c v1.* >", "a.b.c,v1.*,>" },
	};
	struct proto_slice	 qs, out[8], rest, name;
	struct proto_frame	 f;
	struct sbuf		 got = { 0 };
	char			*b, big[4096];
	size_t			 i, j, n, used, need, len;
	int			 r;
	bool			 inside;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		qs.p = t[i].in;
		qs.len = strlen(t[i].in);
		n = proto_split_queues(&qs, out, 8);
		sb_reset(&got);
		for (j = 0; j < n; j++)
			sb_add(&got, "%s%.*s", j ? "," : "", (int)out[j].len,
			    out[j].p);
		is_str(got.p, t[i].want, "split queues #%zu", i);
	}

	/* Past max: the first max names, no more. */
	qs.p = "q1 q2 q3 q4 q5";
	qs.len = strlen(qs.p);
	memset(out, 0, sizeof(out));
	n = proto_split_queues(&qs, out, 3);
	ok(n == 3 && out[0].p == qs.p && out[2].p == qs.p + 6 &&
	    out[2].len == 2 && out[3].p == NULL, "max 3 of 5: the first 3");
	is_int(proto_split_queues(&qs, NULL, 0), 0, "max 0: none");
	n = 0;
	rest = qs;
	while (proto_queue_next(&rest, &name) && n < 10)
		n++;
	ok(n == 5 && name.p == qs.p + 12 && rest.len == 0,
	    "proto_queue_next walks all 5");
	rest.p = "";
	rest.len = 0;
	ok(!proto_queue_next(&rest, &name), "proto_queue_next: empty");

	/* From a frame: 300 queue names, more than a router would store. */
	len = 0;
	len += (size_t)snprintf(big + len, sizeof(big) - len,
	    "RMSG $G foo + _INBOX.x");
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len,
		    " q%zu", i);
	len += (size_t)snprintf(big + len, sizeof(big) - len, " 2\r\nhi\r\n");
	b = xmalloc(len);
	memcpy(b, big, len);
	r = proto_parse(&lim_route, b, len, &f, &used, &need);
	ok(r == PROTO_FRAME && used == len && f.total_len == 2,
	    "RMSG with 300 queues (%zu bytes)", len);
	n = proto_split_queues(&f.queues, out, 8);
	ok(n == 8 && out[0].len == 2 && memcmp(out[0].p, "q0", 2) == 0 &&
	    out[7].len == 2 && memcmp(out[7].p, "q7", 2) == 0,
	    "split: the first 8 of 300");
	n = 0;
	inside = true;
	rest = f.queues;
	while (proto_queue_next(&rest, &name) && n < 1000) {
		if (name.p < b || name.p + name.len > b + used ||
		    name.len < 2 || name.p[0] != 'q')
			inside = false;
		n++;
	}
	ok(n == 300 && inside && name.len == 4 &&
	    memcmp(name.p, "q299", 4) == 0, "next: all 300, in the frame");
	free(b);
	check_splits(&lim_route, big, len, NULL, "RMSG with 300 queues");
	free(got.p);
}

static void
test_op_names(void)
{
	static const struct {
		enum proto_op	 op;
		const char	*name;
	} t[] = {
		{ OP_CONNECT, "CONNECT" }, { OP_PUB, "PUB" },
		{ OP_HPUB, "HPUB" }, { OP_SUB, "SUB" }, { OP_UNSUB, "UNSUB" },
		{ OP_PING, "PING" }, { OP_PONG, "PONG" }, { OP_INFO, "INFO" },
		{ OP_OK, "+OK" }, { OP_ERR, "-ERR" }, { OP_MSG, "MSG" },
		{ OP_HMSG, "HMSG" }, { OP_RSUB, "RS+" }, { OP_RUNSUB, "RS-" },
		{ OP_RMSG, "RMSG" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_str(proto_op_name(t[i].op), t[i].name, "proto_op_name %s",
		    t[i].name);
	ok(proto_op_name((enum proto_op)99) != NULL, "out of range: a name");
}

static void
test_subjects(void)
{
	static const char *valid[] = {
		"foo", "foo.bar", "foo.bar.baz", "*", ">", "foo.*", "foo.>",
		"*.*.>", "foo.*.bar", "*.bar", "foo.*bar", "foo.bar*",
		"foo.>bar", "a>b", "*a", "foo-bar_baz", "$SYS.REQ.x",
		"_INBOX.abc.123", "f\xc3\xb6\xc3\xb6", "a.b.c.d.e.f.g.h",
		"**", ">>", "foo.**.bar",
	};
	static const char *invalid[] = {
		"", ".", "..", "foo.", ".foo", "foo..bar", ">.foo",
		"foo.>.bar", "foo.>.>", ">.>", "foo bar", "foo\tbar", "foo\r",
		"fo\fo", "foo\nbar", " foo", "foo ", "foo.>.", "foo.*.",
		"foo. bar", "foo.\t",
	};
	static const char *literal[] = {
		"foo", "foo.bar", "foo.*bar", "foo.bar>", "a.b.c", "**",
		"$SYS.x", ">>",
	};
	static const char *not_literal[] = {
		"*", ">", "foo.*", "foo.>", "*.foo", "foo.*.bar", "",
		"foo.", "foo bar", ".foo", "foo..bar", "a.>.b",
	};
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(subject_valid(valid[i], strlen(valid[i])),
		    "valid subject \"%s\"", valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(!subject_valid(invalid[i], strlen(invalid[i])),
		    "invalid subject #%zu", i);
	for (i = 0; i < sizeof(literal) / sizeof(literal[0]); i++)
		ok(subject_valid_literal(literal[i], strlen(literal[i])),
		    "literal subject \"%s\"", literal[i]);
	for (i = 0; i < sizeof(not_literal) / sizeof(not_literal[0]); i++)
		ok(!subject_valid_literal(not_literal[i],
		    strlen(not_literal[i])), "not literal #%zu \"%s\"", i,
		    not_literal[i]);
	/* Lengths, not NUL bytes, bound a subject. */
	ok(subject_valid("foo.bar", 3), "prefix \"foo\" of \"foo.bar\"");
	ok(!subject_valid("foo.bar", 4), "prefix \"foo.\" of \"foo.bar\"");
	ok(!subject_valid_literal("foo.>", 5) &&
	    subject_valid_literal("foo.>", 3), "literal by length");
}

static void
test_matches(void)
{
	static const struct {
		const char	*p, *s;
		bool		 want;
	} t[] = {
		{ "foo", "foo", true },
		{ "foo", "bar", false },
		{ "foo", "fo", false },
		{ "fo", "foo", false },
		{ "foo", "foo.bar", false },
		{ "foo.bar", "foo", false },
		{ "foo.bar", "foo.barx", false },
		{ "foo.barx", "foo.bar", false },
		{ "foo.*", "foo.bar", true },
		{ "foo.*", "foo", false },
		{ "foo.*", "foo.bar.baz", false },
		{ "*", "foo", true },
		{ "*", "foo.bar", false },
		{ "*.bar", "foo.bar", true },
		{ "*.bar", "foo.baz", false },
		{ "*.*", "a.b", true },
		{ "*.*", "a", false },
		{ "*.*", "a.b.c", false },
		{ "foo.*.baz", "foo.bar.baz", true },
		{ "foo.*.baz", "foo.bar.bat", false },
		{ "foo.*.baz", "foo.baz", false },
		{ "foo.>", "foo.bar", true },
		{ "foo.>", "foo.bar.baz", true },
		{ "foo.>", "foo", false },
		{ "foo.>", "foobar.baz", false },
		{ ">", "foo", true },
		{ ">", "foo.bar.baz", true },
		{ "*.>", "a.b", true },
		{ "*.>", "a", false },
		{ "a.*.c.>", "a.b.c.d.e", true },
		{ "a.*.c.>", "a.b.c", false },
		{ "a.*.c.>", "a.b.x.d", false },
		{ "foo.*bar", "foo.xbar", false },
		{ "foo.*bar", "foo.*bar", true },
		{ "foo.b>", "foo.b>", true },
		{ "foo.b>", "foo.bar", false },
		{ "foo.*", "foo.*", true },
		{ "foo.>", "foo.>", true },
		{ "", "foo", false },
		{ "foo", "", false },
		{ "", "", false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(subject_matches(t[i].p, strlen(t[i].p), t[i].s,
		    strlen(t[i].s)) == t[i].want, "\"%s\" %s \"%s\"", t[i].p,
		    t[i].want ? "matches" : "does not match", t[i].s);
	ok(subject_matches("foo.*", 5, "foo.bar.baz", 7),
	    "match bounded by the subject length");
	ok(!subject_matches("foo.bar", 5, "foo.bar", 7),
	    "match bounded by the pattern length");
}

static void
test_queues(void)
{
	static const char *valid[] = { "q", "workers", "v1.*", "q-1_2", ">" };
	static const char *invalid[] = { "", "a b", "a\tb", "a\r", "a\n",
	    "\f" };
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(queue_valid(valid[i], strlen(valid[i])),
		    "valid queue \"%s\"", valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(!queue_valid(invalid[i], strlen(invalid[i])),
		    "invalid queue #%zu", i);
}

int
main(void)
{
	test_rows();
	test_early();
	test_early_route();
	test_need();
	test_control_line_default();
	test_frame_fields();
	test_route_fields();
	test_split_queues();
	test_pipeline();
	test_route_pipeline();
	test_op_names();
	test_subjects();
	test_matches();
	test_queues();
	return done_testing();
}
