/*
 * Operating natsd: the pid file (written by the master, locked, removed
 * on exit, left unlocked by a SIGKILL), every `natsd -sl' form (=PID,
 * =PIDFILE, the pid file of -P and of the configuration, discovery in
 * /proc) and its errors, and the sd_notify messages a Type=notify unit
 * sees, read from a NOTIFY_SOCKET of our own.  natsd only.
 *
 * Discovery finds every natsd master on the machine: the points that
 * need ours to be the only one are skipped when another runs, and those
 * that need none running are skipped likewise.  Nothing here signals a
 * process this test did not start.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "../tap.h"

#define T		5000	/* ms: a signal is acted on, a process exits */
#define T_LINE		1000	/* ms: a client's log line is written */
#define WORKERS		2
#define MAX_OPEN	40	/* connections tried to reach every worker */
#define MAX_MASTERS	64
#define OUT_MAX		4096
#define SHOW_LINES	8	/* lines of a run's output shown */

static const char	*bin;
static char		*tdir;		/* this test's files */
static int		 nfiles;

static char	*tpath(const char *);
static pid_t	 spawn(const char *const *, const char *, const char *);
static int	 wait_status(pid_t, int, int *);
static int	 run(char *, size_t, ...);
static void	 show(const char *const *, int, const char *);
static int	 slurp(const char *, char *, size_t);
static int	 count_lines(const char *, const char *, const char *);
static int	 wait_lines(const char *, const char *, const char *, int, int);
static int	 wait_file(const char *, int);
static int	 line_where(const char *, const char *, const char *, int);
static pid_t	 file_pid(const char *);
static int	 file_locked(const char *);
static int	 holds_file(pid_t, const char *);
static int	 masters(pid_t *, int);
static int	 only_master(pid_t);
static int	 lists_pid(const char *, pid_t);
static int	 wait_gone(struct server *, int);
static int	 kids_gone(const pid_t *, int, int);
static int	 children_of(pid_t, pid_t *, int, int);
static void	 test_pidfile(void);
static void	 test_sl_forms(void);
static void	 test_sl_errors(void);
static void	 test_sl_stop(void);
static void	 test_sl_discovery(void);
static void	 test_notify(void);

/* A fresh name in this test's directory (freed at exit with the dir). */
static char *
tpath(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%d-%s", tdir, nfiles++, name) == -1)
		abort();
	return p;
}

/*
 * Start argv (argv[0] is the binary) with its output in outpath and, if
 * notify is set, NOTIFY_SOCKET=notify in its environment only.
 */
static pid_t
spawn(const char *const *argv, const char *outpath, const char *notify)
{
	pid_t	 pid, parent = getpid();
	int	 fd;

	fflush(stdout);
	switch ((pid = fork())) {
	case -1:
		diag("fork: %s", strerror(errno));
		return -1;
	case 0:
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (notify != NULL)
			setenv("NOTIFY_SOCKET", notify, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if ((fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC,
		    0644)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/*
 * Wait at most ms for pid (our child) to exit; 1 and its wait status
 * once it did, 0 while it runs.
 */
static int
wait_status(pid_t pid, int ms, int *status)
{
	int64_t	 deadline = harness_now_ms() + ms;
	pid_t	 r;

	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return 1;
		if (r == -1)
			return 0;
		if (harness_now_ms() >= deadline)
			return 0;
		harness_nap(10);
	}
}

/*
 * Run natsd with the NULL-terminated arguments given, its stdout and
 * stderr into out; its exit code, or -1 (and it killed) when it did not
 * exit by itself within T or died on a signal.
 */
static int
run(char *out, size_t outlen, ...)
{
	const char	*argv[32];
	char		*outpath = tpath("run.out");
	va_list		 ap;
	size_t		 argc = 0;
	pid_t		 pid;
	int		 status, rc = -1;

	argv[argc++] = bin;
	va_start(ap, outlen);
	while (argc < sizeof(argv) / sizeof(argv[0]) - 1 &&
	    (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	out[0] = '\0';
	if ((pid = spawn(argv, outpath, NULL)) == -1) {
		free(outpath);
		return -1;
	}
	if (!wait_status(pid, T, &status)) {
		diag("%s %s did not exit within %d ms: killed", bin, argv[1],
		    T);
		kill(pid, SIGKILL);
		wait_status(pid, T, &status);
	} else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	slurp(outpath, out, outlen);
	show(argv, rc, out);
	free(outpath);
	return rc;
}

/* What natsd said, as TAP comments: the command, its exit, some lines. */
static void
show(const char *const *argv, int rc, const char *out)
{
	const char	*p = out, *nl;
	int		 lines = 0;

	diag("natsd %s %s: exit %d", argv[1], argv[2] != NULL ? argv[2] : "",
	    rc);
	while (*p != '\0' && lines++ < SHOW_LINES) {
		nl = p + strcspn(p, "\n");
		diag("  %.*s", (int)(nl - p), p);
		p = *nl != '\0' ? nl + 1 : nl;
	}
}

/* A file's text into buf (NUL-terminated, cut to fit); -1 if unreadable. */
static int
slurp(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(fd);
	return 0;
}

/* How many lines of path contain needle and, if not NULL, also and. */
static int
count_lines(const char *path, const char *needle, const char *and)
{
	char	*line = NULL;
	size_t	 cap = 0;
	FILE	*f;
	int	 n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (getline(&line, &cap, f) != -1)
		if (strcasestr(line, needle) != NULL &&
		    (and == NULL || strcasestr(line, and) != NULL))
			n++;
	free(line);
	fclose(f);
	return n;
}

/* Wait at most ms until path holds more than had such lines. */
static int
wait_lines(const char *path, const char *needle, const char *and, int had,
    int ms)
{
	int64_t deadline = harness_now_ms() + ms;

	for (;;) {
		if (count_lines(path, needle, and) > had)
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		harness_nap(10);
	}
}

/* Wait at most ms until path exists. */
static int
wait_file(const char *path, int ms)
{
	int64_t deadline = harness_now_ms() + ms;

	for (;;) {
		if (access(path, F_OK) == 0)
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		harness_nap(10);
	}
}

/*
 * Wait at most ms for a line with needle in one of two files: 1 when it
 * is in first, 2 in second, 0 in neither.
 */
static int
line_where(const char *first, const char *second, const char *needle,
    int ms)
{
	int64_t deadline = harness_now_ms() + ms;

	for (;;) {
		if (count_lines(first, needle, NULL) > 0)
			return 1;
		if (count_lines(second, needle, NULL) > 0)
			return 2;
		if (harness_now_ms() >= deadline)
			return 0;
		harness_nap(10);
	}
}

/* The pid a pid file holds, -1 if none. */
static pid_t
file_pid(const char *path)
{
	char	 buf[64], *end;
	long	 v;

	if (slurp(path, buf, sizeof(buf)) == -1)
		return -1;
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > INT_MAX)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' ? (pid_t)v : -1;
}

/* Whether some process holds path's flock (libbsd pidfile's lock). */
static int
file_locked(const char *path)
{
	int fd, locked;

	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	locked = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return locked;
}

/* Whether pid has path open (a child that kept the pid file's fd). */
static int
holds_file(pid_t pid, const char *path)
{
	char		 dir[64], fdp[320], target[PATH_MAX], real[PATH_MAX];
	struct dirent	*de;
	ssize_t		 n;
	DIR		*d;
	int		 found = 0;

	if (realpath(path, real) == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(fdp, sizeof(fdp), "%s/%s", dir, de->d_name);
		if ((n = readlink(fdp, target, sizeof(target) - 1)) > 0) {
			target[n] = '\0';
			found = strcmp(target, real) == 0;
		}
	}
	closedir(d);
	return found;
}

/* Every natsd master on the machine (title "natsd: master"). */
static int
masters(pid_t *pids, int max)
{
	char		 path[300], buf[32];
	struct dirent	*de;
	ssize_t		 r;
	DIR		*d;
	int		 n = 0, fd;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		r = read(fd, buf, sizeof(buf));
		close(fd);
		if (r >= 14 && memcmp(buf, "natsd: master", 14) == 0)
			pids[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return n;
}

/* Whether pid is the one natsd master on the machine. */
static int
only_master(pid_t pid)
{
	pid_t	 pids[MAX_MASTERS];
	int	 n = masters(pids, MAX_MASTERS);

	return n == 1 && pids[0] == pid;
}

/* Whether text names pid as a whole number. */
static int
lists_pid(const char *text, pid_t pid)
{
	char		 want[16];
	const char	*p = text;
	size_t		 len;

	len = (size_t)snprintf(want, sizeof(want), "%d", (int)pid);
	while ((p = strstr(p, want)) != NULL) {
		if ((p == text || !isdigit((unsigned char)p[-1])) &&
		    !isdigit((unsigned char)p[len]))
			return 1;
		p += len;
	}
	return 0;
}

/* Wait at most ms for a harness server to exit by itself. */
static int
wait_gone(struct server *s, int ms)
{
	int64_t deadline = harness_now_ms() + ms;

	for (;;) {
		if (!server_alive(s))
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		harness_nap(10);
	}
}

static int
kids_gone(const pid_t *kids, int n, int ms)
{
	int64_t	 deadline = harness_now_ms() + ms;
	int	 i, alive;

	for (;;) {
		for (i = 0, alive = 0; i < n; i++)
			alive += harness_pid_running(kids[i]);
		if (alive == 0)
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		harness_nap(10);
	}
}

/*
 * The children of parent, by the parent pid in /proc/N/stat (the
 * kernel's task children list is not reliable while they run), waiting
 * at most T for want of them; how many were found.
 */
static int
children_of(pid_t parent, pid_t *kids, int max, int want)
{
	int64_t		 deadline = harness_now_ms() + T;
	char		 path[300], buf[512], *p;
	struct dirent	*de;
	FILE		*f;
	DIR		*d;
	int		 n, ppid;

	for (;;) {
		n = 0;
		if ((d = opendir("/proc")) == NULL)
			return 0;
		while (n < max && (de = readdir(d)) != NULL) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat",
			    de->d_name);
			if ((f = fopen(path, "r")) == NULL)
				continue;
			if (fgets(buf, sizeof(buf), f) != NULL &&
			    (p = strrchr(buf, ')')) != NULL &&
			    sscanf(p + 1, " %*c %d", &ppid) == 1 &&
			    ppid == parent)
				kids[n++] = (pid_t)atoi(de->d_name);
			fclose(f);
		}
		closedir(d);
		if (n >= want || harness_now_ms() >= deadline)
			return n;
		harness_nap(10);
	}
}

/*
 * -P FILE: the master writes its pid, holds the lock, its children do
 * not keep the file open; a second natsd on the same file refuses and
 * leaves it alone; a stop removes it.  pid_file in the configuration
 * does the same.
 */
static void
test_pidfile(void)
{
	char		*pf = tpath("natsd.pid"), *log2 = tpath("second.log");
	char		 out[OUT_MAX], port[16], conf[PATH_MAX + 32];
	const char	*args[] = { "-D", "-P", pf, NULL }, *why;
	struct server	*s;
	pid_t		 kids[16];
	int64_t		 deadline;
	int		 nkids, i, held = 0, rc;

	if ((s = server_start_with(WORKERS, NULL, args)) == NULL) {
		ok(0, "natsd -P FILE starts");
		goto out;
	}
	is_int(file_pid(pf), s->pid, "-P: the pid file holds the master's pid");
	ok(file_locked(pf), "-P: the pid file is locked");
	nkids = children_of(s->pid, kids, 16, WORKERS);
	is_int(nkids, WORKERS, "the master runs %d workers", WORKERS);
	/* A child just forked holds it until it runs: poll. */
	deadline = harness_now_ms() + T;
	do {
		if (held > 0)
			harness_nap(10);
		for (i = 0, held = 0; i < nkids; i++)
			held += holds_file(kids[i], pf);
	} while (held > 0 && harness_now_ms() < deadline);
	is_int(held, 0, "no child keeps the pid file open");

	snprintf(port, sizeof(port), "%d", harness_free_port());
	rc = run(out, sizeof(out), "-a", "127.0.0.1", "-p", port, "-l", log2,
	    "--workers", "1", "-P", pf, NULL);
	ok(rc > 0, "a second natsd with the same pid file exits with an "
	    "error (%d)", rc);
	/* The reason is logged: in its log file, or on stderr. */
	if ((why = strstr(out, "another natsd holds pid file")) == NULL &&
	    slurp(log2, out, sizeof(out)) == 0)
		why = strstr(out, "another natsd holds pid file");
	ok(why != NULL, "it says another natsd holds the pid file");
	ok(why != NULL && lists_pid(why, s->pid), "and names the holder's "
	    "pid");
	is_int(file_pid(pf), s->pid, "the pid file still holds the first "
	    "master's pid");
	ok(server_alive(s) && file_locked(pf), "the first natsd still runs "
	    "and holds the lock");

	ok(server_stop(s) == 0, "natsd stops cleanly on SIGINT");
	ok(access(pf, F_OK) == -1 && errno == ENOENT,
	    "the pid file is removed on exit");
	server_free(s);

	/* The same through the configuration file. */
	snprintf(conf, sizeof(conf), "pid_file: \"%s\"\n", pf);
	if ((s = server_start_with(WORKERS, conf, NULL)) == NULL) {
		ok(0, "natsd with pid_file in its configuration starts");
		goto out;
	}
	is_int(file_pid(pf), s->pid, "pid_file: the file holds the master's "
	    "pid");
	ok(file_locked(pf), "pid_file: the file is locked");
	ok(server_stop(s) == 0, "natsd stops cleanly");
	ok(access(pf, F_OK) == -1, "pid_file: removed on exit");
	server_free(s);
out:
	free(pf);
	free(log2);
}

/*
 * Every -sl form that does not stop natsd, against one with -P: reopen
 * by =PID and by =PIDFILE (rename the log, signal, and every worker's
 * next lines land in the new file), reload by -P, by the configuration's
 * pid_file and by discovery; then quit by =PID.
 */
static void
test_sl_forms(void)
{
	char		*pf = tpath("forms.pid"), *conf = tpath("forms.conf");
	char		*rotated = NULL, out[OUT_MAX], pidarg[64], needle[64];
	char		 text[PATH_MAX + 32], master[32];
	const char	*args[] = { "-D", "-P", pf, NULL };
	struct server	*s;
	struct conn	*c[MAX_OPEN];
	pid_t		 kids[16];
	int		 nkids, n = 0, i, w, need, had;
	int		 seen[WORKERS];
	FILE		*f;

	if ((s = server_start_with(WORKERS, NULL, args)) == NULL) {
		ok(0, "natsd -P FILE starts");
		goto out;
	}
	nkids = children_of(s->pid, kids, 16, WORKERS);
	/* The master's lines: nats-server's format starts with "[pid] ". */
	snprintf(master, sizeof(master), "[%d] ", (int)s->pid);

	/* reopen=PID */
	if (asprintf(&rotated, "%s.1", s->log_path) == -1)
		abort();
	ok(rename(s->log_path, rotated) == 0, "log renamed as logrotate does");
	snprintf(pidarg, sizeof(pidarg), "reopen=%d", (int)s->pid);
	is_int(run(out, sizeof(out), "-sl", pidarg, NULL), 0,
	    "-sl reopen=PID exits 0");
	ok(wait_file(s->log_path, T), "reopen: a new log file appears");
	/*
	 * Every worker reopened: its clients' debug lines land in the new
	 * file.  Connections stay open so that they spread over the workers;
	 * a worker still reopening writes to the old file, so try again.
	 */
	memset(seen, 0, sizeof(seen));
	need = WORKERS;
	while (need > 0 && n < MAX_OPEN) {
		if ((c[n] = conn_open(s->port)) == NULL)
			break;
		w = c[n]->worker;
		snprintf(needle, sizeof(needle), "cid:%lld ",
		    (long long)c[n]->client_id);
		n++;
		if (w < 0 || w >= WORKERS || seen[w])
			continue;
		if (line_where(s->log_path, rotated, needle, T_LINE) == 1) {
			seen[w] = 1;
			need--;
		}
	}
	is_int(need, 0, "reopen: every worker's new lines are in the new "
	    "log file");
	while (n > 0)
		conn_free(c[--n]);
	for (i = 0; i < nkids; i++)
		ok(harness_pid_running(kids[i]), "reopen: worker pid %d still "
		    "runs", (int)kids[i]);

	/* reopen=PIDFILE, nats-server's other form. */
	unlink(rotated);
	ok(rename(s->log_path, rotated) == 0, "log renamed again");
	snprintf(text, sizeof(text), "reopen=%s", pf);
	is_int(run(out, sizeof(out), "-sl", text, NULL), 0,
	    "-sl reopen=PIDFILE exits 0");
	ok(wait_file(s->log_path, T), "reopen=PIDFILE: a new log file "
	    "appears");

	/* reload by -P: the master logs about it and keeps serving. */
	had = count_lines(s->log_path, master, "reload");
	is_int(run(out, sizeof(out), "-sl", "reload", "-P", pf, NULL), 0,
	    "-sl reload -P PIDFILE exits 0");
	ok(wait_lines(s->log_path, master, "reload", had, T),
	    "reload: the master logs about the reload");
	c[0] = client_new(s->port, NULL);
	ok(c[0] != NULL && conn_ping(c[0], T), "natsd serves after the "
	    "reload");
	conn_free(c[0]);

	/* reload by the configuration's pid_file. */
	if ((f = fopen(conf, "w")) != NULL) {
		fprintf(f, "# only the pid file matters to -sl\n"
		    "pid_file: \"%s\"\n", pf);
		fclose(f);
	}
	had = count_lines(s->log_path, master, "reload");
	is_int(run(out, sizeof(out), "-sl", "reload", "-c", conf, NULL), 0,
	    "-sl reload -c CONF (pid_file) exits 0");
	ok(wait_lines(s->log_path, master, "reload", had, T),
	    "reload by the configuration's pid file reaches the master");

	/* reload by discovery: only when ours is the one master. */
	if (only_master(s->pid)) {
		had = count_lines(s->log_path, master, "reload");
		is_int(run(out, sizeof(out), "-sl", "reload", NULL), 0,
		    "-sl reload (discovered in /proc) exits 0");
		ok(wait_lines(s->log_path, master, "reload", had, T),
		    "reload by discovery reaches the master");
	} else {
		skip("another natsd master runs: no discovery test");
		skip("another natsd master runs: no discovery test");
	}

	/* quit=PID: graceful stop, pid file removed, children gone. */
	snprintf(pidarg, sizeof(pidarg), "quit=%d", (int)s->pid);
	is_int(run(out, sizeof(out), "-sl", pidarg, NULL), 0,
	    "-sl quit=PID exits 0");
	ok(wait_gone(s, T), "quit: natsd exits");
	ok(WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0,
	    "quit: exit status 0 (status 0x%x)", (unsigned)s->status);
	ok(kids_gone(kids, nkids, T), "quit: its workers are gone");
	ok(access(pf, F_OK) == -1, "quit: the pid file is removed");
	ok(server_log_check(s) == 0, "no unexpected errors in the log");
	server_free(s);

	/* term by -P: graceful stop too. */
	if ((s = server_start_with(WORKERS, NULL, args)) == NULL) {
		ok(0, "natsd -P FILE starts again");
		goto out;
	}
	nkids = children_of(s->pid, kids, 16, WORKERS);
	is_int(run(out, sizeof(out), "-sl", "term", "-P", pf, NULL), 0,
	    "-sl term -P PIDFILE exits 0");
	ok(wait_gone(s, T), "term: natsd exits");
	ok(WIFEXITED(s->status), "term: natsd exits, not killed (status "
	    "0x%x)", (unsigned)s->status);
	ok(kids_gone(kids, nkids, T), "term: its workers are gone");
	ok(access(pf, F_OK) == -1, "term: the pid file is removed");
	server_free(s);
out:
	if (rotated != NULL)
		unlink(rotated);
	free(rotated);
	free(pf);
	free(conf);
}

/* What -sl refuses, with the reason; nothing is signalled. */
static void
test_sl_errors(void)
{
	char		*pf = tpath("errors.pid"), *none = tpath("none.pid");
	char		*junk = tpath("junk.pid");
	char		 out[OUT_MAX], arg[PATH_MAX + 32];
	const char	*args[] = { "-P", pf, NULL };
	struct server	*s;
	pid_t		 kids[16];
	int		 nkids;
	FILE		*f;

	if ((s = server_start_with(WORKERS, NULL, args)) == NULL) {
		ok(0, "natsd -P FILE starts");
		goto out;
	}
	nkids = children_of(s->pid, kids, 16, WORKERS);

	is_int(run(out, sizeof(out), "-sl", "bogus", NULL), 1,
	    "-sl bogus exits 1");
	ok(strstr(out, "unknown signal") != NULL, "and says unknown signal");
	snprintf(arg, sizeof(arg), "ldm=%d", (int)s->pid);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 1,
	    "-sl ldm=PID exits 1");
	ok(strcasestr(out, "lame duck") != NULL, "and says lame duck mode "
	    "is not supported");
	is_int(run(out, sizeof(out), "-sl", "reload=0", NULL), 1,
	    "-sl reload=0 exits 1");
	ok(strstr(out, "invalid pid") != NULL, "and says invalid pid");
	snprintf(arg, sizeof(arg), "reload=%d=1", (int)s->pid);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 1,
	    "-sl reload=PID=1 exits 1");
	snprintf(arg, sizeof(arg), "reload=%s", none);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 1,
	    "-sl reload=MISSINGFILE exits 1");
	ok(strstr(out, none) != NULL, "and names the file");
	if ((f = fopen(junk, "w")) != NULL) {
		fputs("not a pid\n", f);
		fclose(f);
	}
	snprintf(arg, sizeof(arg), "reload=%s", junk);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 1,
	    "-sl reload=FILE without a pid exits 1");
	is_int(run(out, sizeof(out), "-sl", "reload", "-P", none, NULL), 1,
	    "-sl reload -P MISSINGFILE exits 1 (no fallback to /proc)");
	ok(strstr(out, none) != NULL, "and names the file");
	if (nkids > 0) {
		snprintf(arg, sizeof(arg), "stop=%d", (int)kids[0]);
		is_int(run(out, sizeof(out), "-sl", arg, NULL), 1,
		    "-sl stop=WORKERPID exits 1");
		ok(strstr(out, "not the master") != NULL &&
		    lists_pid(out, s->pid), "and names the master's pid");
		ok(harness_pid_running(kids[0]), "the worker was not "
		    "signalled");
	} else
		ok(0, "natsd has workers");
	ok(server_alive(s), "natsd still runs");
	ok(server_stop(s) == 0, "natsd stops cleanly");
	server_free(s);
out:
	free(pf);
	free(none);
	free(junk);
}

/*
 * stop: SIGKILL, as nats-server sends.  The workers die with the master,
 * the pid file stays but unlocked, -sl refuses it as stale, and a new
 * natsd takes it over.
 */
static void
test_sl_stop(void)
{
	char		*pf = tpath("stop.pid");
	char		 out[OUT_MAX], arg[PATH_MAX + 32];
	const char	*args[] = { "-P", pf, NULL };
	struct server	*s;
	pid_t		 kids[16], old;
	int		 nkids;

	if ((s = server_start_with(WORKERS, NULL, args)) == NULL) {
		ok(0, "natsd -P FILE starts");
		goto out;
	}
	nkids = children_of(s->pid, kids, 16, WORKERS);
	old = s->pid;
	if (only_master(s->pid))
		is_int(run(out, sizeof(out), "-sl", "stop", NULL), 0,
		    "-sl stop (discovered in /proc) exits 0");
	else {
		snprintf(arg, sizeof(arg), "stop=%d", (int)s->pid);
		is_int(run(out, sizeof(out), "-sl", arg, NULL), 0,
		    "-sl stop=PID exits 0 (another natsd runs: no discovery)");
	}
	ok(wait_gone(s, T), "stop: natsd exits");
	ok(WIFSIGNALED(s->status) && WTERMSIG(s->status) == SIGKILL,
	    "stop: killed by SIGKILL (status 0x%x)", (unsigned)s->status);
	ok(kids_gone(kids, nkids, T), "stop: its workers die with it");
	is_int(file_pid(pf), old, "stop: the pid file stays");
	ok(!file_locked(pf), "stop: the pid file is unlocked");
	snprintf(arg, sizeof(arg), "reload=%s", pf);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 1,
	    "-sl reload=STALEFILE exits 1");
	ok(strstr(out, "stale") != NULL, "and says the pid file is stale");
	is_int(run(out, sizeof(out), "-sl", "reload", "-P", pf, NULL), 1,
	    "-sl reload -P STALEFILE exits 1");
	server_free(s);

	if ((s = server_start_with(WORKERS, NULL, args)) == NULL) {
		ok(0, "a new natsd takes over the stale pid file");
		goto out;
	}
	ok(1, "a new natsd takes over the stale pid file");
	is_int(file_pid(pf), s->pid, "the pid file holds the new pid");
	ok(server_stop(s) == 0, "natsd stops cleanly");
	server_free(s);
out:
	free(pf);
}

/* Discovery: none running, and two running (listed, neither signalled). */
static void
test_sl_discovery(void)
{
	char		 out[OUT_MAX], arg[32];
	struct server	*a, *b;
	pid_t		 pids[MAX_MASTERS];

	if (masters(pids, MAX_MASTERS) == 0) {
		is_int(run(out, sizeof(out), "-sl", "reload", NULL), 1,
		    "-sl reload with no natsd running exits 1");
		ok(strstr(out, "no natsd") != NULL, "and says no natsd runs");
	} else {
		skip("a natsd master runs on this machine");
		skip("a natsd master runs on this machine");
	}

	a = server_start_with(WORKERS, NULL, NULL);
	b = server_start_with(WORKERS, NULL, NULL);
	if (a == NULL || b == NULL) {
		ok(0, "two natsd start");
		server_free(a);
		server_free(b);
		return;
	}
	is_int(run(out, sizeof(out), "-sl", "reopen", NULL), 1,
	    "-sl reopen with two natsd running exits 1");
	ok(lists_pid(out, a->pid) && lists_pid(out, b->pid),
	    "and lists both pids");
	snprintf(arg, sizeof(arg), "quit=%d", (int)a->pid);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 0,
	    "-sl quit=PID of the first exits 0");
	snprintf(arg, sizeof(arg), "quit=%d", (int)b->pid);
	is_int(run(out, sizeof(out), "-sl", arg, NULL), 0,
	    "-sl quit=PID of the second exits 0");
	ok(wait_gone(a, T) && wait_gone(b, T), "both exit");
	ok(WIFEXITED(a->status) && WEXITSTATUS(a->status) == 0 &&
	    WIFEXITED(b->status) && WEXITSTATUS(b->status) == 0,
	    "both with status 0");
	server_free(a);
	server_free(b);
}

#ifdef HAVE_SYSTEMD
/* Our NOTIFY_SOCKET: datagrams carry their sender's credentials. */
static int
notify_open(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, one = 1;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	return fd;
}

/*
 * Read datagrams for at most ms until one holds the line want.  Every
 * datagram's sender must be the master: others are counted in *foreign.
 */
static int
notify_wait(int fd, const char *want, pid_t master, int ms, int *foreign)
{
	int64_t		 deadline = harness_now_ms() + ms;
	char		 buf[1024], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	char		*line, *save;
	struct pollfd	 pfd;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	struct ucred	 cred;
	ssize_t		 n;
	int		 left, found = 0;

	while (!found && (left = (int)(deadline - harness_now_ms())) > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) != 1)
			continue;
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf) - 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) <= 0)
			continue;
		buf[n] = '\0';
		cred.pid = 0;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS)
				memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
		if (cred.pid != master) {
			diag("notification from pid %d, not the master %d: %s",
			    (int)cred.pid, (int)master, buf);
			(*foreign)++;
		}
		for (line = strtok_r(buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			if (strcmp(line, want) == 0)
				found = 1;
	}
	return found;
}

/* The socket inode listening on 127.0.0.1:port, from /proc/net/tcp. */
static unsigned long
listen_inode(int port)
{
	char		 line[512];
	unsigned int	 lport, st;
	unsigned long	 ino, found = 0;
	FILE		*f;

	if ((f = fopen("/proc/net/tcp", "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x "
		    "%*x %*d %*d %lu", &lport, &st, &ino) == 3 &&
		    (int)lport == port && st == 0x0A)
			found = ino;
	fclose(f);
	return found;
}

/*
 * What pid's epoll sets watch: how many fds in all, and whether one of
 * them is the socket with inode lino (fdinfo "tfd: N ... ino:HEX").
 */
static int
epoll_watches(pid_t pid, unsigned long lino, int *listening)
{
	char		 dir[64], p[320], target[64], line[256];
	struct dirent	*de;
	unsigned long	 ino;
	ssize_t		 n;
	FILE		*f;
	DIR		*d;
	int		 watched = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if ((n = readlink(p, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[eventpoll]") != 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/fdinfo/%s", (int)pid,
		    de->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "tfd:", 4) != 0)
				continue;
			watched++;
			if (strstr(line, " ino:") != NULL &&
			    sscanf(strstr(line, " ino:"), " ino:%lx", &ino) == 1 &&
			    ino == lino)
				*listening = 1;
		}
		fclose(f);
	}
	closedir(d);
	return watched;
}

/*
 * sd_notify as a Type=notify unit sees it: READY=1 once every worker
 * runs its event loop and the client socket is watched, RELOADING=1 then
 * READY=1 around a reload, STOPPING=1 on SIGTERM; all from the master.
 */
static void
test_notify(void)
{
	char		*sock = tpath("notify.sock"), *log = tpath("notify.log");
	char		*out = tpath("notify.out"), port[16], nw[16];
	const char	*argv[16];
	struct conn	*c;
	unsigned long	 lino;
	pid_t		 pid, kids[16];
	int		 fd, nkids, i, looping, listening = 0, foreign = 0;
	int		 status, ready;

	if ((fd = notify_open(sock)) == -1) {
		ok(0, "bind a notify socket %s: %s", sock, strerror(errno));
		goto out;
	}
	snprintf(port, sizeof(port), "%d", harness_free_port());
	snprintf(nw, sizeof(nw), "%d", WORKERS);
	i = 0;
	argv[i++] = bin;
	argv[i++] = "-a";
	argv[i++] = "127.0.0.1";
	argv[i++] = "-p";
	argv[i++] = port;
	argv[i++] = "-l";
	argv[i++] = log;
	argv[i++] = "--workers";
	argv[i++] = nw;
	argv[i] = NULL;
	if ((pid = spawn(argv, out, sock)) == -1) {
		ok(0, "natsd starts");
		close(fd);
		goto out;
	}
	ready = notify_wait(fd, "READY=1", pid, T, &foreign);
	ok(ready, "READY=1 comes");
	/* Right away: every worker is in its loop, the socket is watched. */
	lino = listen_inode(atoi(port));
	nkids = children_of(pid, kids, 16, WORKERS);
	for (i = 0, looping = 0; i < nkids; i++)
		looping += epoll_watches(kids[i], lino, &listening) > 0;
	ok(ready && nkids == WORKERS && looping == WORKERS,
	    "at READY=1 all %d workers run their event loop (%d of %d)",
	    WORKERS, looping, nkids);
	ok(ready && lino != 0 && listening, "at READY=1 the client socket "
	    "is watched");
	c = conn_open(atoi(port));
	ok(c != NULL, "natsd serves after READY=1");
	conn_free(c);

	kill(pid, SIGHUP);
	ok(notify_wait(fd, "RELOADING=1", pid, T, &foreign),
	    "SIGHUP: RELOADING=1 comes");
	ok(notify_wait(fd, "READY=1", pid, T, &foreign),
	    "then READY=1 when the reload is done");

	kill(pid, SIGTERM);
	ok(notify_wait(fd, "STOPPING=1", pid, T, &foreign),
	    "SIGTERM: STOPPING=1 comes");
	if (!wait_status(pid, T, &status)) {
		ok(0, "natsd exits on SIGTERM");
		kill(pid, SIGKILL);
		wait_status(pid, T, &status);
	} else
		ok(WIFEXITED(status), "natsd exits on SIGTERM");
	is_int(foreign, 0, "every notification came from the master");
	close(fd);
out:
	unlink(sock);
	free(sock);
	free(log);
	free(out);
}
#endif

static void
remove_tdir(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[PATH_MAX];

	if (getenv("HARNESS_KEEP") != NULL) {
		diag("kept %s", tdir);
		return;
	}
	if ((d = opendir(tdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tdir);
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		 cwd[PATH_MAX];

	setvbuf(stdout, NULL, _IOLBF, 0);
	bin = harness_server_bin();
	if (harness_is_nats_server(bin)) {
		printf("1..0 # SKIP natsd only\n");
		return 0;
	}
	/* -sl runs the binary itself: make a relative NATSD absolute. */
	if (strchr(bin, '/') != NULL && bin[0] != '/' &&
	    getcwd(cwd, sizeof(cwd)) != NULL) {
		static char abs[PATH_MAX * 2];

		snprintf(abs, sizeof(abs), "%s/%s", cwd, bin);
		bin = abs;
	}
	diag("server: %s", bin);
	if (asprintf(&tdir, "%s/natsd-ops.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp") == -1 ||
	    mkdtemp(tdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	test_pidfile();
	test_sl_forms();
	test_sl_errors();
	test_sl_stop();
	test_sl_discovery();
#ifdef HAVE_SYSTEMD
	test_notify();
#else
	skip("natsd built without libsystemd: no sd_notify");
#endif
	remove_tdir();
	free(tdir);
	return done_testing();
}
