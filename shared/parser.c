/*
 * NATS protocol parser, client and route side, zero-copy, one frame per
 * call.
 *
 * nats-server's parser (server/parser.go) is a byte-at-a-time state machine
 * that keeps its state in the connection between reads and copies the
 * arguments of a split frame into a scratch buffer.  Ours has no state
 * between calls: the caller keeps the unconsumed tail of its reads and
 * hands it back with the new bytes, and proto_parse() looks at the frame
 * from its first byte every time.  That is cheap because the only part
 * ever looked at twice is the control line, which is short and bounded by
 * max_control_line; a payload is never scanned, only measured.  In return
 * every slice in a frame points into the caller's buffer, nothing is
 * copied and nothing is allocated.
 *
 * A call goes through four stages, each of which may stop with "more
 * bytes, please" (PROTO_MORE) or with an error:
 *
 *	OP	the operation name, matched case-insensitively byte by byte
 *		so that garbage is refused as soon as it cannot be a prefix of
 *		any operation ("XYZ" at its first byte, "PUX" at its third),
 *		exactly where nats-server refuses it;
 *	LINE	the end of the control line: memchr() for '\n', so telnet's
 *		bare LF works and a CR before it is dropped;
 *	ARGS	the arguments, split on blanks and checked;
 *	PAYLOAD	for PUB/HPUB (MSG/HMSG on the client side, RMSG/HMSG on
 *		the route side): the size is known, so *need tells the
 *		caller how big the whole frame is; the two bytes after the
 *		payload must be CR LF, and each is checked as soon as it has
 *		arrived.
 *
 * What is an error follows nats-server 2.9 (checked against its binary):
 *
 *   - Unknown operation: a byte that cannot continue any operation name,
 *     or, for the operations that take arguments (PUB HPUB SUB UNSUB -ERR,
 *     and MSG HMSG), anything but a blank right after the name ("PUB\r\n"
 *     and "PUBfoo" are unknown operations).  CONNECT and INFO need no blank
 *     ("CONNECT{...}" is accepted), and PING, PONG and +OK ignore whatever
 *     follows them up to the line end ("PINGX" is a PING).  A payload not
 *     followed by CR LF is also reported as an unknown operation, which is
 *     the -ERR nats-server sends for it.
 *   - Control line: nats-server counts only the argument, from its first
 *     non-blank byte to the line end without the CR; more than
 *     max_control_line bytes is an error ("PUB " plus 4096 bytes passes at
 *     the default, plus 4097 does not).  We apply the same count to a line
 *     that has not ended yet, so an endless line is refused as soon as its
 *     argument outgrows the limit and the verdict never depends on how the
 *     bytes were split across reads.  nats-server bounds neither the blanks
 *     before the argument nor the junk after PING; we do, with the same
 *     limit, so that no input makes a caller buffer without end.
 *   - Arguments: wrong count, a size that is not 1 to 9 decimal digits
 *     (nats-server's parseSize() refuses longer ones), or HPUB's header size
 *     above its total size.  nats-server closes such a client without an
 *     -ERR.  UNSUB's max_msgs is the exception: nats-server ignores one
 *     that does not parse (the UNSUB then takes effect at once), so it is
 *     0 here too.
 *   - Payload: a total size above max_payload, reported as soon as the
 *     control line is complete.  On the client side the limit bounds MSG
 *     and HMSG too, so a test client cannot be made to buffer without end.
 *
 * Like nats-server's splitArg(), SUB and UNSUB also split their arguments
 * on a stray CR; PUB and HPUB split on space and tab only.
 *
 * The route side (lim->route_side, the router's connections to other
 * servers) knows CONNECT INFO PING PONG +OK -ERR as above and, instead of
 * the client operations, the route ones of nats-server 2.9's route.go:
 *
 *	RS+ account subject [queue [weight]]
 *	RS- account subject [queue]
 *	RMSG account subject [reply | + reply [queue ...] | '|' queue ...] size
 *	HMSG account subject [as RMSG] hdr_size total_size
 *
 * Their arguments are split as splitArg() does, on a stray CR too.  The
 * argument counts and the reply indicator are checked as nats-server's
 * processRemoteSub(), processRemoteUnsub() and processRoutedMsgArgs() do,
 * with two differences on RS+ noted at its case below.  PUB HPUB SUB UNSUB
 * MSG and the leafnode-origin LS+ LS- LMSG are unknown operations there,
 * and RS+ RS- RMSG are unknown to a client.  Control line and payload
 * limits apply as to a client: the router chooses them.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"

#define MAX_ARGS	5	/* HMSG subject sid reply hdr total */
#define SEP_CR		true	/* split_args(): a CR separates too */
#define SEP_BLANK	false
#define MAX_SIZE_DIGITS	9	/* as nats-server's parseSize() */

/* How an operation name must be followed. */
enum op_tail {
	TAIL_BLANK,		/* ' ' or '\t', then arguments */
	TAIL_ARG,		/* optional blanks, then one free-form argument */
	TAIL_ANY,		/* ignore anything up to the line end */
};

struct op_desc {
	const char	*name;		/* lower case, as matched */
	const char	*print;		/* as proto_op_name() returns it */
	uint8_t		 len;
	uint8_t		 tail;		/* enum op_tail */
	bool		 payload;	/* a payload follows the control line */
};

static const struct op_desc ops[] = {
	[OP_NONE] =	{ "",		"NONE",		0, TAIL_ANY,	false },
	[OP_CONNECT] =	{ "connect",	"CONNECT",	7, TAIL_ARG,	false },
	[OP_PUB] =	{ "pub",	"PUB",		3, TAIL_BLANK,	true },
	[OP_HPUB] =	{ "hpub",	"HPUB",		4, TAIL_BLANK,	true },
	[OP_SUB] =	{ "sub",	"SUB",		3, TAIL_BLANK,	false },
	[OP_UNSUB] =	{ "unsub",	"UNSUB",	5, TAIL_BLANK,	false },
	[OP_PING] =	{ "ping",	"PING",		4, TAIL_ANY,	false },
	[OP_PONG] =	{ "pong",	"PONG",		4, TAIL_ANY,	false },
	[OP_INFO] =	{ "info",	"INFO",		4, TAIL_ARG,	false },
	[OP_OK] =	{ "+ok",	"+OK",		3, TAIL_ANY,	false },
	[OP_ERR] =	{ "-err",	"-ERR",		4, TAIL_BLANK,	false },
	[OP_MSG] =	{ "msg",	"MSG",		3, TAIL_BLANK,	true },
	[OP_HMSG] =	{ "hmsg",	"HMSG",		4, TAIL_BLANK,	true },
	[OP_RSUB] =	{ "rs+",	"RS+",		3, TAIL_BLANK,	false },
	[OP_RUNSUB] =	{ "rs-",	"RS-",		3, TAIL_BLANK,	false },
	[OP_RMSG] =	{ "rmsg",	"RMSG",		4, TAIL_BLANK,	true },
};

static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* What separates route arguments and queue names: nats-server's splitArg(). */
static inline bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Stage OP: which operation starts buf?  Returns PROTO_FRAME with *op set
 * once the name and the byte that must follow it are there, PROTO_MORE
 * while buf is a proper prefix of a valid start, or PROTO_E_UNKNOWN_OP.
 */
static int
parse_op(const struct proto_limits *lim, const char *buf, size_t len,
    enum proto_op *op)
{
	const struct op_desc	*d;
	enum proto_op		 o;
	size_t			 i, n;

	/*
	 * The first byte, and for 'P', 'H' and 'R' the second (and for RS+
	 * and RS- the third), pick the name.  The raw byte is switched on,
	 * not the byte | 0x20: that would turn CR into '-'.  Each side
	 * refuses the other's operations here, at the byte that tells them
	 * apart, as an unknown name would be.
	 */
	switch (buf[0]) {
	case 'P': case 'p':
		if (len < 2)
			return PROTO_MORE;
		switch (buf[1]) {
		case 'U': case 'u':
			if (lim->route_side)
				return PROTO_E_UNKNOWN_OP;
			o = OP_PUB;
			break;
		case 'I': case 'i':
			o = OP_PING;
			break;
		case 'O': case 'o':
			o = OP_PONG;
			break;
		default:
			return PROTO_E_UNKNOWN_OP;
		}
		break;
	case 'H': case 'h':
		if (len < 2)
			return PROTO_MORE;
		switch (buf[1]) {
		case 'P': case 'p':
			if (lim->route_side)
				return PROTO_E_UNKNOWN_OP;
			o = OP_HPUB;
			break;
		case 'M': case 'm':
			if (!lim->client_side && !lim->route_side)
				return PROTO_E_UNKNOWN_OP;
			o = OP_HMSG;
			break;
		default:
			return PROTO_E_UNKNOWN_OP;
		}
		break;
	case 'R': case 'r':
		if (!lim->route_side)
			return PROTO_E_UNKNOWN_OP;
		if (len < 2)
			return PROTO_MORE;
		switch (buf[1]) {
		case 'S': case 's':
			/* Exactly: below, VT | 0x20 is '+', CR | 0x20 '-'. */
			if (len < 3)
				return PROTO_MORE;
			if (buf[2] == '+')
				o = OP_RSUB;
			else if (buf[2] == '-')
				o = OP_RUNSUB;
			else
				return PROTO_E_UNKNOWN_OP;
			break;
		case 'M': case 'm':
			o = OP_RMSG;
			break;
		default:
			return PROTO_E_UNKNOWN_OP;
		}
		break;
	case 'S': case 's':
		if (lim->route_side)
			return PROTO_E_UNKNOWN_OP;
		o = OP_SUB;
		break;
	case 'U': case 'u':
		if (lim->route_side)
			return PROTO_E_UNKNOWN_OP;
		o = OP_UNSUB;
		break;
	case 'C': case 'c':
		o = OP_CONNECT;
		break;
	case 'I': case 'i':
		o = OP_INFO;
		break;
	case 'M': case 'm':
		if (!lim->client_side || lim->route_side)
			return PROTO_E_UNKNOWN_OP;
		o = OP_MSG;
		break;
	case '+':
		o = OP_OK;
		break;
	case '-':
		o = OP_ERR;
		break;
	default:
		return PROTO_E_UNKNOWN_OP;
	}

	/*
	 * The rest of the name.  Past the first byte every name character
	 * is a letter, and for a lower-case letter l, (c | 0x20) == l holds
	 * exactly when c is l or its upper case.  (RS+ and RS- end in a
	 * sign, matched exactly above; '+' and '-' stay what they are.)
	 */
	d = &ops[o];
	n = len < d->len ? len : d->len;
	for (i = 1; i < n; i++)
		if ((buf[i] | 0x20) != d->name[i])
			return PROTO_E_UNKNOWN_OP;
	if (d->tail == TAIL_BLANK) {
		if (len <= d->len)
			return PROTO_MORE;
		if (!is_blank(buf[d->len]))
			return PROTO_E_UNKNOWN_OP;
	} else if (len < d->len)
		return PROTO_MORE;
	*op = o;
	return PROTO_FRAME;
}

/*
 * The control-line limit, applied to the bytes from the end of the
 * operation name (start) to end: blanks first, then the argument.  A CR
 * just before end is not counted, whether end is the line's LF or the end
 * of what has arrived so far (the CR may turn out to be the line's), so
 * the count only grows as bytes arrive and a verdict reached on part of a
 * line is the one the whole line gets.
 */
static bool
line_too_long(const struct proto_limits *lim, const char *start,
    const char *end)
{
	const char *a = start;

	while (a < end && is_blank(*a))
		a++;
	if (end > a && end[-1] == '\r')
		end--;
	return (size_t)(a - start) > lim->max_control_line ||
	    (size_t)(end - a) > lim->max_control_line;
}

/*
 * Split [p, end) into blank-separated tokens.  Returns how many were
 * found, or max + 1 if there are more than max.  With cr, a CR separates
 * too (nats-server's splitArg(), used for SUB and UNSUB).
 */
static size_t
split_args(const char *p, const char *end, struct proto_slice *tok,
    size_t max, bool cr)
{
	const char	*s;
	size_t		 n = 0;

	for (;;) {
		while (p < end && (cr ? is_sep(*p) : is_blank(*p)))
			p++;
		if (p == end)
			return n;
		if (n == max)
			return max + 1;
		s = p;
		while (p < end && !(cr ? is_sep(*p) : is_blank(*p)))
			p++;
		tok[n].p = s;
		tok[n].len = (size_t)(p - s);
		n++;
	}
}

/* A size as nats-server's parseSize() takes it: 1 to 9 decimal digits. */
static bool
parse_size(const struct proto_slice *t, size_t *out)
{
	size_t		 i, v = 0;
	unsigned	 d;

	if (t->len == 0 || t->len > MAX_SIZE_DIGITS)
		return false;
	for (i = 0; i < t->len; i++) {
		d = (unsigned char)t->p[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * The arguments of a routed message, nsizes being 1 for RMSG and 2 for
 * HMSG (header size, total size):
 *
 *	RMSG account subject [reply] size
 *	RMSG account subject + reply [queue ...] size
 *	RMSG account subject | queue ... size
 *
 * As in nats-server's processRoutedMsgArgs(), one argument between the
 * subject and the sizes is the reply, whatever it looks like; with more,
 * the first of them must be "+" or "|" and the rest are queue names, in
 * any number.  They are neither counted nor stored here: f->queues is the
 * stretch of the line they occupy, for proto_split_queues(), and the sizes
 * are found by walking back from the end of the line.
 */
static int
parse_route_msg(struct proto_frame *f, const char *a, const char *end,
    size_t nsizes)
{
	struct proto_slice	 t[MAX_ARGS], sz[2];
	const char		*qs, *qe, *te;
	size_t			 n, i;

	n = split_args(a, end, t, nsizes + 3, SEP_CR);
	if (n < nsizes + 2)
		return PROTO_E_ARGS;
	f->account = t[0];
	f->subject = t[1];
	if (n <= nsizes + 3) {
		if (n == nsizes + 3)
			f->reply = t[2];
		for (i = 0; i < nsizes; i++)
			sz[i] = t[n - nsizes + i];
	} else {
		if (t[2].len != 1 || (t[2].p[0] != '+' && t[2].p[0] != '|'))
			return PROTO_E_ARGS;
		qs = t[2].p + 1;
		if (t[2].p[0] == '+') {
			f->reply = t[3];
			qs = t[3].p + t[3].len;
		}
		/*
		 * There are at least nsizes + 4 arguments and the queue names
		 * start after the third or fourth, so the last nsizes lie
		 * wholly past qs.
		 */
		qe = end;
		for (i = nsizes; i-- > 0;) {
			while (is_sep(qe[-1]))
				qe--;
			te = qe;
			while (!is_sep(qe[-1]))
				qe--;
			sz[i].p = qe;
			sz[i].len = (size_t)(te - qe);
		}
		while (qs < qe && is_sep(*qs))
			qs++;
		while (qe > qs && is_sep(qe[-1]))
			qe--;
		f->queues.p = qs;
		f->queues.len = (size_t)(qe - qs);
	}
	if (nsizes == 2 && !parse_size(&sz[0], &f->hdr_len))
		return PROTO_E_ARGS;
	if (!parse_size(&sz[nsizes - 1], &f->total_len) ||
	    f->hdr_len > f->total_len)
		return PROTO_E_ARGS;
	return 0;
}

/*
 * Stage ARGS: fill f from the argument bytes [a, end) of operation f->op.
 * Returns 0 or PROTO_E_ARGS.
 */
static int
parse_args(struct proto_frame *f, const char *a, const char *end, bool route)
{
	struct proto_slice	 t[MAX_ARGS];
	size_t			 n, i, fixed, max;
	bool			 has_sid, has_hdr;

	switch (f->op) {
	case OP_HMSG:
		if (route)
			return parse_route_msg(f, a, end, 2);
		/* FALLTHROUGH */
	case OP_PUB:
	case OP_HPUB:
	case OP_MSG:
		/*
		 * PUB subject [reply] size
		 * HPUB subject [reply] hdr_size total_size
		 * MSG subject sid [reply] size
		 * HMSG subject sid [reply] hdr_size total_size
		 */
		has_sid = f->op == OP_MSG || f->op == OP_HMSG;
		has_hdr = f->op == OP_HPUB || f->op == OP_HMSG;
		fixed = 2 + has_sid + has_hdr;	/* without the reply */
		n = split_args(a, end, t, MAX_ARGS, SEP_BLANK);
		if (n != fixed && n != fixed + 1)
			return PROTO_E_ARGS;
		i = 0;
		f->subject = t[i++];
		if (has_sid)
			f->sid = t[i++];
		if (n > fixed)
			f->reply = t[i++];
		if (has_hdr && !parse_size(&t[i++], &f->hdr_len))
			return PROTO_E_ARGS;
		if (!parse_size(&t[i], &f->total_len) ||
		    f->hdr_len > f->total_len)
			return PROTO_E_ARGS;
		return 0;
	case OP_SUB:
		/* SUB subject [queue] sid */
		n = split_args(a, end, t, 3, SEP_CR);
		if (n != 2 && n != 3)
			return PROTO_E_ARGS;
		f->subject = t[0];
		if (n == 3)
			f->queue = t[1];
		f->sid = t[n - 1];
		return 0;
	case OP_UNSUB:
		/* UNSUB sid [max_msgs]; a max that does not parse is none. */
		n = split_args(a, end, t, 2, SEP_CR);
		if (n != 1 && n != 2)
			return PROTO_E_ARGS;
		f->sid = t[0];
		if (n == 2 && parse_size(&t[1], &max))
			f->max_msgs = (int64_t)max;
		return 0;
	case OP_RMSG:
		return parse_route_msg(f, a, end, 1);
	case OP_RSUB:
		/*
		 * RS+ account subject [queue [weight]].  nats-server sends a
		 * queue with its weight, always, and refuses a queue without
		 * one; we take it as weight 1, which is what a queue member
		 * counts for.  A bad weight is an error here, where
		 * nats-server would store -1.  A weight of 0 is passed on.
		 */
		n = split_args(a, end, t, 4, SEP_CR);
		if (n < 2 || n > 4)
			return PROTO_E_ARGS;
		f->account = t[0];
		f->subject = t[1];
		f->weight = 1;
		if (n >= 3)
			f->queue = t[2];
		if (n == 4) {
			if (!parse_size(&t[3], &max))
				return PROTO_E_ARGS;
			f->weight = (uint32_t)max;
		}
		return 0;
	case OP_RUNSUB:
		/* RS- account subject [queue] */
		n = split_args(a, end, t, 3, SEP_CR);
		if (n != 2 && n != 3)
			return PROTO_E_ARGS;
		f->account = t[0];
		f->subject = t[1];
		if (n == 3)
			f->queue = t[2];
		return 0;
	case OP_CONNECT:
	case OP_INFO:
	case OP_ERR:
		f->arg.p = a;
		f->arg.len = (size_t)(end - a);
		return 0;
	default:
		return 0;
	}
}

int
proto_parse(const struct proto_limits *lim, const char *buf, size_t len,
    struct proto_frame *f, size_t *used, size_t *need)
{
	enum proto_op	 op = OP_NONE;
	const char	*nl, *start, *a, *end, *pay;
	size_t		 line, frame;
	int		 r;

	*used = 0;
	*need = 0;
	if (len == 0)
		return PROTO_MORE;

	/* OP */
	if ((r = parse_op(lim, buf, len, &op)) != PROTO_FRAME)
		return r;

	/* LINE: no '\n' can be part of the name, so search after it. */
	start = buf + ops[op].len;
	nl = memchr(start, '\n', len - ops[op].len);
	if (nl == NULL) {
		if (line_too_long(lim, start, buf + len))
			return PROTO_E_CONTROL_LINE;
		return PROTO_MORE;
	}
	if (line_too_long(lim, start, nl))
		return PROTO_E_CONTROL_LINE;
	line = (size_t)(nl - buf) + 1;
	end = nl;
	if (end > start && end[-1] == '\r')
		end--;

	/* ARGS */
	memset(f, 0, sizeof(*f));
	f->op = op;
	a = start;
	while (a < end && is_blank(*a))
		a++;
	if ((r = parse_args(f, a, end, lim->route_side)) != 0)
		return r;
	if (!ops[op].payload) {
		*used = line;
		return PROTO_FRAME;
	}

	/* PAYLOAD */
	if (f->total_len > lim->max_payload)
		return PROTO_E_PAYLOAD;
	pay = buf + line;
	frame = line + f->total_len + 2;
	if (len > line + f->total_len) {
		if (pay[f->total_len] != '\r')
			return PROTO_E_UNKNOWN_OP;
		if (len > line + f->total_len + 1 &&
		    pay[f->total_len + 1] != '\n')
			return PROTO_E_UNKNOWN_OP;
	}
	if (len < frame) {
		*need = frame;
		return PROTO_MORE;
	}
	f->payload = pay;
	*used = frame;
	return PROTO_FRAME;
}

bool
proto_queue_next(struct proto_slice *rest, struct proto_slice *name)
{
	const char	*p = rest->p, *end = rest->p + rest->len;

	while (p < end && is_sep(*p))
		p++;
	if (p == end) {
		rest->p = end;
		rest->len = 0;
		return false;
	}
	name->p = p;
	while (p < end && !is_sep(*p))
		p++;
	name->len = (size_t)(p - name->p);
	rest->p = p;
	rest->len = (size_t)(end - p);
	return true;
}

size_t
proto_split_queues(const struct proto_slice *queues, struct proto_slice *out,
    size_t max)
{
	struct proto_slice	 rest = *queues;
	size_t			 n = 0;

	while (n < max && proto_queue_next(&rest, &out[n]))
		n++;
	return n;
}

const char *
proto_op_name(enum proto_op op)
{
	if ((unsigned)op >= sizeof(ops) / sizeof(ops[0]))
		return "?";
	return ops[op].print;
}
