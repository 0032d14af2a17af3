/*
 * The loop steps the workers and the router share (see mesh_loop.h).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "log.h"
#include "mesh_loop.h"
#include "peer.h"
#include "util.h"
#include "worker.h"

static volatile sig_atomic_t sig_term, sig_usr1, sig_hup;

static void
sighdlr(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		sig_term = 1;
	else if (sig == SIGUSR1)
		sig_usr1 = 1;
	else if (sig == SIGHUP)
		sig_hup = 1;
}

void
mesh_loop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighdlr;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool
mesh_loop_poll(void (*reload)(void))
{
	if (sig_term)
		return true;
	if (sig_usr1) {
		sig_usr1 = 0;
		if (log_reopen() == -1)
			log_warn("reopen log file");
	}
	if (sig_hup) {
		sig_hup = 0;
		reload();
	}
	return false;
}

int
mesh_loop_wait(struct epoll_event *events, int max, int timeout)
{
	int n;

	if (timeout > 0) {
		mesh_sleep_announce(wk.mesh, wk.slot);
		/* A record published before the announcement: no sleep. */
		if (peer_pending())
			timeout = 0;
	}
	n = epoll_wait(wk.epfd, events, max, timeout);
	mesh_sleep_cancel(wk.mesh, wk.slot);
	if (n == -1 && errno != EINTR)
		fatal("epoll_wait");
	wk.now = now_ms();
	return n < 0 ? 0 : n;
}
