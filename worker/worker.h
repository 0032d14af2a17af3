/*
 * A worker: one single-threaded event loop that accepts clients on the
 * shared listen socket and owns them end to end (parse, match, deliver),
 * exchanging interest and messages with its peers over the mesh rings.
 */
#ifndef NATSD_WORKER_H
#define NATSD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh.h"
#include "parser.h"
#include "sublist.h"
#include "settings.h"
#include "util.h"

struct client;
typedef struct ssl_ctx_st SSL_CTX;

enum sub_kind {
	SUB_CLIENT = 1,		/* owner: struct client */
	SUB_PEER,		/* owner: struct peer */
};

struct worker {
	int			 slot;
	uint32_t		 epoch;
	int			 npeers;
	struct settings		*s;
	struct mesh		*mesh;
	struct mesh_peer	*self;
	int			 epfd;
	int			 lfd;
	bool			 accepting;	/* lfd is in the epoll set */
	bool			 ready;		/* synced with the peers: may accept */
	bool			 stopping;	/* graceful stop: read no client again */
	int64_t			 ready_deadline;
	struct sublist		*sl;
	struct proto_limits	 limits;
	char			*rbuf;		/* shared read buffer */
	size_t			 rbuf_size;
	int64_t			 now;		/* ms, refreshed each loop turn */
	uint32_t		 nclients;
	uint32_t		 ncongested;	/* clients over the outbound high mark */
	uint32_t		 npaused;	/* clients not read: downstream backed up */
	SSL_CTX			*tls_ctx;	/* NULL: plain clients */
	uint32_t		 urls_seq;	/* cluster URLs in the INFO */
	int64_t			 deadline_min;	/* earliest client deadline; 0: none */
	char			 info_prefix[16384];	/* INFO JSON up to client_id */
	size_t			 info_prefix_len;
};

extern struct worker wk;

int	worker_main(struct settings *, struct mesh *, int slot, int lfd);
/* Epoll interest of fd: ptr is the struct client. */
void	worker_epoll_mod(int fd, void *ptr, uint32_t events);
/* Poll the bcrypt helper's socket (after it was started or replaced). */
void	worker_watch_bcrypt(void);

#endif
