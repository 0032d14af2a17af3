/*
 * The master's supervision loop: one slot per child, a dead child is
 * logged ("exited on signal 9"), its slot declared dead to the other
 * peers (so they drop its interest at once) and restarted in the same
 * slot, after a back-off when it crash-loops.  Signal handlers only set
 * flags; the loop acts on them.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "natsd.h"
#include "notify.h"
#include "pidfile.h"
#include "supervisor.h"
#include "monitor.h"
#include "router.h"
#include "worker.h"

#define RESPAWN_MIN_MS		50
#define RESPAWN_MAX_MS		5000
#define CRASH_WINDOW_MS		1000	/* dying sooner than this is a crash loop */
#define STOP_GRACE_MS		2000

struct child {
	enum role	 role;
	int		 slot;
	pid_t		 pid;
	int64_t		 started;
	int64_t		 respawn_at;	/* 0: not waiting */
	int		 backoff_ms;
};

static volatile sig_atomic_t sig_chld, sig_term, sig_quit, sig_hup, sig_usr1,
    sig_usr2;

static struct child	 children[MAX_WORKERS + 2];
static int		 nchildren, nworkers;
static pid_t		 master_pid;

static void
sighdlr(int sig)
{
	switch (sig) {
	case SIGCHLD:	sig_chld = 1; break;
	case SIGINT:
	case SIGTERM:	sig_term = 1; break;
	case SIGQUIT:	sig_quit = 1; break;
	case SIGHUP:	sig_hup = 1; break;
	case SIGUSR1:	sig_usr1 = 1; break;
	case SIGUSR2:	sig_usr2 = 1; break;
	}
}

static const int handled[] = { SIGCHLD, SIGINT, SIGTERM, SIGQUIT, SIGHUP,
    SIGUSR1, SIGUSR2 };

static void
signals_setup(sigset_t *oldmask)
{
	struct sigaction	 sa;
	sigset_t		 mask;
	size_t			 i;

	sigemptyset(&mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighdlr;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
		sigaddset(&mask, handled[i]);
		if (sigaction(handled[i], &sa, NULL) == -1)
			fatal("sigaction");
	}
	signal(SIGPIPE, SIG_IGN);
	/* Blocked except inside ppoll(): no signal is lost between checks. */
	if (sigprocmask(SIG_BLOCK, &mask, oldmask) == -1)
		fatal("sigprocmask");
}

/* In the child: default dispositions, nothing blocked, die with the master. */
static void
child_signals_reset(const sigset_t *oldmask)
{
	struct sigaction	 sa;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	/* The master may have died before prctl took effect. */
	if (getppid() != master_pid)
		_exit(1);
}

/* "worker 2", "monitor": how logs name a child. */
static const char *
child_name(const struct child *c)
{
	static char buf[32];

	if (c->role == ROLE_MONITOR)
		return "monitor";
	if (c->role == ROLE_ROUTER)
		return "router";
	snprintf(buf, sizeof(buf), "worker %d", c->slot);
	return buf;
}

static void
child_start(struct child *c, struct settings *s, struct mesh *m,
    const struct listeners *l, const sigset_t *oldmask)
{
	struct mesh_peer	*p = mesh_peer(m, c->slot);
	pid_t			 pid;

	/* The new process's epoch; peers discard records of older ones. */
	atomic_fetch_add(&p->epoch, 1);
	/* It starts with the current settings: nothing of a reload to apply. */
	atomic_store(&p->reload_ack, mesh_reload_gen(m));
	atomic_store(&p->serving, 0);
	atomic_store(&p->quiesced, 0);
	c->respawn_at = 0;
	c->started = now_ms();
	switch ((pid = fork())) {
	case -1:
		log_warn("fork %s", child_name(c));
		c->respawn_at = now_ms() + RESPAWN_MAX_MS;
		return;
	case 0:
		pid_file_close_child();
		child_signals_reset(oldmask);
		/* Each role keeps only the sockets it serves. */
		if (c->role == ROLE_MONITOR) {
			close(l->client);
			if (l->route != -1)
				close(l->route);
			_exit(monitor_main(s, m, l->http, l->https));
		}
		if (l->http != -1)
			close(l->http);
		if (l->https != -1)
			close(l->https);
		if (c->role == ROLE_ROUTER) {
			close(l->client);
			_exit(router_main(s, m, l->route));
		}
		if (l->route != -1)
			close(l->route);
		_exit(worker_main(s, m, c->slot, l->client));
	}
	c->pid = pid;
	atomic_store(&p->pid, pid);
	log_debug("%s started, pid %d", child_name(c), (int)pid);
}

/* Tell every live peer that `slot' is gone so it drops the slot's interest. */
static void
slot_declare_dead(struct mesh *m, int slot)
{
	struct mesh_peer	*p = mesh_peer(m, slot);
	int			 i;

	atomic_store(&p->alive, 0);
	atomic_store(&p->serving, 0);
	atomic_store(&p->pid, 0);
	/* Its clients are gone, and so is any back-pressure it asked for. */
	atomic_store(&p->nclients, 0);
	atomic_store(&p->congested, 0);
	atomic_store(&p->stats.connections, 0);
	atomic_store(&p->stats.subscriptions, 0);
	atomic_fetch_add(&p->epoch, 1);
	atomic_fetch_add(mesh_gen(m), 1);
	for (i = 0; i < nchildren; i++)
		if (children[i].slot != slot && children[i].pid > 0)
			mesh_kick(m, children[i].slot);
}

static void
reap(struct mesh *m, bool stopping)
{
	struct child	*c;
	pid_t		 pid;
	int		 status, i;
	int64_t		 now;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0, c = NULL; i < nchildren; i++)
			if (children[i].pid == pid)
				c = &children[i];
		if (c == NULL)
			continue;
		c->pid = 0;
		if (stopping)
			continue;
		if (WIFSIGNALED(status))
			log_errorx("%s (pid %d) exited on signal %d%s",
			    child_name(c), (int)pid, WTERMSIG(status),
			    WCOREDUMP(status) ? " (core dumped)" : "");
		else
			log_errorx("%s (pid %d) exited with code %d",
			    child_name(c), (int)pid, WEXITSTATUS(status));
		/* Only ring peers have interest and rings to declare dead. */
		if (c->role == ROLE_WORKER || c->role == ROLE_ROUTER)
			slot_declare_dead(m, c->slot);
		else
			atomic_store(&mesh_peer(m, c->slot)->pid, 0);
		now = now_ms();
		if (now - c->started < CRASH_WINDOW_MS) {
			c->backoff_ms = c->backoff_ms ?
			    c->backoff_ms * 2 : RESPAWN_MIN_MS;
			if (c->backoff_ms > RESPAWN_MAX_MS)
				c->backoff_ms = RESPAWN_MAX_MS;
		} else
			c->backoff_ms = 0;
		c->respawn_at = now + c->backoff_ms;
		if (c->backoff_ms)
			log_warnx("%s restarts in %d ms", child_name(c),
			    c->backoff_ms);
	}
}

/*
 * A worker reported that a peer made no progress on its ring for
 * write_deadline: that peer's event loop is stuck and its clients are not
 * served.  Restart it; its slot is declared dead when it is reaped.
 */
static void
restart_hung(struct mesh *m)
{
	struct mesh_peer	*p;
	int			 i;

	for (i = 0; i < nchildren; i++) {
		p = mesh_peer(m, children[i].slot);
		if (atomic_exchange(&p->hung_reports, 0) == 0 ||
		    children[i].pid <= 0)
			continue;
		log_errorx("worker %d (pid %d) is hung: its peers' rings made "
		    "no progress; restarting it", children[i].slot,
		    (int)children[i].pid);
		kill(children[i].pid, SIGKILL);
	}
}

static void
signal_children(int sig)
{
	int i;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid > 0)
			kill(children[i].pid, sig);
}

static int
live_children(void)
{
	int i, n = 0;

	for (i = 0; i < nchildren; i++)
		n += children[i].pid > 0;
	return n;
}

/* Stop: children flush what clients are owed and exit; force after a grace period. */
static void
stop_children(struct mesh *m, int sig, const sigset_t *oldmask)
{
	int64_t		 deadline = now_ms() + STOP_GRACE_MS, left;
	struct timespec	 ts;

	signal_children(sig);
	while (live_children() > 0 && (left = deadline - now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		ppoll(NULL, 0, &ts, oldmask);
		sig_chld = 0;
		reap(m, true);
	}
	if (live_children() > 0) {
		log_warnx("children did not stop in %d ms, killing them",
		    STOP_GRACE_MS);
		signal_children(SIGKILL);
		while (live_children() > 0 && waitpid(-1, NULL, 0) > 0)
			reap(m, true);
	}
}

/* The slots of live children, for counting acknowledgements. */
static void
live_slots(int *slots, bool *live)
{
	int i;

	for (i = 0; i < nchildren; i++) {
		slots[i] = children[i].slot;
		live[i] = children[i].pid > 0;
	}
}

/* READY=1 once every worker has synced with its peers and accepts clients. */
static bool
all_serving(struct mesh *m)
{
	int i;

	for (i = 0; i < nworkers; i++)
		if (children[i].pid <= 0 ||
		    !atomic_load(&mesh_peer(m, children[i].slot)->serving))
			return false;
	return true;
}

int
supervisor_run(struct settings *s, struct mesh *m, const struct listeners *l,
    reload_load_fn load)
{
	sigset_t	 oldmask;
	struct timespec	 ts, *tsp;
	int64_t		 next, now;
	int		 i, slots[MAX_WORKERS + 2];
	bool		 live[MAX_WORKERS + 2], ready = false, reloading = false;

	master_pid = getpid();
	signals_setup(&oldmask);
	nworkers = s->workers;
	nchildren = nworkers;
	for (i = 0; i < nworkers; i++) {
		children[i].role = ROLE_WORKER;
		children[i].slot = i;
	}
	if (settings_cluster_enabled(s)) {
		children[nchildren].role = ROLE_ROUTER;
		children[nchildren].slot = mesh_router_slot(m);
		nchildren++;
	}
	if (l->http != -1 || l->https != -1) {
		children[nchildren].role = ROLE_MONITOR;
		children[nchildren].slot = mesh_monitor_slot(m);
		nchildren++;
	}
	for (i = 0; i < nchildren; i++)
		child_start(&children[i], s, m, l, &oldmask);

	for (;;) {
		next = -1;
		for (i = 0; i < nchildren; i++)
			if (children[i].respawn_at &&
			    (next == -1 || children[i].respawn_at < next))
				next = children[i].respawn_at;
		/* Workers signal readiness and acks; poll too, in case one is lost. */
		if ((!ready || reloading) && (next == -1 || next > now_ms() + 50))
			next = now_ms() + 50;
		tsp = NULL;
		if (next != -1) {
			now = now_ms();
			next = next > now ? next - now : 0;
			ts.tv_sec = next / 1000;
			ts.tv_nsec = (next % 1000) * 1000000;
			tsp = &ts;
		}
		if (ppoll(NULL, 0, tsp, &oldmask) == -1 && errno != EINTR)
			fatal("ppoll");
		log_flush();

		if (sig_quit) {
			log_info("Server exiting (quit)");
			notify_stopping();
			signal_children(SIGKILL);
			return 0;
		}
		if (sig_term) {
			log_info("Initiating Shutdown...");
			notify_stopping();
			stop_children(m, SIGTERM, &oldmask);
			log_info("Server Exiting..");
			return 0;
		}
		if (sig_chld) {
			sig_chld = 0;
			reap(m, false);
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			if (log_reopen() == -1)
				log_warn("reopen log file");
			signal_children(SIGUSR1);
		}
		if (sig_usr2) {
			sig_usr2 = 0;
			restart_hung(m);
		}
		if (!ready && all_serving(m)) {
			ready = true;
			log_info("Server is ready");
			notify_ready();
		}
		if (sig_hup) {
			sig_hup = 0;
			if (reload_begin(s, m, load) != 0) {
				reloading = true;
				signal_children(SIGHUP);
			}
		}
		if (reloading) {
			live_slots(slots, live);
			reloading = reload_poll(m, slots, live, nchildren);
		}
		now = now_ms();
		for (i = 0; i < nchildren; i++)
			if (children[i].respawn_at &&
			    children[i].respawn_at <= now)
				child_start(&children[i], s, m, l, &oldmask);
	}
}
