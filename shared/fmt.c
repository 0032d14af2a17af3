/*
 * Times and durations as nats-server prints them, so that tools parsing
 * its JSON parse ours: Go's time.RFC3339Nano and the uptime form of
 * /varz, /connz and /routez.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "fmt.h"

/*
 * "2026-11-23T13:35:24.66283976Z": UTC, the fraction without trailing
 * zeros and left out when it is zero, as Go's RFC3339Nano layout does.
 */
char *
fmt_time(int64_t wall_ns, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 sec;
	long		 frac;
	char		 fs[16];
	int		 digits = 9;

	if (wall_ns < 0)
		wall_ns = 0;
	sec = (time_t)(wall_ns / 1000000000);
	frac = (long)(wall_ns % 1000000000);
	gmtime_r(&sec, &tm);
	fs[0] = '\0';
	if (frac != 0) {
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		snprintf(fs, sizeof(fs), ".%0*ld", digits, frac);
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, fs);
	return buf;
}

/*
 * Whole seconds, largest unit first: "5s", "1m33s", "18h30m12s",
 * "2d3h0m5s", "1y2d3h4m5s" (a year is 365 days), as /varz uptime and
 * /connz uptime and idle read in nats-server.  Negative durations (a
 * clock step) print as "0s".
 */
char *
fmt_uptime(int64_t ns, char *buf, size_t len)
{
	int64_t	 s, m, h, d, y;

	s = ns > 0 ? ns / 1000000000 : 0;
	m = s / 60;
	h = m / 60;
	d = h / 24;
	y = d / 365;
	if (y > 0)
		snprintf(buf, len, "%lldy%lldd%lldh%lldm%llds", (long long)y,
		    (long long)(d % 365), (long long)(h % 24),
		    (long long)(m % 60), (long long)(s % 60));
	else if (d > 0)
		snprintf(buf, len, "%lldd%lldh%lldm%llds", (long long)d,
		    (long long)(h % 24), (long long)(m % 60),
		    (long long)(s % 60));
	else if (h > 0)
		snprintf(buf, len, "%lldh%lldm%llds", (long long)h,
		    (long long)(m % 60), (long long)(s % 60));
	else if (m > 0)
		snprintf(buf, len, "%lldm%llds", (long long)m,
		    (long long)(s % 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
	return buf;
}
