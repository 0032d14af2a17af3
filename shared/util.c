#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "natsd.h"
#include "util.h"

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
now_ms(void)
{
	return now_ns() / 1000000;
}

int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Queue-member picks happen once per message per group: a xorshift64*
 * generator, seeded per process from arc4random, is fast and uniform
 * enough.  Not for anything secret.
 */
static uint64_t rng_state;

uint32_t
random_below(uint32_t n)
{
	uint64_t x;

	if (n <= 1)
		return 0;
	if (rng_state == 0)
		arc4random_buf(&rng_state, sizeof(rng_state));
	x = rng_state | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	/* Lemire's multiply-shift: maps 32 random bits onto [0, n). */
	return (uint32_t)(((x * 0x2545F4914F6CDD1DULL >> 32) * n) >> 32);
}

void
random_reseed(void)
{
	arc4random_buf(&rng_state, sizeof(rng_state));
}

void
random_id(char *buf, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = alphabet[arc4random_uniform(sizeof(alphabet) - 1)];
	buf[len] = '\0';
}

/*
 * Process titles through libbsd's setproctitle.  libbsd marks a title
 * shorter than the original argv[0] by writing '.' over argv[0]'s old
 * terminator, which ps then shows as "natsd: master   ."; put the
 * terminator back so the title reads cleanly.
 */
static char	*title_base;
static size_t	 title_orig_len;

void
proc_title_init(int argc, char **argv, char **envp)
{
	title_base = argv[0];
	title_orig_len = strlen(argv[0]);
	setproctitle_init(argc, argv, envp);
}

void
proc_title(const char *title)
{
	setproctitle("-%s", title);
	/*
	 * libbsd marks where argv[0] ended: a '.' there when the title is
	 * shorter, a ' ' when it is exactly as long.  Either would show in
	 * /proc/PID/cmdline ("natsd: master "), which -sl and tests read.
	 */
	if (title_base != NULL && strlen(title) <= title_orig_len &&
	    (title_base[title_orig_len] == '.' ||
	    title_base[title_orig_len] == ' '))
		title_base[title_orig_len] = '\0';
}
