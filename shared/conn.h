/*
 * What a client connection (worker/client.c) and a route connection
 * (router/route_io.c) do alike besides buffering (outbuf.h): name the peer
 * and log as nats-server logs a connection.
 */
#ifndef NATSD_CONN_H
#define NATSD_CONN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* sa's address and port in text; both are left alone for another family. */
void	conn_addr(const struct sockaddr *sa, char *ip, size_t iplen,
	    int *port);
/*
 * One line with nats-server's prefix, "127.0.0.1:5432 - cid:7 - msg";
 * kind is "cid" or "rid".  lvl: 'T'race, 'D'ebug, 'W'arning, 'E'rror,
 * anything else info.
 */
void	conn_log(char lvl, const char *ip, int port, const char *kind,
	    uint64_t id, const char *msg);

#endif
