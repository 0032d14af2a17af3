/*
 * Passwords: shared/passwd.c, natsd-mkpasswd, and (when built with
 * worker/bcrypt.c, -DTEST_BCRYPT_HELPER) the worker's bcrypt helper.
 *
 * The fixed hashes come from the crypt_blowfish test vectors and from
 * Python's crypt module, at low costs, so the whole file runs in under
 * a second.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passwd.h"
#include "util.h"
#ifdef TEST_BCRYPT_HELPER
#include "bcrypt.h"
#endif
#include "../tap.h"

static void
test_is_bcrypt(void)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ "$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS",
		    true },
		{ "$2b$04$abcdefghijklmnopqrstuuX.puQ0.3yJfaGNmWHm9L1wX2vQGTcRa",
		    true },
		{ "$2y$10$", true },	/* nats-server checks the prefix only */
		{ "$2x$05$", true },
		{ "$2a$99$short", true },
		{ "$2c$10$", false },
		{ "$2$10$", false },
		{ "$2a$1$", false },
		{ "$2a$1x$", false },
		{ "$2a$10", false },
		{ "$2a$", false },
		{ "$2", false },
		{ "", false },
		{ "T0pS3cr3t", false },
		{ "$1$salt$hash", false },
		{ "$6$rounds=5000$salt$hash", false },
		{ " $2a$10$", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(passwd_is_bcrypt(cases[i].s) == cases[i].want,
		    "is_bcrypt \"%s\" is %s", cases[i].s,
		    cases[i].want ? "true" : "false");
}

static void
test_equal(void)
{
	ok(passwd_equal("secret", "secret"), "equal: same");
	ok(passwd_equal("", ""), "equal: both empty");
	ok(!passwd_equal("secret", "secreT"), "equal: last byte differs");
	ok(!passwd_equal("secret", "Secret"), "equal: first byte differs");
	ok(!passwd_equal("secret", "secre"), "equal: given shorter");
	ok(!passwd_equal("secret", "secrets"), "equal: given longer");
	ok(!passwd_equal("secret", ""), "equal: given empty");
	ok(!passwd_equal("", "secret"), "equal: configured empty");
	ok(!passwd_equal("a\xff", "a\x7f"), "equal: 8-bit bytes");
	ok(passwd_check("T0pS3cr3t", "T0pS3cr3t"), "check: plaintext");
	ok(!passwd_check("T0pS3cr3t", "T0pS3cr3"), "check: plaintext wrong");
	/* Not bcrypt for nats-server either: compared as it is. */
	ok(passwd_check("$2c$10$abc", "$2c$10$abc"),
	    "check: a near-bcrypt string is plaintext");
}

static void
test_check(void)
{
	static const struct {
		const char	*hash, *pw, *what;
		bool		 want;
	} cases[] = {
		/* crypt_blowfish's vectors */
		{ "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		    "U*U", "$2a$ vector", true },
		{ "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK",
		    "U*U*", "$2a$ vector 2", true },
		{ "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a",
		    "U*U*U", "$2a$ vector 3", true },
		{ "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
		    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
		    "YZ0123456789chars after 72 are ignored",
		    "past 72 bytes ignored", true },
		{ "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
		    "\xa3", "$2y$ 8-bit", true },
		{ "$2b$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
		    "\xa3", "$2b$ 8-bit", true },
		/*
		 * Go's bcrypt, hence nats-server, computes $2a$ and $2x$ like
		 * $2b$; libxcrypt alone would not for these two.
		 */
		{ "$2a$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
		    "\xff\xff\xa3", "$2a$ as Go computes it", true },
		{ "$2x$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
		    "\xa3", "$2x$ as Go computes it", true },
		{ "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
		    "\xa3", "$2x$ bug emulation not used", false },
		/* Python's crypt module, cost 4 */
		{ "$2a$04$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7.",
		    "natsd", "python $2a$", true },
		{ "$2b$04$abcdefghijklmnopqrstuuX.puQ0.3yJfaGNmWHm9L1wX2vQGTcRa",
		    "s3cr3t!", "python $2b$", true },
		{ "$2y$04$0123456789ABCDEFGHIJKu1VqUvi2KHIBWnUDRbIwMECU6RDsegei",
		    "T0pS3cr3t", "python $2y$", true },
		{ "$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i",
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxx", "72 bytes", true },
		{ "$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i",
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxyz", "74 bytes: as bcrypt, 72 count", true },
		{ "$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i",
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxx", "71 bytes", false },
		/* wrong passwords, broken hashes */
		{ "$2a$04$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7.",
		    "natsD", "wrong password", false },
		{ "$2a$04$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7.",
		    "", "empty password", false },
		{ "$2a$04$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7",
		    "natsd", "hash cut short", false },
		{ "$2a$04$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7.x",
		    "natsd", "hash too long", false },
		{ "$2a$04$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7/",
		    "natsd", "hash last char differs", false },
		{ "$2a$03$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7.",
		    "natsd", "cost below 4", false },
		{ "$2a$99$natsdnatsdnatsdnatsd.uRlwQtSAMCuX08y5aEzXOFbexz1qfN7.",
		    "natsd", "cost above 31", false },
		{ "$2a$04$", "", "no salt", false },
		{ "$2a$04$!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
		    "natsd", "not base64", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(passwd_check(cases[i].hash, cases[i].pw) == cases[i].want,
		    "check: %s", cases[i].what);
}

static void
test_hash(void)
{
	char	 h1[PASSWD_HASH_MAX], h2[PASSWD_HASH_MAX], small[60];
	char	 long_pw[80];

	is_int(passwd_hash("natsd secret", 4, h1, sizeof(h1)), 0, "hash");
	ok(strncmp(h1, "$2a$04$", 7) == 0, "hash is $2a$, cost 4: %s", h1);
	is_int(strlen(h1), 60, "hash is 60 characters");
	ok(passwd_is_bcrypt(h1), "hash is bcrypt");
	ok(passwd_check(h1, "natsd secret"), "hash verifies");
	ok(!passwd_check(h1, "natsd secreT"), "hash refuses a wrong one");
	is_int(passwd_hash("natsd secret", 4, h2, sizeof(h2)), 0, "again");
	ok(strcmp(h1, h2) != 0 && passwd_check(h2, "natsd secret"),
	    "a new salt each time");
	is_int(passwd_hash("\xff\xff\xa3", 5, h1, sizeof(h1)), 0,
	    "hash 8-bit password");
	ok(passwd_check(h1, "\xff\xff\xa3"), "8-bit password verifies");
	is_int(passwd_hash("", 4, h1, sizeof(h1)), 0, "hash empty password");
	ok(passwd_check(h1, "") && !passwd_check(h1, "x"),
	    "empty password verifies");

	errno = 0;
	ok(passwd_hash("x", 3, h1, sizeof(h1)) == -1 && errno == EINVAL,
	    "cost 3 refused");
	ok(passwd_hash("x", 32, h1, sizeof(h1)) == -1 && errno == EINVAL,
	    "cost 32 refused");
	memset(long_pw, 'a', 73);
	long_pw[73] = '\0';
	ok(passwd_hash(long_pw, 4, h1, sizeof(h1)) == -1 && errno == EINVAL,
	    "73 bytes refused");
	long_pw[72] = '\0';
	ok(passwd_hash(long_pw, 4, h1, sizeof(h1)) == 0 &&
	    passwd_check(h1, long_pw), "72 bytes hashed");
	ok(passwd_hash("x", 4, small, sizeof(small)) == -1 && errno == ERANGE,
	    "small buffer refused");
}

static void
test_generate(void)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
	char	 pw[100][23];
	int	 counts[256] = { 0 };
	bool	 charset = true, first = true, unique = true;
	size_t	 i, j;
	int	 seen = 0;

	for (i = 0; i < 100; i++) {
		if (passwd_generate(pw[i], 22) == -1)
			break;
		if (strlen(pw[i]) != 22)
			break;
		for (j = 0; j < 22; j++) {
			if (strchr(set, pw[i][j]) == NULL)
				charset = false;
			counts[(unsigned char)pw[i][j]]++;
		}
		if (!isalnum((unsigned char)pw[i][0]))
			first = false;
		for (j = 0; j < i; j++)
			if (strcmp(pw[i], pw[j]) == 0)
				unique = false;
	}
	is_int(i, 100, "generate 100 passwords of 22");
	ok(charset, "letters, digits and -._~ only");
	ok(first, "each starts with a letter or digit");
	ok(unique, "all different");
	for (i = 0; i < 256; i++)
		seen += counts[i] > 0;
	/* 2200 draws from 66: missing any is a 1e-13 event. */
	is_int(seen, 66, "every character of the set appears");
	ok(passwd_generate(pw[0], 0) == 0 && pw[0][0] == '\0', "length 0");
	ok(passwd_generate(NULL, 5) == -1, "NULL refused");
}

/*
 * natsd-mkpasswd beside natsd (NATSD=/work/main/natsd), or in the
 * current directory.
 */
static const char *
mkpasswd_path(void)
{
	static char	 path[4096];
	const char	*natsd = getenv("NATSD"), *slash;

	if (natsd != NULL && (slash = strrchr(natsd, '/')) != NULL) {
		snprintf(path, sizeof(path), "%.*s/natsd-mkpasswd",
		    (int)(slash - natsd), natsd);
		if (access(path, X_OK) == 0)
			return path;
	}
	if (access("./natsd-mkpasswd", X_OK) == 0)
		return "./natsd-mkpasswd";
	return NULL;
}

/* Run cmd through sh; its standard output, up to len bytes, in out. */
static int
run(const char *cmd, char *out, size_t len)
{
	FILE	*f;
	size_t	 n;
	int	 st;

	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	while (n > 0 && out[n - 1] == '\n')	/* one-line test names */
		out[--n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_mkpasswd(void)
{
	const char	*prog = mkpasswd_path();
	char		 cmd[8192], out[1024], pass[64], hash[PASSWD_HASH_MAX];
	int		 rc;

	if (prog == NULL) {
		skip("natsd-mkpasswd not built");
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s -c 4", prog);
	rc = run(cmd, out, sizeof(out));
	is_int(rc, 0, "mkpasswd exits 0");
	ok(sscanf(out, "pass: %63s\nbcrypt hash: %127s", pass, hash) == 2,
	    "mkpasswd prints pass and hash");
	is_int(strlen(pass), 22, "a password of 22");
	ok(strncmp(hash, "$2a$04$", 7) == 0, "a $2a$ hash at cost 4");
	ok(passwd_check(hash, pass), "the hash verifies the password");

	snprintf(cmd, sizeof(cmd), "echo secret | %s -p -c 4", prog);
	rc = run(cmd, out, sizeof(out));
	is_int(rc, 0, "mkpasswd -p exits 0");
	ok(sscanf(out, "bcrypt hash: %127s", hash) == 1 &&
	    strncmp(out, "bcrypt hash: ", 13) == 0 &&
	    strchr(out, '\n') == NULL && strlen(out) == 13 + 60,
	    "mkpasswd -p prints the hash line only");
	ok(passwd_check(hash, "secret") && !passwd_check(hash, "secret\n"),
	    "it verifies \"secret\"");

	snprintf(cmd, sizeof(cmd), "printf 'a b\\r\\nignored\\n' | %s -p -c 4",
	    prog);
	ok(run(cmd, out, sizeof(out)) == 0 &&
	    sscanf(out, "bcrypt hash: %127s", hash) == 1 &&
	    passwd_check(hash, "a b"), "first line only, CR LF stripped");

	snprintf(cmd, sizeof(cmd), "%s -c 3 2>/dev/null", prog);
	ok(run(cmd, out, sizeof(out)) == 1 && out[0] == '\0',
	    "-c 3: exit 1, nothing on stdout");
	snprintf(cmd, sizeof(cmd), "%s -c 32 2>&1", prog);
	ok(run(cmd, out, sizeof(out)) == 1 && strstr(out, "cost") != NULL,
	    "-c 32: exit 1 and says why: %s", out);
	snprintf(cmd, sizeof(cmd), "%s -x 2>&1", prog);
	ok(run(cmd, out, sizeof(out)) == 1 && strstr(out, "usage") != NULL,
	    "unknown flag: usage, exit 1");
	snprintf(cmd, sizeof(cmd), "%s extra 2>/dev/null", prog);
	ok(run(cmd, out, sizeof(out)) == 1, "an argument: exit 1");
	snprintf(cmd, sizeof(cmd), "%s -h", prog);
	ok(run(cmd, out, sizeof(out)) == 0 && strstr(out, "-c cost") != NULL,
	    "-h: usage on stdout, exit 0");
	snprintf(cmd, sizeof(cmd), "printf '' | %s -p 2>/dev/null", prog);
	ok(run(cmd, out, sizeof(out)) == 1, "-p, no input: exit 1");
	snprintf(cmd, sizeof(cmd), "echo | %s -p 2>/dev/null", prog);
	ok(run(cmd, out, sizeof(out)) == 1, "-p, empty line: exit 1");
	snprintf(cmd, sizeof(cmd), "printf '%%073d\\n' 0 | %s -p 2>&1", prog);
	ok(run(cmd, out, sizeof(out)) == 1 && strstr(out, "72") != NULL,
	    "-p, 73 bytes: exit 1: %s", out);
}

#ifdef TEST_BCRYPT_HELPER

#define MAXC		1100
#define WAIT_MS		20000

static int	 answered, order_ok, answers_ok;
static int	 got[MAXC];	/* by submit: 0 none, 1 yes, 2 no */

struct want {
	int	 i;		/* the answer's place in the order */
	bool	 ok;		/* the answer */
};

static struct want wants[MAXC];

static void
done_cb(void *arg, bool ok)
{
	struct want *w = arg;

	if (w->i != answered)
		order_ok = 0;
	if (ok != w->ok)
		answers_ok = 0;
	got[w - wants] = ok ? 1 : 2;
	answered++;
}

static void
reset(void)
{
	answered = 0;
	order_ok = answers_ok = 1;
	memset(got, 0, sizeof(got));
}

/* Deliver answers until none is pending or WAIT_MS passes. */
static bool
drain(void)
{
	struct pollfd	 pfd;
	int64_t		 end = now_ms() + WAIT_MS;

	while (bcrypt_pending() > 0 && now_ms() < end) {
		pfd.fd = bcrypt_fd();
		pfd.events = POLLIN;
		if (pfd.fd == -1)
			return false;
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR)
			return false;
		bcrypt_ready();
	}
	return bcrypt_pending() == 0;
}

/* Deliver answers until n have come or WAIT_MS passes. */
static void
wait_answers(int n)
{
	struct pollfd	 pfd;
	int64_t		 end = now_ms() + WAIT_MS;

	while (answered < n && bcrypt_fd() != -1 && now_ms() < end) {
		pfd.fd = bcrypt_fd();
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR)
			return;
		bcrypt_ready();
	}
}

/* A done() that submits again, as a worker may. */
static const char	*chain_hash;
static int		 chain_left;

static void
chain_cb(void *arg, bool ok)
{
	answered++;
	if (!ok)
		answers_ok = 0;
	if (--chain_left > 0 &&
	    bcrypt_submit(chain_hash, "natsd helper", chain_cb, arg) == 0)
		answers_ok = 0;
}

/* The test's children, as the kernel lists them. */
static int
children(pid_t *pids, int max)
{
	char	 path[64], buf[1024], *p, *e;
	ssize_t	 n;
	int	 fd, cnt = 0;
	long	 v;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; cnt < max; p = e) {
		v = strtol(p, &e, 10);
		if (e == p)
			break;
		pids[cnt++] = (pid_t)v;
	}
	return cnt;
}

static pid_t
helper_pid(void)
{
	pid_t	 p[8];

	return children(p, 8) == 1 ? p[0] : -1;
}

/* The one child that is neither a zombie nor in dead[], or -1. */
static pid_t
live_child(const pid_t *dead, int ndead)
{
	char	 path[64], buf[512], *s;
	pid_t	 p[8], live = -1;
	ssize_t	 n;
	int	 i, j, cnt, fd;

	cnt = children(p, 8);
	for (i = 0; i < cnt; i++) {
		for (j = 0; j < ndead && dead[j] != p[i]; j++)
			;
		if (j < ndead)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)p[i]);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if ((s = strrchr(buf, ')')) == NULL || s[1] != ' ' || s[2] == 'Z')
			continue;
		if (live != -1)
			return -1;
		live = p[i];
	}
	return live;
}

/* Every open fd of pid other than 0, 1, 2 and its socket (3). */
static int
extra_fds(pid_t pid)
{
	char	 path[64], link[64];
	int	 fd, n = 0;

	for (fd = 4; fd < 256; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		if (readlink(path, link, sizeof(link)) != -1)
			n++;
	}
	return n;
}

static void
test_helper(void)
{
	static const char pw[] = "natsd helper";
	char		 h4[PASSWD_HASH_MAX], h8[PASSWD_HASH_MAX];
	char		 h10[PASSWD_HASH_MAX], path[64], title[128];
	uint64_t	 t[MAXC];
	pid_t		 pid, pid2, dead[3];
	int64_t		 t0, dt, worst;
	int		 i, fd, nlate;
	ssize_t		 n;
	bool		 all;

	if (passwd_hash(pw, 4, h4, sizeof(h4)) == -1 ||
	    passwd_hash(pw, 8, h8, sizeof(h8)) == -1 ||
	    passwd_hash(pw, 10, h10, sizeof(h10)) == -1) {
		ok(0, "hashes for the helper");
		return;
	}
	is_int(bcrypt_fd(), -1, "no helper before the first check");
	ok(bcrypt_submit("plaintext", pw, done_cb, &wants[0]) == 0,
	    "submit refuses a hash that is not bcrypt");

	/* 50 checks, every third wrong: answered right and in order. */
	reset();
	for (i = 0; i < 50; i++) {
		wants[i].i = i;
		wants[i].ok = i % 3 != 0;
		t[i] = bcrypt_submit(h4, wants[i].ok ? pw : "wrong",
		    done_cb, &wants[i]);
	}
	for (i = 0, all = true; i < 50; i++)
		if (t[i] == 0 || (i > 0 && t[i] == t[i - 1]))
			all = false;
	ok(all, "50 submits: 50 distinct tickets");
	ok(bcrypt_fd() != -1, "the helper's fd");
	ok(drain(), "50 answers within %d ms", WAIT_MS);
	is_int(answered, 50, "50 answers");
	ok(order_ok, "in order");
	ok(answers_ok, "each right");

	/* The helper: its title and nothing of ours but its socket. */
	pid = helper_pid();
	ok(pid > 0, "one child: the helper, pid %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	title[0] = '\0';
	if ((fd = open(path, O_RDONLY)) != -1) {
		if ((n = read(fd, title, sizeof(title) - 1)) >= 0)
			title[n] = '\0';
		close(fd);
	}
	n = (ssize_t)strlen(title);
	ok(n > 7 && strcmp(title + n - 7, " bcrypt") == 0,
	    "the helper's title: \"%s\"", title);
	fd = open("/dev/null", O_RDONLY);	/* one more fd of ours */
	is_int(extra_fds(pid), 0, "the helper holds no other fd");
	close(fd);

	/* Cancel: never called back, whether in flight or not. */
	reset();
	for (i = 0; i < 10; i++) {
		wants[i].i = i;
		wants[i].ok = true;
		t[i] = bcrypt_submit(h4, pw, done_cb, &wants[i]);
	}
	bcrypt_cancel(t[3]);
	bcrypt_cancel(t[9]);
	bcrypt_cancel(t[9]);
	bcrypt_cancel(0);
	bcrypt_cancel(t[9] + 1000);
	is_int(bcrypt_pending(), 8, "two cancelled: 8 pending");
	wants[4].i = 3;		/* the callbacks' expected order */
	for (i = 5; i < 9; i++)
		wants[i].i = i - 1;
	ok(drain(), "the rest answered");
	is_int(answered, 8, "8 answers");
	ok(got[3] == 0 && got[9] == 0 && order_ok && answers_ok,
	    "no answer for the cancelled ones, the rest in order");

	/* SIGKILL the helper with checks in flight: a new one answers. */
	reset();
	for (i = 0; i < 10; i++) {
		wants[i].i = i;
		wants[i].ok = i % 2 == 0;
		t[i] = bcrypt_submit(h8, wants[i].ok ? pw : "wrong", done_cb,
		    &wants[i]);
	}
	pid = helper_pid();
	ok(pid > 0 && kill(pid, SIGKILL) == 0, "helper %d killed",
	    (int)pid);
	ok(drain(), "the checks it held are answered");
	ok(answered == 10 && order_ok && answers_ok,
	    "all 10, right and in order");
	pid2 = helper_pid();
	ok(pid2 > 0 && pid2 != pid,
	    "a new helper %d, the old one reaped", (int)pid2);

	/* A done() may submit the next check. */
	reset();
	chain_hash = h4;
	chain_left = 5;
	ok(bcrypt_submit(h4, pw, chain_cb, NULL) != 0 && drain() &&
	    answered == 5 && answers_ok, "a done() that submits: 5 in a chain");

	/* An idle helper that dies is replaced only when needed. */
	pid = helper_pid();
	ok(pid > 0 && kill(pid, SIGKILL) == 0, "idle helper %d killed",
	    (int)pid);
	{
		struct pollfd	pfd = { .fd = bcrypt_fd(), .events = POLLIN };

		ok(poll(&pfd, 1, WAIT_MS) == 1, "its fd wakes the loop");
		bcrypt_ready();
	}
	ok(bcrypt_fd() == -1, "no helper while nothing waits");
	reset();
	wants[0].i = 0;
	wants[0].ok = true;
	ok(bcrypt_submit(h4, pw, done_cb, &wants[0]) != 0 && drain() &&
	    answered == 1 && answers_ok, "the next submit starts one");
	/* The killed one may still be an unreaped zombie: look past it. */
	ok(live_child(&pid, 1) > 0, "a new helper, %d gone", (int)pid);

	/*
	 * The loop is never blocked: submits return at once, in microseconds
	 * where a cost-10 check takes tens of milliseconds.  The machine
	 * may preempt us for a moment (the helper is busy beside us), so one
	 * submit in 20 may pass 1 ms; none may come near a check's time.
	 */
	reset();
	worst = 0;
	nlate = 0;
	for (i = 0; i < 20; i++) {
		wants[i].i = i;
		wants[i].ok = true;
		t0 = now_ns();
		t[i] = bcrypt_submit(h10, pw, done_cb, &wants[i]);
		dt = now_ns() - t0;
		if (dt > worst)
			worst = dt;
		if (dt > 1000000)
			nlate++;
	}
	diag("slowest of 20 submits: %lld us", (long long)worst / 1000);
	ok(nlate <= 1 && worst < 10000000,
	    "20 cost-10 submits within 1 ms (%d later, the slowest %lld us)",
	    nlate, (long long)worst / 1000);
	is_int(bcrypt_pending(), 20, "20 in flight");
	t0 = now_ns();
	t[20] = bcrypt_submit(h10, pw, done_cb, &wants[20]);
	dt = now_ns() - t0;
	if (dt >= 1000000) {		/* preempted? once more */
		bcrypt_cancel(t[20]);
		t0 = now_ns();
		t[20] = bcrypt_submit(h10, pw, done_cb, &wants[20]);
		dt = now_ns() - t0;
	}
	ok(t[20] != 0 && dt < 1000000,
	    "one more with 20 in flight: %lld us", (long long)dt / 1000);
	bcrypt_cancel(t[20]);

	/* The first answer, then stop: no more callbacks, no child left. */
	wait_answers(1);
	ok(answered >= 1 && got[0] == 1, "a cost-10 check answered yes");
	i = answered;
	bcrypt_shutdown();
	is_int(bcrypt_pending(), 0, "shutdown: nothing pending");
	is_int(bcrypt_fd(), -1, "shutdown: no fd");
	is_int(answered, i, "shutdown: no callback");
	{
		pid_t p[4];

		is_int(children(p, 4), 0, "shutdown: no child left");
	}

	/* The queue is bounded. */
	reset();
	for (i = 0, all = true; i < 1024; i++) {
		wants[i].i = i;
		wants[i].ok = true;
		if ((t[i] = bcrypt_submit(h4, pw, done_cb, &wants[i])) == 0)
			all = false;
	}
	ok(all, "1024 checks queued");
	ok(bcrypt_submit(h4, pw, done_cb, &wants[1024]) == 0,
	    "the 1025th refused");
	/* A cancelled check in flight keeps its place until answered. */
	bcrypt_cancel(t[0]);
	wait_answers(1);
	ok(answered > 0 && bcrypt_submit(h4, pw, done_cb, &wants[1024]) != 0,
	    "room again after answers");
	bcrypt_shutdown();

	/* Helpers that keep dying: the check fails, new ones wait. */
	reset();
	wants[0].i = 0;
	wants[0].ok = false;
	t[0] = bcrypt_submit(h10, pw, done_cb, &wants[0]);
	for (i = 0; i < 3 && answered == 0; i++) {
		struct pollfd	pfd = { .fd = bcrypt_fd(), .events = POLLIN };

		/* Those killed before may not be reaped yet. */
		if ((dead[i] = live_child(dead, i)) <= 0 ||
		    kill(dead[i], SIGKILL) == -1 ||
		    poll(&pfd, 1, WAIT_MS) != 1)
			break;
		bcrypt_ready();
	}
	ok(t[0] != 0 && i == 3 && answered == 1 && answers_ok,
	    "three helpers lost in a row: the check fails");
	ok(bcrypt_fd() == -1 && bcrypt_pending() == 0, "no helper, none pending");
	ok(bcrypt_submit(h4, pw, done_cb, &wants[1]) == 0,
	    "new checks refused for a while");
	bcrypt_shutdown();

	/* And it starts again after a shutdown. */
	reset();
	wants[0].i = 0;
	wants[0].ok = false;
	ok(bcrypt_submit(h4, "nope", done_cb, &wants[0]) != 0 && drain() &&
	    answered == 1 && answers_ok, "a new helper after shutdown");
	bcrypt_shutdown();
}

#endif /* TEST_BCRYPT_HELPER */

int
main(int argc, char *argv[], char *envp[])
{
	/* The helper sets its title, as in natsd. */
	proc_title_init(argc, argv, envp);

	test_is_bcrypt();
	test_equal();
	test_check();
	test_hash();
	test_generate();
	test_mkpasswd();
#ifdef TEST_BCRYPT_HELPER
	test_helper();
#else
	skip("the bcrypt helper: build with worker/bcrypt.c and "
	    "-DTEST_BCRYPT_HELPER");
#endif
	return done_testing();
}
