/*
 * A connection's peer address and log lines (see conn.h).
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "conn.h"
#include "log.h"

void
conn_addr(const struct sockaddr *sa, char *ip, size_t iplen, int *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(in6->sin6_port);
	}
}

void
conn_log(char lvl, const char *ip, int port, const char *kind, uint64_t id,
    const char *msg)
{
	void	(*logf)(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

	switch (lvl) {
	case 'T':
		logf = log_trace;
		break;
	case 'D':
		logf = log_debug;
		break;
	case 'W':
		logf = log_warnx;
		break;
	case 'E':
		logf = log_errorx;
		break;
	default:
		logf = log_info;
	}
	logf("%s:%d - %s:%llu - %s", ip, port, kind, (unsigned long long)id,
	    msg);
}
