/*
 * Logging: nats-server's line format with and without logtime, levels and
 * their gating, process tags, the log file (O_APPEND, whole lines from
 * concurrent processes, reopen after a rename), a failed log_init that
 * changes nothing, syslog(3) (in a private mount namespace when allowed),
 * remote syslog over UDP, TCP and unix sockets in nats-server's wire
 * format, and the promise that a slow or dead remote never blocks the
 * caller.  Also the CONNECT redaction, against nats-server's own cases.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "../lib/harness.h"
#include "../tap.h"

#define T_MS		2000	/* an expected line arrives within */
#define FAST_US		250000	/* a log call never blocks this long */
#define NCHILD		4
#define CHILD_LINES	2000
#define TS_RE		"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:" \
			"[0-9]{2}\\.[0-9]{6}"
#define RFC3339_RE	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:" \
			"[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})"

static char	 dir[256];
static char	 host[256];

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
matches(const char *s, const char *re)
{
	regex_t	r;
	int	m;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0) {
		diag("bad regex %s", re);
		return 0;
	}
	m = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	if (!m)
		diag("\"%s\" does not match /%s/", s, re);
	return m;
}

static char *
path_of(const char *name)
{
	static char	p[4][PATH_MAX];
	static int	k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static int
use_file(const char *path, bool logtime, bool debug, bool trace)
{
	struct log_opts o = { 0 };

	o.file = path;
	o.logtime = logtime;
	o.debug = debug;
	o.trace = trace;
	return log_init(&o);
}

static int
use_remote(const char *url, bool debug)
{
	struct log_opts o = { 0 };

	o.remote_syslog = url;
	o.logtime = true;
	o.debug = debug;
	o.trace = debug;
	return log_init(&o);
}

/* Wait for a child, at most ms; kill it past that.  Its wait status. */
static int
wait_child(pid_t pid, int ms)
{
	int64_t	deadline = now_us() + (int64_t)ms * 1000;
	int	st = -1;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_us() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			diag("child %d killed after %d ms", (int)pid, ms);
			return -1;
		}
		nap(5);
	}
	return st;
}

static pid_t
xfork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	return pid;
}

static int
udp_bind(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("udp socket");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A TCP socket bound to a loopback port, listening when backlog >= 0. */
static int
tcp_bind(int *port, int backlog)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    (backlog >= 0 && listen(fd, backlog) == -1)) {
		perror("tcp socket");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* One datagram as a string, or NULL after ms. */
static char *
recv_dgram(int fd, int ms)
{
	static char	buf[8192];
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;

	if (poll(&pfd, 1, ms) != 1)
		return NULL;
	if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void
drain_dgrams(int fd)
{
	int i;

	for (i = 0; i < 100000 && recv_dgram(fd, 0) != NULL; i++)
		;
}

/* Accept a connection within ms (calling log_flush meanwhile), or -1. */
static int
accept_within(int lfd, int ms)
{
	struct pollfd	pfd = { .fd = lfd, .events = POLLIN };
	int64_t		deadline = now_us() + (int64_t)ms * 1000;

	while (now_us() < deadline) {
		log_flush();
		if (poll(&pfd, 1, 10) == 1)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	return -1;
}

/*
 * Read from a stream until buf holds want, calling log_flush meanwhile;
 * bounded by ms.  Returns 1 when found.
 */
static int
read_until(int fd, char *buf, size_t cap, size_t *len, const char *want,
    int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	int64_t		deadline = now_us() + (int64_t)ms * 1000;
	ssize_t		n;

	buf[*len] = '\0';
	while (strstr(buf, want) == NULL) {
		if (now_us() >= deadline || *len + 1 >= cap)
			return 0;
		log_flush();
		if (poll(&pfd, 1, 10) != 1)
			continue;
		if ((n = read(fd, buf + *len, cap - 1 - *len)) <= 0)
			return 0;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return 1;
}

/* "<pri>TIMESTAMP host natsd[pid]: body\n", exactly. */
static int
remote_line_is(const char *line, int pri, pid_t pid, const char *body)
{
	char	 want[1024], re[128];
	size_t	 wl, ll;

	if (line == NULL) {
		diag("no line, wanted \"%s\"", body);
		return 0;
	}
	snprintf(want, sizeof(want), " %s natsd[%d]: %s\n", host, (int)pid,
	    body);
	wl = strlen(want);
	ll = strlen(line);
	if (ll < wl || strcmp(line + ll - wl, want) != 0) {
		diag("\"%s\" does not end in \"%s\"", line, want);
		return 0;
	}
	snprintf(re, sizeof(re), "^<%d>" RFC3339_RE "$", pri);
	{
		char head[128];

		snprintf(head, sizeof(head), "%.*s", (int)(ll - wl), line);
		return matches(head, re);
	}
}

static void
test_format(void)
{
	char		*s, re[256];
	const char	*p = path_of("format.log");
	int		 y, mo, d, h, mi, sec;
	struct tm	 tm;
	time_t		 t;

	ok(use_file(p, true, false, false) == 0, "log_init with a file");
	log_info("hello %d", 42);
	s = harness_slurp(p);
	snprintf(re, sizeof(re), "^\\[%d\\] " TS_RE " \\[INF\\] hello 42\n$",
	    (int)getpid());
	ok(matches(s, re), "[pid] date time.usec [INF] msg, as nats-server");
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "[%*d] %d/%d/%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec)
	    == 6) {
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		ok(labs((long)(t - time(NULL))) <= 5, "the time is local now");
	} else
		ok(0, "the time is local now");
	free(s);

	truncate(p, 0);
	ok(use_file(p, false, false, false) == 0, "log_init without logtime");
	log_info("plain");
	s = harness_slurp(p);
	snprintf(re, sizeof(re), "[%d] [INF] plain\n", (int)getpid());
	is_str(s, re, "logtime false: [pid] [INF] msg, as nats-server");
	free(s);
}

static void
test_levels(void)
{
	const char	*p = path_of("levels.log");
	char		*s, want[2048];
	pid_t		 pid;
	int		 st, me = (int)getpid();

	use_file(p, false, false, false);
	log_notice("n");
	log_warnx("w");
	log_errorx("e");
	errno = ENOENT;
	log_warn("open %s", "x");
	ok(errno == ENOENT, "errno survives a log call");
	log_debug("hidden debug");
	log_trace("hidden trace");
	s = harness_slurp(p);
	snprintf(want, sizeof(want), "[%d] [INF] n\n[%d] [WRN] w\n"
	    "[%d] [ERR] e\n[%d] [WRN] open x: No such file or directory\n",
	    me, me, me, me);
	is_str(s, want, "notice, warnx, errorx, warn with strerror");
	free(s);

	truncate(p, 0);
	use_file(p, false, true, false);
	ok(log_debug_on && !log_trace_on, "debug on, trace off");
	log_debug("dbg %s", "x");
	log_trace("hidden trace");
	s = harness_slurp(p);
	snprintf(want, sizeof(want), "[%d] [DBG] dbg x\n", me);
	is_str(s, want, "debug shown when on, trace still gated");
	free(s);

	truncate(p, 0);
	use_file(p, false, false, true);
	log_debug("hidden debug");
	log_trace("<<- [PING]");
	s = harness_slurp(p);
	snprintf(want, sizeof(want), "[%d] [TRC] <<- [PING]\n", me);
	is_str(s, want, "trace shown when on, debug gated");
	free(s);

	truncate(p, 0);
	use_file(p, false, false, false);
	if ((pid = xfork()) == 0) {
		errno = EACCES;
		fatal("bind %d", 7);
	}
	st = wait_child(pid, 5000);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1, "fatal exits 1");
	if ((pid = xfork()) == 0)
		fatalx("no %s", "way");
	st = wait_child(pid, 5000);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1, "fatalx exits 1");
	s = harness_slurp(p);
	ok(strstr(s, "] [FTL] bind 7: Permission denied\n") != NULL &&
	    strstr(s, "] [FTL] no way\n") != NULL, "[FTL] lines, errno on fatal");
	free(s);
}

static void
test_tags(void)
{
	const char	*p = path_of("tags.log");
	char		*s, want[512];
	int		 me = (int)getpid();

	use_file(p, false, false, false);
	log_settag("worker 2");
	log_info("hi");
	errno = EPIPE;
	log_warn("write");
	log_settag(NULL);
	log_info("master again");
	log_settag("");
	log_info("empty tag");
	s = harness_slurp(p);
	snprintf(want, sizeof(want), "[%d] [INF] worker 2: hi\n"
	    "[%d] [WRN] worker 2: write: Broken pipe\n"
	    "[%d] [INF] master again\n[%d] [INF] empty tag\n", me, me, me, me);
	is_str(s, want, "the tag follows the level; NULL or \"\" clears it");
	free(s);
}

static void
test_long(void)
{
	const char	*p = path_of("long.log");
	char		*big, *s;
	size_t		 n;

	if ((big = malloc(10001)) == NULL)
		abort();
	memset(big, 'x', 10000);
	big[10000] = '\0';
	use_file(p, true, false, false);
	errno = ENOSPC;
	log_warn("%s", big);
	s = harness_slurp(p);
	n = strlen(s);
	ok(n > 4000 && n < 4300 && s[n - 1] == '\n' &&
	    strchr(s, '\n') == s + n - 1, "a long message is cut to one line");
	ok(n > 30 && strstr(s, "x: No space left on device\n") != NULL,
	    "the errno text survives the cut");
	free(s);
	free(big);
}

/* The log file's descriptor, found through /proc/self/fd. */
static int
fd_of(const char *path)
{
	char		 link[PATH_MAX], name[300];
	DIR		*d;
	struct dirent	*de;
	ssize_t		 n;
	int		 fd = -1;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		snprintf(name, sizeof(name), "/proc/self/fd/%s", de->d_name);
		n = readlink(name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, path) == 0) {
			fd = atoi(de->d_name);
			break;
		}
	}
	closedir(d);
	return fd;
}

static int
count_fds(void)
{
	DIR	*d;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
test_file(void)
{
	const char	*p = path_of("append.log");
	char		*s, *line, *save, re[256];
	struct stat	 sb;
	pid_t		 kids[NCHILD];
	int		 fd, i, k, st, bad = 0, nlines = 0, allok = 1;

	use_file(p, true, false, false);
	fd = fd_of(p);
	ok(fd > 2 && (fcntl(fd, F_GETFL) & O_APPEND) != 0,
	    "the log file is open O_APPEND");
	ok(fd > 2 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
	    "and close-on-exec");

	/* logrotate's copytruncate: the next line lands at offset 0. */
	log_info("before truncate");
	truncate(p, 0);
	log_info("after");
	stat(p, &sb);
	s = harness_slurp(p);
	ok((size_t)sb.st_size == strlen(s) && strstr(s, "after\n") != NULL &&
	    strchr(s, '\n') == s + strlen(s) - 1,
	    "after a truncate the next line is at offset 0, no hole");
	free(s);

	truncate(p, 0);
	for (k = 0; k < NCHILD; k++) {
		if ((kids[k] = xfork()) == 0) {
			log_settag(k % 2 ? "worker 1" : NULL);
			for (i = 0; i < CHILD_LINES; i++)
				log_info("child %d line %04d %0200d", k, i, 0);
			_exit(0);
		}
	}
	for (k = 0; k < NCHILD; k++) {
		st = wait_child(kids[k], 20000);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			allok = 0;
	}
	ok(allok, "%d processes wrote %d lines each", NCHILD, CHILD_LINES);
	s = harness_slurp(p);
	snprintf(re, sizeof(re), "^\\[[0-9]+\\] " TS_RE " \\[INF\\] "
	    "(worker 1: )?child [0-9] line [0-9]{4} 0{200}$");
	{
		regex_t r;

		if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
			abort();
		for (line = strtok_r(s, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			nlines++;
			if (regexec(&r, line, 0, NULL, 0) != 0 && bad++ < 3)
				diag("torn line: %.80s", line);
		}
		regfree(&r);
	}
	is_int(nlines, NCHILD * CHILD_LINES, "every line is there");
	is_int(bad, 0, "no line from concurrent processes is torn");
	free(s);
}

static void
test_reopen(void)
{
	const char	*p = path_of("rot.log"), *p1 = path_of("rot.log.1");
	const char	*sub = path_of("gone"), *gp = path_of("gone/x.log");
	char		*s, *s1;

	use_file(p, false, false, false);
	log_info("first");
	ok(rename(p, p1) == 0, "rename the log file");
	log_info("before reopen");
	ok(log_reopen() == 0, "log_reopen");
	log_info("after reopen");
	s = harness_slurp(p);
	s1 = harness_slurp(p1);
	ok(strstr(s1, "first") && strstr(s1, "before reopen") &&
	    !strstr(s1, "after reopen"), "the renamed file has the old lines");
	ok(strstr(s, "[INF] File log re-opened\n") == s + strcspn(s, " ") + 1 &&
	    strstr(s, "after reopen") && !strstr(s, "first"),
	    "the new file starts with nats-server's re-open line");
	free(s);
	free(s1);

	/* A reopen that fails keeps writing to the old file. */
	mkdir(sub, 0755);
	use_file(gp, false, false, false);
	unlink(gp);
	rmdir(sub);
	errno = 0;
	ok(log_reopen() == -1 && errno == ENOENT,
	    "a failed reopen says so");
	ok(fd_of(gp) == -1, "(the old file is deleted)");
	log_info("still alive");
	ok(1, "logging goes on after a failed reopen");

	truncate(p, 0);
	{
		struct log_opts o = { 0 };
		int devnull = open("/dev/null", O_WRONLY);
		int saved = dup(2);

		/* stderr sink: a reopen is a notice, not an error. */
		dup2(devnull, 2);
		log_init(&o);
		ok(log_reopen() == 0, "reopen without a file is ignored");
		dup2(saved, 2);
		close(saved);
		close(devnull);
	}
}

static void
test_init_failure(void)
{
	const char	*p = path_of("keep.log");
	char		*s;
	struct log_opts	 o = { 0 };

	use_file(p, false, false, false);
	o.file = "/nonexistent-dir/natsd.log";
	o.debug = true;
	errno = 0;
	ok(log_init(&o) == -1 && errno == ENOENT, "log_init of a bad path fails");
	ok(strstr(log_init_error(), "/nonexistent-dir/natsd.log") != NULL,
	    "log_init_error names the file: %s", log_init_error());
	ok(!log_debug_on, "a failed log_init leaves the levels alone");
	log_info("still here");

	memset(&o, 0, sizeof(o));
	o.remote_syslog = "ftp://127.0.0.1:514";
	ok(log_init(&o) == -1 && errno == EINVAL,
	    "log_init of a bad remote_syslog fails");
	ok(strstr(log_init_error(), "scheme") != NULL, "and says why: %s",
	    log_init_error());
	o.remote_syslog = "udp://no-such-host.invalid:514";
	ok(log_init(&o) == -1, "an unresolvable remote_syslog host fails");
	log_info("and here");
	s = harness_slurp(p);
	ok(strstr(s, "still here") && strstr(s, "and here"),
	    "the old sink stays in use");
	free(s);
}

static void
test_remote_check(void)
{
	static const char *good[] = {
		"udp://127.0.0.1:514", "udp://localhost", "tcp://10.0.0.1:601",
		"tcp://syslog.example.com", "127.0.0.1:5514", "syslog",
		"udp://[::1]:514", "udp://[::1]", "unix:///dev/log",
		"UDP://h:1", "udp://h:65535/", "fe80::1",
	};
	static const char *bad[] = {
		"ftp://h:1", "udp://", "udp://:514", "udp://h:0",
		"udp://h:65536", "udp://h:x", "udp://h:", "tcp://[::1:514",
		"tcp://[::1]x", "unix://relative", "", "udp://h:514x",
	};
	char	err[256];
	size_t	i;
	int	nok = 0, nbad = 0;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (log_remote_check(good[i], err, sizeof(err)) == 0)
			nok++;
		else
			diag("refused %s: %s", good[i], err);
	is_int(nok, sizeof(good) / sizeof(good[0]), "valid remote_syslog forms");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (log_remote_check(bad[i], err, sizeof(err)) == -1 &&
		    strstr(err, "remote_syslog") != NULL)
			nbad++;
		else
			diag("accepted %s", bad[i]);
	is_int(nbad, sizeof(bad) / sizeof(bad[0]),
	    "invalid ones refused with a message");
}

static void
test_redact(void)
{
	static const struct {
		const char *in, *out, *name;
	} cases[] = {
		/* nats-server's TestRemovePassFromTrace, one pass each. */
		{ "{\"user\":\"derek\",\"pass\":\"s3cr3t\"}",
		  "{\"user\":\"derek\",\"pass\":\"[REDACTED]\"}", "user and pass" },
		{ "{\"user\":\"derek\",\"pass\":  \"s3cr3t\"}",
		  "{\"user\":\"derek\",\"pass\":  \"[REDACTED]\"}", "extra space" },
		{ "{\"user\":\"derek\",\"pass\":\"\"}",
		  "{\"user\":\"derek\",\"pass\":\"[REDACTED]\"}", "empty pass" },
		{ "{\"user\":\"derek\",\"pass\":\"               \"}",
		  "{\"user\":\"derek\",\"pass\":\"[REDACTED]\"}", "blank pass" },
		{ "{\"user\":\"derek\",\"pass\":    \"s3cr3t\"     }",
		  "{\"user\":\"derek\",\"pass\":    \"[REDACTED]\"     }",
		  "whitespace around" },
		{ "{\"pass\":\"s3cr3t\",}", "{\"pass\":\"[REDACTED]\",}",
		  "only pass" },
		{ "{pass:s3cr3t\r\n", "{pass:[REDACTED]\r\n",
		  "invalid json, only a pass key" },
		{ "{\"password\":\"s3cr3t\",}", "{\"password\":\"[REDACTED]\",}",
		  "password key" },
		{ "{\"pass\":\"secret password which is very long\",}",
		  "{\"pass\":\"[REDACTED]\",}", "long pass with spaces" },
		{ "{\"echo\":true,\"verbose\":false,\"pedantic\":false,"
		  "\"user\":\"s3cr3t\",\"pass\":\"s3cr3t\",\"tls_required\":"
		  "false,\"name\":\"s3cr3t\"}",
		  "{\"echo\":true,\"verbose\":false,\"pedantic\":false,"
		  "\"user\":\"s3cr3t\",\"pass\":\"[REDACTED]\",\"tls_required\":"
		  "false,\"name\":\"s3cr3t\"}", "complete connect" },
		{ "{user = hello, password =  s3cr3t}",
		  "{user = hello, password =  [REDACTED]}", "'=' and bare words" },
		{ "{\"user\":\"derek\",\"auth_token\":\"s3cr3t\"}",
		  "{\"user\":\"derek\",\"auth_token\":\"[REDACTED]\"}",
		  "auth_token (nats-server 2.10)" },
		/* Where natsd redacts more than nats-server. */
		{ "{\"pass\":\"A\",\"pass\":\"B\",\"password\":\"C\"}",
		  "{\"pass\":\"[REDACTED]\",\"pass\":\"[REDACTED]\","
		  "\"password\":\"[REDACTED]\"}", "every duplicate" },
		{ "{\"name\":\"passenger\",\"user\":\"bob\",\"pass\":\"x\"}",
		  "{\"name\":\"passenger\",\"user\":\"bob\",\"pass\":"
		  "\"[REDACTED]\"}", "\"pass\" inside a value is no key" },
		{ "{\"name\":\"a:b\",\"pass\":\"q\\\"u,o}te\",\"v\":1}",
		  "{\"name\":\"a:b\",\"pass\":\"[REDACTED]\",\"v\":1}",
		  "escaped quote inside the secret" },
		{ "{\"PASS\":\"x\",\"Auth_Token\":\"y\",\"token\":\"z\"}",
		  "{\"PASS\":\"[REDACTED]\",\"Auth_Token\":\"[REDACTED]\","
		  "\"token\":\"[REDACTED]\"}", "any case, and token" },
		{ "{\"pass\":123,\"x\":1}", "{\"pass\":[REDACTED],\"x\":1}",
		  "a number" },
		{ "{\"pass\":{\"a\":\"s,}\",\"b\":[1,2]},\"x\":1}",
		  "{\"pass\":[REDACTED],\"x\":1}", "an object" },
		{ "{\"pass\":\"unterminated", "{\"pass\":\"[REDACTED]",
		  "an unterminated secret" },
		{ "{\"pass\":", "{\"pass\":[REDACTED]", "no value at all" },
		{ "{\"verbose\":false,\"jwt\":\"eyJ0\",\"sig\":\"c2ln\","
		  "\"nkey\":\"UA\"}",
		  "{\"verbose\":false,\"jwt\":\"eyJ0\",\"sig\":\"c2ln\","
		  "\"nkey\":\"UA\"}", "jwt, sig and nkey are not secrets" },
		{ "{\"user\":\"derek\"}", "{\"user\":\"derek\"}", "nothing secret" },
		{ "", "", "empty" },
	};
	char	out[512];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_redact_connect(cases[i].in, strlen(cases[i].in), out,
		    sizeof(out));
		is_str(out, cases[i].out, "redact: %s", cases[i].name);
	}

	/* Only len bytes are read; out is cut, never overrun. */
	log_redact_connect("{\"pass\":\"x\"}GARBAGE", 12, out, sizeof(out));
	is_str(out, "{\"pass\":\"[REDACTED]\"}", "redact reads len bytes");
	memset(out, 'Z', sizeof(out));
	log_redact_connect("{\"pass\":\"s3cr3t\"}", 16, out, 12);
	ok(strcmp(out, "{\"pass\":\"[R") == 0 && out[12] == 'Z',
	    "redact truncates to outlen - 1 and NUL-terminates");
	out[0] = 'Z';
	log_redact_connect("{}", 2, out, 0);
	ok(out[0] == 'Z', "outlen 0 writes nothing");
}

static void
test_udp(void)
{
	char	url[128];
	int	fd, port, me = (int)getpid();
	pid_t	pid;
	int	st;

	fd = udp_bind(&port);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%d", port);
	ok(use_remote(url, true) == 0, "log_init %s", url);
	log_info("hello udp");
	ok(remote_line_is(recv_dgram(fd, T_MS), LOG_DAEMON | LOG_INFO, me,
	    "hello udp"), "udp: <30>RFC3339 host natsd[pid]: msg");
	log_notice("notice");
	ok(remote_line_is(recv_dgram(fd, T_MS), 29, me, "notice"),
	    "notice is <29>");
	log_warnx("warn");
	ok(remote_line_is(recv_dgram(fd, T_MS), 28, me, "warn"),
	    "warning is <28>");
	log_errorx("err");
	ok(remote_line_is(recv_dgram(fd, T_MS), 27, me, "err"), "error is <27>");
	log_debug("dbg");
	ok(remote_line_is(recv_dgram(fd, T_MS), 31, me, "dbg"), "debug is <31>");
	log_trace("trc");
	ok(remote_line_is(recv_dgram(fd, T_MS), 31, me, "trc"), "trace is <31>");
	log_settag("worker 2");
	log_info("tagged");
	log_settag(NULL);
	ok(remote_line_is(recv_dgram(fd, T_MS), 30, me, "worker 2: tagged"),
	    "the tag goes after natsd[pid]:");
	if ((pid = xfork()) == 0)
		fatalx("fatal over udp");
	st = wait_child(pid, 5000);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
	    remote_line_is(recv_dgram(fd, T_MS), 26, pid, "fatal over udp"),
	    "fatal is <26> and carries the child's pid");

	snprintf(url, sizeof(url), "127.0.0.1:%d", port);
	ok(use_remote(url, false) == 0, "log_init bare %s", url);
	log_info("bare");
	ok(remote_line_is(recv_dgram(fd, T_MS), 30, me, "bare"),
	    "a bare host:port is udp");
	log_debug("gated");
	ok(recv_dgram(fd, 100) == NULL, "debug still gated over udp");
	close(fd);

	/* Nobody listening: ICMP errors are ignored, nothing blocks. */
	{
		int64_t	t0, worst = 0, d;
		int	i;

		log_info("to nobody");
		for (i = 0; i < 200; i++) {
			t0 = now_us();
			log_info("to nobody %d", i);
			if ((d = now_us() - t0) > worst)
				worst = d;
		}
		ok(worst < FAST_US, "udp to a closed port: slowest call %lld us",
		    (long long)worst);
	}

	/* The default port. */
	{
		struct sockaddr_in	sin;
		int			f514;

		f514 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(514);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(f514, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			use_remote("udp://127.0.0.1", false);
			log_info("port 514");
			ok(remote_line_is(recv_dgram(f514, T_MS), 30, me,
			    "port 514"), "the port defaults to 514");
		} else
			skip("cannot bind 127.0.0.1:514: %s", strerror(errno));
		close(f514);
	}
}

static void
test_udp_full(void)
{
	char	url[128], msg[1001];
	int	fd, port, i, small = 4096;
	int64_t	t0, start, worst = 0, d;

	fd = udp_bind(&port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	snprintf(url, sizeof(url), "udp://127.0.0.1:%d", port);
	use_remote(url, false);
	memset(msg, 'u', 1000);
	msg[1000] = '\0';
	start = now_us();
	for (i = 0; i < 20000; i++) {
		t0 = now_us();
		log_info("%s", msg);
		if ((d = now_us() - t0) > worst)
			worst = d;
	}
	ok(worst < FAST_US, "udp receiver never reading: slowest call %lld us",
	    (long long)worst);
	ok(now_us() - start < 5000000, "20000 lines in %lld ms",
	    (long long)(now_us() - start) / 1000);
	drain_dgrams(fd);
	log_info("after the flood");
	{
		char *l = NULL;

		for (i = 0; i < 10 && (l = recv_dgram(fd, T_MS)) != NULL &&
		    strstr(l, "after the flood") == NULL; i++)
			;
		ok(l != NULL && strstr(l, "after the flood") != NULL,
		    "lines flow again once the receiver reads");
	}
	close(fd);
}

static void
test_tcp(void)
{
	char	url[128], buf[65536];
	size_t	len = 0;
	int	lfd, c1, c2, port, me = (int)getpid(), st;
	pid_t	pid;

	lfd = tcp_bind(&port, 8);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	ok(use_remote(url, false) == 0, "log_init %s", url);
	log_info("one");
	log_warnx("two");
	c1 = accept_within(lfd, T_MS);
	ok(c1 >= 0, "natsd connects to the tcp target");
	ok(c1 >= 0 && read_until(c1, buf, sizeof(buf), &len, "two\n", T_MS),
	    "both lines arrive");
	{
		char *nl = strchr(buf, '\n');

		if (nl != NULL) {
			char first[512];

			snprintf(first, sizeof(first), "%.*s",
			    (int)(nl - buf + 1), buf);
			ok(remote_line_is(first, 30, me, "one"),
			    "tcp: same line as udp, newline-framed");
			ok(remote_line_is(nl + 1, 28, me, "two"),
			    "second line whole");
		} else {
			ok(0, "tcp: same line as udp, newline-framed");
			ok(0, "second line whole");
		}
	}

	/* A child makes its own connection, the parent keeps its own. */
	if ((pid = xfork()) == 0) {
		log_info("from the child");
		/* Stay until the line is written (bounded). */
		for (st = 0; st < 200; st++) {
			log_flush();
			nap(5);
		}
		_exit(0);
	}
	c2 = accept_within(lfd, T_MS);
	ok(c2 >= 0, "a forked child connects on its own");
	{
		char	b2[4096];
		size_t	l2 = 0;
		char	want[64];

		snprintf(want, sizeof(want), "natsd[%d]: from the child\n",
		    (int)pid);
		ok(c2 >= 0 && read_until(c2, b2, sizeof(b2), &l2, want, T_MS),
		    "the child's line comes on its connection with its pid");
	}
	wait_child(pid, 5000);
	len = 0;
	log_info("parent again");
	ok(c1 >= 0 && read_until(c1, buf, sizeof(buf), &len, "parent again\n",
	    T_MS), "the parent's connection is untouched");

	/* The target goes away and comes back: one reconnect. */
	if (c2 >= 0)
		close(c2);
	if (c1 >= 0)
		close(c1);
	{
		int64_t	t0 = now_us(), deadline = t0 + 4000000;
		int	c3 = -1, i;
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };

		for (i = 0; now_us() < deadline && c3 == -1; i++) {
			log_info("after close %d", i);
			if (poll(&pfd, 1, 10) == 1)
				c3 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		}
		ok(c3 >= 0, "it reconnects after the peer closed (%lld ms)",
		    (long long)(now_us() - t0) / 1000);
		len = 0;
		log_info("reconnected");
		ok(c3 >= 0 && read_until(c3, buf, sizeof(buf), &len,
		    "reconnected\n", T_MS), "lines flow on the new connection");
		ok(c3 >= 0 && matches(buf, "^<[0-9]+>"),
		    "the new stream starts on a line boundary");
		pfd.fd = lfd;
		ok(poll(&pfd, 1, 50) == 0, "exactly one reconnect");
		if (c3 >= 0)
			close(c3);
	}
	close(lfd);
}

/* A dead target: calls stay fast, reconnects come at most once a second. */
static void
test_tcp_dead(void)
{
	char	url[128], *buf;
	size_t	len = 0, cap = 1 << 20;
	int	sfd, port, c, i;
	int64_t	t0, t, worst = 0, d, tfail;

	if ((buf = malloc(cap)) == NULL)
		abort();
	sfd = tcp_bind(&port, -1);	/* bound, not listening: refused */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	tfail = now_us();
	ok(use_remote(url, false) == 0, "log_init of a dead tcp target works");
	t0 = now_us();
	for (i = 0; i < 2000; i++) {
		t = now_us();
		log_info("queued %04d %080d", i, 0);
		if ((d = now_us() - t) > worst)
			worst = d;
	}
	ok(worst < FAST_US, "2000 lines to a dead target: slowest call %lld us",
	    (long long)worst);
	ok(now_us() - t0 < 5000000, "all in %lld ms",
	    (long long)(now_us() - t0) / 1000);

	/* Listen now; the next try waits for the second to pass. */
	listen(sfd, 8);
	c = accept_within(sfd, 3000);
	t = now_us();
	ok(c >= 0, "it connects once the target listens");
	ok(t - tfail >= 900000, "not before a second after the failure "
	    "(%lld ms)", (long long)(t - tfail) / 1000);
	ok(c >= 0 && read_until(c, buf, cap, &len, "log lines dropped\n",
	    T_MS), "the backlog arrives, then the count of dropped lines");
	ok(strncmp(buf, "<30>", 4) == 0 && strstr(buf, "queued 0000 ") != NULL &&
	    strstr(buf, "queued 0000 ") < strchr(buf, '\n'),
	    "the backlog starts with the first line queued");
	ok(matches(buf, "remote syslog: [0-9]+ log lines dropped\n$"),
	    "the drop notice is the last line");
	if (c >= 0)
		close(c);
	close(sfd);
	free(buf);
}

/*
 * Every line in buf is whole: a log line with all of msg, a drop notice
 * or an end marker.  buf must end where a line ends.
 */
static int
lines_whole(char *buf, const char *msg)
{
	char	*line, *save;
	size_t	 n;
	int	 bad = 0;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, msg) != NULL ||
		    strstr(line, "log lines dropped") != NULL ||
		    strstr(line, ": stuck end ") != NULL)
			continue;
		if (bad++ < 3) {
			n = strlen(line);
			diag("bad line (%zu bytes) %.60s ... %s", n, line,
			    n > 80 ? line + n - 20 : "");
		}
	}
	return bad;
}

/*
 * A peer that accepts and does not read: the socket fills, then the
 * backlog, and lines are dropped.  With midread >= 0 it takes what has
 * come once, after line midread, as the kernel does when it opens the
 * window late (it grows buffers as ACKs come in, later on a busy
 * machine): the backlog drains, the drop notice goes out mid-stream
 * and more lines follow it.  The stream read so far then ends anywhere,
 * even inside a line, so the lines are checked up to a line logged
 * last, once it has come.
 */
static void
tcp_stuck_reader(int midread, const char *what)
{
	char	url[128], msg[501], want[64], *buf, *e;
	int	lfd, port, i, c, found = 0;
	int64_t	t, worst = 0, d, start;
	size_t	len = 0, cap = 16 << 20;
	ssize_t	n;

	if ((buf = malloc(cap)) == NULL)
		abort();
	lfd = tcp_bind(&port, 8);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	use_remote(url, false);
	c = accept_within(lfd, T_MS);
	memset(msg, 'r', 500);
	msg[500] = '\0';
	start = now_us();
	for (i = 0; i < 20000; i++) {
		t = now_us();
		log_info("%05d %s", i, msg);
		if ((d = now_us() - t) > worst)
			worst = d;
		if (i == midread && c >= 0)
			while (len + 1 < cap && (n = recv(c, buf + len,
			    cap - 1 - len, MSG_DONTWAIT)) > 0)
				len += (size_t)n;
	}
	if (midread < 0) {
		ok(worst < FAST_US, "%s: slowest call %lld us", what,
		    (long long)worst);
		ok(now_us() - start < 5000000, "10 MB of lines in %lld ms",
		    (long long)(now_us() - start) / 1000);
	}
	ok(c >= 0 && read_until(c, buf, cap, &len, "log lines dropped\n",
	    5000), "%s: once it reads, the drop notice comes", what);

	/* A line logged now ends the stream; one dropped is logged again. */
	for (i = 0; c >= 0 && i < 20 && !found; i++) {
		log_info("stuck end %d", i);
		snprintf(want, sizeof(want), ": stuck end %d\n", i);
		found = read_until(c, buf, cap, &len, want, 250);
	}
	ok(found, "%s: a line logged after the drops comes", what);
	if (found) {
		e = strstr(buf, want) + strlen(want);
		*e = '\0';
	}
	is_int(lines_whole(buf, msg), 0, "%s: every line that arrived is "
	    "whole", what);
	free(buf);
	if (c >= 0)
		close(c);
	close(lfd);
}

/* A target that never answers the SYN, one that never reads. */
static void
test_tcp_stuck(void)
{
	char	url[128];
	int	lfd, port, i, fill[4];
	int64_t	t, worst = 0, d, start;
	struct sockaddr_in sin;

	/* Fill the accept queue so the next SYNs go unanswered. */
	lfd = tcp_bind(&port, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	use_remote(url, false);
	start = now_us();
	while (now_us() - start < 300000) {
		t = now_us();
		log_info("into the void");
		if ((d = now_us() - t) > worst)
			worst = d;
		nap(1);
	}
	ok(worst < FAST_US, "a connect that hangs: slowest call %lld us",
	    (long long)worst);
	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);

	tcp_stuck_reader(-1, "a peer that never reads");
	tcp_stuck_reader(15000, "a peer that reads once, late");
}

static void
test_unix(void)
{
	struct sockaddr_un	sun;
	char			url[PATH_MAX + 16], buf[4096];
	size_t			len = 0;
	int			fd, lfd, c, me = (int)getpid();

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path_of("dg.sock"));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		skip("unix socket path too long: %s", sun.sun_path);
		skip("unix stream socket");
		close(fd);
		return;
	}
	snprintf(url, sizeof(url), "unix://%s", sun.sun_path);
	ok(use_remote(url, false) == 0, "log_init unix:// datagram socket");
	log_info("over unix");
	ok(remote_line_is(recv_dgram(fd, T_MS), 30, me, "over unix"),
	    "a unix datagram socket gets the same line");
	close(fd);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path_of("st.sock"));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(lfd, (struct sockaddr *)&sun, sizeof(sun));
	listen(lfd, 4);
	snprintf(url, sizeof(url), "unix://%s", sun.sun_path);
	use_remote(url, false);
	log_info("over a unix stream");
	c = accept_within(lfd, T_MS);
	ok(c >= 0 && read_until(c, buf, sizeof(buf), &len,
	    "over a unix stream\n", T_MS), "a unix stream socket works too");
	if (c >= 0)
		close(c);
	close(lfd);
}

/* Switching sinks again and again leaks no descriptor. */
static void
test_switch(void)
{
	const char	*a = path_of("sw-a.log"), *b = path_of("sw-b.log");
	char		 udp[64], tcp[64], *s;
	int		 ufd, lfd, uport, tport, before, i, c;

	ufd = udp_bind(&uport);
	lfd = tcp_bind(&tport, 64);
	snprintf(udp, sizeof(udp), "udp://127.0.0.1:%d", uport);
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%d", tport);
	use_file(a, false, false, false);
	before = count_fds();
	for (i = 0; i < 20; i++) {
		use_remote(udp, false);
		log_info("u%d", i);
		use_remote(tcp, false);
		log_info("t%d", i);
		use_file(b, false, false, false);
		log_info("b%d", i);
		use_file(a, false, false, false);
		log_info("a%d", i);
	}
	is_int(count_fds(), before, "20 rounds of file/udp/tcp/file: no fd leak");
	s = harness_slurp(b);
	ok(strstr(s, "[INF] b0\n") && strstr(s, "[INF] b19\n") &&
	    !strstr(s, "a1\n"), "each line went to the sink of its time");
	free(s);
	ok(recv_dgram(ufd, T_MS) != NULL, "udp got its lines");
	for (i = 0; i < 64; i++) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };

		if (poll(&pfd, 1, 0) != 1 || (c = accept(lfd, NULL, NULL)) < 0)
			break;
		close(c);
	}
	close(ufd);
	close(lfd);
}

/*
 * syslog(3) writes to /dev/log.  A child with its own mount namespace
 * puts a socket of ours there; where that is not allowed, skip.
 */
static void
test_syslog(void)
{
	pid_t		 pid;
	int		 st, pfd[2];
	unsigned char	 r = 0;

	if (pipe(pfd) == -1) {
		perror("pipe");
		exit(1);
	}
	if ((pid = xfork()) == 0) {
		struct sockaddr_un	sun;
		struct log_opts		o = { 0 };
		char			*l, want[128];
		int			fd;

		close(pfd[0]);
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ==
		    -1 || mount("tmpfs", "/dev", "tmpfs", 0, "size=64k") == -1)
			_exit(77);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, "/dev/log");
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(78);
		o.syslog = true;
		o.logtime = true;
		if (log_init(&o) == -1)
			_exit(79);
		log_info("hello syslog");
		snprintf(want, sizeof(want), " natsd[%d]: hello syslog",
		    (int)getpid());
		l = recv_dgram(fd, T_MS);
		if (l != NULL && strncmp(l, "<30>", 4) == 0 &&
		    strstr(l, want) != NULL && strstr(l, "[INF]") == NULL)
			r |= 1;
		else
			diag("syslog got \"%s\"", l != NULL ? l : "(nothing)");
		log_settag("worker 3");
		errno = EIO;
		log_warn("disk");
		l = recv_dgram(fd, T_MS);
		if (l != NULL && strncmp(l, "<28>", 4) == 0 &&
		    strstr(l, "]: worker 3: disk: Input/output error") != NULL)
			r |= 2;
		else
			diag("syslog got \"%s\"", l != NULL ? l : "(nothing)");
		log_debug("gated");
		if ((l = recv_dgram(fd, 50)) == NULL)
			r |= 4;
		else
			diag("syslog got \"%s\"", l);
		fflush(stdout);
		(void)!write(pfd[1], &r, 1);
		_exit(0);
	}
	close(pfd[1]);
	st = wait_child(pid, 10000);
	if (WIFEXITED(st) && WEXITSTATUS(st) >= 77) {
		skip("syslog(3): no private mount namespace here (%d)",
		    WEXITSTATUS(st));
		skip("syslog(3) levels and tags");
		skip("syslog(3) gating");
		close(pfd[0]);
		return;
	}
	if (read(pfd[0], &r, 1) != 1)
		r = 0;
	close(pfd[0]);
	ok(r & 1, "syslog: <30>... natsd[pid]: msg, facility daemon, no [INF]");
	ok(r & 2, "syslog: warning <28>, tag and errno text");
	ok(r & 4, "syslog: debug gated");
}

static void
cleanup(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[600];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	struct log_opts	 o = { 0 };

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/natsd-log-test.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (gethostname(host, sizeof(host) - 1) == -1)
		strcpy(host, "localhost");

	test_format();
	test_levels();
	test_tags();
	test_long();
	test_file();
	test_reopen();
	test_init_failure();
	test_remote_check();
	test_redact();
	test_udp();
	test_udp_full();
	test_tcp();
	test_tcp_dead();
	test_tcp_stuck();
	test_unix();
	test_switch();
	test_syslog();

	o.logtime = true;
	log_init(&o);
	cleanup();
	return done_testing();
}
