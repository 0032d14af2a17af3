/*
 * shared/tls.c: contexts from the tls settings, checked by handshakes
 * between tls_server_ctx() and tls_client_ctx() over a socketpair in
 * this process, with certificates made by t/lib/certs.c; and the raw
 * probe of t/lib/certs.c against a small TLS NATS responder.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "tls.h"
#include "../lib/certs.h"
#include "../lib/harness.h"
#include "../tap.h"

#define HS_ROUNDS	200	/* handshake steps, both sides */
#define HS_MS		5000
#define NAMES_MAX	64
#define RESPONDER_CONNS	16	/* connections the responder serves */
#define RESPONDER_S	30	/* and its lifetime at most */
#define IO_TIMEOUT_S	2

static struct certs	*C;

/* The outcome of one handshake, seen from both ends. */
struct hs {
	int	 server;		/* 1 done, -1 failed, 0 unfinished */
	int	 client;
	char	 version[8];
	char	 cipher[64];
	int	 group;			/* NID */
	char	 serr[256];
	char	 cerr[256];
};

/* One step of one side; 1 done, -1 failed, 0 wants more. */
static int
hs_step(SSL *ssl, char *err, size_t errlen)
{
	int	 r;

	if ((r = SSL_do_handshake(ssl)) == 1)
		return 1;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		tls_error_text(err, errlen);
		return -1;
	}
}

/*
 * A handshake between a server SSL from sctx and a client SSL from cctx
 * over a non-blocking socketpair, both driven from this loop.  The
 * client checks the server's certificate for 127.0.0.1, as a NATS
 * client given nats://127.0.0.1 does.
 */
static void
handshake(SSL_CTX *sctx, SSL_CTX *cctx, struct hs *h)
{
	SSL	*s = NULL, *c = NULL;
	int64_t	 deadline = harness_now_ms() + HS_MS;
	int	 sv[2] = { -1, -1 }, i;

	memset(h, 0, sizeof(*h));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1) {
		snprintf(h->serr, sizeof(h->serr), "socketpair: %s",
		    strerror(errno));
		h->server = h->client = -1;
		return;
	}
	if ((s = SSL_new(sctx)) == NULL || (c = SSL_new(cctx)) == NULL ||
	    SSL_set_fd(s, sv[0]) != 1 || SSL_set_fd(c, sv[1]) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c),
	    "127.0.0.1") != 1) {
		tls_error_text(h->serr, sizeof(h->serr));
		h->server = h->client = -1;
		goto done;
	}
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < HS_ROUNDS && harness_now_ms() < deadline; i++) {
		if (h->client == 0)
			h->client = hs_step(c, h->cerr, sizeof(h->cerr));
		if (h->server == 0)
			h->server = hs_step(s, h->serr, sizeof(h->serr));
		/* A refused end has said so with an alert; enough. */
		if (h->server != 0 && h->client != 0)
			break;
		if (h->server == -1 && i > 4)
			break;
	}
	if (h->server == 1) {
		snprintf(h->version, sizeof(h->version), "%s",
		    tls_version_text(s));
		snprintf(h->cipher, sizeof(h->cipher), "%s",
		    tls_cipher_text(s));
		h->group = SSL_get_negotiated_group(s);
	}
done:
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
	ERR_clear_error();
}

static void
settings_init(struct tls_settings *ts, const char *cert, const char *key,
    const char *ca)
{
	memset(ts, 0, sizeof(*ts));
	ts->cert_file = (char *)cert;
	ts->key_file = (char *)key;
	ts->ca_file = (char *)ca;
}

static SSL_CTX *
server_ctx(struct tls_settings *ts)
{
	SSL_CTX	*ctx;
	char	 err[512];

	if ((ctx = tls_server_ctx(ts, err, sizeof(err))) == NULL)
		diag("tls_server_ctx: %s", err);
	return ctx;
}

/* A client that trusts the test CA, offering cert/key if given. */
static SSL_CTX *
client_ctx(const char *cert, const char *key, int max_version)
{
	struct tls_settings	 ts;
	SSL_CTX			*ctx;
	char			 err[512];

	settings_init(&ts, cert, key, C->ca);
	if ((ctx = tls_client_ctx(&ts, err, sizeof(err))) == NULL) {
		diag("tls_client_ctx: %s", err);
		return NULL;
	}
	if (max_version != 0)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	return ctx;
}

/* Handshake sctx with a client offering cert (NULL: none), up to max. */
static void
try_client(SSL_CTX *sctx, const char *cert, const char *key,
    int max_version, struct hs *h)
{
	SSL_CTX	*cctx;

	memset(h, 0, sizeof(*h));
	if (sctx == NULL || (cctx = client_ctx(cert, key, max_version)) ==
	    NULL) {
		h->server = h->client = -1;
		return;
	}
	handshake(sctx, cctx, h);
	SSL_CTX_free(cctx);
}

/* The names conf.c accepts, from its --help_tls text. */
static size_t
accepted_names(const char *heading, char **names, size_t max)
{
	char	*text = NULL, *line, *save = NULL;
	size_t	 len = 0, n = 0;
	FILE	*fp;
	int	 in = 0;

	if ((fp = open_memstream(&text, &len)) == NULL)
		return 0;
	conf_tls_help(fp);
	fclose(fp);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, heading) != NULL) {
			in = 1;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, "    ", 4) != 0)
			break;
		if (n < max)
			names[n++] = strdup(line + 4);
	}
	free(text);
	return n;
}

static void
test_errors(void)
{
	struct tls_settings	 ts;
	SSL_CTX			*ctx;
	char			 err[512], want[512];

	settings_init(&ts, "/nonexistent/cert.pem", C->server_key, NULL);
	ctx = tls_server_ctx(&ts, err, sizeof(err));
	ok(ctx == NULL, "missing cert_file: no context");
	ok(strstr(err, "tls: cert_file /nonexistent/cert.pem: ") == err,
	    "missing cert_file: named: %s", err);
	ok(strstr(err, "No such file") != NULL, "missing cert_file: why");
	ok(strchr(err, '\n') == NULL, "one line");

	settings_init(&ts, C->server_cert, "/nonexistent/key.pem", NULL);
	ctx = tls_server_ctx(&ts, err, sizeof(err));
	snprintf(want, sizeof(want), "tls: key_file /nonexistent/key.pem: ");
	ok(ctx == NULL && strstr(err, want) == err,
	    "missing key_file named: %s", err);

	settings_init(&ts, C->server_key, C->server_key, NULL);
	ctx = tls_server_ctx(&ts, err, sizeof(err));
	snprintf(want, sizeof(want), "tls: cert_file %s: ", C->server_key);
	ok(ctx == NULL && strstr(err, want) == err,
	    "a key as cert_file: %s", err);

	settings_init(&ts, C->server_cert, C->client_key, NULL);
	ctx = tls_server_ctx(&ts, err, sizeof(err));
	ok(ctx == NULL, "key mismatch: no context");
	ok(strstr(err, C->client_key) != NULL &&
	    strstr(err, C->server_cert) != NULL &&
	    strncmp(err, "tls: key_file ", 14) == 0,
	    "key mismatch names both files: %s", err);

	settings_init(&ts, C->server_cert, C->server_key,
	    "/nonexistent/ca.pem");
	ctx = tls_server_ctx(&ts, err, sizeof(err));
	ok(ctx == NULL && strstr(err, "tls: ca_file /nonexistent/ca.pem: ") ==
	    err, "missing ca_file named: %s", err);

	settings_init(&ts, NULL, NULL, NULL);
	ok(tls_server_ctx(&ts, err, sizeof(err)) == NULL,
	    "a server without a certificate: %s", err);

	settings_init(&ts, C->client_cert, NULL, C->ca);
	ok(tls_client_ctx(&ts, err, sizeof(err)) == NULL &&
	    strstr(err, "key_file") != NULL,
	    "a client cert without its key: %s", err);

	{
		char	*bad[] = { "TLS_NO_SUCH_SUITE" };

		settings_init(&ts, C->server_cert, C->server_key, NULL);
		ts.cipher_suites = bad;
		ts.ncipher_suites = 1;
		ok(tls_server_ctx(&ts, err, sizeof(err)) == NULL &&
		    strstr(err, "TLS_NO_SUCH_SUITE") != NULL,
		    "unknown cipher suite: %s", err);
	}
	{
		char	*bad[] = { "CurveP999" };

		settings_init(&ts, C->server_cert, C->server_key, NULL);
		ts.curve_preferences = bad;
		ts.ncurve_preferences = 1;
		ok(tls_server_ctx(&ts, err, sizeof(err)) == NULL &&
		    strstr(err, "CurveP999") != NULL,
		    "unknown curve: %s", err);
	}

	ERR_clear_error();
	tls_error_text(err, sizeof(err));
	is_str(err, "", "tls_error_text with an empty queue: empty");
}

static void
test_server_ctx(void)
{
	struct tls_settings	 ts;
	SSL_CTX			*ctx;
	long			 mode;

	settings_init(&ts, C->server_cert, C->server_key, NULL);
	ok((ctx = server_ctx(&ts)) != NULL, "server context");
	if (ctx == NULL)
		return;
	mode = SSL_CTX_get_mode(ctx);
	ok(mode & SSL_MODE_ENABLE_PARTIAL_WRITE, "partial writes");
	ok(mode & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, "moving write buffer");
	ok(mode & SSL_MODE_RELEASE_BUFFERS, "idle buffers released");
	ok(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION,
	    "no renegotiation");
	is_int(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION,
	    "TLS 1.2 at least");
	is_int(SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_OFF,
	    "no session cache");
	is_int(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE,
	    "no client certificate asked without verify");
	SSL_CTX_free(ctx);
}

static void
test_handshakes(void)
{
	struct tls_settings	 ts;
	struct hs		 h;
	SSL_CTX			*sctx, *cctx, *old;

	settings_init(&ts, C->server_cert, C->server_key, NULL);
	sctx = server_ctx(&ts);

	try_client(sctx, NULL, NULL, 0, &h);
	ok(h.server == 1 && h.client == 1, "default handshake: %s%s",
	    h.serr, h.cerr);
	is_str(h.version, "1.3", "TLS 1.3 by default");
	ok(strncmp(h.cipher, "TLS_", 4) == 0 && strchr(h.cipher, '-') == NULL,
	    "a Go cipher name: %s", h.cipher);
	is_int(h.group, NID_X25519, "X25519 first");

	/*
	 * TLS 1.2: a client preferring AES-128 still gets the server's
	 * first choice.
	 */
	if ((cctx = client_ctx(NULL, NULL, TLS1_2_VERSION)) != NULL) {
		SSL_CTX_set_cipher_list(cctx, "ECDHE-RSA-AES128-GCM-SHA256:"
		    "ECDHE-RSA-AES256-GCM-SHA384");
		handshake(sctx, cctx, &h);
		SSL_CTX_free(cctx);
	}
	is_str(h.version, "1.2", "TLS 1.2 when the client stops there");
	is_str(h.cipher, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	    "the server's preference decides");

	if ((old = SSL_CTX_new(TLS_client_method())) != NULL) {
		SSL_CTX_set_security_level(old, 0);
		SSL_CTX_set_cipher_list(old, "DEFAULT@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(old, TLS1_1_VERSION);
		SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
		handshake(sctx, old, &h);
		SSL_CTX_free(old);
	}
	ok(h.server == -1 && h.client == -1, "a TLS 1.1 client is refused: %s",
	    h.serr);

	/* The client context verifies the server. */
	{
		char	*oca, err[512];

		if (asprintf(&oca, "%s/other-ca.pem", C->dir) != -1) {
			settings_init(&ts, NULL, NULL, oca);
			cctx = tls_client_ctx(&ts, err, sizeof(err));
			ok(cctx != NULL, "client context with another CA");
			if (cctx != NULL) {
				handshake(sctx, cctx, &h);
				ok(h.client == -1,
				    "a server from an unknown CA is refused: "
				    "%s", h.cerr);
				SSL_CTX_free(cctx);
			}
			free(oca);
		}
	}
	SSL_CTX_free(sctx);
}

static void
test_verify(void)
{
	struct tls_settings	 ts;
	struct hs		 h;
	SSL_CTX			*sctx;
	int			 max;

	settings_init(&ts, C->server_cert, C->server_key, C->ca);
	ts.verify = true;
	sctx = server_ctx(&ts);
	ok(sctx != NULL, "server context with verify");
	if (sctx == NULL)
		return;
	is_int(SSL_CTX_get_verify_mode(sctx), SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, "client certificates demanded");
	ok(SSL_CTX_get_client_CA_list(sctx) != NULL &&
	    sk_X509_NAME_num(SSL_CTX_get_client_CA_list(sctx)) == 1,
	    "ca_file named in the certificate request");

	for (max = TLS1_2_VERSION; max <= TLS1_3_VERSION; max++) {
		const char *v = max == TLS1_2_VERSION ? "1.2" : "1.3";

		try_client(sctx, NULL, NULL, max, &h);
		ok(h.server == -1, "TLS %s verify: no certificate refused: %s",
		    v, h.serr);
		try_client(sctx, C->other_cert, C->other_key, max, &h);
		ok(h.server == -1, "TLS %s verify: untrusted CA refused: %s",
		    v, h.serr);
		try_client(sctx, C->client_cert, C->client_key, max, &h);
		ok(h.server == 1 && h.client == 1,
		    "TLS %s verify: trusted client accepted %s%s", v, h.serr,
		    h.cerr);
		is_str(h.version, v, "TLS %s verify: version", v);
	}
	SSL_CTX_free(sctx);

	settings_init(&ts, C->server_cert, C->server_key, C->ca);
	ts.verify_and_map = true;
	sctx = server_ctx(&ts);
	try_client(sctx, NULL, NULL, 0, &h);
	ok(h.server == -1, "verify_and_map verifies too");
	SSL_CTX_free(sctx);

	settings_init(&ts, C->server_cert, C->server_key, C->ca);
	sctx = server_ctx(&ts);
	ok(sctx != NULL, "ca_file without verify loads");
	try_client(sctx, NULL, NULL, 0, &h);
	ok(h.server == 1 && h.client == 1,
	    "ca_file without verify: no certificate needed %s", h.serr);
	SSL_CTX_free(sctx);
}

static void
test_preferences(void)
{
	struct tls_settings	 ts;
	struct hs		 h;
	SSL_CTX			*sctx, *cctx;
	char			*one[1];

	settings_init(&ts, C->server_cert, C->server_key, NULL);
	one[0] = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
	ts.cipher_suites = one;
	ts.ncipher_suites = 1;
	sctx = server_ctx(&ts);
	try_client(sctx, NULL, NULL, TLS1_2_VERSION, &h);
	is_str(h.cipher, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    "cipher_suites: the one configured is negotiated");
	try_client(sctx, NULL, NULL, 0, &h);
	is_str(h.version, "1.3", "cipher_suites without TLS 1.3 names keeps "
	    "TLS 1.3");
	SSL_CTX_free(sctx);

	one[0] = "TLS_CHACHA20_POLY1305_SHA256";
	sctx = server_ctx(&ts);
	try_client(sctx, NULL, NULL, 0, &h);
	is_str(h.cipher, "TLS_CHACHA20_POLY1305_SHA256",
	    "cipher_suites: a TLS 1.3 suite");
	try_client(sctx, NULL, NULL, TLS1_2_VERSION, &h);
	ok(h.server == -1, "TLS 1.3 suites alone: TLS 1.2 refused");
	SSL_CTX_free(sctx);

	settings_init(&ts, C->server_cert, C->server_key, NULL);
	one[0] = "CurveP384";
	ts.curve_preferences = one;
	ts.ncurve_preferences = 1;
	sctx = server_ctx(&ts);
	try_client(sctx, NULL, NULL, 0, &h);
	is_int(h.group, NID_secp384r1, "curve_preferences: P-384 (TLS 1.3)");
	try_client(sctx, NULL, NULL, TLS1_2_VERSION, &h);
	is_int(h.group, NID_secp384r1, "curve_preferences: P-384 (TLS 1.2)");
	if ((cctx = client_ctx(NULL, NULL, 0)) != NULL) {
		SSL_CTX_set1_groups_list(cctx, "X25519");
		handshake(sctx, cctx, &h);
		SSL_CTX_free(cctx);
	}
	ok(h.server == -1, "curve_preferences: a client without it refused");
	SSL_CTX_free(sctx);
}

/*
 * Every name conf.c accepts builds a context alone.  Those an RSA
 * certificate can serve are negotiated and named back; ECDSA suites
 * would need an ECDSA certificate, so only the context is checked.  RC4
 * and 3DES may be missing from OpenSSL: then the error names the suite.
 */
static void
test_names(void)
{
	static const struct {
		const char	*go;
		int		 nid;
	} groups[] = {
		{ "X25519", NID_X25519 },
		{ "CurveP256", NID_X9_62_prime256v1 },
		{ "CurveP384", NID_secp384r1 },
		{ "CurveP521", NID_secp521r1 },
	};
	struct tls_settings	 ts;
	struct hs		 h;
	SSL_CTX			*sctx, *cctx;
	char			*names[NAMES_MAX], err[512];
	size_t			 n, i, j;
	int			 weak, tls13;

	n = accepted_names("Available cipher suites", names, NAMES_MAX);
	ok(n >= 20, "conf.c accepts %zu cipher suites", n);
	for (i = 0; i < n; i++) {
		settings_init(&ts, C->server_cert, C->server_key, NULL);
		ts.cipher_suites = &names[i];
		ts.ncipher_suites = 1;
		sctx = tls_server_ctx(&ts, err, sizeof(err));
		weak = strstr(names[i], "RC4") != NULL ||
		    strstr(names[i], "3DES") != NULL;
		tls13 = strstr(names[i], "_WITH_") == NULL;
		if (sctx == NULL) {
			ok(weak && strstr(err, "cipher_suites") != NULL,
			    "%s: not in this OpenSSL: %s", names[i], err);
			free(names[i]);
			continue;
		}
		if (strstr(names[i], "ECDSA") != NULL) {
			ok(1, "%s: context", names[i]);
		} else {
			memset(&h, 0, sizeof(h));
			/* A client offering everything, not natsd's choice. */
			if ((cctx = client_ctx(NULL, NULL,
			    tls13 ? 0 : TLS1_2_VERSION)) != NULL) {
				SSL_CTX_set_cipher_list(cctx, "ALL");
				handshake(sctx, cctx, &h);
				SSL_CTX_free(cctx);
			}
			is_str(h.cipher, names[i], "%s: negotiated %s",
			    names[i], h.serr);
		}
		SSL_CTX_free(sctx);
		free(names[i]);
	}

	n = accepted_names("Available curve preferences", names, NAMES_MAX);
	is_int(n, 4, "conf.c accepts 4 curves");
	for (i = 0; i < n; i++) {
		settings_init(&ts, C->server_cert, C->server_key, NULL);
		ts.curve_preferences = &names[i];
		ts.ncurve_preferences = 1;
		sctx = server_ctx(&ts);
		try_client(sctx, NULL, NULL, 0, &h);
		for (j = 0; j < sizeof(groups) / sizeof(groups[0]); j++)
			if (strcmp(groups[j].go, names[i]) == 0)
				break;
		ok(j < sizeof(groups) / sizeof(groups[0]) &&
		    h.group == groups[j].nid, "%s: negotiated (%s)",
		    names[i], OBJ_nid2sn(h.group));
		SSL_CTX_free(sctx);
		free(names[i]);
	}
}

/*
 * A stand-in for natsd's TLS client port, to test tls_probe(): INFO in
 * plain text, then TLS with ctx, PONG for PING.  A child process, so
 * the probe meets a peer that is really separate; it serves a bounded
 * number of connections, dies with an alarm, and is killed by pid.
 */
static void
responder_serve(int lfd, SSL_CTX *ctx)
{
	static const char	 info[] = "INFO {\"tls_required\":true}\r\n";
	struct timeval		 tv = { IO_TIMEOUT_S, 0 };
	char			 buf[1024];
	size_t			 got;
	SSL			*ssl;
	int			 i, fd, r;

	alarm(RESPONDER_S);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < RESPONDER_CONNS; i++) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (write(fd, info, sizeof(info) - 1) == -1 ||
		    (ssl = SSL_new(ctx)) == NULL) {
			close(fd);
			continue;
		}
		SSL_set_fd(ssl, fd);
		got = 0;
		if (SSL_accept(ssl) == 1) {
			while (got < sizeof(buf) - 1 && (r = SSL_read(ssl,
			    buf + got, sizeof(buf) - 1 - got)) > 0) {
				got += r;
				buf[got] = '\0';
				if (strstr(buf, "PING\r\n") != NULL) {
					SSL_write(ssl, "PONG\r\n", 6);
					break;
				}
			}
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
		ERR_clear_error();
	}
	_exit(0);
}

static pid_t
responder_start(SSL_CTX *ctx, int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	pid_t			 pid;
	int			 lfd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		diag("responder: %s", strerror(errno));
		if (lfd != -1)
			close(lfd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	fflush(stdout);
	if ((pid = fork()) == 0)
		responder_serve(lfd, ctx);
	close(lfd);
	return pid;
}

static void
responder_stop(pid_t pid)
{
	int	 status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

static void
test_probe(void)
{
	struct tls_settings	 ts;
	SSL_CTX			*sctx;
	pid_t			 pid;
	char			 err[512];
	int			 port, r;

	settings_init(&ts, C->server_cert, C->server_key, NULL);
	if ((sctx = server_ctx(&ts)) == NULL ||
	    (pid = responder_start(sctx, &port)) <= 0) {
		ok(0, "responder");
		return;
	}
	r = tls_probe(port, C->ca, NULL, NULL, 0, err, sizeof(err));
	ok(r == 0, "probe: PONG over TLS %s", r == 0 ? "" : err);
	r = tls_probe(port, C->ca, NULL, NULL, TLS1_2_VERSION, err,
	    sizeof(err));
	ok(r == 0, "probe: PONG over TLS 1.2 %s", r == 0 ? "" : err);
	r = tls_probe(port, C->ca, NULL, NULL, TLS1_1_VERSION, err,
	    sizeof(err));
	ok(r == -1 && strstr(err, "handshake") != NULL,
	    "probe: TLS 1.1 refused: %s", err);
	r = tls_probe(port, NULL, NULL, NULL, 0, err, sizeof(err));
	ok(r == 0, "probe: without verifying the server %s",
	    r == 0 ? "" : err);
	responder_stop(pid);
	SSL_CTX_free(sctx);

	settings_init(&ts, C->server_cert, C->server_key, C->ca);
	ts.verify = true;
	if ((sctx = server_ctx(&ts)) == NULL ||
	    (pid = responder_start(sctx, &port)) <= 0) {
		ok(0, "responder with verify");
		return;
	}
	r = tls_probe(port, C->ca, NULL, NULL, 0, err, sizeof(err));
	ok(r == -1, "probe verify: no certificate refused: %s", err);
	r = tls_probe(port, C->ca, C->other_cert, C->other_key, 0, err,
	    sizeof(err));
	ok(r == -1, "probe verify: untrusted certificate refused: %s", err);
	r = tls_probe(port, C->ca, C->client_cert, C->client_key, 0, err,
	    sizeof(err));
	ok(r == 0, "probe verify: client certificate accepted %s",
	    r == 0 ? "" : err);
	responder_stop(pid);
	SSL_CTX_free(sctx);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if ((C = certs_make()) == NULL) {
		printf("Bail out! cannot make test certificates\n");
		return 1;
	}
	ok(1, "certificates made in %s", C->dir);
	test_errors();
	test_server_ctx();
	test_handshakes();
	test_verify();
	test_preferences();
	test_names();
	test_probe();
	certs_free(C);
	return done_testing();
}
