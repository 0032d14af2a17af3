/*
 * What the libnats interop tests share: a counter that libnats callbacks
 * bump and a test waits on with a deadline, connecting with the options
 * each test needs, and request/reply helpers.  Compiled into each
 * interop test (they link libnats; the harness library does not).  Like
 * the harness it reports by TAP comments and return values: only a test
 * makes points.
 */
#ifndef NATSD_INTEROP_H
#define NATSD_INTEROP_H

#include <pthread.h>

#include <nats/nats.h>

/*
 * A counter that callbacks bump and the test waits on with a deadline,
 * so nothing is synchronised by sleeping.  waiter_on_error() also keeps
 * the last error it was given.
 */
struct waiter {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 count;
	natsStatus	 last;		/* the last error reported */
	char		 text[256];	/* and the connection's error text */
};

void		 waiter_init(struct waiter *);
void		 waiter_free(struct waiter *);
void		 waiter_bump(struct waiter *);
int		 waiter_get(struct waiter *);
void		 waiter_reset(struct waiter *);
int		 waiter_wait(struct waiter *, int want, int timeout_ms);
/* A natsConnectionHandler that bumps the waiter given as its closure. */
void		 waiter_on_event(natsConnection *, void *);
/* A natsErrHandler that reports, records and bumps its closure's. */
void		 waiter_on_error(natsConnection *, natsSubscription *,
		    natsStatus, void *);

/* How to connect; zero for the defaults. */
struct nc_opts {
	const char	*url;		/* NULL: nats://127.0.0.1:port */
	int		 port;
	int		 timeout_ms;	/* connect timeout; 0: 3000 */
	int		 reconnects;	/* attempts, 50 ms apart; 0: never */
	struct waiter	*errors;	/* bumped by asynchronous errors */
	struct waiter	*disconnected, *reconnected;
	const char	*user, *pass;	/* natsOptions_SetUserInfo */
	int		 tls;		/* natsOptions_SetSecure */
	const char	*ca;		/* trusted CA file */
	const char	*host;		/* expected server name */
	int		 skip_verify;
	const char	*cert, *key;	/* client certificate */
};

/*
 * Connect, or NULL with the reason in a TAP comment; *stp (unless NULL)
 * gets libnats's status either way.
 */
natsConnection	*nc_open(const struct nc_opts *, natsStatus *stp);
/* The text libnats kept for the last failure of this thread. */
const char	*nc_last_error(void);
/* A synchronous subscription the server has once the call returns. */
natsStatus	 nc_subscribe_sync(natsSubscription **, natsConnection *,
		    const char *subject);
/* A natsMsgHandler answering each request with "re: " and its data. */
void		 nc_echo(natsConnection *, natsSubscription *, natsMsg *,
		    void *);
/*
 * count requests "<prefix><i>" on subject, from reqs[i % nreqs] in
 * turn, to a responder running nc_echo(); how many got the right
 * answer.  Stops at the first that fails.
 */
int		 nc_requests(natsConnection *const *reqs, int nreqs,
		    const char *subject, const char *prefix, int count,
		    int timeout_ms);

#endif
