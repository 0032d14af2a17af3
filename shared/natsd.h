/*
 * What every natsd role shares: defaults (nats-server's, from its
 * server/const.go), the process roles, connection close reasons and the
 * one table of -ERR texts sent on the wire.
 */
#ifndef NATSD_H
#define NATSD_H

#include <stddef.h>
#include <stdint.h>

#define NATSD_VERSION		PACKAGE_VERSION
#define NATSD_PROTO		1

#define DEFAULT_HOST		"0.0.0.0"
#define DEFAULT_PORT		4222
#define DEFAULT_MAX_PAYLOAD	(1024 * 1024)
#define DEFAULT_MAX_CONTROL_LINE (4 * 1024)
#define DEFAULT_MAX_CONNECTIONS	(64 * 1024)
#define DEFAULT_MAX_PENDING	(64 * 1024 * 1024)
#define DEFAULT_PING_INTERVAL_MS (2 * 60 * 1000)
#define DEFAULT_PING_MAX	2
#define DEFAULT_WRITE_DEADLINE_MS (10 * 1000)
#define DEFAULT_AUTH_TIMEOUT_MS	(2 * 1000)
#define DEFAULT_TLS_TIMEOUT_MS	(2 * 1000)
#define DEFAULT_RING_SIZE	(8 * 1024 * 1024)
#define MAX_WORKERS		64

/* Process roles; the table of titles and log tags is in master/proc.c. */
enum role {
	ROLE_MASTER,
	ROLE_WORKER,
	ROLE_ROUTER,
	ROLE_MONITOR,
};

/* Why a client connection was closed (nats-server's ClosedState names). */
enum close_reason {
	CLOSE_CLIENT = 1,	/* "Client Closed" */
	CLOSE_SERVER_SHUTDOWN,	/* "Server Shutdown" */
	CLOSE_PROTOCOL,		/* "Protocol Violation" */
	CLOSE_WRITE_ERROR,	/* "Write Error" */
	CLOSE_READ_ERROR,	/* "Read Error" */
	CLOSE_SLOW_CONSUMER_PENDING, /* "Slow Consumer (Pending Bytes)" */
	CLOSE_SLOW_CONSUMER_DEADLINE, /* "Slow Consumer (Write Deadline)" */
	CLOSE_STALE,		/* "Stale Connection" */
	CLOSE_MAX_PAYLOAD,	/* "Maximum Message Payload Exceeded" */
	CLOSE_MAX_CONTROL_LINE,	/* "Maximum Control Line Exceeded" */
	CLOSE_MAX_CONNECTIONS,	/* "Maximum Connections Exceeded" */
	CLOSE_AUTH_TIMEOUT,	/* "Authentication Timeout" */
	CLOSE_AUTH_VIOLATION,	/* "Authentication Failure" */
	CLOSE_PARSE_ERROR,	/* "Parse Error" */
	CLOSE_TLS_HANDSHAKE,	/* "TLS Handshake Failure" */
};

/*
 * The -ERR texts natsd sends, exactly as nats-server 2.9 sends them
 * (operators and client libraries match on these strings).
 */
enum proto_errno {
	ERR_UNKNOWN_OP,
	ERR_MAX_CONTROL_LINE,
	ERR_MAX_PAYLOAD,
	ERR_MAX_CONNECTIONS,
	ERR_STALE,
	ERR_AUTH_VIOLATION,
	ERR_AUTH_TIMEOUT,
	ERR_INVALID_SUBJECT,
	ERR_INVALID_PUB_SUBJECT,
	ERR_SLOW_CONSUMER,
	ERR_PARSER,
	ERR_NO_HEADERS,
	ERR_SECURE_REQUIRED,
	ERR_BAD_CONNECT,
	ERR_NO_RESPONDERS_HEADERS,
	ERR__COUNT
};

extern const char *const proto_err_text[ERR__COUNT];
const char *close_reason_text(enum close_reason);

#endif
