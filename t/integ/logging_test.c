/*
 * Logging across natsd's processes.
 *
 * Rotation the way logrotate does it: rename the log file, send SIGUSR1
 * to the master, and every process (the master, which forwards the
 * signal, and each worker) must write its next lines to a new file under
 * the old name; lines from all of them, none in the renamed file.
 *
 * remote_syslog from the configuration file: every process sends
 * nats-server's remote syslog lines to a UDP socket of the test, tagged
 * by process, and nothing goes to stderr.
 *
 * natsd only: nats-server has neither workers nor natsd's tags.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "../tap.h"

#define NW		2	/* workers */
#define T		5000	/* ms: whatever is awaited comes within */
#define MAX_OPEN	40	/* connections tried to reach every worker */
#define RFC3339_RE	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:" \
			"[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})"

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

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return 0;
	m = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

/* The children of pid titled "natsd: worker <slot>", by slot. */
static int
worker_pids(pid_t master, pid_t *w, int nw)
{
	char	title[32];
	int	slot, found = 0;

	for (slot = 0; slot < nw; slot++) {
		snprintf(title, sizeof(title), "natsd: worker %d", slot);
		if ((w[slot] = harness_child_titled(master, title)) > 0)
			found++;
	}
	return found;
}

static int
all_workers(pid_t master, pid_t *w)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (worker_pids(master, w, NW) == NW)
			return 1;
		nap(10);
	}
	return 0;
}

/*
 * Connect until every worker served one client; ports[w] is the local
 * port of worker w's client (its log lines name it).  Returns 1 when
 * every worker was reached.
 */
static int
one_per_worker(int port, int *ports)
{
	struct conn		*kept[MAX_OPEN];
	struct sockaddr_in	 sin;
	socklen_t		 len;
	int			 n = 0, i, w, reached = 0;

	for (w = 0; w < NW; w++)
		ports[w] = -1;
	for (i = 0; i < MAX_OPEN && reached < NW; i++) {
		if ((kept[n] = client_new(port, NULL)) == NULL)
			break;
		w = kept[n]->worker;
		len = sizeof(sin);
		if (w >= 0 && w < NW && ports[w] == -1 &&
		    getsockname(kept[n]->fd, (struct sockaddr *)&sin,
		    &len) == 0) {
			ports[w] = ntohs(sin.sin_port);
			reached++;
		}
		n++;
	}
	while (n > 0)
		conn_free(kept[--n]);
	return reached == NW;
}

/* Wait until every needle is in the file; 1 if they all came. */
static int
file_has_all(const char *path, char needles[][160], int n, int ms)
{
	int64_t	 deadline = harness_now_ms() + ms;
	char	*s;
	int	 i, missing;

	for (;;) {
		s = harness_slurp(path);
		for (i = 0, missing = 0; i < n; i++)
			if (strstr(s, needles[i]) == NULL) {
				if (harness_now_ms() >= deadline)
					diag("%s lacks \"%s\"", path, needles[i]);
				missing++;
			}
		free(s);
		if (missing == 0)
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		nap(10);
	}
}

static void
test_rotate(void)
{
	static const char *const args[] = { "-D", NULL };
	struct server_opts	 o = { 0 };
	struct server		*s;
	pid_t			 w[NW];
	char			 old[600], want[2 * NW + 2][160], *text;
	int			 ports[NW], i, n;

	o.workers = NW;
	o.args = args;
	if ((s = server_start(&o)) == NULL) {
		ok(0, "natsd -l FILE --workers %d -D starts", NW);
		return;
	}
	ok(all_workers(s->pid, w), "both workers are up");
	ok(one_per_worker(s->port, ports), "a client on each worker");

	snprintf(old, sizeof(old), "%s.1", s->log_path);
	ok(rename(s->log_path, old) == 0, "rename the log file");
	ok(kill(s->pid, SIGUSR1) == 0, "SIGUSR1 to the master");

	/* Each process says it reopened, in the new file, with its tag. */
	n = 0;
	snprintf(want[n++], sizeof(want[0]), "[%d] ", (int)s->pid);
	for (i = 0; i < NW; i++)
		snprintf(want[n++], sizeof(want[0]), "[%d] ", (int)w[i]);
	ok(file_has_all(s->log_path, want, n, T),
	    "the master and every worker write to the new file");
	n = 0;
	snprintf(want[n++], sizeof(want[0]), "[INF] File log re-opened\n");
	for (i = 0; i < NW; i++)
		snprintf(want[n++], sizeof(want[0]),
		    "[INF] worker %d: File log re-opened\n", i);
	ok(file_has_all(s->log_path, want, n, T),
	    "their re-open lines: the master untagged, workers tagged");
	text = harness_slurp(s->log_path);
	{
		char re[128];

		snprintf(re, sizeof(re), "^\\[%d\\] [0-9/]{10} [0-9:.]{15} "
		    "\\[INF\\] File log re-opened$", (int)s->pid);
		ok(matches(text, re), "the master's line in nats-server's "
		    "format");
	}
	free(text);

	/* New clients on every worker: their debug lines land there too. */
	ok(one_per_worker(s->port, ports), "new clients on each worker");
	n = 0;
	for (i = 0; i < NW; i++)
		snprintf(want[n++], sizeof(want[0]),
		    "127.0.0.1:%d - cid:", ports[i]);
	ok(file_has_all(s->log_path, want, n, T),
	    "each worker's client lines are in the new file");
	text = harness_slurp(old);
	for (i = 0, n = 0; i < NW; i++)
		if (ports[i] > 0 && strstr(text, want[i]) != NULL)
			n++;
	is_int(n, 0, "and none in the renamed file");
	ok(strstr(text, "File log re-opened") == NULL,
	    "the renamed file got no line after the signal");
	free(text);

	/* A second SIGUSR1 without a rename: all keep the same file. */
	ok(kill(s->pid, SIGUSR1) == 0, "SIGUSR1 again");
	{
		int64_t	deadline = harness_now_ms() + T;
		char	*p;
		int	count = 0;

		while (count < 2 * (NW + 1) && harness_now_ms() < deadline) {
			text = harness_slurp(s->log_path);
			for (count = 0, p = text; (p = strstr(p,
			    "File log re-opened")) != NULL; p++)
				count++;
			free(text);
			if (count < 2 * (NW + 1))
				nap(10);
		}
		is_int(count, 2 * (NW + 1), "every process reopened twice");
	}
	ok(server_alive(s), "natsd still runs");
	is_int(server_stop(s), 0, "natsd stops cleanly");
	is_int(server_log_check(s), 0, "no unexpected errors in the log");
	server_free(s);
}

/* natsd without the harness's -l: remote_syslog must be the sink. */
static pid_t
spawn(const char *bin, int port, const char *conf, const char *rflag,
    const char *errpath)
{
	char		 portstr[16], workers[16];
	const char	*argv[16];
	int		 argc = 0, fd;
	pid_t		 pid, parent = getpid();

	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(workers, sizeof(workers), "%d", NW);
	argv[argc++] = bin;
	argv[argc++] = "-a";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "-p";
	argv[argc++] = portstr;
	argv[argc++] = "--workers";
	argv[argc++] = workers;
	argv[argc++] = "-D";
	if (conf != NULL) {
		argv[argc++] = "-c";
		argv[argc++] = conf;
	}
	if (rflag != NULL) {
		argv[argc++] = "-r";
		argv[argc++] = rflag;
	}
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644))
		    != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Stop by pid: SIGTERM, then SIGKILL; bounded.  1 if it exited 0. */
static int
stop(pid_t pid)
{
	int64_t	deadline = harness_now_ms() + T;
	int	st = 0;

	kill(pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (harness_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 0;
		}
		nap(10);
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Datagrams until one holds needle (kept in buf, appended); bounded. */
static int
recv_until(int fd, char *buf, size_t cap, size_t *len, const char *needle,
    int ms)
{
	int64_t		deadline = harness_now_ms() + ms;
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;
	int		left;

	buf[*len] = '\0';
	while (strstr(buf, needle) == NULL) {
		left = (int)(deadline - harness_now_ms());
		if (left <= 0 || *len + 1 >= cap)
			return 0;
		if (poll(&pfd, 1, left) != 1)
			return 0;
		if ((n = recv(fd, buf + *len, cap - 1 - *len, 0)) <= 0)
			return 0;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return 1;
}

/* Does something accept on the port?  Quietly, unlike conn_open_raw(). */
static int
accepts(int port)
{
	struct sockaddr_in	sin;
	int			fd, rv;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rv = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return rv;
}

/* Start natsd one way; 1 once it serves, with pid set. */
static int
start_remote(const char *bin, int port, const char *conf, const char *url,
    const char *errpath, pid_t *pidp)
{
	int64_t		 deadline;
	int		 st;

	*pidp = spawn(bin, port, conf, url, errpath);
	deadline = harness_now_ms() + T;
	while (harness_now_ms() < deadline) {
		if (waitpid(*pidp, &st, WNOHANG) == *pidp) {
			char *e = harness_slurp(errpath);

			diag("natsd %s exited: %.300s", conf != NULL ?
			    "-c (remote_syslog in the file)" : "-r", e);
			free(e);
			*pidp = -1;
			return 0;
		}
		if (accepts(port))
			return 1;
		nap(20);
	}
	stop(*pidp);
	*pidp = -1;
	return 0;
}

static void
test_remote(void)
{
	const char		*bin = harness_server_bin();
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	char			 dir[] = "/tmp/natsd-logging.XXXXXX";
	char			 conf[300], errpath[300], url[64], text[200];
	char			 host[256], want[256], re[512], *buf, *e;
	size_t			 len = 0, cap = 1 << 20;
	pid_t			 pid, w[NW];
	int			 ufd, port, ports[NW], i, how;
	FILE			*f;

	if ((buf = malloc(cap)) == NULL)
		abort();
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		free(buf);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(ufd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(ufd, (struct sockaddr *)&sin, &slen);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%d", ntohs(sin.sin_port));
	snprintf(conf, sizeof(conf), "%s/natsd.conf", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", dir);
	snprintf(text, sizeof(text), "# remote syslog to the test\n"
	    "remote_syslog: \"%s\"\n", url);
	if ((f = fopen(conf, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}

	/* The file's remote_syslog; else the -r flag. */
	port = harness_free_port();
	how = 0;
	if (start_remote(bin, port, conf, NULL, errpath, &pid))
		how = 1;
	else if (start_remote(bin, port, NULL, url, errpath, &pid))
		how = 2;
	ok(how == 1, "natsd -c FILE with remote_syslog starts");
	if (how == 0) {
		ok(0, "natsd -r %s starts", url);
		goto out;
	}
	if (how == 2)
		diag("remote_syslog in the file refused; using -r");

	ok(all_workers(pid, w), "both workers are up");
	snprintf(want, sizeof(want), " natsd[%d]: Server is ready\n", (int)pid);
	ok(recv_until(ufd, buf, cap, &len, want, T),
	    "the master's lines arrive over udp");
	snprintf(re, sizeof(re), "^<30>" RFC3339_RE " %s natsd\\[%d\\]: "
	    "Server is ready$", host, (int)pid);
	ok(matches(buf, re), "<30>RFC3339 host natsd[pid]: msg, as nats-server "
	    "sends it");
	ok(one_per_worker(port, ports), "a client on each worker");
	for (i = 0; i < NW; i++) {
		snprintf(want, sizeof(want), "127.0.0.1:%d - cid:", ports[i]);
		ok(recv_until(ufd, buf, cap, &len, want, T),
		    "worker %d's client lines arrive", i);
		snprintf(re, sizeof(re), "^<31>" RFC3339_RE " %s natsd\\[%d\\]: "
		    "worker %d: 127\\.0\\.0\\.1:%d - cid:[0-9]+ - Client "
		    "connection created$", host, (int)w[i], i, ports[i]);
		ok(matches(buf, re), "from worker %d's pid, tagged, at debug",
		    i);
	}
	e = harness_slurp(errpath);
	is_str(e, "", "nothing on stderr");
	free(e);
	ok(stop(pid), "natsd stops cleanly");
out:
	close(ufd);
	unlink(conf);
	unlink(errpath);
	rmdir(dir);
	free(buf);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (harness_is_nats_server(harness_server_bin())) {
		skip("natsd only: nats-server has no workers");
		return done_testing();
	}
	test_rotate();
	test_remote();
	return done_testing();
}
