/*
 * natsbench: one benchmark run against one NATS server.
 *
 * The driver (t/bench/run-bench) starts a fresh server, calls natsbench
 * once per scenario and round, and builds the side-by-side table.  Each
 * call prints exactly one line of key=value pairs on stdout, always
 * beginning with "status=": ok, disconnected (a subscriber was cut off,
 * as a slow consumer is), timeout, mismatch or error.
 * Diagnostics go to stderr.
 *
 * Traffic is raw protocol over TCP for the throughput scenarios (the
 * client must not be the bottleneck, and we want to see every MSG frame
 * ourselves) and libnats for request/reply latency (that is what an
 * application sees).  Every wait is bounded by the run's deadline (-t).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#define BENCH_HOST	"127.0.0.1"
#define CHUNK_BYTES	(128 * 1024)	/* target size of one publisher write */
#define SUB_BUF		(256 * 1024)	/* one subscriber read */
#define MAX_LINE	4096		/* longest control line we accept */
#define WARM_TIMEOUT	10.0		/* seconds for interest to show up */
#define IDLE_BATCH	250		/* idle connections opened at once */
#define MAX_PROCS	4096		/* processes in a server's tree */

#define CONNECT_LINE \
	"CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"c\"," \
	"\"version\":\"natsbench\",\"protocol\":1,\"name\":\"natsbench\"}\r\n"

enum status {
	ST_OK,
	ST_DISCONNECTED,	/* a subscriber was cut off (slow consumer?) */
	ST_TIMEOUT,
	ST_MISMATCH,	/* wrong number of messages delivered */
	ST_ERROR,
};

static const char *status_names[] = {
	[ST_OK] = "ok",
	[ST_DISCONNECTED] = "disconnected",
	[ST_TIMEOUT] = "timeout",
	[ST_MISMATCH] = "mismatch",
	[ST_ERROR] = "error",
};

static struct {
	int		 port;
	int		 sub_port;	/* -q: subscribers' server, else -p */
	uint64_t	 count;		/* -n: messages per publisher */
	size_t		 size;		/* -s: payload bytes */
	int		 nsubs;		/* -k */
	int		 conns;		/* -c: idle connections */
	pid_t		 pid;		/* -P: server pid (idle) */
	size_t		 window;	/* -w: bytes in flight, pub->sub */
	int		 http_port;	/* -H: monitoring port (connz) */
	int		 load;		/* -L: /connz requests in flight */
	uint64_t	 msecs;		/* -d: publish this long, not -n msgs */
	double		 timeout;	/* -t: seconds for the whole run */
	double		 deadline;	/* absolute, monotonic */
} opt = {
	.count = 100000,
	.size = 16,
	.conns = 5000,
	.window = 16 * 1024 * 1024,
	.load = 1000,
	.timeout = 60,
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bench_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("natsbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Print the one result line and leave.  Every exit after option parsing
 * goes through here so the driver always finds a status.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
result(enum status st, const char *fmt, ...)
{
	va_list ap;

	printf("status=%s", status_names[st]);
	if (fmt != NULL && *fmt != '\0') {
		putchar(' ');
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
	exit(st == ST_OK ? 0 : 1);
}

/* Milliseconds left before the deadline, capped so loops can look around. */
static int
ms_left(double deadline, int cap)
{
	double left = (deadline - now()) * 1000;

	if (left <= 0)
		return 0;
	return left > cap ? cap : (int)left + 1;
}

/* ---- sockets ---------------------------------------------------------- */

static int
net_socket(void)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
net_addr(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, BENCH_HOST, &sin->sin_addr);
}

/* Non-blocking connect, finished within the deadline. */
static int
net_connect(int port, double deadline)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	socklen_t len;
	int fd, err, n;

	if ((fd = net_socket()) == -1)
		return -1;
	net_addr(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		n = poll(&pfd, 1, ms_left(deadline, 1000));
	} while (n == -1 && errno == EINTR);
	if (n <= 0) {
		errno = n == 0 ? ETIMEDOUT : errno;
		goto fail;
	}
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/*
 * Write all of buf, waiting for the socket in short slices so that a
 * raised abort flag or the deadline ends the wait.  Returns 0 or -1 with
 * errno (ETIMEDOUT, ECANCELED for an abort, or the write error).
 */
static int
net_write_all(int fd, const char *buf, size_t len, double deadline,
    atomic_int *abort_flag)
{
	struct pollfd pfd;
	ssize_t n;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	while (len > 0) {
		n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (abort_flag != NULL && atomic_load(abort_flag)) {
			errno = ECANCELED;
			return -1;
		}
		if (now() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		poll(&pfd, 1, ms_left(deadline, 100));
	}
	return 0;
}

/*
 * Read until a PONG arrives.  Only used where the server sends nothing
 * but INFO, +OK, PING, PONG or -ERR: connection set-up and a publisher's
 * final round trip.  A PING is answered; an -ERR is copied to err.
 */
static int
net_await_pong(int fd, double deadline, atomic_int *abort_flag, char *err,
    size_t errlen)
{
	char buf[MAX_LINE * 2], *p, *nl;
	size_t len = 0;
	ssize_t n;
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0) {
			len += (size_t)n;
			p = buf;
			while ((nl = memchr(p, '\n', buf + len - p)) != NULL) {
				if (nl - p >= 4 && memcmp(p, "PONG", 4) == 0)
					return 0;
				if (nl - p >= 4 && memcmp(p, "-ERR", 4) == 0) {
					snprintf(err, errlen, "%.*s",
					    (int)(nl - p - 1), p);
					errno = EPROTO;
					return -1;
				}
				if (nl - p >= 4 && memcmp(p, "PING", 4) == 0 &&
				    net_write_all(fd, "PONG\r\n", 6, deadline,
				    abort_flag) == -1)
					return -1;
				p = nl + 1;
			}
			len -= (size_t)(p - buf);
			memmove(buf, p, len);
			if (len == sizeof(buf)) {
				errno = EMSGSIZE;
				return -1;
			}
			continue;
		}
		if (abort_flag != NULL && atomic_load(abort_flag)) {
			errno = ECANCELED;
			return -1;
		}
		if (now() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		poll(&pfd, 1, ms_left(deadline, 100));
	}
}

/*
 * Connect, send CONNECT, the extra protocol in extra (SUBs), and PING,
 * and wait for the PONG: once it is back the server has registered
 * everything we sent.
 */
static int
nats_open(int port, const char *extra, double deadline)
{
	char buf[MAX_LINE], err[256] = "";
	int fd, n;

	if ((fd = net_connect(port, deadline)) == -1) {
		bench_warnx("connect 127.0.0.1:%d: %s", port, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%s%sPING\r\n", CONNECT_LINE,
	    extra != NULL ? extra : "");
	if (net_write_all(fd, buf, n, deadline, NULL) == -1 ||
	    net_await_pong(fd, deadline, NULL, err, sizeof(err)) == -1) {
		bench_warnx("handshake with 127.0.0.1:%d: %s", port,
		    *err ? err : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- pub -> sub flows ------------------------------------------------- */

/*
 * One subscriber connection.  The receiver parses only control lines:
 * payloads are skipped by count, across reads, never copied.
 */
struct sub {
	int		 fd;
	char		*buf;
	size_t		 len;
	size_t		 skip;		/* payload + CRLF bytes still to drop */
	bool		 skip_warm;	/* the frame being skipped is warm-up */
	uint64_t	 got;		/* bench messages fully received */
	atomic_uint	 warm;		/* warm-up messages received */
	int		 pongs_pending;
	bool		 dead;
	char		 err[160];
};

struct pub {
	struct flow	*flow;
	int		 fd;
	char		*chunk;		/* frames_per_chunk whole PUB frames */
	size_t		 frame_len;
	uint64_t	 frames_per_chunk;
	char		 warm[128];	/* a zero-length PUB on our subject */
	size_t		 warm_len;
	enum status	 st;
	char		 err[160];
	pthread_t	 thread;
};

struct flow {
	struct sub	*subs;
	int		 nsubs;
	struct pub	*pubs;
	int		 npubs;
	uint64_t	 factor;	/* deliveries per published message */
	/*
	 * Deliveries in total.  A timed flow (pub_end set) does not know it
	 * until the last publisher stops: until then it is UINT64_MAX.
	 */
	atomic_uint_least64_t expect;
	double		 pub_end;	/* timed flow: publishing stops then */
	atomic_int	 pubs_done;	/* publishers that stopped writing */
	size_t		 size;
	int64_t		 window;	/* deliveries allowed in flight */
	atomic_uint_least64_t sent;	/* deliveries published so far */
	atomic_uint_least64_t got;	/* deliveries received so far */
	atomic_int	 abort;
	atomic_int	 pub_waiting;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_barrier_t start;
	double		 t_done;
	atomic_uint_least64_t *probe;	/* counter sampled at t0 and t_done */
	uint64_t	 probe_done;
	enum status	 st;
	char		 err[200];
};

static void
flow_fail(struct flow *f, enum status st, const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&f->abort, 1) == 0) {
		f->st = st;
		va_start(ap, fmt);
		vsnprintf(f->err, sizeof(f->err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_lock(&f->mu);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/*
 * Consume what sits in s->buf.  Returns -1 on a protocol surprise (text
 * in s->err).  A frame counts once its last payload byte is in, so the
 * subscriber's clock stops on the real end of the last message.
 */
static int
sub_scan(struct sub *s, size_t want)
{
	char *p = s->buf, *end = s->buf + s->len, *nl, *d;
	size_t n, size;
	int pings = 0;

	for (;;) {
		if (s->skip > 0) {
			n = (size_t)(end - p);
			if (n > s->skip)
				n = s->skip;
			p += n;
			s->skip -= n;
			if (s->skip > 0)
				break;
			if (s->skip_warm)
				atomic_fetch_add(&s->warm, 1);
			else
				s->got++;
		}
		if (p == end)
			break;
		if ((nl = memchr(p, '\n', end - p)) == NULL) {
			if (end - p > MAX_LINE) {
				snprintf(s->err, sizeof(s->err),
				    "control line longer than %d", MAX_LINE);
				return -1;
			}
			break;
		}
		if (nl - p > 5 && (memcmp(p, "MSG ", 4) == 0 ||
		    memcmp(p, "HMSG ", 5) == 0)) {
			/* The last token is the total size, MSG and HMSG. */
			if (nl[-1] != '\r')
				goto bad;
			for (d = nl - 1; d > p && isdigit((unsigned char)d[-1]);
			    d--)
				;
			if (d == nl - 1 || d[-1] != ' ')
				goto bad;
			for (size = 0; d < nl - 1; d++)
				size = size * 10 + (size_t)(*d - '0');
			if (size != 0 && size != want) {
				snprintf(s->err, sizeof(s->err),
				    "MSG of %zu bytes, expected %zu", size, want);
				return -1;
			}
			s->skip = size + 2;
			s->skip_warm = size == 0;
		} else if (nl - p >= 4 && memcmp(p, "PING", 4) == 0)
			pings++;
		else if (nl - p >= 4 && memcmp(p, "PONG", 4) == 0) {
			if (s->pongs_pending > 0)
				s->pongs_pending--;
		} else if (nl - p >= 4 && memcmp(p, "-ERR", 4) == 0) {
			snprintf(s->err, sizeof(s->err), "%.*s",
			    (int)(nl - p - 1), p);
			return -1;
		} else if (!(nl - p >= 3 && memcmp(p, "+OK", 3) == 0) &&
		    !(nl - p >= 4 && memcmp(p, "INFO", 4) == 0))
			goto bad;
		p = nl + 1;
	}
	s->len = (size_t)(end - p);
	if (s->len > 0 && p != s->buf)
		memmove(s->buf, p, s->len);
	/*
	 * The socket carries nothing else out, so these few bytes always
	 * fit; a failure shows up as a dead socket on the next read.
	 */
	while (pings-- > 0)
		if (write(s->fd, "PONG\r\n", 6) != 6)
			break;
	return 0;
bad:
	snprintf(s->err, sizeof(s->err), "unexpected line '%.*s'",
	    (int)(nl - p > 60 ? 60 : nl - p), p);
	return -1;
}

enum recv_until {
	RECV_ALL,	/* every expected delivery is in */
	RECV_PONGS,	/* every subscriber's PING came back */
	RECV_WARM,	/* every subscriber saw a warm-up message */
};

static bool
recv_done(struct flow *f, enum recv_until until)
{
	int i;

	switch (until) {
	case RECV_ALL:
		return atomic_load(&f->got) >= atomic_load(&f->expect);
	case RECV_PONGS:
		for (i = 0; i < f->nsubs; i++)
			if (f->subs[i].pongs_pending > 0)
				return false;
		return true;
	case RECV_WARM:
		for (i = 0; i < f->nsubs; i++)
			if (atomic_load(&f->subs[i].warm) == 0)
				return false;
		return true;
	}
	return true;
}

/*
 * Read every subscriber until the condition holds.  Publishers waiting
 * for the in-flight window are woken after each batch of reads: they set
 * pub_waiting before re-reading f->got, we store f->got before reading
 * pub_waiting (both seq_cst), so one of us always sees the other.
 * Returns 0 once the condition holds, -1 on failure (in f->st, f->err),
 * 1 when a soft deadline passes (no failure recorded).
 */
static int
recv_loop(struct flow *f, int ep, enum recv_until until, double deadline,
    bool soft)
{
	struct epoll_event evs[16];
	struct sub *s;
	uint64_t total;
	ssize_t r;
	int i, j, n;

	while (!recv_done(f, until)) {
		if (atomic_load(&f->abort))
			return -1;
		if (now() >= deadline) {
			if (soft)
				return 1;
			flow_fail(f, ST_TIMEOUT, "subscribers got %llu of %llu "
			    "messages before the deadline",
			    (unsigned long long)atomic_load(&f->got),
			    (unsigned long long)atomic_load(&f->expect));
			return -1;
		}
		n = epoll_wait(ep, evs, 16, ms_left(deadline, 100));
		for (i = 0; i < n; i++) {
			s = evs[i].data.ptr;
			r = read(s->fd, s->buf + s->len, SUB_BUF - s->len);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				s->dead = true;
				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
				flow_fail(f, ST_DISCONNECTED, "subscriber %d "
				    "disconnected after %llu messages (%s)",
				    (int)(s - f->subs),
				    (unsigned long long)s->got,
				    r == 0 ? "EOF" : strerror(errno));
				return -1;
			}
			s->len += (size_t)r;
			if (sub_scan(s, f->size) == -1) {
				flow_fail(f, ST_ERROR, "subscriber %d: %s",
				    (int)(s - f->subs), s->err);
				return -1;
			}
		}
		for (total = 0, j = 0; j < f->nsubs; j++)
			total += f->subs[j].got;
		atomic_store(&f->got, total);
		if (atomic_load(&f->pub_waiting)) {
			pthread_mutex_lock(&f->mu);
			pthread_cond_broadcast(&f->cv);
			pthread_mutex_unlock(&f->mu);
		}
	}
	return 0;
}

struct recv_arg {
	struct flow	*flow;
	int		 ep;
};

static void *
recv_main(void *arg)
{
	struct recv_arg *ra = arg;
	struct flow *f = ra->flow;

	if (recv_loop(f, ra->ep, RECV_ALL, opt.deadline, false) == 0) {
		f->t_done = now();
		if (f->probe != NULL)
			f->probe_done = atomic_load(f->probe);
	}
	return NULL;
}

/*
 * Block while more than the window of deliveries is in flight, so the
 * publisher never runs further ahead of the subscribers than a bounded
 * amount (well under nats-server's 64MB max_pending).  The measurement
 * is at the subscriber; the window only keeps the server's buffers from
 * growing without bound.
 */
static int
pub_wait_window(struct flow *f, uint64_t add)
{
	for (;;) {
		if ((int64_t)(atomic_load(&f->sent) + add -
		    atomic_load(&f->got)) <= f->window)
			return 0;
		if (atomic_load(&f->abort) || now() >= opt.deadline)
			return -1;
		pthread_mutex_lock(&f->mu);
		atomic_fetch_add(&f->pub_waiting, 1);
		if ((int64_t)(atomic_load(&f->sent) + add -
		    atomic_load(&f->got)) > f->window &&
		    !atomic_load(&f->abort)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&f->cv, &f->mu, &ts);
		}
		atomic_fetch_sub(&f->pub_waiting, 1);
		pthread_mutex_unlock(&f->mu);
	}
}

/* Build n copies of "PUB subj size\r\n<payload>\r\n" into one buffer. */
static char *
pub_frames(const char *subj, size_t size, uint64_t n, size_t *frame_len)
{
	char hdr[256], *buf, *p;
	size_t hl, fl;
	uint64_t i;

	hl = (size_t)snprintf(hdr, sizeof(hdr), "PUB %s %zu\r\n", subj, size);
	fl = hl + size + 2;
	if ((buf = malloc(fl * n)) == NULL)
		return NULL;
	for (p = buf, i = 0; i < n; i++, p += fl) {
		memcpy(p, hdr, hl);
		memset(p + hl, 'a' + (int)(i % 26), size);
		memcpy(p + hl + size, "\r\n", 2);
	}
	*frame_len = fl;
	return buf;
}

static int
pub_init(struct pub *p, struct flow *f, const char *subj, size_t size)
{
	size_t fl;

	p->flow = f;
	p->st = ST_OK;
	fl = strlen(subj) + size + 32;
	p->frames_per_chunk = CHUNK_BYTES / fl > 0 ? CHUNK_BYTES / fl : 1;
	if (opt.count < p->frames_per_chunk)
		p->frames_per_chunk = opt.count > 0 ? opt.count : 1;
	p->chunk = pub_frames(subj, size, p->frames_per_chunk, &p->frame_len);
	if (p->chunk == NULL)
		return -1;
	p->warm_len = (size_t)snprintf(p->warm, sizeof(p->warm),
	    "PUB %s 0\r\n\r\n", subj);
	if ((p->fd = nats_open(opt.port, NULL, opt.deadline)) == -1)
		return -1;
	return 0;
}

/*
 * Publish opt.count messages in big writes (in a timed flow, whole
 * chunks until f->pub_end), then PING and wait for the PONG: the server
 * has then processed everything we sent.
 */
static int
pub_run(struct pub *p)
{
	struct flow *f = p->flow;
	bool timed = f != NULL && f->pub_end > 0;
	uint64_t left, k;

	for (left = opt.count; left > 0; left -= timed ? 0 : k) {
		if (timed && now() >= f->pub_end)
			break;
		k = left < p->frames_per_chunk ? left : p->frames_per_chunk;
		if (f != NULL) {
			if (pub_wait_window(f, k * f->factor) == -1)
				return -1;
			atomic_fetch_add(&f->sent, k * f->factor);
		}
		if (net_write_all(p->fd, p->chunk, k * p->frame_len,
		    opt.deadline, f != NULL ? &f->abort : NULL) == -1)
			goto fail;
	}
	/*
	 * The last publisher to stop knows the total: every other one has
	 * added its last chunk to f->sent before counting itself done.
	 */
	if (timed && atomic_fetch_add(&f->pubs_done, 1) + 1 == f->npubs)
		atomic_store(&f->expect, atomic_load(&f->sent));
	if (net_write_all(p->fd, "PING\r\n", 6, opt.deadline,
	    f != NULL ? &f->abort : NULL) == -1)
		goto fail;
	if (net_await_pong(p->fd, opt.deadline, f != NULL ? &f->abort : NULL,
	    p->err, sizeof(p->err)) == -1)
		goto fail;
	return 0;
fail:
	if (errno == ECANCELED)
		return -1;
	p->st = errno == ETIMEDOUT ? ST_TIMEOUT : ST_ERROR;
	if (*p->err == '\0')
		snprintf(p->err, sizeof(p->err), "publisher: %s",
		    errno == ETIMEDOUT ? "deadline passed while publishing" :
		    strerror(errno));
	if (f != NULL)
		flow_fail(f, p->st, "%s", p->err);
	return -1;
}

static void *
pub_main(void *arg)
{
	struct pub *p = arg;

	pthread_barrier_wait(&p->flow->start);
	pub_run(p);
	return NULL;
}

enum flow_kind {
	FLOW_FANOUT,	/* every subscriber on one subject (1 sub: pub->sub) */
	FLOW_QUEUE,	/* every subscriber in one queue group */
	FLOW_PAIRS,	/* publisher i -> subscriber i on subject bench.i */
};

/* What one successful flow measured. */
struct flow_res {
	double		 msgs_s;	/* deliveries per second */
	double		 mb_s;
	double		 secs;
	uint64_t	 got;
	uint64_t	 expect;
	uint64_t	 probe0;	/* *probe when the clock started */
	uint64_t	 probe1;	/* *probe when the last delivery was in */
	char		 dist[256];	/* deliveries per subscriber, a/b/c */
};

/*
 * Run one flow on fresh connections and close them again, so a scenario
 * may measure several flows against one server.  With secs > 0 the
 * publishers publish for that long instead of opt.count messages each.
 * Any failure ends the process through result(); only a flow that
 * delivered exactly what was published returns.  With probe, its value
 * is sampled when the clock starts and when the last delivery is in, so
 * a load running beside the flow is counted over the measured interval.
 */
static void
flow_measure(enum flow_kind kind, int npubs, int nsubs, double secs,
    atomic_uint_least64_t *probe, struct flow_res *res)
{
	struct flow f;
	struct recv_arg ra;
	struct epoll_event ev;
	pthread_t rt;
	char subj[64], line[256];
	double t0, warm_start, warm_end;
	size_t fl, off;
	int ep, i, w;

	memset(&f, 0, sizeof(f));
	memset(res, 0, sizeof(*res));
	f.probe = probe;
	f.nsubs = nsubs;
	f.npubs = npubs;
	f.size = opt.size;
	f.factor = kind == FLOW_FANOUT ? (uint64_t)nsubs : 1;
	f.expect = secs > 0 ? UINT64_MAX : opt.count * npubs * f.factor;
	fl = opt.size + 40;
	f.window = (int64_t)(opt.window / fl);
	if (f.window < (int64_t)(2 * (CHUNK_BYTES / fl + 1) * f.factor))
		f.window = (int64_t)(2 * (CHUNK_BYTES / fl + 1) * f.factor);
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	pthread_barrier_init(&f.start, NULL, npubs + 1);
	f.subs = calloc(nsubs, sizeof(*f.subs));
	f.pubs = calloc(npubs, sizeof(*f.pubs));
	if (f.subs == NULL || f.pubs == NULL)
		result(ST_ERROR, "err=\"out of memory\"");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		result(ST_ERROR, "err=\"epoll_create1: %s\"", strerror(errno));

	for (i = 0; i < nsubs; i++) {
		struct sub *s = &f.subs[i];

		switch (kind) {
		case FLOW_FANOUT:
			snprintf(line, sizeof(line), "SUB bench.s 1\r\n");
			break;
		case FLOW_QUEUE:
			snprintf(line, sizeof(line), "SUB bench.s q 1\r\n");
			break;
		case FLOW_PAIRS:
			snprintf(line, sizeof(line), "SUB bench.%d 1\r\n", i);
			break;
		}
		if ((s->buf = malloc(SUB_BUF)) == NULL)
			result(ST_ERROR, "err=\"out of memory\"");
		if ((s->fd = nats_open(opt.sub_port ? opt.sub_port :
		    opt.port, line, opt.deadline)) == -1)
			result(ST_ERROR, "err=\"subscriber %d could not "
			    "connect\"", i);
		ev.events = EPOLLIN;
		ev.data.ptr = s;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == -1)
			result(ST_ERROR, "err=\"epoll_ctl: %s\"",
			    strerror(errno));
	}
	for (i = 0; i < npubs; i++) {
		if (kind == FLOW_PAIRS)
			snprintf(subj, sizeof(subj), "bench.%d", i);
		else
			snprintf(subj, sizeof(subj), "bench.s");
		if (pub_init(&f.pubs[i], &f, subj, opt.size) == -1)
			result(ST_ERROR, "err=\"publisher %d could not "
			    "connect\"", i);
	}

	/*
	 * Warm-up: the SUBs were acknowledged by their own connections'
	 * PONGs, but a multi-worker server may still be telling its other
	 * workers about them, and with -q the subscribers' server still has
	 * to send the interest over the route (which may not even be up
	 * yet).  Publish zero-length messages (never counted) until every
	 * subscriber has seen one.
	 */
	warm_start = now();
	warm_end = warm_start + WARM_TIMEOUT;
	if (warm_end > opt.deadline)
		warm_end = opt.deadline;
	while (!recv_done(&f, RECV_WARM)) {
		if (now() >= warm_end)
			result(ST_ERROR, "err=\"warm-up: subscriptions not "
			    "seen by the publishers within %.1fs%s\"",
			    warm_end - warm_start, opt.sub_port ? " (is the route "
			    "between the two servers up?)" : "");
		for (i = 0; i < npubs; i++)
			if (net_write_all(f.pubs[i].fd, f.pubs[i].warm,
			    f.pubs[i].warm_len, warm_end, NULL) == -1)
				result(ST_ERROR, "err=\"warm-up publish: %s\"",
				    strerror(errno));
		/* A bounded poll: a 2ms slice of reading, then look again. */
		if (recv_loop(&f, ep, RECV_WARM, now() + 0.002, true) == -1)
			result(f.st, "err=\"warm-up: %s\"", f.err);
	}

	ra.flow = &f;
	ra.ep = ep;
	if (pthread_create(&rt, NULL, recv_main, &ra) != 0)
		result(ST_ERROR, "err=\"pthread_create\"");
	for (i = 0; i < npubs; i++)
		if (pthread_create(&f.pubs[i].thread, NULL, pub_main,
		    &f.pubs[i]) != 0)
			result(ST_ERROR, "err=\"pthread_create\"");
	t0 = now();
	if (secs > 0)
		f.pub_end = t0 + secs;
	if (probe != NULL)
		res->probe0 = atomic_load(probe);
	pthread_barrier_wait(&f.start);
	pthread_join(rt, NULL);
	if (atomic_load(&f.abort) == 0 && f.t_done == 0)
		flow_fail(&f, ST_ERROR, "receiver stopped early");
	for (i = 0; i < npubs; i++)
		pthread_join(f.pubs[i].thread, NULL);
	if (f.st != ST_OK)
		result(f.st, "got=%llu expect=%llu err=\"%s\"",
		    (unsigned long long)atomic_load(&f.got),
		    (unsigned long long)atomic_load(&f.expect), f.err);

	/*
	 * Every publisher's PONG is back, so the server has routed all it
	 * was sent.  A PING on each subscriber now flushes out anything
	 * extra (a duplicate delivery) queued before its PONG.
	 */
	for (i = 0; i < nsubs; i++) {
		f.subs[i].pongs_pending = 1;
		if (net_write_all(f.subs[i].fd, "PING\r\n", 6, opt.deadline,
		    NULL) == -1)
			result(ST_ERROR, "err=\"subscriber PING: %s\"",
			    strerror(errno));
	}
	if (recv_loop(&f, ep, RECV_PONGS, opt.deadline, false) == -1)
		result(f.st, "err=\"final check: %s\"", f.err);

	res->secs = f.t_done - t0;
	res->msgs_s = (double)f.expect / res->secs;
	res->mb_s = (double)f.expect * f.size / 1e6 / res->secs;
	res->got = atomic_load(&f.got);
	res->expect = f.expect;
	res->probe1 = f.probe_done;
	for (off = 0, i = 0; i < nsubs && off < sizeof(res->dist); i++) {
		w = snprintf(res->dist + off, sizeof(res->dist) - off,
		    "%s%llu", i ? "/" : "", (unsigned long long)f.subs[i].got);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (res->got != res->expect)
		result(ST_MISMATCH, "msgs_s=%.0f mb_s=%.1f got=%llu "
		    "expect=%llu secs=%.3f dist=%s", res->msgs_s, res->mb_s,
		    (unsigned long long)res->got,
		    (unsigned long long)res->expect, res->secs, res->dist);

	for (i = 0; i < nsubs; i++) {
		close(f.subs[i].fd);
		free(f.subs[i].buf);
	}
	for (i = 0; i < npubs; i++) {
		close(f.pubs[i].fd);
		free(f.pubs[i].chunk);
	}
	close(ep);
	free(f.subs);
	free(f.pubs);
	pthread_barrier_destroy(&f.start);
	pthread_cond_destroy(&f.cv);
	pthread_mutex_destroy(&f.mu);
}

static void
run_flow(enum flow_kind kind, int npubs, int nsubs)
{
	struct flow_res r;

	flow_measure(kind, npubs, nsubs, opt.msecs / 1000.0, NULL, &r);
	result(ST_OK, "msgs_s=%.0f mb_s=%.1f got=%llu expect=%llu secs=%.3f "
	    "dist=%s", r.msgs_s, r.mb_s, (unsigned long long)r.got,
	    (unsigned long long)r.expect, r.secs, r.dist);
}

/* Pub-only ingest: nobody listens, the server parses and drops. */
static void
run_ingest(void)
{
	struct pub p;
	double t0, dt;

	memset(&p, 0, sizeof(p));
	if (pub_init(&p, NULL, "bench.ingest", opt.size) == -1)
		result(ST_ERROR, "err=\"publisher could not connect\"");
	t0 = now();
	if (pub_run(&p) == -1)
		result(p.st, "err=\"%s\"", p.err);
	dt = now() - t0;
	result(ST_OK, "msgs_s=%.0f mb_s=%.1f secs=%.3f",
	    opt.count / dt, opt.count * opt.size / 1e6 / dt, dt);
}

/* ---- request/reply latency with libnats ------------------------------- */

static void
rr_respond(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *closure)
{
	const char *reply = natsMsg_GetReply(msg);

	if (reply != NULL)
		natsConnection_Publish(closure, reply, natsMsg_GetData(msg),
		    natsMsg_GetDataLength(msg));
	natsMsg_Destroy(msg);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n-1]. */
static double
percentile(const double *v, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);

	return v[rank > 0 ? rank - 1 : 0];
}

static void
run_reqrep(void)
{
	natsOptions *o = NULL;
	natsConnection *rnc = NULL, *qnc = NULL;
	natsSubscription *sub = NULL;
	natsMsg *m = NULL;
	natsStatus s;
	char url[64], data[16];
	double *lat, t, sum = 0, warm_end, p50, p99, max;
	uint64_t i, n = opt.count;

	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		result(ST_ERROR, "err=\"out of memory\"");
	/*
	 * SendAsap: by default libnats hands writes to a flusher thread that
	 * naps 1ms to batch them, which would put a 1ms floor under every
	 * round trip and hide the server's share of the latency.
	 */
	memset(data, 'r', sizeof(data));
	snprintf(url, sizeof(url), "nats://%s:%d", BENCH_HOST, opt.port);
	if ((s = natsOptions_Create(&o)) != NATS_OK ||
	    (s = natsOptions_SetURL(o, url)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(o, 5000)) != NATS_OK ||
	    (s = natsOptions_SetAllowReconnect(o, false)) != NATS_OK ||
	    (s = natsOptions_SetSendAsap(o, true)) != NATS_OK)
		result(ST_ERROR, "err=\"options: %s\"", natsStatus_GetText(s));
	if ((s = natsConnection_Connect(&rnc, o)) != NATS_OK ||
	    (s = natsConnection_Subscribe(&sub, rnc, "bench.rr", rr_respond,
	    rnc)) != NATS_OK ||
	    (s = natsConnection_Flush(rnc)) != NATS_OK)
		result(ST_ERROR, "err=\"responder: %s\"",
		    natsStatus_GetText(s));
	if ((s = natsConnection_Connect(&qnc, o)) != NATS_OK)
		result(ST_ERROR, "err=\"requester: %s\"",
		    natsStatus_GetText(s));

	/*
	 * Retry until the responder's interest (and the requester's inbox)
	 * is known everywhere in the server, then warm both paths up.
	 */
	warm_end = now() + WARM_TIMEOUT;
	for (;;) {
		s = natsConnection_Request(&m, qnc, "bench.rr", data,
		    sizeof(data), 250);
		if (s == NATS_OK)
			break;
		if (now() >= warm_end || now() >= opt.deadline)
			result(ST_ERROR, "err=\"no reply within %.0fs: %s\"",
			    WARM_TIMEOUT, natsStatus_GetText(s));
		if (s == NATS_NO_RESPONDERS)
			usleep(2000);	/* bounded by warm_end */
	}
	natsMsg_Destroy(m);
	for (i = 0; i < 200; i++) {
		if ((s = natsConnection_Request(&m, qnc, "bench.rr", data,
		    sizeof(data), 2000)) != NATS_OK)
			result(ST_ERROR, "err=\"warm-up request: %s\"",
			    natsStatus_GetText(s));
		natsMsg_Destroy(m);
	}

	for (i = 0; i < n; i++) {
		if (now() >= opt.deadline)
			result(ST_TIMEOUT, "done=%llu of=%llu",
			    (unsigned long long)i, (unsigned long long)n);
		t = now();
		s = natsConnection_Request(&m, qnc, "bench.rr", data,
		    sizeof(data), 2000);
		lat[i] = (now() - t) * 1e6;
		if (s != NATS_OK)
			result(ST_ERROR, "err=\"request %llu: %s\"",
			    (unsigned long long)i, natsStatus_GetText(s));
		natsMsg_Destroy(m);
		sum += lat[i];
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	p50 = percentile(lat, n, 50);
	p99 = percentile(lat, n, 99);
	max = lat[n - 1];
	free(lat);
	natsConnection_Destroy(qnc);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(rnc);
	natsOptions_Destroy(o);
	nats_Close();
	result(ST_OK, "p50_us=%.1f p99_us=%.1f mean_us=%.1f max_us=%.1f n=%llu",
	    p50, p99, sum / n, max, (unsigned long long)n);
}

/* ---- memory per idle connection --------------------------------------- */

struct pss {
	long	 total;		/* Pss: what the table reports */
	long	 anon;		/* Pss_Anon + Pss_Shmem, for reference */
};

/*
 * Pss of one process in kB, from smaps_rollup; false if it is gone.
 * The total includes file-backed pages whose share changes when other
 * processes map the same binary, so the anonymous part is kept too.
 */
static bool
pss_read(pid_t pid, struct pss *p)
{
	char path[64], line[256];
	long kb;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	p->total = p->anon = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			p->total = kb;
		else if (sscanf(line, "Pss_Anon: %ld kB", &kb) == 1 ||
		    sscanf(line, "Pss_Shmem: %ld kB", &kb) == 1)
			p->anon += kb;
	}
	fclose(fp);
	return true;
}

/*
 * Children of pid.  /proc/PID/task/TID/children needs
 * CONFIG_PROC_CHILDREN; where the kernel lacks it, scan every process's
 * parent in /proc/N/stat instead.
 */
static int
proc_children(pid_t pid, pid_t *out, int max)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	DIR *d;
	FILE *fp;
	int n = 0, ppid, c, tasks = 0;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/task/%s/children",
		    (int)pid, de->d_name);
		if ((fp = fopen(buf, "r")) == NULL)
			continue;
		tasks++;
		while (n < max && fscanf(fp, "%ld", &v) == 1)
			out[n++] = (pid_t)v;
		fclose(fp);
	}
	closedir(d);
	if (tasks > 0)
		return n;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		c = (int)fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[c > 0 ? c : 0] = '\0';
		/* "pid (comm) state ppid ...": comm may hold spaces. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %d", &ppid) != 1)
			continue;
		if (ppid == pid)
			out[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return n;
}

/* Pss summed over pid and all its descendants, in kB. */
static void
pss_tree(pid_t root, struct pss *sum, int *nprocs)
{
	static pid_t q[MAX_PROCS];
	struct pss p;
	int head = 0, tail = 0;

	sum->total = sum->anon = 0;
	q[tail++] = root;
	while (head < tail) {
		pid_t pid = q[head++];

		if (pss_read(pid, &p)) {
			sum->total += p.total;
			sum->anon += p.anon;
		}
		tail += proc_children(pid, q + tail, MAX_PROCS - tail);
	}
	*nprocs = tail;
}

/* Raise the descriptor limit to the hard one if n sockets need it. */
static void
need_files(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)n + 64)
			result(ST_ERROR, "err=\"RLIMIT_NOFILE %llu is too low "
			    "for %d connections\"",
			    (unsigned long long)rl.rlim_cur, n);
	}
}

struct idle_conn {
	int	 fd;
	int	 state;		/* 0 connecting, 1 awaiting PONG, 2 done */
	char	 tail[8];	/* last bytes read, to find a split PONG */
	size_t	 tlen;
};

/*
 * Open one batch: non-blocking connects, then CONNECT+PING on each as it
 * becomes writable, then wait for every PONG.
 */
static int
idle_batch(struct idle_conn *c, int n, struct pollfd *pfd)
{
	static const char hello[] = CONNECT_LINE "PING\r\n";
	struct sockaddr_in sin;
	char buf[MAX_LINE + 8];
	socklen_t len;
	ssize_t r;
	int i, err, left = n;

	net_addr(&sin, opt.port);
	for (i = 0; i < n; i++) {
		if ((c[i].fd = net_socket()) == -1)
			return -1;
		c[i].state = 0;
		c[i].tlen = 0;
		if (connect(c[i].fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 && errno != EINPROGRESS)
			return -1;
	}
	while (left > 0) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = c[i].state == 2 ? -1 : c[i].fd;
			pfd[i].events = c[i].state == 0 ? POLLOUT : POLLIN;
			pfd[i].revents = 0;
		}
		if (now() >= opt.deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(pfd, n, ms_left(opt.deadline, 100)) == -1 &&
		    errno != EINTR)
			return -1;
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (c[i].state == 0) {
				len = sizeof(err);
				if (getsockopt(c[i].fd, SOL_SOCKET, SO_ERROR,
				    &err, &len) == -1 || err != 0) {
					errno = err;
					return -1;
				}
				if (write(c[i].fd, hello, sizeof(hello) - 1) !=
				    (ssize_t)(sizeof(hello) - 1))
					return -1;
				c[i].state = 1;
				continue;
			}
			memcpy(buf, c[i].tail, c[i].tlen);
			r = read(c[i].fd, buf + c[i].tlen, MAX_LINE);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				errno = r == 0 ? ECONNRESET : errno;
				return -1;
			}
			r += (ssize_t)c[i].tlen;
			if (memmem(buf, r, "PONG\r\n", 6) != NULL) {
				c[i].state = 2;
				left--;
				continue;
			}
			if (memmem(buf, r, "-ERR", 4) != NULL) {
				errno = EPROTO;
				return -1;
			}
			c[i].tlen = r < 6 ? (size_t)r : 6;
			memcpy(c[i].tail, buf + r - c[i].tlen, c[i].tlen);
		}
	}
	return 0;
}

static void
run_idle(void)
{
	struct idle_conn *c;
	struct pollfd *pfd;
	struct linger lg = { 1, 0 };
	struct pss before, after;
	int i, k, np0, np1;

	if (opt.pid <= 0)
		result(ST_ERROR, "err=\"idle needs the server pid (-P)\"");
	need_files(opt.conns);
	c = calloc(opt.conns, sizeof(*c));
	pfd = calloc(IDLE_BATCH, sizeof(*pfd));
	if (c == NULL || pfd == NULL)
		result(ST_ERROR, "err=\"out of memory\"");

	pss_tree(opt.pid, &before, &np0);
	if (before.total <= 0)
		result(ST_ERROR, "err=\"cannot read Pss of pid %d\"",
		    (int)opt.pid);
	for (i = 0; i < opt.conns; i += k) {
		k = opt.conns - i < IDLE_BATCH ? opt.conns - i : IDLE_BATCH;
		if (idle_batch(c + i, k, pfd) == -1)
			result(errno == ETIMEDOUT ? ST_TIMEOUT : ST_ERROR,
			    "opened=%d err=\"connection %d..%d: %s\"", i, i,
			    i + k - 1, strerror(errno));
	}
	pss_tree(opt.pid, &after, &np1);
	/* Reset rather than close: no TIME_WAIT pile-up across rounds. */
	for (i = 0; i < opt.conns; i++) {
		setsockopt(c[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c[i].fd);
	}
	free(c);
	free(pfd);
	result(ST_OK, "bytes_conn=%.0f anon_bytes_conn=%.0f pss_before_kb=%ld "
	    "pss_after_kb=%ld procs=%d conns=%d",
	    (after.total - before.total) * 1024.0 / opt.conns,
	    (after.anon - before.anon) * 1024.0 / opt.conns,
	    before.total, after.total, np1, opt.conns);
}

/* ---- message delivery under monitoring load --------------------------- */

#define HTTP_HEAD_MAX	2048		/* status line and headers of a reply */
#define HTTP_BODY_MAX	(16 << 20)	/* a probe's reply, kept in memory */
#define LOAD_RAMP	2.0		/* at most, for the load to settle */

/*
 * HTTP/1.0 without keep-alive: both servers close the connection after
 * the reply, so EOF ends every reply whether or not it carries a
 * Content-Length (natsd's evhttp does not, Go's does for small ones), and
 * every request pays for its own connection, as a scraper's does.
 */
static const char connz_get[] =
    "GET /connz HTTP/1.0\r\nHost: " BENCH_HOST "\r\n\r\n";

/*
 * Parse a reply's head once its blank line is in: the status code and the
 * Content-Length (-1 when absent).  Returns the head's length with its
 * blank line, 0 while it is incomplete, -1 when it is not HTTP.
 */
static ssize_t
http_head(const char *buf, size_t len, int *code, long *clen)
{
	const char *e, *p, *nl;

	if ((e = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return 0;
	if (e - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    buf[8] != ' ' || !isdigit((unsigned char)buf[9]) ||
	    !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]))
		return -1;
	*code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + buf[11] - '0';
	*clen = -1;
	/* Header lines; each ends in CRLF before e, so strtol stops there. */
	for (p = (const char *)memchr(buf, '\n', e - buf) + 1; p < e;
	    p = nl + 1) {
		nl = memchr(p, '\n', e + 2 - p);
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			*clen = strtol(p + 15, NULL, 10);
	}
	return e + 4 - buf;
}

/*
 * One GET, start to EOF, within the deadline; the body is returned
 * NUL-terminated in a malloc'd buffer.  Returns the status code, or -1
 * with the reason in err.
 */
static int
http_fetch(int port, const char *req, double deadline, char **body,
    size_t *blen, char *err, size_t errlen)
{
	struct pollfd pfd;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t r, hl;
	long clen;
	int fd, code = -1;

	*body = NULL;
	if ((fd = net_connect(port, deadline)) == -1) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		return -1;
	}
	if (net_write_all(fd, req, strlen(req), deadline, NULL) == -1) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		goto done;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= HTTP_BODY_MAX) {
				snprintf(err, errlen, "reply over %d bytes",
				    HTTP_BODY_MAX);
				goto done;
			}
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto done;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r > 0) {
			len += (size_t)r;
			continue;
		}
		if (r == 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto done;
		}
		if (now() >= deadline) {
			snprintf(err, errlen, "no reply before the deadline");
			goto done;
		}
		poll(&pfd, 1, ms_left(deadline, 100));
	}
	if ((hl = http_head(buf, len, &code, &clen)) <= 0) {
		snprintf(err, errlen, "%s", hl == 0 ? "reply ended in its head" :
		    "not an HTTP reply");
		code = -1;
		goto done;
	}
	len -= (size_t)hl;
	memmove(buf, buf + hl, len);
	buf[len] = '\0';
	*body = buf;
	*blen = len;
	buf = NULL;
done:
	free(buf);
	close(fd);
	return code;
}

/*
 * Wait until /connz answers 200 and lists at least want connections: the
 * monitor may start after the client port does, and a worker may publish
 * a new connection to the shared table a little after its PONG.
 */
static void
connz_wait_rows(int want)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char err[160] = "", *body, *p;
	double start = now(), end = start + WARM_TIMEOUT;
	size_t blen;
	long rows = -1;
	int code;

	if (end > opt.deadline)
		end = opt.deadline;
	for (;;) {
		code = http_fetch(opt.http_port, connz_get, end, &body, &blen,
		    err, sizeof(err));
		if (code != -1 && code != 200)
			snprintf(err, sizeof(err), "HTTP status %d", code);
		if (code == 200) {
			p = strstr(body, "\"num_connections\"");
			rows = -1;
			if (p != NULL && (p = strchr(p, ':')) != NULL)
				rows = strtol(p + 1, NULL, 10);
			snprintf(err, sizeof(err), "num_connections %ld", rows);
		}
		free(body);
		if (code == 200 && rows >= want)
			return;
		if (now() >= end)
			result(ST_ERROR, "err=\"/connz on 127.0.0.1:%d did not "
			    "list %d connections within %.1fs (%s)\"",
			    opt.http_port, want, now() - start, err);
		nanosleep(&ts, NULL);
	}
}

enum hstate {
	H_IDLE,		/* no request; start one */
	H_CONNECTING,
	H_SENDING,
	H_READING,
};

/* One request slot of the loader, reused for request after request. */
struct hconn {
	int		 fd;
	enum hstate	 st;
	size_t		 sent;
	char		 head[HTTP_HEAD_MAX];
	size_t		 hlen;
	ssize_t		 hdr;		/* head length once parsed, else 0 */
	int		 code;
	long		 clen;
	size_t		 body;
	char		 last;		/* last body byte not white space */
};

/*
 * Keeps n requests in flight against the monitoring port, each on a new
 * connection, until stop is raised or the run's deadline passes.  One
 * thread, non-blocking sockets, poll().  Only done is read while the
 * loader runs; the other counters are read after it is joined.
 */
struct loader {
	int		 port;
	int		 n;
	struct hconn	*c;
	struct pollfd	*pfd;
	atomic_int	 stop;
	atomic_uint_least64_t done;	/* complete 200 replies */
	uint64_t	 non200;
	uint64_t	 errors;	/* refused, reset, truncated, not HTTP */
	int		 first_code;	/* of the first non-200 */
	char		 first_err[160];
	double		 t_start;
	double		 t_end;		/* when the loader stopped */
	pthread_t	 thread;
};

static void
load_error(struct loader *L, const char *fmt, ...)
{
	va_list ap;

	if (L->errors++ == 0) {
		va_start(ap, fmt);
		vsnprintf(L->first_err, sizeof(L->first_err), fmt, ap);
		va_end(ap);
	}
}

/* End c's request; reset rather than close when the reply is unfinished. */
static void
load_close(struct hconn *c, bool reset)
{
	struct linger lg = { 1, 0 };

	if (reset)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
	c->st = H_IDLE;
}

static void
load_start(struct loader *L, struct hconn *c)
{
	struct sockaddr_in sin;

	c->sent = c->hlen = c->body = 0;
	c->hdr = 0;
	c->last = 0;
	if ((c->fd = net_socket()) == -1) {
		load_error(L, "socket: %s", strerror(errno));
		return;
	}
	net_addr(&sin, L->port);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		c->st = H_SENDING;
	else if (errno == EINPROGRESS)
		c->st = H_CONNECTING;
	else {
		load_error(L, "connect: %s", strerror(errno));
		load_close(c, true);
	}
}

/* The server closed c: judge the reply it sent. */
static void
load_eof(struct loader *L, struct hconn *c)
{
	if (c->hdr <= 0)
		load_error(L, "%s", c->hlen == 0 ? "closed without a reply" :
		    "reply ended in its head");
	else if (c->code != 200) {
		if (L->non200++ == 0)
			L->first_code = c->code;
	} else if (c->clen >= 0 && c->body != (size_t)c->clen)
		load_error(L, "reply of %zu bytes, Content-Length %ld",
		    c->body, c->clen);
	else if (c->clen < 0 && c->last != '}')
		load_error(L, "reply of %zu bytes is not a whole JSON object",
		    c->body);
	else
		atomic_fetch_add(&L->done, 1);
	load_close(c, false);
}

/* Take in r bytes of c's reply from buf; the body is counted, not kept. */
static void
load_input(struct loader *L, struct hconn *c, const char *buf, size_t r)
{
	size_t n, i;

	if (c->hdr == 0) {
		n = sizeof(c->head) - c->hlen;
		if (n > r)
			n = r;
		memcpy(c->head + c->hlen, buf, n);
		c->hlen += n;
		c->hdr = http_head(c->head, c->hlen, &c->code, &c->clen);
		if (c->hdr == 0 && c->hlen == sizeof(c->head))
			c->hdr = -1;
		if (c->hdr < 0) {
			load_error(L, "%s", c->hlen == sizeof(c->head) ?
			    "reply head too long" : "not an HTTP reply");
			load_close(c, true);
			return;
		}
		if (c->hdr == 0)
			return;
		/* The body's bytes among those copied, then the rest. */
		buf += n - (c->hlen - (size_t)c->hdr);
		r -= n - (c->hlen - (size_t)c->hdr);
	}
	c->body += r;
	for (i = r; i > 0; i--)
		if (!isspace((unsigned char)buf[i - 1])) {
			c->last = buf[i - 1];
			break;
		}
}

static void *
load_main(void *arg)
{
	static char buf[65536];
	struct loader *L = arg;
	struct hconn *c;
	socklen_t len;
	ssize_t r;
	int i, err, idle;

	while (!atomic_load(&L->stop) && now() < opt.deadline) {
		for (idle = 0, i = 0; i < L->n; i++) {
			c = &L->c[i];
			if (c->st == H_IDLE)
				load_start(L, c);
			L->pfd[i].fd = c->fd;
			L->pfd[i].events = c->st == H_READING ? POLLIN :
			    POLLOUT;
			L->pfd[i].revents = 0;
			if (c->st == H_IDLE)
				idle++;
		}
		/* Slots that could not even get a socket retry soon. */
		if (poll(L->pfd, L->n, ms_left(opt.deadline, idle ? 10 : 50)) ==
		    -1 && errno != EINTR) {
			load_error(L, "poll: %s", strerror(errno));
			break;
		}
		for (i = 0; i < L->n; i++) {
			c = &L->c[i];
			if (L->pfd[i].revents == 0 || c->st == H_IDLE)
				continue;
			if (c->st == H_CONNECTING) {
				len = sizeof(err);
				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR,
				    &err, &len) == -1)
					err = errno;
				if (err != 0) {
					load_error(L, "connect: %s",
					    strerror(err));
					load_close(c, true);
					continue;
				}
				c->st = H_SENDING;
			}
			if (c->st == H_SENDING) {
				r = write(c->fd, connz_get + c->sent,
				    sizeof(connz_get) - 1 - c->sent);
				if (r == -1 && (errno == EAGAIN ||
				    errno == EINTR))
					continue;
				if (r <= 0) {
					load_error(L, "write: %s",
					    strerror(errno));
					load_close(c, true);
					continue;
				}
				c->sent += (size_t)r;
				if (c->sent == sizeof(connz_get) - 1)
					c->st = H_READING;
				continue;
			}
			r = read(c->fd, buf, sizeof(buf));
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r == -1) {
				load_error(L, "read: %s", strerror(errno));
				load_close(c, true);
			} else if (r == 0)
				load_eof(L, c);
			else
				load_input(L, c, buf, (size_t)r);
		}
	}
	L->t_end = now();
	/* Requests still in flight are abandoned, not counted. */
	for (i = 0; i < L->n; i++)
		if (L->c[i].st != H_IDLE)
			load_close(&L->c[i], true);
	return NULL;
}

/*
 * pub->sub 16B twice on one server that has opt.conns idle clients (so
 * /connz has rows to render): alone, then while the loader keeps opt.load
 * /connz requests in flight.  The loaded figure divided by the alone
 * figure is what monitoring costs message delivery.
 *
 * connz_rps is over the loader's whole life, ramp included: a server
 * may finish its replies in bursts (a single-threaded loop that reads
 * all 1,000 requests, then writes all the replies, does, about once a
 * second), and a window shorter than a burst would count 0 or 1,000.
 * connz_in_window is what completed during the loaded measurement.
 */
static void
run_connz(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	struct idle_conn *ic;
	struct pollfd *pfd;
	struct linger lg = { 1, 0 };
	struct flow_res alone, loaded;
	struct loader L;
	char warn[400] = "";
	double ramp_end;
	int i, k;

	if (opt.http_port == 0)
		result(ST_ERROR, "err=\"connz needs the monitoring port (-H)\"");
	need_files(opt.conns + opt.load + 16);
	ic = calloc(opt.conns, sizeof(*ic));
	pfd = calloc(IDLE_BATCH, sizeof(*pfd));
	memset(&L, 0, sizeof(L));
	L.port = opt.http_port;
	L.n = opt.load;
	L.c = calloc(L.n, sizeof(*L.c));
	L.pfd = calloc(L.n, sizeof(*L.pfd));
	if (ic == NULL || pfd == NULL || L.c == NULL || L.pfd == NULL)
		result(ST_ERROR, "err=\"out of memory\"");
	for (i = 0; i < L.n; i++)
		L.c[i].fd = -1;

	for (i = 0; i < opt.conns; i += k) {
		k = opt.conns - i < IDLE_BATCH ? opt.conns - i : IDLE_BATCH;
		if (idle_batch(ic + i, k, pfd) == -1)
			result(errno == ETIMEDOUT ? ST_TIMEOUT : ST_ERROR,
			    "err=\"idle connection %d..%d: %s\"", i,
			    i + k - 1, strerror(errno));
	}
	connz_wait_rows(opt.conns);

	flow_measure(FLOW_FANOUT, 1, 1, opt.msecs / 1000.0, NULL, &alone);

	L.t_start = now();
	if (pthread_create(&L.thread, NULL, load_main, &L) != 0)
		result(ST_ERROR, "err=\"pthread_create\"");
	/*
	 * Let the slots finish a request each, on average, before the clock
	 * starts; a bounded poll on the loader's counter.
	 */
	ramp_end = now() + LOAD_RAMP;
	while (atomic_load(&L.done) < (uint64_t)L.n && now() < ramp_end)
		nanosleep(&ts, NULL);
	flow_measure(FLOW_FANOUT, 1, 1, opt.msecs / 1000.0, &L.done, &loaded);
	atomic_store(&L.stop, 1);
	pthread_join(L.thread, NULL);

	for (i = 0; i < opt.conns; i++) {
		setsockopt(ic[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(ic[i].fd);
	}
	free(ic);
	free(pfd);
	free(L.c);
	free(L.pfd);

	if (atomic_load(&L.done) == 0)
		result(ST_ERROR, "connz_non200=%llu connz_errors=%llu "
		    "err=\"no /connz request completed%s%s\"",
		    (unsigned long long)L.non200,
		    (unsigned long long)L.errors, L.errors ? ": " : "",
		    L.first_err);
	if (L.non200 > 0 || L.errors > 0)
		snprintf(warn, sizeof(warn), " warn=\"/connz: %llu non-200 "
		    "(first %d), %llu failed (first: %s)\"",
		    (unsigned long long)L.non200, L.first_code,
		    (unsigned long long)L.errors,
		    L.errors ? L.first_err : "none");
	result(ST_OK, "alone_msgs_s=%.0f load_msgs_s=%.0f load_ratio=%.3f "
	    "connz_rps=%.0f connz_ok=%llu connz_in_window=%llu "
	    "connz_non200=%llu connz_errors=%llu load=%d rows=%d "
	    "alone_secs=%.3f load_secs=%.3f loader_secs=%.3f%s",
	    alone.msgs_s, loaded.msgs_s, loaded.msgs_s / alone.msgs_s,
	    (double)atomic_load(&L.done) / (L.t_end - L.t_start),
	    (unsigned long long)atomic_load(&L.done),
	    (unsigned long long)(loaded.probe1 - loaded.probe0),
	    (unsigned long long)L.non200, (unsigned long long)L.errors,
	    opt.load, opt.conns, alone.secs, loaded.secs,
	    L.t_end - L.t_start, warn);
}

/* ---- helpers for the driver ------------------------------------------- */

/* Print a port that is free on the loopback right now. */
static void
cmd_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	net_addr(&sin, 0);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		bench_warnx("free port: %s", strerror(errno));
		exit(1);
	}
	printf("%d\n", ntohs(sin.sin_port));
	close(fd);
	exit(0);
}

/* Whether pid is still running (not gone, not a zombie). */
static bool
proc_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return false;
	return p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/*
 * Wait until a server answers PING on the port, polling every 20ms;
 * with -P, give up at once if that process has exited.
 */
static void
cmd_wait(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char err[256] = "";
	int fd;

	for (;;) {
		if ((fd = net_connect(opt.port, opt.deadline)) != -1) {
			if (net_write_all(fd, CONNECT_LINE "PING\r\n",
			    sizeof(CONNECT_LINE "PING\r\n") - 1, opt.deadline,
			    NULL) == 0 && net_await_pong(fd, opt.deadline,
			    NULL, err, sizeof(err)) == 0) {
				close(fd);
				exit(0);
			}
			close(fd);
		}
		if (opt.pid > 0 && !proc_alive(opt.pid)) {
			bench_warnx("server pid %d exited before answering on "
			    "127.0.0.1:%d", (int)opt.pid, opt.port);
			exit(1);
		}
		if (now() >= opt.deadline) {
			bench_warnx("no server answered on 127.0.0.1:%d within "
			    "%.0fs%s%s", opt.port, opt.timeout,
			    *err ? ": " : "", err);
			exit(1);
		}
		nanosleep(&ts, NULL);
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: natsbench [-p port] [-q sub_port] [-n count | -d msecs] [-s size]\n"
"                 [-k subs] [-c conns] [-P pid] [-w window] [-H http_port]\n"
"                 [-L load] [-t secs] scenario\n"
"  -d: the pub->sub flows publish for msecs instead of -n messages\n"
"  -q: the pub->sub flows' subscribers connect to this port (another server\n"
"      of the same cluster: the messages cross a route); publishers use -p\n"
"scenarios:\n"
"  ingest   one publisher, nobody subscribed; msgs_s\n"
"  pubsub   one publisher, one subscriber; msgs_s mb_s at the subscriber\n"
"  fanout   one publisher, -k subscribers on one subject; delivered msgs_s\n"
"  queue    one publisher, -k members of one queue group; sum checked\n"
"  pairs    -k publishers, publisher i -> subscriber i on its own subject\n"
"  reqrep   libnats request/reply, -n sequential requests; p50_us p99_us\n"
"  idle     -c idle connections; Pss growth of server tree -P per conn\n"
"  connz    -c idle connections, then pubsub alone and with -L concurrent\n"
"           GET /connz on -H; alone_msgs_s load_msgs_s load_ratio connz_rps\n"
"  port     print a free loopback port\n"
"  wait     wait up to -t seconds for a server on -p (and alive as -P)\n");
	exit(2);
}

static unsigned long long
num(const char *s, unsigned long long min, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		bench_warnx("bad number '%s'", s);
		usage();
	}
	return v;
}

int
main(int argc, char *argv[])
{
	const char *cmd;
	int ch;

	while ((ch = getopt(argc, argv, "c:d:H:k:L:n:P:p:q:s:t:w:")) != -1) {
		switch (ch) {
		case 'c':
			opt.conns = (int)num(optarg, 1, 1000000);
			break;
		case 'd':
			opt.msecs = num(optarg, 1, 86400 * 1000);
			break;
		case 'H':
			opt.http_port = (int)num(optarg, 1, 65535);
			break;
		case 'L':
			opt.load = (int)num(optarg, 1, 100000);
			break;
		case 'k':
			opt.nsubs = (int)num(optarg, 1, 256);
			break;
		case 'n':
			opt.count = num(optarg, 1, 1ULL << 40);
			break;
		case 'P':
			opt.pid = (pid_t)num(optarg, 1, 1 << 30);
			break;
		case 'p':
			opt.port = (int)num(optarg, 1, 65535);
			break;
		case 'q':
			opt.sub_port = (int)num(optarg, 1, 65535);
			break;
		case 's':
			opt.size = num(optarg, 1, 64 << 20);
			break;
		case 't':
			opt.timeout = (double)num(optarg, 1, 86400);
			break;
		case 'w':
			opt.window = num(optarg, 4096, 1ULL << 32);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	cmd = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	opt.deadline = now() + opt.timeout;

	if (strcmp(cmd, "port") == 0)
		cmd_port();
	if (opt.port == 0) {
		bench_warnx("-p port is required");
		usage();
	}
	if (strcmp(cmd, "wait") == 0)
		cmd_wait();
	else if (strcmp(cmd, "ingest") == 0)
		run_ingest();
	else if (strcmp(cmd, "pubsub") == 0)
		run_flow(FLOW_FANOUT, 1, 1);
	else if (strcmp(cmd, "fanout") == 0)
		run_flow(FLOW_FANOUT, 1, opt.nsubs ? opt.nsubs : 8);
	else if (strcmp(cmd, "queue") == 0)
		run_flow(FLOW_QUEUE, 1, opt.nsubs ? opt.nsubs : 4);
	else if (strcmp(cmd, "pairs") == 0)
		run_flow(FLOW_PAIRS, opt.nsubs ? opt.nsubs : 4,
		    opt.nsubs ? opt.nsubs : 4);
	else if (strcmp(cmd, "reqrep") == 0)
		run_reqrep();
	else if (strcmp(cmd, "idle") == 0)
		run_idle();
	else if (strcmp(cmd, "connz") == 0)
		run_connz();
	usage();
}
