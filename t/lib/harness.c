#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

#define WRITE_TIMEOUT_MS	10000	/* a server may stall a fast producer */
#define READ_CHUNK		65536
#define POLL_STEP_MS		10	/* readiness and exit polling period */
#define DIAG_LINES		20	/* unexpected log lines shown at most */

static char	*xstrdup(const char *);
static int	 remaining_ms(int64_t);
static int	 write_file(const char *, const char *);
static void	 show_file(const char *, const char *, int);
static int	 file_has(const char *, const char *);
static int	 reap(struct server *, int);
static int	 probe_ready(int, int64_t);
static int	 spawn(struct server *, const struct server_opts *);
static void	 remove_dir(const char *);
static int	 conn_fill(struct conn *, int64_t);
static int	 take_line(struct conn *, const char **);
static void	 put_line(struct conn *, const char *, size_t);
static int	 parse_size(const char *, size_t *);

void
harness_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int64_t
harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining_ms(int64_t deadline)
{
	int64_t left = deadline - harness_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Between bounded poll attempts; never a barrier. */
void
harness_nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL) {
		perror("strdup");
		abort();
	}
	return p;
}

/* asprintf(3) that aborts when memory runs out. */
char *
harness_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) == -1) {
		perror("vasprintf");
		abort();
	}
	va_end(ap);
	return p;
}

/*
 * The binary under test: $NATSD, else ./natsd relative to where the test
 * runs (make check runs from the build directory and sets NATSD anyway).
 */
const char *
harness_server_bin(void)
{
	const char *e = getenv("NATSD");

	return e != NULL && *e != '\0' ? e : "./natsd";
}

/* nats-server has no --workers flag and is the reference, not the subject. */
int
harness_is_nats_server(const char *bin)
{
	const char *base = strrchr(bin, '/');

	base = base != NULL ? base + 1 : bin;
	return strstr(base, "nats-server") != NULL;
}

/*
 * A port nobody listens on right now: bind to port 0 and ask the kernel
 * which it chose.  Another process may take it before the server binds;
 * server_start() retries with a fresh port when the server dies early.
 */
int
harness_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
write_file(const char *path, const char *text)
{
	FILE *f;
	int rv = 0;

	if ((f = fopen(path, "w")) == NULL) {
		harness_diag("fopen %s: %s", path, strerror(errno));
		return -1;
	}
	if (fputs(text, f) == EOF)
		rv = -1;
	if (fclose(f) == EOF)
		rv = -1;
	if (rv == -1)
		harness_diag("write %s: %s", path, strerror(errno));
	return rv;
}

/* Copy up to max lines of a file into the TAP output as comments. */
static void
show_file(const char *what, const char *path, int max)
{
	char line[1024];
	FILE *f;
	int n = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		harness_diag("%s: %s", what, line);
		n++;
	}
	fclose(f);
}

/* Whether a line of the file contains needle, in any case. */
static int
file_has(const char *path, const char *needle)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) != -1)
		found = strcasestr(line, needle) != NULL;
	free(line);
	fclose(f);
	return found;
}

/*
 * Reap the server if it exited, waiting at most ms.  Returns 1 once the
 * server is gone (status saved), 0 while it still runs.
 */
static int
reap(struct server *s, int ms)
{
	int64_t deadline = harness_now_ms() + ms;
	pid_t r;

	if (s->pid <= 0)
		return 1;
	for (;;) {
		r = waitpid(s->pid, &s->status, WNOHANG);
		if (r == s->pid || (r == -1 && errno == ECHILD)) {
			s->pid = -1;
			return 1;
		}
		if (remaining_ms(deadline) == 0)
			return 0;
		harness_nap(POLL_STEP_MS);
	}
}

/* True while pid exists and is not a zombie. */
int
harness_pid_running(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int running = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	/* "pid (comm) S ...": comm may hold spaces, so find the last ')'. */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
		running = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return running;
}

/*
 * The pid of the server's child titled exactly `title' ("natsd: worker
 * 1", "natsd: monitor"), or -1.  A child just forked still carries the
 * master's title, so a respawned one shows here only once it set its own.
 */
pid_t
harness_child_titled(pid_t parent, const char *title)
{
	pid_t	 kids[80];
	char	 path[64], buf[128];
	size_t	 tlen = strlen(title);
	ssize_t	 n;
	int	 nkids, i, fd;

	nkids = harness_children(parent, kids, 80);
	for (i = 0; i < nkids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kids[i]);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strncmp(buf, title, tlen) == 0 &&
		    (buf[tlen] == '\0' || buf[tlen] == ' ') &&
		    harness_pid_running(kids[i]))
			return kids[i];
	}
	return -1;
}

pid_t
server_child_titled(struct server *s, const char *title)
{
	return harness_child_titled(s->pid, title);
}

int
server_alive(struct server *s)
{
	return !reap(s, 0);
}

/*
 * One readiness probe: connect and wait for the first bytes of INFO, so
 * the server is not only listening but serving (natsd's master binds
 * before its workers run).  Returns 1 when INFO came.
 */
static int
probe_ready(int port, int64_t deadline)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	char buf[8];
	ssize_t n;
	int fd, ready = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, remaining_ms(deadline)) == 1 &&
		    (n = recv(fd, buf, sizeof(buf), 0)) >= 4 &&
		    strncmp(buf, "INFO", 4) == 0)
			ready = 1;
	}
	close(fd);
	return ready;
}

static int
spawn(struct server *s, const struct server_opts *o)
{
	char portstr[16], workers[16];
	const char *argv[64];
	size_t argc = 0, i;
	pid_t parent = getpid();
	int fd;

	snprintf(portstr, sizeof(portstr), "%d", s->port);
	argv[argc++] = s->bin;
	argv[argc++] = "-a";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "-p";
	argv[argc++] = portstr;
	argv[argc++] = "-l";
	argv[argc++] = s->log_path;
	if (!s->nats_server && o->workers > 0) {
		snprintf(workers, sizeof(workers), "%d", o->workers);
		argv[argc++] = "--workers";
		argv[argc++] = workers;
	}
	if (s->conf_path != NULL) {
		argv[argc++] = "-c";
		argv[argc++] = s->conf_path;
	}
	for (i = 0; o->args != NULL && o->args[i] != NULL; i++) {
		if (argc >= sizeof(argv) / sizeof(argv[0]) - 1) {
			harness_diag("server_start: too many arguments");
			return -1;
		}
		argv[argc++] = o->args[i];
	}
	argv[argc] = NULL;

	fflush(stdout);
	fflush(stderr);
	switch (s->pid = fork()) {
	case -1:
		harness_diag("fork: %s", strerror(errno));
		return -1;
	case 0:
		/* A test killed by its timeout must not leave a server behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if ((fd = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC,
		    0644)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(s->bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", s->bin, strerror(errno));
		_exit(127);
	}
	return 0;
}

/*
 * Start a server and wait (bounded) until it serves clients.  Returns NULL
 * and explains why in TAP comments when it does not come up.
 */
struct server *
server_start(const struct server_opts *opts)
{
	static const struct server_opts none;
	const struct server_opts *o = opts != NULL ? opts : &none;
	const char *tmp = getenv("TMPDIR");
	struct server *s;
	int64_t deadline;
	int attempt;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		abort();
	s->pid = -1;
	s->bin = xstrdup(o->bin != NULL ? o->bin : harness_server_bin());
	s->nats_server = harness_is_nats_server(s->bin);
	s->dir = harness_asprintf("%s/natsd-test.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(s->dir) == NULL) {
		harness_diag("mkdtemp %s: %s", s->dir, strerror(errno));
		server_free(s);
		return NULL;
	}
	s->log_path = harness_asprintf("%s/server.log", s->dir);
	s->err_path = harness_asprintf("%s/stderr.txt", s->dir);
	if (o->config != NULL) {
		s->conf_path = harness_asprintf("%s/server.conf", s->dir);
		if (write_file(s->conf_path, o->config) == -1) {
			server_free(s);
			return NULL;
		}
	}

	/*
	 * A picked port may be taken before the server binds it: when the
	 * server dies saying so, try another, 3 times in all.
	 */
	for (attempt = 0; attempt < 3; attempt++) {
		s->port = o->port > 0 ? o->port : harness_free_port();
		if (s->port <= 0) {
			harness_diag("no free port");
			break;
		}
		if (spawn(s, o) == -1)
			break;
		deadline = harness_now_ms() + HARNESS_START_MS;
		for (;;) {
			if (reap(s, 0))
				break;
			if (probe_ready(s->port, deadline))
				return s;
			if (remaining_ms(deadline) == 0)
				break;
			harness_nap(POLL_STEP_MS);
		}
		if (s->pid > 0) {
			harness_diag("%s did not accept on port %d within %d ms",
			    s->bin, s->port, HARNESS_START_MS);
			break;
		}
		harness_diag("%s exited early (status 0x%x)", s->bin,
		    (unsigned)s->status);
		show_file("stderr", s->err_path, DIAG_LINES);
		show_file("log", s->log_path, DIAG_LINES);
		if (o->port > 0 || (!file_has(s->err_path, "in use") &&
		    !file_has(s->log_path, "in use")))
			break;
	}
	server_free(s);
	return NULL;
}

/*
 * SIGINT by pid, wait HARNESS_STOP_MS, then SIGKILL.  The server's own
 * children (natsd workers) must be gone too: they die with the master.
 * Returns 0 for a clean exit (status 0 after SIGINT), -1 otherwise.
 */
int
server_stop(struct server *s)
{
	pid_t kids[128];
	int nkids, i, j, rv = 0;

	if (s->pid <= 0)
		return reap(s, 0) && WIFEXITED(s->status) &&
		    WEXITSTATUS(s->status) == 0 ? 0 : -1;
	nkids = server_children(s, kids, 128);
	if (kill(s->pid, SIGINT) == -1)
		harness_diag("kill %d: %s", (int)s->pid, strerror(errno));
	if (!reap(s, HARNESS_STOP_MS)) {
		harness_diag("%s (pid %d) ignored SIGINT for %d ms: SIGKILL",
		    s->bin, (int)s->pid, HARNESS_STOP_MS);
		kill(s->pid, SIGKILL);
		reap(s, HARNESS_STOP_MS);
		rv = -1;
	}
	if (WIFSIGNALED(s->status)) {
		harness_diag("%s exited on signal %d%s", s->bin,
		    WTERMSIG(s->status),
		    WCOREDUMP(s->status) ? " (core dumped)" : "");
		rv = -1;
	} else if (WIFEXITED(s->status) && WEXITSTATUS(s->status) != 0) {
		harness_diag("%s exited with status %d", s->bin,
		    WEXITSTATUS(s->status));
		rv = -1;
	}
	/* Children are reparented and reaped by init; wait for that. */
	for (i = 0; i < nkids; i++) {
		for (j = 0; j < HARNESS_STOP_MS / POLL_STEP_MS; j++) {
			if (!harness_pid_running(kids[i]))
				break;
			harness_nap(POLL_STEP_MS);
		}
		if (harness_pid_running(kids[i])) {
			harness_diag("child %d outlived the master: SIGKILL",
			    (int)kids[i]);
			kill(kids[i], SIGKILL);
			rv = -1;
		}
	}
	return rv;
}

static void
remove_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;
	char *p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = harness_asprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Stop (if needed) and forget a server.  Its temp dir goes too unless
 * HARNESS_KEEP is set in the environment.
 */
void
server_free(struct server *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->pid > 0)
		server_stop(s);
	if (s->dir != NULL && s->dir[0] != '\0') {
		if (getenv("HARNESS_KEEP") != NULL)
			harness_diag("kept %s", s->dir);
		else
			remove_dir(s->dir);
	}
	for (i = 0; i < s->nallow; i++)
		free(s->allow[i]);
	free(s->allow);
	free(s->bin);
	free(s->dir);
	free(s->log_path);
	free(s->conf_path);
	free(s->err_path);
	free(s);
}

/*
 * Lines holding pattern (a substring, any case) are expected [ERR] lines:
 * a test that provokes an error allows its log line.
 */
void
server_log_allow(struct server *s, const char *pattern)
{
	char **a;

	if ((a = reallocarray(s->allow, s->nallow + 1, sizeof(*a))) == NULL)
		abort();
	s->allow = a;
	s->allow[s->nallow++] = xstrdup(pattern);
}

/*
 * Count the [ERR] and [FTL] lines in the server's log and stderr that no
 * allowed pattern covers, and every sanitizer report, showing the first
 * few.  0 means a clean log.
 */
int
server_log_check(struct server *s)
{
	const char *files[2] = { s->log_path, s->err_path };
	char *line = NULL;
	size_t cap = 0, i, k;
	FILE *f;
	int bad = 0;

	if (access(s->log_path, R_OK) == -1) {
		harness_diag("no log file %s", s->log_path);
		bad++;
	}
	for (k = 0; k < 2; k++) {
		if ((f = fopen(files[k], "r")) == NULL)
			continue;
		while (getline(&line, &cap, f) != -1) {
			/* A sanitizer's report is never allowed. */
			if (strstr(line, "Sanitizer") != NULL ||
			    strstr(line, "runtime error:") != NULL) {
				if (bad++ < DIAG_LINES) {
					line[strcspn(line, "\n")] = '\0';
					harness_diag("sanitizer: %s", line);
				}
				continue;
			}
			if (strstr(line, "[ERR]") == NULL &&
			    strstr(line, "[FTL]") == NULL)
				continue;
			for (i = 0; i < s->nallow; i++)
				if (strcasestr(line, s->allow[i]) != NULL)
					break;
			if (i < s->nallow)
				continue;
			if (bad++ < DIAG_LINES) {
				line[strcspn(line, "\n")] = '\0';
				harness_diag("unexpected log line: %s", line);
			}
		}
		fclose(f);
	}
	free(line);
	return bad;
}

/* How many log lines contain needle (a plain substring). */
int
server_log_grep(struct server *s, const char *needle)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int n = 0;

	if ((f = fopen(s->log_path, "r")) == NULL)
		return 0;
	while (getline(&line, &cap, f) != -1)
		if (strstr(line, needle) != NULL)
			n++;
	free(line);
	fclose(f);
	return n;
}

/*
 * The server's child processes (natsd's workers, router, monitor), from
 * /proc/PID/task/PID/children, or by scanning /proc for the parent pid
 * where the kernel lacks that file.  Returns how many were stored.
 */
int
harness_children(pid_t parent, pid_t *pids, int max)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	FILE *f;
	DIR *d;
	long v;
	int n = 0, ppid;

	if (parent <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
	    (int)parent, (int)parent);
	if ((f = fopen(path, "r")) != NULL) {
		while (n < max && fscanf(f, "%ld", &v) == 1)
			pids[n++] = (pid_t)v;
		fclose(f);
		return n;
	}
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == parent)
			pids[n++] = (pid_t)atol(de->d_name);
		fclose(f);
	}
	closedir(d);
	return n;
}

int
server_children(struct server *s, pid_t *pids, int max)
{
	return harness_children(s->pid, pids, max);
}

/*
 * A TCP connection to 127.0.0.1:port, non-blocking, Nagle off so that
 * every conn_write() leaves as its own segment (split-frame tests rely on
 * that).  Nothing is read.
 */
struct conn *
conn_open_raw(int port)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	struct conn *c;
	socklen_t elen = sizeof(int);
	int one = 1, err = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->port = port;
	c->client_id = -1;
	c->worker = -1;
	c->auto_pong = 1;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		harness_diag("socket: %s", strerror(errno));
		free(c);
		return NULL;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else {
			pfd.fd = c->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, HARNESS_TIMEOUT_MS) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen) == -1)
				err = errno;
		}
	}
	if (err != 0) {
		harness_diag("connect 127.0.0.1:%d: %s", port, strerror(err));
		conn_free(c);
		return NULL;
	}
	return c;
}

/*
 * Connect and read the INFO line; keep its JSON and pull out client_id
 * and natsd's "worker" (the index of the worker serving this client).
 */
struct conn *
conn_open(int port)
{
	json_error_t jerr;
	json_t *v;
	const char *line;
	struct conn *c;

	if ((c = conn_open_raw(port)) == NULL)
		return NULL;
	if ((line = conn_read_line(c, HARNESS_TIMEOUT_MS)) == NULL) {
		harness_diag("no INFO from port %d (%s)", port,
		    c->eof ? "EOF" : "timeout");
		conn_free(c);
		return NULL;
	}
	if (strncmp(line, "INFO ", 5) != 0 ||
	    (c->info = json_loads(line + 5, JSON_DISABLE_EOF_CHECK,
	    &jerr)) == NULL || !json_is_object(c->info)) {
		harness_diag("bad INFO line: %s", line);
		conn_free(c);
		return NULL;
	}
	if ((v = json_object_get(c->info, "client_id")) != NULL &&
	    json_is_integer(v))
		c->client_id = json_integer_value(v);
	if ((v = json_object_get(c->info, "worker")) != NULL &&
	    json_is_integer(v))
		c->worker = (int)json_integer_value(v);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	json_decref(c->info);
	free(c->buf);
	free(c->line);
	free(c);
}

/* Write everything, waiting (bounded) while the socket buffer is full. */
int
conn_write(struct conn *c, const void *data, size_t len)
{
	int64_t deadline = harness_now_ms() + WRITE_TIMEOUT_MS;
	const char *p = data;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			harness_diag("send: %s", strerror(errno));
			return -1;
		}
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, remaining_ms(deadline)) < 1) {
			harness_diag("send: stuck for %d ms with %zu bytes left",
			    WRITE_TIMEOUT_MS, len);
			return -1;
		}
	}
	return 0;
}

int
conn_send(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n, rv;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n == -1)
		abort();
	rv = conn_write(c, p, (size_t)n);
	free(p);
	return rv;
}

/*
 * Read more input before deadline.  Returns 1 when bytes arrived, 0 at
 * EOF (a reset counts as EOF: a server that closes with unread input
 * queued sends RST), -1 on timeout.
 */
static int
conn_fill(struct conn *c, int64_t deadline)
{
	struct pollfd pfd;
	ssize_t n;
	char *nb;
	size_t ncap;

	if (c->eof)
		return 0;
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->cap - c->len < READ_CHUNK) {
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < READ_CHUNK) {
			ncap = c->len + READ_CHUNK;
			if ((nb = realloc(c->buf, ncap)) == NULL)
				abort();
			c->buf = nb;
			c->cap = ncap;
		}
	}
	for (;;) {
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			return 1;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = 1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, remaining_ms(deadline)) < 1)
			return -1;
	}
}

static void
put_line(struct conn *c, const char *p, size_t len)
{
	char *nl;

	if (len + 1 > c->linecap) {
		if ((nl = realloc(c->line, len + 1)) == NULL)
			abort();
		c->line = nl;
		c->linecap = len + 1;
	}
	memcpy(c->line, p, len);
	c->line[len] = '\0';
}

/*
 * Take one buffered line into c->line (CR LF or bare LF stripped).
 * Returns 1 if a whole line was buffered, 0 if not.
 */
static int
take_line(struct conn *c, const char **linep)
{
	char *start = c->buf + c->off, *nl;
	size_t len;

	if (c->len == c->off ||
	    (nl = memchr(start, '\n', c->len - c->off)) == NULL)
		return 0;
	len = (size_t)(nl - start);
	c->off += len + 1;
	if (len > 0 && start[len - 1] == '\r')
		len--;
	put_line(c, start, len);
	*linep = c->line;
	return 1;
}

/*
 * The next line from the server, without its line ending, or NULL on
 * timeout or EOF.  With auto_pong a server PING is answered and skipped:
 * nats-server pings every client about 2 s after accept.  The returned
 * string stays valid until the next read on this connection.
 */
const char *
conn_read_line(struct conn *c, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	const char *line;

	for (;;) {
		while (take_line(c, &line)) {
			if (c->auto_pong && strcmp(line, "PING") == 0) {
				/* The server may be closing: ignore errors. */
				send(c->fd, "PONG\r\n", 6, MSG_NOSIGNAL);
				continue;
			}
			return line;
		}
		if (conn_fill(c, deadline) != 1)
			return NULL;
	}
}

/* 1 if the next line is exactly want; else 0 with a TAP comment. */
int
conn_expect_line(struct conn *c, const char *want, int timeout_ms)
{
	const char *line = conn_read_line(c, timeout_ms);

	if (line == NULL) {
		harness_diag("expected \"%s\", got %s", want,
		    c->eof ? "EOF" : "nothing (timeout)");
		return 0;
	}
	if (strcmp(line, want) != 0) {
		harness_diag("expected \"%s\", got \"%s\"", want, line);
		return 0;
	}
	return 1;
}

/* Exactly n bytes into out, or -1 on timeout or EOF. */
int
conn_read_bytes(struct conn *c, void *out, size_t n, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	while (c->len - c->off < n)
		if (conn_fill(c, deadline) != 1)
			return -1;
	memcpy(out, c->buf + c->off, n);
	c->off += n;
	return 0;
}

/* Strict decimal size: digits only, no sign, no overflow. */
static int
parse_size(const char *s, size_t *out)
{
	size_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) || v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

void
msg_free(struct msg *m)
{
	free(m->raw_);
	memset(m, 0, sizeof(*m));
}

/*
 * Read one MSG or HMSG with its payload.  Returns 0 for a message; 1 for
 * a line that is not one (a PONG, an -ERR), left in c->line for the
 * caller; -1 on timeout, EOF or a malformed frame, with a TAP comment.
 * m must be zeroed or hold an earlier message, which is freed.
 */
int
conn_read_msg(struct conn *c, struct msg *m, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	const char *line;
	char *tok[6], *p, *save = NULL, *data;
	size_t ntok = 0, hdr = 0, total = 0, linelen, i;
	int hmsg;

	msg_free(m);
	if ((line = conn_read_line(c, timeout_ms)) == NULL) {
		harness_diag("expected MSG, got %s",
		    c->eof ? "EOF" : "nothing (timeout)");
		return -1;
	}
	if (strncmp(line, "MSG ", 4) == 0)
		hmsg = 0;
	else if (strncmp(line, "HMSG ", 5) == 0)
		hmsg = 1;
	else
		return 1;
	linelen = strlen(line);
	/* The line is copied first: reading the payload reuses c->line. */
	if ((m->raw_ = malloc(linelen + 1)) == NULL)
		abort();
	memcpy(m->raw_, line, linelen + 1);
	for (p = strtok_r(m->raw_, " \t", &save); p != NULL && ntok < 6;
	    p = strtok_r(NULL, " \t", &save))
		tok[ntok++] = p;
	if (p != NULL || ntok < (size_t)(hmsg ? 5 : 4) ||
	    ntok > (size_t)(hmsg ? 6 : 5))
		goto bad;
	if (hmsg) {
		if (parse_size(tok[ntok - 2], &hdr) == -1 ||
		    parse_size(tok[ntok - 1], &total) == -1 || hdr > total)
			goto bad;
	} else if (parse_size(tok[ntok - 1], &total) == -1)
		goto bad;
	if ((data = malloc(total + 3)) == NULL)
		abort();
	if (conn_read_bytes(c, data, total + 2, remaining_ms(deadline)) == -1) {
		harness_diag("MSG payload of %zu bytes: %s", total,
		    c->eof ? "EOF" : "timeout");
		free(data);
		goto fail;
	}
	if (data[total] != '\r' || data[total + 1] != '\n') {
		harness_diag("MSG payload of %zu bytes not followed by CRLF",
		    total);
		free(data);
		goto fail;
	}
	/*
	 * One allocation for everything: the tokenised line, then the
	 * header block and the body, each NUL-terminated.
	 */
	if ((p = realloc(m->raw_, linelen + 1 + total + 2)) == NULL)
		abort();
	/* Re-point the tokens into the moved copy of the line. */
	for (i = 0; i < ntok; i++)
		tok[i] = p + (tok[i] - m->raw_);
	m->raw_ = p;
	p += linelen + 1;
	memcpy(p, data, hdr);
	p[hdr] = '\0';
	memcpy(p + hdr + 1, data + hdr, total - hdr);
	p[total + 1] = '\0';
	free(data);
	m->subject = tok[1];
	m->sid = tok[2];
	m->reply = ntok == (size_t)(hmsg ? 6 : 5) ? tok[3] : m->raw_ + linelen;
	m->hmsg = hmsg;
	m->headers = hmsg ? p : NULL;
	m->hdr_len = hdr;
	m->payload = p + hdr + 1;
	m->len = total - hdr;
	return 0;
bad:
	harness_diag("malformed message line \"%s\"", line);
fail:
	msg_free(m);
	return -1;
}

/*
 * 1 if the next message matches every non-NULL field (reply "" means no
 * reply subject); else 0 with a TAP comment saying what differed.
 */
int
conn_expect_msg(struct conn *c, const char *subject, const char *sid,
    const char *reply, const char *payload, int timeout_ms)
{
	struct msg m = { 0 };
	int good = 1;

	switch (conn_read_msg(c, &m, timeout_ms)) {
	case -1:
		return 0;
	case 1:
		harness_diag("expected MSG, got \"%s\"", c->line);
		return 0;
	}
	if (subject != NULL && strcmp(m.subject, subject) != 0) {
		harness_diag("MSG subject \"%s\", want \"%s\"", m.subject,
		    subject);
		good = 0;
	}
	if (sid != NULL && strcmp(m.sid, sid) != 0) {
		harness_diag("MSG sid \"%s\", want \"%s\"", m.sid, sid);
		good = 0;
	}
	if (reply != NULL && strcmp(m.reply, reply) != 0) {
		harness_diag("MSG reply \"%s\", want \"%s\"", m.reply, reply);
		good = 0;
	}
	if (payload != NULL && (m.len != strlen(payload) ||
	    memcmp(m.payload, payload, m.len) != 0)) {
		harness_diag("MSG payload \"%.*s\", want \"%s\"",
		    (int)(m.len > 200 ? 200 : m.len), m.payload, payload);
		good = 0;
	}
	msg_free(&m);
	return good;
}

/*
 * 1 if nothing but server PINGs arrives for ms milliseconds.  Only for
 * proving an absence where no PING/PONG round trip can (another process
 * delivering); prefer conn_ping() otherwise.
 */
int
conn_quiet(struct conn *c, int ms)
{
	int64_t deadline = harness_now_ms() + ms;
	const char *line;
	int r;

	for (;;) {
		while (take_line(c, &line)) {
			if (c->auto_pong && strcmp(line, "PING") == 0) {
				send(c->fd, "PONG\r\n", 6, MSG_NOSIGNAL);
				continue;
			}
			harness_diag("expected silence, got \"%s\"", line);
			return 0;
		}
		if ((r = conn_fill(c, deadline)) == 0) {
			harness_diag("expected silence, got EOF");
			return 0;
		}
		if (r == -1)
			break;
	}
	if (c->len > c->off) {
		harness_diag("expected silence, got %zu bytes without newline",
		    c->len - c->off);
		return 0;
	}
	return 1;
}

/*
 * 1 if the server closes the connection within timeout_ms.  Whatever
 * arrives first is thrown away and counted in c->discarded (tests that
 * expect a silent close check it is 0); the first line is shown.
 */
int
conn_closed(struct conn *c, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	size_t n;
	char *nl;
	int r;

	c->discarded = 0;
	for (;;) {
		if ((n = c->len - c->off) > 0) {
			if (c->discarded == 0) {
				nl = memchr(c->buf + c->off, '\n', n);
				if (nl != NULL)
					n = (size_t)(nl - (c->buf + c->off));
				harness_diag("before close: \"%.*s\"",
				    (int)(n > 200 ? 200 : n), c->buf + c->off);
			}
			c->discarded += c->len - c->off;
			c->off = c->len;
		}
		if ((r = conn_fill(c, deadline)) == 0)
			return 1;
		if (r == -1) {
			harness_diag("connection still open after %d ms",
			    timeout_ms);
			return 0;
		}
	}
}

/*
 * PING and expect PONG as the very next line: the usual proof that the
 * server has processed everything sent before it and that nothing else
 * (a MSG, an -ERR, a verbose +OK) is pending on this connection.
 */
int
conn_ping(struct conn *c, int timeout_ms)
{
	if (conn_send(c, "PING\r\n") == -1)
		return 0;
	return conn_expect_line(c, "PONG", timeout_ms);
}

/*
 * CONNECT with the harness defaults (verbose and pedantic off, headers
 * on) updated by the keys of extra_json (a JSON object text, or NULL),
 * then PING; succeeds on PONG.  A verbose CONNECT's +OK is consumed.
 */
int
conn_connect(struct conn *c, const char *extra_json)
{
	json_error_t jerr;
	json_t *o, *extra;
	char *text;
	int rv, verbose;

	o = json_pack("{s:b, s:b, s:b, s:s, s:s, s:s, s:i}",
	    "verbose", 0, "pedantic", 0, "headers", 1,
	    "name", "harness", "lang", "C", "version", "0.1.0",
	    "protocol", 1);
	if (o == NULL)
		abort();
	if (extra_json != NULL) {
		if ((extra = json_loads(extra_json, 0, &jerr)) == NULL ||
		    json_object_update(o, extra) == -1) {
			harness_diag("conn_connect: bad JSON %s: %s",
			    extra_json, jerr.text);
			json_decref(extra);
			json_decref(o);
			return -1;
		}
		json_decref(extra);
	}
	verbose = json_is_true(json_object_get(o, "verbose"));
	if ((text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		abort();
	json_decref(o);
	rv = conn_send(c, "CONNECT %s\r\nPING\r\n", text);
	free(text);
	if (rv == -1)
		return -1;
	if (verbose && !conn_expect_line(c, "+OK", HARNESS_TIMEOUT_MS))
		return -1;
	return conn_expect_line(c, "PONG", HARNESS_TIMEOUT_MS) ? 0 : -1;
}

/* conn_open() plus conn_connect(): a client ready for SUB and PUB. */
struct conn *
client_new(int port, const char *extra_json)
{
	struct conn *c;

	if ((c = conn_open(port)) == NULL)
		return NULL;
	if (conn_connect(c, extra_json) == -1) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/*
 * conn_read_msg() for loops that count messages until none comes: a
 * timeout or EOF before the first byte of a line returns -1 without a
 * TAP comment.  Once a line is buffered it behaves as conn_read_msg().
 */
int
conn_next_msg(struct conn *c, struct msg *m, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	const char *line;
	size_t n;
	int left;

	msg_free(m);
	for (;;) {
		n = c->len - c->off;
		if (n > 0 && memchr(c->buf + c->off, '\n', n) != NULL) {
			/* A server PING is answered here, as by the others. */
			if (!c->auto_pong || n < 6 ||
			    strncmp(c->buf + c->off, "PING\r\n", 6) != 0 ||
			    !take_line(c, &line))
				break;
			send(c->fd, "PONG\r\n", 6, MSG_NOSIGNAL);
			continue;
		}
		if (conn_fill(c, deadline) != 1)
			return -1;
	}
	/* The payload follows its line closely: allow it a moment. */
	left = remaining_ms(deadline);
	return conn_read_msg(c, m, left < HARNESS_TIMEOUT_MS ?
	    HARNESS_TIMEOUT_MS : left);
}

/*
 * Whether a message published on the server at from_port reaches a
 * subscriber on the server at to_port within timeout_ms: the proof that
 * a route between them carries interest and messages.  Subscribe on
 * to_port, then publish every PROBE_STEP_MS on from_port until one
 * arrives; interest propagates asynchronously, so the first few may be
 * dropped; an async INFO (the cluster changed) is skipped.  Returns 1
 * when one arrived.
 */
#define PROBE_STEP_MS	50

int
harness_route_probe(int from_port, int to_port, int timeout_ms)
{
	static unsigned	 seq;
	int64_t		 deadline = harness_now_ms() + timeout_ms;
	struct conn	*sub, *pub = NULL;
	struct msg	 m = { 0 };
	char		 subj[96];
	int		 got = 0, r;

	snprintf(subj, sizeof(subj), "_probe.%d.%u.%d.%d", (int)getpid(),
	    ++seq, from_port, to_port);
	if ((sub = client_new(to_port, NULL)) == NULL)
		return 0;
	/* No PING: an async INFO may come before the PONG. */
	if (conn_send(sub, "SUB %s 1\r\n", subj) == -1 ||
	    (pub = client_new(from_port, NULL)) == NULL)
		goto done;
	while (!got && remaining_ms(deadline) > 0) {
		if (conn_send(pub, "PUB %s 5\r\nprobe\r\n", subj) == -1)
			break;
		r = conn_next_msg(sub, &m, PROBE_STEP_MS);
		if (r == 0)
			got = strcmp(m.subject, subj) == 0;
		else if (r == 1 && strncmp(sub->line, "INFO ", 5) != 0)
			harness_diag("route probe: unexpected \"%s\"",
			    sub->line);
		else if (sub->eof)
			break;
	}
done:
	msg_free(&m);
	conn_free(pub);
	conn_free(sub);
	return got;
}

/*
 * GET path from the monitor on 127.0.0.1:port over plain HTTP/1.0 and
 * parse the body as JSON.  NULL (with a TAP comment) on any failure.
 */
json_t *
harness_http_json(int port, const char *path)
{
	json_error_t	 jerr;
	struct conn	*c;
	json_t		*o = NULL;
	char		*body;
	int64_t		 deadline;
	int		 r;

	if ((c = conn_open_raw(port)) == NULL)
		return NULL;
	if (conn_send(c, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n",
	    path, port) == -1)
		goto done;
	deadline = harness_now_ms() + HARNESS_TIMEOUT_MS;
	while ((r = conn_fill(c, deadline)) == 1)
		;
	if (r == -1) {
		harness_diag("GET %s: no end of reply within %d ms", path,
		    HARNESS_TIMEOUT_MS);
		goto done;
	}
	/* The whole reply as one string. */
	put_line(c, c->buf + c->off, c->len - c->off);
	if (strlen(c->line) < 12 || strncmp(c->line, "HTTP/1.", 7) != 0 ||
	    strncmp(c->line + 8, " 200", 4) != 0) {
		harness_diag("GET %s: not a 200 reply: %.80s", path, c->line);
		goto done;
	}
	if ((body = strstr(c->line, "\r\n\r\n")) == NULL) {
		harness_diag("GET %s: reply without a body", path);
		goto done;
	}
	if ((o = json_loads(body + 4, 0, &jerr)) == NULL)
		harness_diag("GET %s: bad JSON: %s", path, jerr.text);
done:
	conn_free(c);
	return o;
}

/*
 * A blocking TCP connection to 127.0.0.1:port whose connect, reads and
 * writes (TLS included) each give up after timeout_ms.  -1 with errno
 * set when it cannot connect.
 */
int
harness_tcp_connect(int port, int timeout_ms)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { timeout_ms / 1000,
	    (timeout_ms % 1000) * 1000 };
	int			 fd, saved;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * A bcrypt hash of pw with the given prefix ("$2a$", "$2b$") and cost,
 * to free; NULL (with a TAP comment) when libcrypt cannot make one.
 */
char *
harness_bcrypt(const char *pw, const char *prefix, int cost)
{
	struct crypt_data	*cd;
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE], *h, *out;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		abort();
	if (crypt_gensalt_rn(prefix, (unsigned long)cost, NULL, 0, salt,
	    sizeof(salt)) == NULL || (h = crypt_r(pw, salt, cd)) == NULL ||
	    h[0] == '*') {
		harness_diag("crypt %s cost %d: %s", prefix, cost,
		    strerror(errno));
		free(cd);
		return NULL;
	}
	out = xstrdup(h);
	free(cd);
	return out;
}

/* Whether a connect_urls array (INFO's, libnats's) lists 127.0.0.1:port. */
int
harness_lists_url(json_t *urls, int port)
{
	char	 want[32];
	json_t	*v;
	size_t	 i;

	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	json_array_foreach(urls, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) ==
		    0)
			return 1;
	return 0;
}

/* server_start() with workers (natsd only), a config text and args. */
struct server *
server_start_with(int workers, const char *config, const char *const *args)
{
	struct server_opts o;

	memset(&o, 0, sizeof(o));
	o.workers = workers;
	o.config = config;
	o.args = args;
	return server_start(&o);
}

/* server_log_allow() for each of a NULL-terminated list (or NULL). */
void
server_log_allow_list(struct server *s, const char *const *patterns)
{
	size_t i;

	for (i = 0; patterns != NULL && patterns[i] != NULL; i++)
		server_log_allow(s, patterns[i]);
}

/* Replace the server's configuration file (for a reload). */
int
server_write_conf(struct server *s, const char *text)
{
	if (s->conf_path == NULL) {
		harness_diag("%s was started without a configuration file",
		    s->bin);
		return -1;
	}
	return write_file(s->conf_path, text);
}

/* Wait at most ms until n lines of the log contain needle. */
int
server_wait_log(struct server *s, const char *needle, int n, int ms)
{
	int64_t deadline = harness_now_ms() + ms;

	for (;;) {
		if (server_log_grep(s, needle) >= n)
			return 1;
		if (remaining_ms(deadline) == 0)
			break;
		harness_nap(POLL_STEP_MS);
	}
	harness_diag("log never showed %d x \"%s\"", n, needle);
	return 0;
}

/*
 * Wait at most ms until a line of the log contains needle in any case
 * (nats-server and natsd capitalize some messages differently).
 */
int
server_wait_log_icase(struct server *s, const char *needle, int ms)
{
	int64_t deadline = harness_now_ms() + ms;

	for (;;) {
		if (file_has(s->log_path, needle))
			return 1;
		if (remaining_ms(deadline) == 0)
			break;
		harness_nap(POLL_STEP_MS);
	}
	harness_diag("log never showed \"%s\" in any case", needle);
	return 0;
}

/*
 * Rewrite the configuration file, SIGHUP the master and wait at most ms
 * for its nth "Reloaded server configuration" line.
 */
int
server_reload(struct server *s, const char *text, int nth, int ms)
{
	if (server_write_conf(s, text) == -1)
		return 0;
	if (kill(s->pid, SIGHUP) == -1) {
		harness_diag("kill -HUP %d: %s", (int)s->pid, strerror(errno));
		return 0;
	}
	return server_wait_log(s, "Reloaded server configuration", nth, ms);
}

/*
 * PING and wait for the PONG past async INFOs, which a cluster's clients
 * get whenever it changes: the server took everything sent before.
 */
int
conn_flush(struct conn *c, int timeout_ms)
{
	int64_t		 deadline = harness_now_ms() + timeout_ms;
	const char	*line;

	if (conn_send(c, "PING\r\n") == -1)
		return 0;
	while ((line = conn_read_line(c, remaining_ms(deadline))) != NULL) {
		if (strcmp(line, "PONG") == 0)
			return 1;
		if (strncmp(line, "INFO ", 5) != 0) {
			harness_diag("expected PONG, got \"%s\"", line);
			return 0;
		}
	}
	harness_diag("expected PONG, got %s", c->eof ? "EOF" : "nothing");
	return 0;
}

/*
 * Start a cluster node.  Without config it joins by flags: its route
 * listen port n->cport, the cluster name HARNESS_CLUSTER and, when
 * routes is not NULL, the route URLs to solicit (comma separated).
 * With config the cluster block is the caller's.  n->extra may add
 * flags; a monitor port is picked when monitor is set.  bin NULL means
 * $NATSD.
 */
int
node_start(struct node *n, const char *label, const char *bin,
    const char *routes, const char *config, int monitor)
{
	const char	*args[24];
	char		 curl[64], mport[16];
	size_t		 i = 0, k;
	struct server_opts o;

	n->label = label;
	n->bin = bin;
	n->natsd = !harness_is_nats_server(bin != NULL ? bin :
	    harness_server_bin());
	n->mport = monitor ? harness_free_port() : 0;
	if (config == NULL) {
		snprintf(curl, sizeof(curl), "nats://127.0.0.1:%d", n->cport);
		args[i++] = "--cluster";
		args[i++] = curl;
		args[i++] = "--cluster_name";
		args[i++] = HARNESS_CLUSTER;
		if (routes != NULL) {
			args[i++] = "--routes";
			args[i++] = routes;
		}
	}
	if (monitor) {
		snprintf(mport, sizeof(mport), "%d", n->mport);
		args[i++] = "-m";
		args[i++] = mport;
	}
	for (k = 0; n->extra != NULL && n->extra[k] != NULL && i < 23; k++)
		args[i++] = n->extra[k];
	args[i] = NULL;
	memset(&o, 0, sizeof(o));
	o.bin = bin;
	o.workers = HARNESS_NODE_WORKERS;
	o.config = config;
	o.args = args;
	if ((n->s = server_start(&o)) == NULL) {
		harness_diag("node %s did not start", label);
		return -1;
	}
	return 0;
}

/*
 * Three nodes n[0..2] joined by flags: A the seed, B given only A, C
 * given only A or only B (cseed 0 or 1), so that a full mesh needs the
 * gossip; with monitors if asked.  bins NULL, or bins[i] NULL, means
 * $NATSD.  -1 when one does not start (the others may have).
 */
int
cluster_start3(struct node *n, const char *const *bins, int monitor,
    int cseed)
{
	static const char *const label[3] = { "A", "B", "C" };
	char	*seed[3];
	int	 i, rv = 0;

	memset(n, 0, 3 * sizeof(*n));
	for (i = 0; i < 3; i++)
		n[i].cport = harness_free_port();
	seed[0] = NULL;
	seed[1] = harness_asprintf("nats://127.0.0.1:%d", n[0].cport);
	seed[2] = harness_asprintf("nats://127.0.0.1:%d", n[cseed].cport);
	for (i = 0; i < 3 && rv == 0; i++)
		rv = node_start(&n[i], label[i], bins != NULL ? bins[i] : NULL,
		    seed[i], NULL, monitor);
	free(seed[1]);
	free(seed[2]);
	return rv;
}

/* The whole file as a string ("" when missing); the caller frees. */
char *
harness_slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if ((buf = calloc(1, (size_t)n + 1)) == NULL)
		abort();
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}
