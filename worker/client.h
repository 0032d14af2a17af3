/*
 * A client connection, owned end to end by one worker.
 */
#ifndef NATSD_CLIENT_H
#define NATSD_CLIENT_H

#include <sys/queue.h>
#include <sys/cdefs.h>
#include <sys/tree.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "natsd.h"
#include "outbuf.h"
#include "parser.h"
#include "sublist.h"

struct csub {
	struct sub		 s;		/* s.owner: the client */
	RB_ENTRY(csub)		 entry;
	const char		*sid;
	size_t			 sid_len;
	uint64_t		 max;		/* auto-unsubscribe after; 0: never */
	uint64_t		 delivered;
	bool			 deliver_check;	/* a deny rule overlaps its wildcards */
	char			 buf[];		/* subject, queue, sid */
};

RB_HEAD(csub_tree, csub);

enum client_flags {
	CF_CONNECTED	= 1 << 0,	/* CONNECT seen */
	CF_VERBOSE	= 1 << 1,
	CF_PEDANTIC	= 1 << 2,
	CF_NO_ECHO	= 1 << 3,
	CF_HEADERS	= 1 << 4,
	CF_NO_RESPONDERS = 1 << 5,
	CF_CLOSING	= 1 << 6,	/* flush what is owed, then close */
	CF_DEAD		= 1 << 7,	/* closed; freed after the loop turn */
	CF_DIRTY	= 1 << 8,	/* on the flush list */
	CF_PAUSED	= 1 << 9,	/* not reading: downstream backed up */
	CF_WANT_WRITE	= 1 << 10,	/* EPOLLOUT armed */
	CF_CONGESTED	= 1 << 11,	/* outbound over the high mark */
	CF_TLS_HANDSHAKE = 1 << 12,	/* INFO sent, TLS handshake under way */
	CF_AUTH_WAIT	= 1 << 13,	/* not reading: a bcrypt check runs */
	CF_AUTHED	= 1 << 14,	/* credentials accepted */
	CF_READ_AGAIN	= 1 << 15,	/* on the read-again list */
	CF_ASYNC_INFO	= 1 << 16,	/* CONNECT protocol >= 1: takes INFO updates */
};

struct auth_offer;
struct permissions;
struct perm_cache;
typedef struct ssl_st SSL;

struct client {
	int			 fd;
	uint32_t		 flags;
	uint64_t		 cid;
	char			 ip[INET6_ADDRSTRLEN];
	int			 port;
	struct stash		 stash;		/* a frame split across reads */
	struct outbuf		 out;
	int64_t			 last_read;
	int64_t			 ping_due;
	int			 pings_out;
	int64_t			 paused_until;
	enum close_reason	 close_reason;
	struct csub_tree	 subs;
	uint32_t		 nsubs;
	uint64_t		 in_msgs, in_bytes, out_msgs, out_bytes;
	char			*name;
	char			*lang;
	char			*version;
	int64_t			 start;
	int64_t			 start_wall;	/* ns since the epoch, for /connz */
	struct conn_slot	*slot;		/* our row in the connection table */
	/* security */
	SSL			*ssl;		/* NULL: plain connection */
	int64_t			 deadline;	/* TLS handshake, then CONNECT; 0: none */
	char			*user;		/* authenticated as; NULL: no user */
	const struct permissions *perms;	/* in wk.s; NULL: everything */
	struct perm_cache	*pcache;
	uint64_t		 bcrypt_ticket;	/* 0: no check running */
	struct auth_offer	*offer;		/* CONNECT's credentials, while checked */
	TAILQ_ENTRY(client)	 again_entry;
	TAILQ_ENTRY(client)	 dirty_entry;
	TAILQ_ENTRY(client)	 close_entry;
	LIST_ENTRY(client)	 entry;
};

LIST_HEAD(client_list, client);
TAILQ_HEAD(client_tailq, client);

extern struct client_list	 clients;
extern struct client_tailq	 dirty_clients;

struct client	*client_new(int fd, const struct sockaddr *, socklen_t);
void		 client_write_ready(struct client *);
/* What epoll reported for the client's socket. */
void		 client_event(struct client *, uint32_t events);
/* Queue bytes for the client; false if that made it a slow consumer. */
bool		 client_queue(struct client *, const void *, size_t);
void		 client_send_msg(struct client *, struct csub *,
		    const char *subject, size_t slen, const char *reply,
		    size_t rlen, const char *payload, size_t hdr_len,
		    size_t total_len);
void		 client_sub_delivered(struct csub *);
void		 client_pause(struct client *);
void		 client_resume(struct client *);
void		 client_close(struct client *, enum close_reason);
void		 client_err(struct client *, const char *text);
/* Before sleeping: write what every dirty client is owed. */
void		 client_flush_all(void);
void		 client_reap(void);
void		 client_tick(void);
/* Refresh the client's row in the shared connection table (/connz). */
void		 client_publish(struct client *);
void		 client_shutdown_all(void);
/* The server's INFO changed (cluster URLs): tell the clients that listen. */
void		 client_info_all(void);
/* Close the clients whose TLS handshake or CONNECT deadline passed. */
void		 client_deadlines(void);
/* Read clients whose TLS layer holds data epoll cannot see; true if any. */
bool		 client_read_again(void);
void		 client_log(const struct client *, const char *lvl,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reading on or off as the flags say (paused, waiting for bcrypt). */
void		 client_events(struct client *);
/* Credentials accepted after a wait: finish CONNECT, read on. */
void		 client_connect_finish(struct client *);
/* Permissions changed: drop subscriptions no longer allowed. */
void		 client_recheck_subs(struct client *);

#endif
