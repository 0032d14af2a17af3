/*
 * NATS protocol parser: zero-copy, one frame at a time.
 *
 * proto_parse() looks at the bytes in buf and, if a whole frame (control
 * line plus payload for PUB/HPUB) is there, fills *f with pointers into buf
 * and returns PROTO_FRAME with *used set to the frame's length.  When the
 * frame is not complete it returns PROTO_MORE and sets *need to the total
 * number of bytes the frame will occupy once its control line is known (so
 * the caller can size a buffer and read the rest straight into it), or to 0
 * while the control line itself is still incomplete.  The caller keeps the
 * unconsumed tail and calls again with it plus newly read bytes: frames may
 * be split anywhere.  Errors are negative and name the -ERR to send.
 *
 * With route_side set the parser speaks the route protocol instead (the
 * router's side of a route connection): RS+ RS- RMSG and HMSG with an
 * account, besides CONNECT INFO PING PONG +OK -ERR; the client operations
 * are unknown there, and the route ones are unknown to a client.
 */
#ifndef NATSD_PARSER_H
#define NATSD_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum proto_op {
	OP_NONE,
	OP_CONNECT,
	OP_PUB,
	OP_HPUB,
	OP_SUB,
	OP_UNSUB,
	OP_PING,
	OP_PONG,
	OP_INFO,
	OP_OK,		/* +OK */
	OP_ERR,		/* -ERR */
	OP_MSG,		/* MSG: only parsed in client-side (test) mode */
	OP_HMSG,	/* client side: with a sid; route side: an account */
	OP_RSUB,	/* RS+: route side only */
	OP_RUNSUB,	/* RS- */
	OP_RMSG,
};

enum proto_result {
	PROTO_FRAME = 1,
	PROTO_MORE = 0,
	PROTO_E_UNKNOWN_OP = -1,	/* -ERR 'Unknown Protocol Operation' */
	PROTO_E_CONTROL_LINE = -2,	/* -ERR 'Maximum Control Line Exceeded' */
	PROTO_E_PAYLOAD = -3,		/* -ERR 'Maximum Payload Violation' */
	PROTO_E_ARGS = -4,		/* malformed arguments for a known op */
};

struct proto_slice {
	const char	*p;
	size_t		 len;
};

/*
 * Every slice points into the buffer given to proto_parse(); a field the
 * operation does not have is zero.  Which operations fill which field:
 *
 *	subject		PUB HPUB SUB MSG HMSG RS+ RS- RMSG
 *	reply		PUB HPUB MSG HMSG RMSG (len 0 if none)
 *	queue		SUB RS+ RS- (len 0 if none)
 *	sid		SUB UNSUB, client-side MSG HMSG
 *	arg		CONNECT and INFO JSON, -ERR text
 *	payload		PUB HPUB MSG HMSG RMSG: headers then body, total_len
 *			bytes of which the first hdr_len (HPUB HMSG) are headers
 *	max_msgs	UNSUB, 0 when absent
 *	account		RS+ RS- RMSG, route-side HMSG
 *	queues		RMSG, route-side HMSG: the queue names as sent,
 *			blank-separated (proto_split_queues()); len 0 if none
 *	weight		RS+: the queue weight, 1 if absent; may be 0
 *
 * weight sits in the padding after op, so the route fields cost a client
 * frame 32 more bytes to clear and nothing else.
 */
struct proto_frame {
	enum proto_op		 op;
	uint32_t		 weight;
	struct proto_slice	 subject;
	struct proto_slice	 reply;
	struct proto_slice	 queue;
	struct proto_slice	 sid;
	struct proto_slice	 arg;
	const char		*payload;
	size_t			 hdr_len;
	size_t			 total_len;
	int64_t			 max_msgs;
	struct proto_slice	 account;
	struct proto_slice	 queues;
};

/*
 * max_control_line bounds the argument bytes of a line, max_payload the
 * total size of a payload (PUB HPUB, client-side MSG HMSG, RMSG and
 * route-side HMSG).  client_side accepts MSG and HMSG (test clients,
 * bench); route_side speaks the route protocol and wins over client_side.
 * nats-server 2.9 bounds neither line nor payload on a route (later ones
 * allow a route 16 times max_control_line); a router should pass limits
 * that no peer's queue list or max_payload can reach.
 */
struct proto_limits {
	size_t	max_control_line;
	size_t	max_payload;
	bool	client_side;
	bool	route_side;
};

int	proto_parse(const struct proto_limits *, const char *buf, size_t len,
	    struct proto_frame *f, size_t *used, size_t *need);
const char *proto_op_name(enum proto_op);

/*
 * The queue names of an RMSG / HMSG frame (f->queues), without copying:
 * proto_split_queues() stores the first max of them in out[] and returns
 * how many it stored; names past the max-th are left out, so a return of
 * max may mean there were more.  proto_queue_next() walks them all: it
 * takes the next name off *rest into *name and returns false when none
 * is left.
 */
size_t	proto_split_queues(const struct proto_slice *queues,
	    struct proto_slice *out, size_t max);
bool	proto_queue_next(struct proto_slice *rest, struct proto_slice *name);

#endif
