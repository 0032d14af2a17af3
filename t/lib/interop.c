/*
 * Helpers for the libnats interop tests (see interop.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "harness.h"
#include "interop.h"

#define NC_TIMEOUT_MS		3000	/* connect, unless told */
#define NC_RECONNECT_WAIT_MS	50	/* between reconnect attempts */

void
waiter_init(struct waiter *w)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&w->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	w->count = 0;
	w->last = NATS_OK;
	w->text[0] = '\0';
}

void
waiter_free(struct waiter *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mtx);
}

void
waiter_bump(struct waiter *w)
{
	pthread_mutex_lock(&w->mtx);
	w->count++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

int
waiter_get(struct waiter *w)
{
	int n;

	pthread_mutex_lock(&w->mtx);
	n = w->count;
	pthread_mutex_unlock(&w->mtx);
	return n;
}

/* Back to no count and no error. */
void
waiter_reset(struct waiter *w)
{
	pthread_mutex_lock(&w->mtx);
	w->count = 0;
	w->last = NATS_OK;
	w->text[0] = '\0';
	pthread_mutex_unlock(&w->mtx);
}

/* Wait until the count reaches want or timeout_ms pass; the count. */
int
waiter_wait(struct waiter *w, int want, int timeout_ms)
{
	struct timespec	ts;
	int		n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mtx);
	while (w->count < want)
		if (pthread_cond_timedwait(&w->cond, &w->mtx, &ts) == ETIMEDOUT)
			break;
	n = w->count;
	pthread_mutex_unlock(&w->mtx);
	return n;
}

void
waiter_on_event(natsConnection *nc, void *arg)
{
	(void)nc;
	waiter_bump(arg);
}

void
waiter_on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
    void *arg)
{
	struct waiter	*w = arg;
	const char	*text = NULL;

	(void)sub;
	natsConnection_GetLastError(nc, &text);
	harness_diag("libnats asynchronous error: %s: %s",
	    natsStatus_GetText(err), text != NULL ? text : "");
	pthread_mutex_lock(&w->mtx);
	w->count++;
	w->last = err;
	snprintf(w->text, sizeof(w->text), "%s", text != NULL ? text : "");
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

/* The options of o, in the natsOptions to create at *optsp. */
static natsStatus
nc_options(const struct nc_opts *o, const char *url, natsOptions **optsp)
{
	natsOptions	*opts;
	natsStatus	 st;

	if ((st = natsOptions_Create(optsp)) != NATS_OK)
		return st;
	opts = *optsp;
	st = natsOptions_SetURL(opts, url);
	if (st == NATS_OK)
		st = natsOptions_SetTimeout(opts, o->timeout_ms > 0 ?
		    o->timeout_ms : NC_TIMEOUT_MS);
	if (st == NATS_OK)
		st = natsOptions_SetAllowReconnect(opts, o->reconnects > 0);
	if (st == NATS_OK && o->reconnects > 0)
		st = natsOptions_SetMaxReconnect(opts, o->reconnects);
	if (st == NATS_OK && o->reconnects > 0)
		st = natsOptions_SetReconnectWait(opts, NC_RECONNECT_WAIT_MS);
	if (st == NATS_OK && o->reconnects > 0)
		st = natsOptions_SetReconnectJitter(opts, 0, 0);
	if (st == NATS_OK && o->errors != NULL)
		st = natsOptions_SetErrorHandler(opts, waiter_on_error,
		    o->errors);
	if (st == NATS_OK && o->disconnected != NULL)
		st = natsOptions_SetDisconnectedCB(opts, waiter_on_event,
		    o->disconnected);
	if (st == NATS_OK && o->reconnected != NULL)
		st = natsOptions_SetReconnectedCB(opts, waiter_on_event,
		    o->reconnected);
	if (st == NATS_OK && o->user != NULL)
		st = natsOptions_SetUserInfo(opts, o->user, o->pass);
	if (st == NATS_OK && o->tls)
		st = natsOptions_SetSecure(opts, true);
	if (st == NATS_OK && o->ca != NULL)
		st = natsOptions_LoadCATrustedCertificates(opts, o->ca);
	if (st == NATS_OK && o->host != NULL)
		st = natsOptions_SetExpectedHostname(opts, o->host);
	if (st == NATS_OK && o->skip_verify)
		st = natsOptions_SkipServerVerification(opts, true);
	if (st == NATS_OK && o->cert != NULL)
		st = natsOptions_LoadCertificatesChain(opts, o->cert, o->key);
	return st;
}

natsConnection *
nc_open(const struct nc_opts *o, natsStatus *stp)
{
	natsConnection	*nc = NULL;
	natsOptions	*opts = NULL;
	natsStatus	 st;
	char		 url[256];

	if (o->url != NULL)
		snprintf(url, sizeof(url), "%s", o->url);
	else
		snprintf(url, sizeof(url), "nats://127.0.0.1:%d", o->port);
	if ((st = nc_options(o, url, &opts)) == NATS_OK)
		st = natsConnection_Connect(&nc, opts);
	natsOptions_Destroy(opts);
	if (stp != NULL)
		*stp = st;
	if (st != NATS_OK) {
		harness_diag("connect %s: %s: %s", url, natsStatus_GetText(st),
		    nc_last_error());
		return NULL;
	}
	return nc;
}

const char *
nc_last_error(void)
{
	natsStatus	 st;
	const char	*t = nats_GetLastError(&st);

	return t != NULL ? t : "";
}

natsStatus
nc_subscribe_sync(natsSubscription **sub, natsConnection *nc,
    const char *subject)
{
	natsStatus st;

	if ((st = natsConnection_SubscribeSync(sub, nc, subject)) == NATS_OK)
		st = natsConnection_Flush(nc);
	return st;
}

void
nc_echo(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	char	buf[64];
	int	n;

	(void)sub;
	(void)arg;
	n = snprintf(buf, sizeof(buf), "re: %.*s", natsMsg_GetDataLength(m),
	    natsMsg_GetData(m));
	if (natsMsg_GetReply(m) != NULL)
		natsConnection_Publish(nc, natsMsg_GetReply(m), buf, n);
	natsMsg_Destroy(m);
}

int
nc_requests(natsConnection *const *reqs, int nreqs, const char *subject,
    const char *prefix, int count, int timeout_ms)
{
	natsMsg		*reply;
	natsStatus	 st;
	char		 buf[64], want[80];
	int		 i, good = 0;

	for (i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "%s%d", prefix, i);
		snprintf(want, sizeof(want), "re: %s", buf);
		st = natsConnection_RequestString(&reply, reqs[i % nreqs],
		    subject, buf, timeout_ms);
		if (st != NATS_OK) {
			harness_diag("request %d: %s", i,
			    natsStatus_GetText(st));
			break;
		}
		if (natsMsg_GetDataLength(reply) == (int)strlen(want) &&
		    memcmp(natsMsg_GetData(reply), want, strlen(want)) == 0)
			good++;
		natsMsg_Destroy(reply);
	}
	return good;
}
