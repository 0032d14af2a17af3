/*
 * Who a client is and what it may do: CONNECT credentials against the
 * authorization block (single user, token, users list; plaintext or
 * bcrypt, the latter checked off the event loop), and subject
 * permissions on every PUB, SUB and delivery.  A reload re-checks every
 * client against the new block.
 */
#ifndef NATSD_CLIENT_AUTH_H
#define NATSD_CLIENT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "settings.h"

struct client;

enum auth_result {
	AUTH_OK,		/* go on with CONNECT */
	AUTH_FAILED,		/* -ERR sent, logged, client closing */
	AUTH_PENDING,		/* bcrypt running: CF_AUTH_WAIT is set */
};

/* CONNECT from a client while authorization is configured. */
enum auth_result client_auth_connect(struct client *, json_t *connect);
/* Refuse the client: -ERR 'Authorization Violation', log, close. */
void	client_auth_violation(struct client *);
/* PUB: true if allowed; else the -ERR is sent and logged. */
bool	client_may_publish(struct client *, const char *subject, size_t len);
/* SUB: the same. */
bool	client_may_subscribe(struct client *, const char *subject, size_t len,
	    const char *queue, size_t qlen, const char *sid, size_t sidlen);
/* Delivery to a subscription whose wildcards a deny rule overlaps. */
bool	client_may_receive(struct client *, const char *subject, size_t len);
/* After a reload swapped wk.s: re-check every client (old: the previous). */
void	client_auth_reload(const struct settings *old);
void	client_auth_free(struct client *);

#endif
