#include "config.h"

#include "natsd.h"

const char *const proto_err_text[ERR__COUNT] = {
	[ERR_UNKNOWN_OP]	= "Unknown Protocol Operation",
	[ERR_MAX_CONTROL_LINE]	= "maximum control line exceeded",
	[ERR_MAX_PAYLOAD]	= "Maximum Payload Violation",
	[ERR_MAX_CONNECTIONS]	= "maximum connections exceeded",
	[ERR_STALE]		= "Stale Connection",
	[ERR_AUTH_VIOLATION]	= "Authorization Violation",
	[ERR_AUTH_TIMEOUT]	= "Authentication Timeout",
	[ERR_INVALID_SUBJECT]	= "Invalid Subject",
	[ERR_INVALID_PUB_SUBJECT] = "Invalid Publish Subject",
	[ERR_SLOW_CONSUMER]	= "Slow Consumer",
	[ERR_PARSER]		= "Parser Error",
	[ERR_NO_HEADERS]	= "Message headers not supported",
	[ERR_SECURE_REQUIRED]	= "Secure Connection - TLS Required",
	/*
	 * nats-server closes on a CONNECT it cannot read without saying
	 * why; natsd says so first (the connection closes all the same).
	 */
	[ERR_BAD_CONNECT]	= "Invalid CONNECT JSON",
	[ERR_NO_RESPONDERS_HEADERS] = "no responders requires headers support",
};

const char *
close_reason_text(enum close_reason r)
{
	switch (r) {
	case CLOSE_CLIENT:		return "Client Closed";
	case CLOSE_SERVER_SHUTDOWN:	return "Server Shutdown";
	case CLOSE_PROTOCOL:		return "Protocol Violation";
	case CLOSE_WRITE_ERROR:		return "Write Error";
	case CLOSE_READ_ERROR:		return "Read Error";
	case CLOSE_SLOW_CONSUMER_PENDING: return "Slow Consumer (Pending Bytes)";
	case CLOSE_SLOW_CONSUMER_DEADLINE: return "Slow Consumer (Write Deadline)";
	case CLOSE_STALE:		return "Stale Connection";
	case CLOSE_MAX_PAYLOAD:		return "Maximum Message Payload Exceeded";
	case CLOSE_MAX_CONTROL_LINE:	return "Maximum Control Line Exceeded";
	case CLOSE_MAX_CONNECTIONS:	return "Maximum Connections Exceeded";
	case CLOSE_AUTH_TIMEOUT:	return "Authentication Timeout";
	case CLOSE_AUTH_VIOLATION:	return "Authentication Failure";
	case CLOSE_PARSE_ERROR:		return "Parse Error";
	case CLOSE_TLS_HANDSHAKE:	return "TLS Handshake Failure";
	}
	return "Unknown";
}
