#include "config.h"

/*
 * natsd's configuration and command line, end to end: every sample
 * configuration of the gnatsd documents (t/conf/seed-*.conf) passes
 * natsd -t; broken files fail naming file and line; flags override the
 * file; variables, includes and the environment reach a running server;
 * long flags work with one dash or two; authorization and tls are
 * refused until natsd implements them; cluster and monitoring start with
 * a warning.  Servers listen on 127.0.0.1 only.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/certs.h"
#include "../lib/harness.h"
#include "../tap.h"

#define RUN_MS		10000	/* natsd -t, -h: must be done by then */
#define OUT_MAX		16384

static const char	*bin;
static char		 confdir[4096];
static char		 tmpdir[] = "/tmp/natsd-config-test.XXXXXX";
static char		 out[OUT_MAX];

static void
nap(int ms)
{
	poll(NULL, 0, ms);
}

/*
 * Run natsd with args, its stdout and stderr into out; wait at most
 * RUN_MS.  Returns the exit status, or -1 (killed, or did not exit).
 */
static int
run(const char *const *args)
{
	const char	*argv[64];
	struct pollfd	 pfd;
	int64_t		 deadline = harness_now_ms() + RUN_MS;
	size_t		 argc = 0, len = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], fd, status, rc = -1;

	argv[argc++] = bin;
	while (*args != NULL && argc < 63)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	out[0] = '\0';
	if (pipe(p) == -1)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		int64_t left = deadline - harness_now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
			break;
		n = read(p[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = '\0';
	close(p[0]);
	while (harness_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status))
				rc = WEXITSTATUS(status);
			return rc;
		}
		nap(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	harness_diag("natsd did not exit within %d ms", RUN_MS);
	return -1;
}

/* Does a TCP connect to ip:port succeed (within a second)? */
static int
tcp_probe(const char *ip, int port)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		elen = sizeof(int);
	int			fd, err = 0, ok_ = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		ok_ = 1;
	else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET,
		    SO_ERROR, &err, &elen) == 0 && err == 0)
			ok_ = 1;
	}
	close(fd);
	return ok_;
}

static char *
write_tmp(const char *name, const char *text)
{
	static char	path[4][4200];
	static int	next;
	char		*p = path[next++ % 4];
	FILE		*fp;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	if ((fp = fopen(p, "w")) == NULL) {
		harness_diag("fopen %s: %s", p, strerror(errno));
		return p;
	}
	fputs(text, fp);
	fclose(fp);
	return p;
}

static int
has(const char *needle)
{
	if (strstr(out, needle) != NULL)
		return 1;
	harness_diag("output lacks \"%s\"; it is:", needle);
	harness_diag("%s", out);
	return 0;
}

static int
find_confdir(const char *argv0)
{
	const char	*srcdir = getenv("srcdir");
	char		 dir[2048], *slash;

	if (access("t/conf", R_OK) == 0) {
		strlcpy(confdir, "t/conf", sizeof(confdir));
		return 0;
	}
	if (srcdir != NULL) {
		snprintf(confdir, sizeof(confdir), "%s/t/conf", srcdir);
		if (access(confdir, R_OK) == 0)
			return 0;
	}
	strlcpy(dir, argv0, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		snprintf(confdir, sizeof(confdir), "%s/../conf", dir);
		if (access(confdir, R_OK) == 0)
			return 0;
	}
	return -1;
}

static void
test_common_flags(void)
{
	const char *h[] = { "-h", NULL }, *h2[] = { "--help", NULL };
	const char *v[] = { "-version", NULL }, *tls[] = { "--help_tls", NULL };
	const char *bad[] = { "-bogus", NULL }, *miss[] = { "-p", NULL };
	const char *nov[] = { "--help=1", NULL };

	ok(run(h) == 0 && has("Usage: natsd [options]") && has("--routes") &&
	    has("-sl,--signal"), "-h prints the usage and exits 0");
	ok(run(h2) == 0 && has("Cluster Options:"), "--help too");
	ok(run(v) == 0 && has("natsd version "), "-version (one dash)");
	ok(run(tls) == 0 && has("Available cipher suites") &&
	    has("CurveP384"), "--help_tls");
	ok(run(bad) == 1 && has("unknown flag \"-bogus\""),
	    "an unknown flag exits 1");
	ok(run(miss) == 1 && has("flag \"-p\" needs <port>"),
	    "a flag without its value exits 1");
	ok(run(nov) == 1 && has("takes no value"), "-h takes no value");
}

static void
pem_link(const char *dir, const char *target, const char *name)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/configs/certs/%s", dir, name);
	if (symlink(target, path) == -1)
		diag("symlink %s: %s", path, strerror(errno));
}

static int
seed_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_seeds(void)
{
	const char	*args[] = { "-t", "-c", NULL, NULL };
	char		*names[64], path[8192], want[8300], cwd[4096];
	struct certs	*certs;
	bool		 moved = false;
	struct dirent	*de;
	DIR		*d;
	int		 n = 0, i;

	if ((d = opendir(confdir)) == NULL) {
		ok(0, "open %s", confdir);
		return;
	}
	while ((de = readdir(d)) != NULL && n < 64)
		if (strncmp(de->d_name, "seed-", 5) == 0 &&
		    strstr(de->d_name, ".conf") != NULL)
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), seed_cmp);
	ok(n >= 19, "t/conf holds the seeds' sample configurations (%d)", n);
	/*
	 * The TLS samples name ./configs/certs/... as gnatsd's source tree
	 * has them: give them a tree of freshly made certificates.
	 */
	certs = certs_make();
	ok(certs != NULL, "a test PKI for the TLS samples");
	if (certs != NULL && getcwd(cwd, sizeof(cwd)) != NULL) {
		snprintf(path, sizeof(path), "%s/configs", certs->dir);
		(void)mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/configs/certs", certs->dir);
		(void)mkdir(path, 0700);
		pem_link(certs->dir, certs->server_cert, "server-cert.pem");
		pem_link(certs->dir, certs->server_key, "server-key.pem");
		pem_link(certs->dir, certs->server_cert, "srva-cert.pem");
		pem_link(certs->dir, certs->server_key, "srva-key.pem");
		pem_link(certs->dir, certs->ca, "ca.pem");
		moved = chdir(certs->dir) == 0;
	}
	/* The multi-user sample reads ADMIN and REQUESTOR from the env. */
	setenv("ADMIN", "{ publish: \">\", subscribe: \">\" }", 1);
	setenv("REQUESTOR", "{ publish: [\"req.foo\", \"req.bar\"], "
	    "subscribe: \"_INBOX.*\" }", 1);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", confdir, names[i]);
		snprintf(want, sizeof(want), "configuration file %s is valid",
		    path);
		args[2] = path;
		ok(run(args) == 0 && has(want), "natsd -t -c %s", names[i]);
	}
	if (moved && chdir(cwd) == -1)
		ok(0, "back to %s", cwd);
	certs_free(certs);
	unsetenv("ADMIN");
	unsetenv("REQUESTOR");
	snprintf(path, sizeof(path), "%s/seed-002-multi-user.conf", confdir);
	snprintf(want, sizeof(want), "%s:8: unknown variable \"$ADMIN\"", path);
	args[2] = path;
	ok(run(args) == 1 && has(want),
	    "without the environment, its $ADMIN is an error at its line");
	for (i = 0; i < n; i++)
		free(names[i]);
}

static void
test_broken(void)
{
	const char	*args[] = { "-t", "-c", NULL, NULL };
	char		 want[8300], *p, *inc;

	p = write_tmp("bad-size.conf", "port: 4222\n\nmax_payload: 12x\n");
	snprintf(want, sizeof(want), "natsd: %s:3: max_payload: invalid size "
	    "\"12x\"", p);
	args[2] = p;
	ok(run(args) == 1 && has(want), "a bad value: exit 1, file:line: "
	    "option in the message");
	p = write_tmp("typo.conf", "# a typo\n\nprot: 4222\n");
	snprintf(want, sizeof(want), "natsd: %s:3: unknown option \"prot\"", p);
	args[2] = p;
	ok(run(args) == 1 && has(want), "an unknown option");
	p = write_tmp("syntax.conf", "port: 4222\nauthorization {\n"
	    "  user: a\n");
	snprintf(want, sizeof(want), "natsd: %s:4: missing '}' for the block "
	    "opened at line 2", p);
	args[2] = p;
	ok(run(args) == 1 && has(want), "a syntax error");
	inc = write_tmp("inc-bad.conf", "\n\nping_interval: soon\n");
	p = write_tmp("includes.conf", "include inc-bad.conf\n");
	snprintf(want, sizeof(want), "natsd: %s:3: ping_interval: invalid "
	    "duration \"soon\"", inc);
	args[2] = p;
	ok(run(args) == 1 && has(want),
	    "an error in an included file names it");
	args[2] = "/nonexistent/natsd.conf";
	ok(run(args) == 1 && has("/nonexistent/natsd.conf"),
	    "a missing file");
}

static void
test_t_flags(void)
{
	const char *badp[] = { "-t", "-p", "abc", NULL };
	const char *tls[] = { "-t", "--tls", NULL };
	const char *tls2[] = { "-t", "-tls", "-tlscert", "a.pem",
	    "-tlskey=b.pem", "-tlsverify", "-tlscacert", "ca.pem", NULL };
	const char *seedcl[] = { "-t", "-p", "5222", "-cluster",
	    "nats://localhost:5248", "-routes", "nats://localhost:4248", "-D",
	    NULL };
	const char *seedcl2[] = { "-t", "--port=5222",
	    "--cluster=nats://localhost:5248",
	    "--routes=nats://localhost:4248, nats://127.0.0.1:4249",
	    "--no_advertise", "--connect_retries", "3",
	    "--cluster_advertise", "10.0.0.1:5248", NULL };
	const char *auth[] = { "-t", "-user", "foo", "-pass", "bar", NULL };
	const char *tok[] = { "-t", "-auth", "S3Cr3T0k3n!", "--user", "x",
	    NULL };
	const char *https[] = { "-t", "-ms=8443", NULL };
	const char *mon[] = { "-t", "-m", "8222", "-P",
	    "/tmp/x.pid", "-l", "/tmp/x.log", "-T=false", "-s", "-r",
	    "udp://127.0.0.1:514", "-DV", "--workers=2", "-n", "nm", NULL };
	const char *rs[] = { "-t", "--remote_syslog", "smtp://x", NULL };
	const char *plain[] = { "-t", NULL };

	ok(run(plain) == 0 && has("the flags are valid"),
	    "-t without a file checks the flags");
	ok(run(badp) == 1 && has("natsd: flag -p: port: invalid port \"abc\""),
	    "-t with a bad flag value exits 1");
	ok(run(tls) == 1 && has("tls: cert_file is required"),
	    "--tls alone needs a certificate");
	ok(run(tls2) == 1 && has("a.pem"),
	    "the TLS flags, one dash, load the certificate and name it when "
	    "it is missing");
	ok(run(seedcl) == 0 && has("cluster: routes on localhost:5248, 1 "
	    "route to solicit"), "the seeds' cluster command line");
	ok(run(seedcl2) == 0 && has("cluster: routes on localhost:5248, 2 "
	    "routes to solicit"),
	    "and every cluster flag with two dashes and '='");
	ok(run(auth) == 0 && has("the flags are valid"),
	    "-user and -pass as the seeds write them");
	ok(run(tok) == 1 && has("cannot have a user/password and a token"),
	    "--auth with --user is an error");
	ok(run(mon) == 0, "the server and logging flags");
	ok(run(https) == 0 && has("natsd will not start with this "
	    "configuration: https_port needs a tls block"),
	    "-ms without a tls block: -t warns that natsd will refuse it");
	ok(run(rs) == 1 && has("flag --remote_syslog: remote_syslog: invalid "
	    "address \"smtp://x\""), "a bad remote syslog address");
}

/* A server started with -c path and extra args; NULL if it did not start. */
static struct server *
start(const char *conf, const char *const *args)
{
	struct server_opts	o;

	memset(&o, 0, sizeof(o));
	o.workers = 1;
	o.config = conf;
	o.args = args;
	return server_start(&o);
}

static const char *
info_str(struct conn *c, const char *key)
{
	json_t	*v = c != NULL && c->info != NULL ?
		    json_object_get(c->info, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : "";
}

static long long
info_int(struct conn *c, const char *key)
{
	json_t	*v = c != NULL && c->info != NULL ?
		    json_object_get(c->info, key) : NULL;

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static void
stop(struct server *s)
{
	if (s == NULL)
		return;
	ok(server_log_check(s) == 0, "no error in the log");
	server_stop(s);
	server_free(s);
}

static void
test_override(void)
{
	struct server	*s;
	char		 conf[256];
	int		 other = harness_free_port();

	/* The harness gives -a 127.0.0.1 -p PORT: they must beat the file. */
	snprintf(conf, sizeof(conf), "port: %d\nnet: 0.0.0.0\n", other);
	s = start(conf, NULL);
	ok(s != NULL, "natsd starts with a file saying port %d, net 0.0.0.0",
	    other);
	if (s == NULL)
		return;
	ok(tcp_probe("127.0.0.1", s->port), "it listens on the -p port %d",
	    s->port);
	ok(!tcp_probe("127.0.0.1", other), "not on the file's port");
	ok(!tcp_probe("127.0.0.2", s->port),
	    "and only on -a 127.0.0.1, not on the file's 0.0.0.0");
	ok(server_log_grep(s, "Listening for client connections on "
	    "127.0.0.1:") == 1, "the log says where");
	stop(s);

	snprintf(conf, sizeof(conf), "listen: 0.0.0.0:%d\n", other);
	s = start(conf, NULL);
	ok(s != NULL && tcp_probe("127.0.0.1", s->port) &&
	    !tcp_probe("127.0.0.1", other) && !tcp_probe("127.0.0.2", s->port),
	    "-a and -p beat listen too");
	stop(s);
}

static void
test_values_reach_server(void)
{
	struct server	*s;
	struct conn	*c;
	char		 conf[1024], *inc;

	s = start("NAME: \"from-variable\"\nPAYLOAD: 64KB\n"
	    "server_name: $NAME\nmax_payload: $PAYLOAD\n", NULL);
	ok(s != NULL, "a file with variables starts");
	c = s != NULL ? conn_open(s->port) : NULL;
	is_str(info_str(c, "server_name"), "from-variable",
	    "INFO server_name from a variable");
	is_int(info_int(c, "max_payload"), 65536,
	    "INFO max_payload from a variable");
	conn_free(c);
	stop(s);

	inc = write_tmp("limits.conf", "max_payload: 32KB\n"
	    "server_name: included\n");
	snprintf(conf, sizeof(conf), "include \"%s\"\n", inc);
	s = start(conf, NULL);
	ok(s != NULL, "a file with an include starts");
	c = s != NULL ? conn_open(s->port) : NULL;
	is_int(info_int(c, "max_payload"), 32768,
	    "INFO max_payload from the included file");
	is_str(info_str(c, "server_name"), "included", "and server_name");
	conn_free(c);
	stop(s);

	setenv("NATSD_CONFIG_TEST_PAYLOAD", "16384", 1);
	setenv("NATSD_CONFIG_TEST_NAME", "from-env", 1);
	s = start("max_payload: $NATSD_CONFIG_TEST_PAYLOAD\n"
	    "server_name: $NATSD_CONFIG_TEST_NAME\n", NULL);
	unsetenv("NATSD_CONFIG_TEST_PAYLOAD");
	unsetenv("NATSD_CONFIG_TEST_NAME");
	ok(s != NULL, "a file reading the environment starts");
	c = s != NULL ? conn_open(s->port) : NULL;
	is_int(info_int(c, "max_payload"), 16384,
	    "INFO max_payload from the environment, as a number");
	is_str(info_str(c, "server_name"), "from-env",
	    "INFO server_name from the environment");
	conn_free(c);
	stop(s);
}

/*
 * natsd given only a file (no -a, no -p from the harness): the address
 * comes from the file, the port from the environment.
 */
static void
test_file_only(void)
{
	char	 conf[256], port[16], logpath[4200], *p;
	int64_t	 deadline;
	pid_t	 pid;
	int	 fd, status, up = 0, exited = 0, pn = harness_free_port();

	snprintf(conf, sizeof(conf), "net: 127.0.0.1\n"
	    "port: $NATSD_CONFIG_TEST_PORT\n");
	p = write_tmp("file-only.conf", conf);
	snprintf(port, sizeof(port), "%d", pn);
	snprintf(logpath, sizeof(logpath), "%s/file-only.log", tmpdir);
	setenv("NATSD_CONFIG_TEST_PORT", port, 1);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "-config", p, "--workers=1", "-log", logpath,
		    (char *)NULL);
		_exit(127);
	}
	unsetenv("NATSD_CONFIG_TEST_PORT");
	if (pid == -1) {
		ok(0, "fork");
		return;
	}
	deadline = harness_now_ms() + HARNESS_START_MS;
	while (harness_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			break;
		}
		if ((up = tcp_probe("127.0.0.1", pn)) != 0)
			break;
		nap(20);
	}
	ok(up, "-config FILE alone: natsd listens on 127.0.0.1:%d, the port "
	    "from the environment", pn);
	if (exited)
		return;
	kill(pid, SIGTERM);
	deadline = harness_now_ms() + HARNESS_STOP_MS;
	while (harness_now_ms() < deadline && !exited) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = 1;
		else
			nap(10);
	}
	if (!exited) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ok(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "and stops on SIGTERM");
}

static void
test_spellings(void)
{
	static const struct {
		const char	*args[3];
		const char	*name;
	} cases[] = {
		{ { "-n", "short", NULL }, "short" },
		{ { "-name", "one-dash", NULL }, "one-dash" },
		{ { "--name", "two-dash", NULL }, "two-dash" },
		{ { "--name=equals", NULL, NULL }, "equals" },
		{ { "-server_name=alias", NULL, NULL }, "alias" },
	};
	struct server	*s;
	struct conn	*c;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = start("server_name: from-file\n", cases[i].args);
		c = s != NULL ? conn_open(s->port) : NULL;
		is_str(info_str(c, "server_name"), cases[i].name,
		    "%s%s%s beats the file", cases[i].args[0],
		    cases[i].args[1] ? " " : "",
		    cases[i].args[1] ? cases[i].args[1] : "");
		conn_free(c);
		stop(s);
	}
}

static void
test_logging_flags(void)
{
	const char *dv[] = { "-DV", NULL };
	const char *lt[] = { "--logtime=false", NULL };
	struct server	*s;
	struct conn	*c;
	char		 needle[64];

	s = start("debug: false\ntrace: false\n", dv);
	c = s != NULL ? client_new(s->port, NULL) : NULL;
	ok(c != NULL && conn_ping(c, HARNESS_TIMEOUT_MS),
	    "-DV: a client pings");
	conn_free(c);
	ok(s != NULL && server_log_grep(s, "[DBG]") > 0,
	    "-DV beats debug: false");
	ok(s != NULL && server_log_grep(s, "[TRC]") > 0,
	    "-DV beats trace: false");
	stop(s);

	s = start("logtime: true\n", lt);
	snprintf(needle, sizeof(needle), "] [INF] ");
	ok(s != NULL && server_log_grep(s, needle) > 0,
	    "--logtime=false: \"[pid] [INF] ...\" lines");
	if (s != NULL) {
		char	 line[512];
		FILE	*fp = fopen(s->log_path, "r");
		int	 dated = 0;

		while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
			if (strstr(line, "] 20") != NULL)
				dated++;
		if (fp != NULL)
			fclose(fp);
		is_int(dated, 0, "no line carries a timestamp");
	}
	stop(s);
}

/* natsd must refuse to start, saying why, and bind nothing. */
static void
refused(const char *what, const char *conf, const char *const *extra,
    const char *why)
{
	const char	*args[16];
	char		 port[16], *p = NULL;
	size_t		 n = 0;
	int		 pn = harness_free_port();

	snprintf(port, sizeof(port), "%d", pn);
	args[n++] = "-a";
	args[n++] = "127.0.0.1";
	args[n++] = "-p";
	args[n++] = port;
	args[n++] = "--workers";
	args[n++] = "1";
	if (conf != NULL) {
		p = write_tmp("refused.conf", conf);
		args[n++] = "-c";
		args[n++] = p;
	}
	while (extra != NULL && *extra != NULL && n < 15)
		args[n++] = *extra++;
	args[n] = NULL;
	ok(run(args) == 1 && has(why), "%s: natsd refuses to start", what);
	ok(!tcp_probe("127.0.0.1", pn), "%s: and serves nothing", what);
}

/* A server started with these settings asks clients to authenticate. */
static void
auth_served(const char *what, const char *conf, const char *const *args)
{
	struct server_opts	 o = { .workers = 1, .config = conf,
	    .args = args };
	struct server		*srv;
	struct conn		*c;

	if ((srv = server_start(&o)) == NULL) {
		ok(0, "%s: natsd starts", what);
		return;
	}
	c = conn_open(srv->port);
	ok(c != NULL && c->info != NULL && json_is_true(json_object_get(c->info,
	    "auth_required")), "%s: natsd starts and INFO says auth_required",
	    what);
	conn_free(c);
	server_stop(srv);
	server_free(srv);
}

static void
test_security_start(void)
{
	const char *up[] = { "--user", "bob", "--pass", "secret", NULL };
	const char *tok[] = { "-auth", "S3Cr3T0k3n!", NULL };
	const char *tls[] = { "--tlscert", "/nonexistent/a.pem", "--tlskey",
	    "/nonexistent/b.pem", NULL };
	char		 path[8192], text[2048];
	FILE		*fp;
	size_t		 len;

	snprintf(path, sizeof(path), "%s/seed-002-single-user.conf", confdir);
	if ((fp = fopen(path, "r")) != NULL) {
		len = fread(text, 1, sizeof(text) - 1, fp);
		text[len] = '\0';
		fclose(fp);
		auth_served("the seed's authorization block", text, NULL);
	} else
		ok(0, "read %s", path);
	auth_served("--user and --pass", NULL, up);
	auth_served("-auth", NULL, tok);
	auth_served("a users list", "authorization { users: [ {user: a, "
	    "password: b} ] }\n", NULL);
	refused("a tls block with a missing certificate", "tls { cert_file: "
	    "/nonexistent/a.pem\nkey_file: /nonexistent/b.pem }\n", NULL,
	    "refused.conf:1: tls: cert_file /nonexistent/a.pem");
	refused("--tlscert and --tlskey with missing files", NULL, tls,
	    "/nonexistent/a.pem");
}

static void
test_unserved(void)
{
	struct server	*s;
	char		 path[8192], text[2048];
	FILE		*fp;
	size_t		 len;

	snprintf(path, sizeof(path), "%s/seed-002-seed.conf", confdir);
	if ((fp = fopen(path, "r")) == NULL) {
		ok(0, "read %s", path);
		return;
	}
	len = fread(text, 1, sizeof(text) - 1, fp);
	text[len] = '\0';
	fclose(fp);
	/*
	 * Its listen: 127.0.0.1:4222 gives way to the harness's -a and -p;
	 * its fixed http: 8222 becomes a free port, so the test never
	 * collides with another server on this machine.
	 */
	{
		char	*at = strstr(text, "http: 8222"), rest[2048], want[64];
		char	*cl;
		int	 hp = harness_free_port(), cp = harness_free_port();

		if (at != NULL) {
			snprintf(rest, sizeof(rest), "%s", at + 10);
			snprintf(at, sizeof(text) - (size_t)(at - text),
			    "http: %d%s", hp, rest);
		}
		if ((cl = strstr(text, "127.0.0.1:4248")) != NULL) {
			snprintf(rest, sizeof(rest), "%s", cl + 14);
			snprintf(cl, sizeof(text) - (size_t)(cl - text),
			    "127.0.0.1:%d%s", cp, rest);
		}
		s = start(text, NULL);
		ok(s != NULL, "the seeds' seed.conf (cluster, http) starts");
		snprintf(want, sizeof(want), "Listening for route connections "
		    "on 127.0.0.1:%d", cp);
		ok(cl != NULL && s != NULL && server_log_grep(s, want) == 1,
		    "and listens for routes");
		snprintf(want, sizeof(want), "Starting http monitor on "
		    "127.0.0.1:%d", hp);
		ok(at != NULL && s != NULL && server_log_grep(s, want) == 1,
		    "and the monitor listens on its http port");
	}
	stop(s);
}

/* The files this test wrote: tmpdir holds no directory. */
static void
rm_tmpdir(void)
{
	struct dirent	*de;
	char		 path[8192];
	DIR		*d;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(tmpdir);
}

int
main(int argc, char **argv)
{
	bin = harness_server_bin();
	if (harness_is_nats_server(bin)) {
		printf("1..0 # SKIP natsd's own configuration and flags\n");
		return 0;
	}
	if (find_confdir(argv[0]) == -1) {
		printf("Bail out! t/conf not found (run from the top of the "
		    "tree)\n");
		return 1;
	}
	/* test_seeds() runs natsd from a scratch dir: absolute paths. */
	{
		static char	abs_bin[4096], abs_conf[4096];

		if (strchr(bin, '/') != NULL && realpath(bin, abs_bin) != NULL)
			bin = abs_bin;
		if (realpath(confdir, abs_conf) != NULL)
			strlcpy(confdir, abs_conf, sizeof(confdir));
	}
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	test_common_flags();
	test_seeds();
	test_broken();
	test_t_flags();
	test_override();
	test_values_reach_server();
	test_file_only();
	test_spellings();
	test_logging_flags();
	test_security_start();
	test_unserved();
	if (getenv("HARNESS_KEEP") == NULL)
		rm_tmpdir();
	return done_testing();
}
