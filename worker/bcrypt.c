/*
 * The bcrypt helper: checks that take tens of milliseconds run in a child
 * of the worker, so the worker's event loop never waits for them.
 *
 * The worker keeps a FIFO of checks.  Each is sent to the helper as one
 * SOCK_SEQPACKET record {ticket, hash, password} and answered with one
 * {ticket, ok}; the helper is single-threaded and answers in order, so
 * the answer always belongs to the head of the queue.  A full socket
 * leaves the rest queued, unsent: they go out from bcrypt_ready(), which
 * the answers to the checks in flight are sure to trigger.
 *
 * The worker's end is non-blocking and is the fd bcrypt_fd() returns.  A
 * helper that dies (EOF, a broken socket, a malformed answer) is reaped,
 * replaced, and sent again every check it had not answered, so a client
 * never notices.  A replacement means a new socket, so the fd changes:
 * the worker re-registers it after every bcrypt_submit() and
 * bcrypt_ready() (worker_watch_bcrypt()).  Helpers that die BCRYPT_TRIES
 * times in a row without answering anything fail every queued check and
 * refuse new ones for a second, so a helper that cannot run is not
 * forked in a loop.
 *
 * The worker has no SIGCHLD handler and never waits for any child but
 * these, by pid: a helper whose exit is not yet visible when its socket
 * closes is killed and reaped later from the next call.
 *
 * Passwords are copied only as far as bcrypt reads them (72 bytes),
 * wiped as soon as a check is answered or cancelled, and never logged.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bcrypt.h"
#include "log.h"
#include "passwd.h"
#include "util.h"

#define BCRYPT_QUEUE_MAX	1024	/* checks queued at once */
#define BCRYPT_PW_MAX		72	/* bcrypt reads no more of a password */
#define BCRYPT_TRIES		3	/* helper deaths in a row before giving up */
#define BCRYPT_BACKOFF_MS	1000	/* then refuse checks for this long */
#define BCRYPT_ZOMBIES		8
#define HELPER_FD		3

/* worker -> helper: the header, then hash and password, unterminated. */
struct bc_req {
	uint64_t	ticket;
	uint16_t	hlen;
	uint16_t	plen;
	char		data[PASSWD_HASH_MAX + BCRYPT_PW_MAX];
};
#define REQ_HDR		offsetof(struct bc_req, data)

/* helper -> worker */
struct bc_ans {
	uint64_t	ticket;
	uint32_t	ok;
};

struct check {
	TAILQ_ENTRY(check)	 entry;
	uint64_t		 ticket;
	bcrypt_done_fn		 done;
	void			*arg;
	bool			 sent;		/* to the current helper */
	bool			 cancelled;	/* sent: its answer is dropped */
	uint16_t		 hlen;
	uint16_t		 plen;
	char			 hash[PASSWD_HASH_MAX];
	char			 pw[BCRYPT_PW_MAX];
};
TAILQ_HEAD(checkq, check);

static struct {
	struct checkq	 q;		/* the sent ones first, in order */
	struct check	*next;		/* first unsent, or NULL */
	unsigned	 nq;		/* entries in q */
	unsigned	 npending;	/* entries not cancelled */
	uint64_t	 ticket;	/* last handed out */
	int		 fd;		/* worker's end, or -1 */
	pid_t		 pid;		/* the helper, or 0 */
	int		 deaths;	/* helpers lost since the last answer */
	int64_t		 retry_at;	/* ms: no new helper before */
	bool		 full_logged;
	pid_t		 zombies[BCRYPT_ZOMBIES];
	int		 nzombies;
	char		 title[96];	/* the helper's process title */
} bc = {
	.q = TAILQ_HEAD_INITIALIZER(bc.q),
	.fd = -1,
};

static void	helper_lost(const char *);
static int	flush(void);

/*
 * The helper.  It holds nothing of the worker's but the socket: no client,
 * listening or mesh fd, default signal dispositions, and it dies with the
 * worker.  It never logs (the sink's fd is closed here) and exits on any
 * error; the worker reports it.
 */
static void __attribute__((noreturn))
helper_main(int fd, pid_t parent)
{
	struct bc_req	 req;
	struct bc_ans	 ans;
	struct sigaction sa;
	sigset_t	 all;
	char		 hash[PASSWD_HASH_MAX], pw[BCRYPT_PW_MAX + 1];
	ssize_t		 n;
	int		 sig;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	if (fd != HELPER_FD) {
		if (dup2(fd, HELPER_FD) == -1)
			_exit(1);
		fd = HELPER_FD;
	}
	if (close_range(HELPER_FD + 1, ~0U, 0) == -1) {
		int i, max = (int)sysconf(_SC_OPEN_MAX);

		for (i = HELPER_FD + 1; i < max; i++)
			close(i);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);	/* fails for KILL, STOP */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	proc_title(bc.title);

	for (;;) {
		n = recv(fd, &req, sizeof(req), 0);
		if (n == 0)
			_exit(0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if ((size_t)n < REQ_HDR || req.hlen >= PASSWD_HASH_MAX ||
		    req.plen > BCRYPT_PW_MAX ||
		    (size_t)n != REQ_HDR + req.hlen + req.plen)
			_exit(1);
		memcpy(hash, req.data, req.hlen);
		hash[req.hlen] = '\0';
		memcpy(pw, req.data + req.hlen, req.plen);
		pw[req.plen] = '\0';
		memset(&ans, 0, sizeof(ans));
		ans.ticket = req.ticket;
		ans.ok = passwd_check(hash, pw);
		explicit_bzero(&req, sizeof(req));
		explicit_bzero(pw, sizeof(pw));
		while ((n = send(fd, &ans, sizeof(ans), MSG_NOSIGNAL)) == -1 &&
		    errno == EINTR)
			;
		if (n != sizeof(ans))
			_exit(errno == EPIPE ? 0 : 1);
	}
}

/*
 * "natsd: worker 2" -> "natsd: worker 2 bcrypt".  The worker's title is
 * the first string of its own command line, where setproctitle put it.
 */
static void
title_load(void)
{
	char	 buf[64];
	ssize_t	 n = -1;
	int	 fd;

	if ((fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0)
		strlcpy(buf, "natsd", sizeof(buf));
	else
		buf[n] = '\0';
	snprintf(bc.title, sizeof(bc.title), "%s bcrypt", buf);
}

static void
zombies_reap(void)
{
	int i = 0;

	while (i < bc.nzombies) {
		if (waitpid(bc.zombies[i], NULL, WNOHANG) == 0) {
			i++;
			continue;
		}
		bc.zombies[i] = bc.zombies[--bc.nzombies];
	}
}

/*
 * Collect an exited helper, or kill one that is still there and collect
 * it later; says how it ended in buf.
 */
static void
helper_reap(pid_t pid, char *buf, size_t len)
{
	int	 status;
	pid_t	 r;

	while ((r = waitpid(pid, &status, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r == pid && WIFSIGNALED(status)) {
		snprintf(buf, len, "exited on signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
		return;
	}
	if (r == pid) {
		snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
		return;
	}
	snprintf(buf, len, "went away");
	if (r == -1)
		return;		/* not our child any more: nothing to reap */
	kill(pid, SIGKILL);
	if (bc.nzombies == BCRYPT_ZOMBIES) {
		/* Killed already: these waits are short. */
		while (bc.nzombies > 0)
			waitpid(bc.zombies[--bc.nzombies], NULL, 0);
	}
	bc.zombies[bc.nzombies++] = pid;
}

static int
helper_start(void)
{
	pid_t	 pid, self = getpid();
	int	 sv[2];

	if (bc.retry_at != 0 && now_ms() < bc.retry_at)
		return -1;
	bc.retry_at = 0;
	if (bc.title[0] == '\0')
		title_load();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("bcrypt: socketpair");
		goto fail;
	}
	if (set_nonblock(sv[0]) == -1) {
		log_warn("bcrypt: set_nonblock");
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("bcrypt: fork");
		close(sv[0]);
		close(sv[1]);
		goto fail;
	case 0:
		helper_main(sv[1], self);
	}
	close(sv[1]);
	bc.fd = sv[0];
	bc.pid = pid;
	log_debug("bcrypt helper started, pid %d", (int)pid);
	return 0;
fail:
	bc.retry_at = now_ms() + BCRYPT_BACKOFF_MS;
	return -1;
}

static void
check_free(struct check *c)
{
	explicit_bzero(c, sizeof(*c));
	free(c);
}

static void
check_remove(struct check *c)
{
	if (bc.next == c)
		bc.next = TAILQ_NEXT(c, entry);
	TAILQ_REMOVE(&bc.q, c, entry);
	bc.nq--;
	if (!c->cancelled)
		bc.npending--;
	if (bc.nq < BCRYPT_QUEUE_MAX / 2)
		bc.full_logged = false;
}

/*
 * Answer every queued check "no": the helper cannot run.  The queue is
 * emptied first, so a done() that submits or cancels finds it consistent.
 */
static void
fail_all(void)
{
	struct checkq	 q = TAILQ_HEAD_INITIALIZER(q);
	struct check	*c;
	bcrypt_done_fn	 done;
	void		*arg;

	TAILQ_CONCAT(&q, &bc.q, entry);
	bc.next = NULL;
	bc.nq = bc.npending = 0;
	bc.full_logged = false;
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, entry);
		done = c->cancelled ? NULL : c->done;
		arg = c->arg;
		check_free(c);
		if (done != NULL)
			done(arg, false);
	}
}

/*
 * The helper is gone or broken (why: what we saw).  Reap it, drop the
 * cancelled checks it held, and hand the rest to a new helper; none is
 * started while nothing waits, and only a loss with checks waiting counts
 * towards BCRYPT_TRIES.
 */
static void
helper_lost(const char *why)
{
	struct check	*c, *t;
	char		 how[64];
	pid_t		 pid = bc.pid;
	unsigned	 n;

	helper_reap(pid, how, sizeof(how));
	close(bc.fd);
	bc.fd = -1;
	bc.pid = 0;
	TAILQ_FOREACH_SAFE(c, &bc.q, entry, t) {
		if (c->cancelled) {
			check_remove(c);
			check_free(c);
		} else
			c->sent = false;
	}
	bc.next = TAILQ_FIRST(&bc.q);
	if ((n = bc.npending) == 0) {
		/* None waits: the next submit starts a helper. */
		log_warnx("bcrypt helper (pid %d) %s (%s)", (int)pid, how, why);
		return;
	}
	if (++bc.deaths >= BCRYPT_TRIES) {
		log_warnx("bcrypt helper (pid %d) %s (%s); %d in a row "
		    "answered nothing: refusing %u check%s, and new ones for "
		    "%d ms", (int)pid, how, why, bc.deaths, n, n == 1 ? "" : "s",
		    BCRYPT_BACKOFF_MS);
		bc.deaths = 0;
		bc.retry_at = now_ms() + BCRYPT_BACKOFF_MS;
		fail_all();
		return;
	}
	log_warnx("bcrypt helper (pid %d) %s (%s); sending %u check%s to a "
	    "new one", (int)pid, how, why, n, n == 1 ? "" : "s");
	if (helper_start() == -1) {
		log_warnx("bcrypt: no helper; refusing %u check%s", n,
		    n == 1 ? "" : "s");
		fail_all();
		return;
	}
	if (flush() == -1)
		helper_lost(strerror(errno));	/* at most BCRYPT_TRIES deep */
}

/*
 * Send the unsent checks until the socket is full; -1 and errno when the
 * helper is gone.  It never calls helper_lost() itself, so that
 * bcrypt_submit() never runs a done() before it returns: there the loss
 * waits for bcrypt_ready(), which the broken socket wakes.
 */
static int
flush(void)
{
	struct bc_req	 req;
	struct check	*c;
	size_t		 len;
	ssize_t		 n;

	while (bc.fd != -1 && (c = bc.next) != NULL) {
		memset(&req, 0, REQ_HDR);
		req.ticket = c->ticket;
		req.hlen = c->hlen;
		req.plen = c->plen;
		memcpy(req.data, c->hash, c->hlen);
		memcpy(req.data + c->hlen, c->pw, c->plen);
		len = REQ_HDR + c->hlen + c->plen;
		n = send(bc.fd, &req, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		explicit_bzero(&req, sizeof(req));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return 0;
			return -1;
		}
		c->sent = true;
		bc.next = TAILQ_NEXT(c, entry);
	}
	return 0;
}

uint64_t
bcrypt_submit(const char *hash, const char *password, bcrypt_done_fn done,
    void *arg)
{
	struct check	*c;
	size_t		 hlen = strlen(hash), plen = strlen(password);

	if (bc.nzombies > 0)
		zombies_reap();
	if (!passwd_is_bcrypt(hash) || hlen >= PASSWD_HASH_MAX) {
		log_warnx("bcrypt: not a bcrypt hash");
		return 0;
	}
	if (bc.nq >= BCRYPT_QUEUE_MAX) {
		if (!bc.full_logged)
			log_warnx("bcrypt: %u checks queued, refusing more",
			    bc.nq);
		bc.full_logged = true;
		return 0;
	}
	if (bc.fd == -1 && helper_start() == -1)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("bcrypt: check");
		return 0;
	}
	/* A password is cut where bcrypt stops reading it: same result. */
	if (plen > BCRYPT_PW_MAX)
		plen = BCRYPT_PW_MAX;
	c->ticket = ++bc.ticket;
	c->done = done;
	c->arg = arg;
	c->hlen = (uint16_t)hlen;
	c->plen = (uint16_t)plen;
	memcpy(c->hash, hash, hlen);
	memcpy(c->pw, password, plen);
	TAILQ_INSERT_TAIL(&bc.q, c, entry);
	bc.nq++;
	bc.npending++;
	if (bc.next == NULL)
		bc.next = c;
	(void)flush();
	return c->ticket;
}

void
bcrypt_cancel(uint64_t ticket)
{
	struct check *c;

	if (ticket == 0)
		return;
	TAILQ_FOREACH(c, &bc.q, entry) {
		if (c->ticket != ticket)
			continue;
		if (c->cancelled)
			return;
		if (!c->sent) {
			check_remove(c);
			check_free(c);
			return;
		}
		/* In flight: its answer still comes, and is dropped. */
		c->cancelled = true;
		c->done = NULL;
		c->arg = NULL;
		explicit_bzero(c->pw, sizeof(c->pw));
		bc.npending--;
		return;
	}
}

int
bcrypt_fd(void)
{
	return bc.fd;
}

/* The answer to the head of the queue has come. */
static void
answer(const struct bc_ans *a)
{
	struct check	*c = TAILQ_FIRST(&bc.q);
	bcrypt_done_fn	 done;
	void		*arg;

	if (c == NULL || !c->sent || c->ticket != a->ticket) {
		helper_lost("answer out of order");
		return;
	}
	bc.deaths = 0;
	check_remove(c);
	done = c->cancelled ? NULL : c->done;
	arg = c->arg;
	check_free(c);
	if (done != NULL)
		done(arg, a->ok != 0);
}

void
bcrypt_ready(void)
{
	struct bc_ans	 a[2];
	ssize_t		 n;

	if (bc.nzombies > 0)
		zombies_reap();
	while (bc.fd != -1) {
		/* Room for two: a longer record is malformed, not cut. */
		n = recv(bc.fd, a, sizeof(a), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1)
			helper_lost(strerror(errno));
		else if (n == 0)
			helper_lost("end of file");
		else if (n != sizeof(a[0]))
			helper_lost("malformed answer");
		else
			answer(&a[0]);
	}
	if (flush() == -1)
		helper_lost(strerror(errno));
}

unsigned
bcrypt_pending(void)
{
	return bc.npending;
}

/* No done() is called: the worker is going away with its clients. */
void
bcrypt_shutdown(void)
{
	struct check *c;

	while ((c = TAILQ_FIRST(&bc.q)) != NULL) {
		check_remove(c);
		check_free(c);
	}
	bc.next = NULL;
	if (bc.fd != -1) {
		close(bc.fd);
		bc.fd = -1;
	}
	if (bc.pid > 0) {
		/* Do not wait for a slow check to finish: it is unwanted. */
		kill(bc.pid, SIGKILL);
		while (waitpid(bc.pid, NULL, 0) == -1 && errno == EINTR)
			;
		bc.pid = 0;
	}
	while (bc.nzombies > 0)
		waitpid(bc.zombies[--bc.nzombies], NULL, 0);
	bc.deaths = 0;
	bc.retry_at = 0;
}
