/*
 * Times and durations as nats-server prints them in its monitoring JSON
 * (the monitor's endpoints and the router's /routez rows).
 */
#ifndef NATSD_FMT_H
#define NATSD_FMT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_TIME_LEN	48

/* Go's time.RFC3339Nano, UTC. */
char	*fmt_time(int64_t wall_ns, char *buf, size_t len);
/* Go's duration in nats-server's uptime form ("1d2h3m4s"). */
char	*fmt_uptime(int64_t ns, char *buf, size_t len);

#endif
