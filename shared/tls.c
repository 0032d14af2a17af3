/*
 * OpenSSL contexts from the tls { } settings (see tls.h).
 *
 * One function per side builds a whole SSL_CTX from the settings, so a
 * reload builds a new context beside the old one and swaps it in: the
 * SSL objects of live connections hold a reference on the context they
 * were made from and keep it alive until they close.
 *
 * Names: the configuration speaks Go's crypto/tls names, as nats-server
 * does, and the logs print them back; the table below is the one place
 * that knows both spellings.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

#define LIST_MAX	1024	/* a colon-separated OpenSSL list */

/*
 * The seed's preference: ECDHE with AES-GCM, the strongest first.
 * ChaCha20 follows for clients without AES instructions (nats-server 2.x
 * offers it too); it is never chosen over AES-GCM by a client that can
 * do both, as the server's order decides.
 */
#define DEFAULT_CIPHERS							\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"	\
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/*
 * The seed's curves, strongest first, with X25519 in front as
 * nats-server 2.x puts it: it is the fastest and what nearly every
 * client sends a key share for, so TLS 1.3 needs no extra round trip.
 */
#define DEFAULT_GROUPS	"X25519:P-521:P-384:P-256"

/*
 * Every cipher suite shared/conf.c accepts.  Go spells TLS 1.3 suites as
 * the RFC does, and so does OpenSSL, so those map to themselves.  RC4
 * and 3DES are mapped for completeness: OpenSSL 3 builds usually lack
 * them, and a list made of them alone is refused when the context is
 * built (with others, OpenSSL leaves them out).
 */
static const struct cipher {
	const char	*go;
	const char	*ossl;
	int		 tls13;
} ciphers[] = {
	{ "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 1 },
	{ "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 1 },
	{ "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 1 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", 0 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	    "ECDHE-ECDSA-AES128-SHA256", 0 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	    "ECDHE-ECDSA-AES128-GCM-SHA256", 0 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", 0 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	    "ECDHE-ECDSA-AES256-GCM-SHA384", 0 },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
	    "ECDHE-ECDSA-CHACHA20-POLY1305", 0 },
	{ "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA", 0 },
	{ "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", 0 },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", 0 },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", 0 },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    "ECDHE-RSA-AES128-GCM-SHA256", 0 },
	{ "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", 0 },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	    "ECDHE-RSA-AES256-GCM-SHA384", 0 },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
	    "ECDHE-RSA-CHACHA20-POLY1305", 0 },
	{ "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA", 0 },
	{ "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", 0 },
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", 0 },
	{ "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", 0 },
	{ "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", 0 },
	{ "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", 0 },
	{ "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", 0 },
	{ "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", 0 },
};

static const struct {
	const char	*go;
	const char	*ossl;
} curves[] = {
	{ "X25519", "X25519" },
	{ "CurveP256", "P-256" },
	{ "CurveP384", "P-384" },
	{ "CurveP521", "P-521" },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

const char *
tls_cipher_go_name(size_t i)
{
	return i < NITEMS(ciphers) ? ciphers[i].go : NULL;
}

const char *
tls_curve_go_name(size_t i)
{
	return i < NITEMS(curves) ? curves[i].go : NULL;
}

static void	 why_text(char *, size_t);
static const struct cipher *cipher_by_go(const char *);
static int	 list_add(char *, const char *);
static int	 set_ciphers(SSL_CTX *, const struct tls_settings *, char *,
		    size_t);
static int	 set_curves(SSL_CTX *, const struct tls_settings *, char *,
		    size_t);
static int	 set_identity(SSL_CTX *, const struct tls_settings *, char *,
		    size_t);
static int	 set_ca(SSL_CTX *, const struct tls_settings *, int, char *,
		    size_t);
static SSL_CTX	*ctx_new(const SSL_METHOD *, char *, size_t);
static void	 fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * One line, most specific reason first; empty if the queue was, so a
 * caller can tell "OpenSSL said nothing" (an EOF, a system call) apart.
 */
void
tls_error_text(char *buf, size_t len)
{
	const char	*data, *reason, *wrapper = NULL;
	char		 last[128] = "";
	unsigned long	 e;
	size_t		 off = 0;
	int		 flags, n;

	if (len == 0) {
		ERR_clear_error();
		return;
	}
	buf[0] = '\0';
	/*
	 * The queue holds the innermost cause first ("No such file or
	 * directory", then "system lib"); keep each distinct reason once,
	 * with the detail OpenSSL attached to it ("calling fopen(...)" is
	 * left out: the caller names the file).
	 */
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		/* "system lib", "PEM lib": only where the cause came from. */
		if (!ERR_SYSTEM_ERROR(e) && ERR_COMMON_ERROR(e) &&
		    (ERR_GET_REASON(e) & ((1 << ERR_RFLAGS_OFFSET) - 1)) <
		    256) {
			if (wrapper == NULL)
				wrapper = ERR_reason_error_string(e);
			continue;
		}
		if ((reason = ERR_reason_error_string(e)) == NULL)
			reason = ERR_SYSTEM_ERROR(e) ?
			    strerror(ERR_GET_REASON(e)) : "unknown error";
		/* "No such file or directory", then "no such file". */
		if (last[0] != '\0' && strncasecmp(last, reason,
		    strlen(reason)) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", reason);
		if (ERR_GET_LIB(e) == ERR_LIB_SYS || !(flags & ERR_TXT_STRING))
			data = "";
		n = snprintf(buf + off, len - off, "%s%s%s%s%s",
		    off > 0 ? ", " : "", reason, data[0] != '\0' ? " (" : "",
		    data, data[0] != '\0' ? ")" : "");
		if (n < 0 || (size_t)n >= len - off) {
			ERR_clear_error();
			break;
		}
		off += n;
	}
	if (off == 0 && wrapper != NULL)
		snprintf(buf, len, "%s", wrapper);
}

/* OpenSSL's reasons for a failure it must have explained. */
static void
why_text(char *buf, size_t len)
{
	tls_error_text(buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "unknown OpenSSL error");
}

/*
 * What SSL_read's or SSL_write's result n says, as read(2) or write(2)
 * would say it; want_write is NULL for a write, which has no end of
 * stream to report.
 */
static ssize_t
io_result(SSL *ssl, int n, bool *want_write, char *err, size_t errlen)
{
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_WRITE:
		if (want_write != NULL)
			*want_write = true;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (want_write != NULL)
			return 0;
		break;
	case SSL_ERROR_SYSCALL:
		/* A read's EOF without close_notify. */
		return want_write != NULL && errno == 0 ? 0 : -1;
	default:
		break;
	}
	tls_error_text(err, errlen);
	errno = EPROTO;
	return -1;
}

ssize_t
tls_read(SSL *ssl, void *buf, size_t len, bool *want_write, char *err,
    size_t errlen)
{
	int n;

	*want_write = false;
	ERR_clear_error();
	n = SSL_read(ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	return n > 0 ? n : io_result(ssl, n, want_write, err, errlen);
}

ssize_t
tls_write(SSL *ssl, const void *buf, size_t len, char *err, size_t errlen)
{
	int n;

	ERR_clear_error();
	n = SSL_write(ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	return n > 0 ? n : io_result(ssl, n, NULL, err, errlen);
}

const char *
tls_version_text(const SSL *ssl)
{
	switch (SSL_version(ssl)) {
	case TLS1_3_VERSION:
		return "1.3";
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_1_VERSION:
		return "1.1";
	case TLS1_VERSION:
		return "1.0";
	default:
		return SSL_get_version(ssl);
	}
}

const char *
tls_cipher_text(const SSL *ssl)
{
	const SSL_CIPHER	*c;
	const char		*name;
	size_t			 i;

	if ((c = SSL_get_current_cipher(ssl)) == NULL)
		return "none";
	name = SSL_CIPHER_get_name(c);
	for (i = 0; i < NITEMS(ciphers); i++)
		if (strcmp(ciphers[i].ossl, name) == 0)
			return ciphers[i].go;
	return name;
}

SSL_CTX *
tls_server_ctx(const struct tls_settings *ts, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if (ts->cert_file == NULL || ts->key_file == NULL) {
		fail(err, errlen, "tls: a server needs cert_file and key_file");
		return NULL;
	}
	if ((ctx = ctx_new(TLS_server_method(), err, errlen)) == NULL)
		return NULL;
	/*
	 * No session cache and no tickets: NATS connections live long, so
	 * resumption saves little, and each worker would hold its own
	 * cache and ticket key anyway (a client rarely comes back to the
	 * same worker).
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"natsd",
	    5) != 1) {
		fail(err, errlen, "tls: session id context");
		goto bad;
	}
	if (set_identity(ctx, ts, err, errlen) == -1 ||
	    set_ca(ctx, ts, 1, err, errlen) == -1 ||
	    set_ciphers(ctx, ts, err, errlen) == -1 ||
	    set_curves(ctx, ts, err, errlen) == -1)
		goto bad;
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx(const struct tls_settings *ts, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = ctx_new(TLS_client_method(), err, errlen)) == NULL)
		return NULL;
	if ((ts->cert_file != NULL || ts->key_file != NULL) &&
	    set_identity(ctx, ts, err, errlen) == -1)
		goto bad;
	if (set_ca(ctx, ts, 0, err, errlen) == -1 ||
	    set_ciphers(ctx, ts, err, errlen) == -1 ||
	    set_curves(ctx, ts, err, errlen) == -1)
		goto bad;
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * What both sides share: TLS 1.2 at least, no renegotiation, and the
 * modes the workers' I/O needs.  They write non-blocking from an
 * outbound buffer that may be compacted or grown between a short write
 * and its retry (partial writes, moving buffer), and hold thousands of
 * idle connections, whose 34 KB of OpenSSL buffers are given back while
 * idle (release buffers).  A peer that closes without close_notify is a
 * closed connection, as for nats-server, not an error.
 */
static SSL_CTX *
ctx_new(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	char	 why[256];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(method)) == NULL) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: SSL_CTX_new: %s", why);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: minimum version 1.2: %s", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* The certificate chain and its key, checked against each other. */
static int
set_identity(SSL_CTX *ctx, const struct tls_settings *ts, char *err,
    size_t errlen)
{
	char	 why[256];

	if (ts->cert_file == NULL || ts->key_file == NULL) {
		fail(err, errlen, "tls: %s is set without %s",
		    ts->cert_file != NULL ? "cert_file" : "key_file",
		    ts->cert_file != NULL ? "key_file" : "cert_file");
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, ts->cert_file) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: cert_file %s: %s", ts->cert_file, why);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, ts->key_file,
	    SSL_FILETYPE_PEM) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: key_file %s: %s", ts->key_file, why);
		return -1;
	}
	/* OpenSSL's reason ("no certificate assigned") would mislead. */
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		fail(err, errlen, "tls: key_file %s does not match cert_file "
		    "%s", ts->key_file, ts->cert_file);
		return -1;
	}
	return 0;
}

/*
 * Whom to trust.  A server with verify (or verify_and_map) demands a
 * client certificate issued by ca_file, and names ca_file's subjects in
 * its certificate request so a client with several certificates picks
 * the right one; without ca_file the system's roots decide, as Go uses
 * them.  A ca_file without verify is still loaded so a bad file is
 * reported now, not on the day verify is turned on.  A client (routes)
 * always verifies the server, against ca_file or the system's roots;
 * the caller sets the expected host name on each SSL.
 */
static int
set_ca(SSL_CTX *ctx, const struct tls_settings *ts, int server, char *err,
    size_t errlen)
{
	STACK_OF(X509_NAME)	*names;
	char			 why[256];
	int			 verify;

	verify = !server || ts->verify || ts->verify_and_map;
	if (ts->ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ts->ca_file,
		    NULL) != 1) {
			why_text(why, sizeof(why));
			fail(err, errlen, "tls: ca_file %s: %s", ts->ca_file,
			    why);
			return -1;
		}
		if (server && verify) {
			if ((names = SSL_load_client_CA_file(ts->ca_file)) ==
			    NULL) {
				why_text(why, sizeof(why));
				fail(err, errlen, "tls: ca_file %s: no "
				    "certificate names: %s", ts->ca_file, why);
				return -1;
			}
			SSL_CTX_set_client_CA_list(ctx, names);
		}
	} else if (verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: the system's CA certificates: %s", why);
		return -1;
	}
	if (!verify)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	else if (server)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return 0;
}

/*
 * cipher_suites split by protocol: OpenSSL configures TLS 1.2 suites and
 * TLS 1.3 suites apart.  A list without TLS 1.3 names keeps OpenSSL's
 * TLS 1.3 suites, as Go does (its TLS 1.3 suites are not configurable);
 * a list of TLS 1.3 names only leaves nothing for TLS 1.2, so TLS 1.2 is
 * turned off rather than left with OpenSSL's defaults.
 */
static int
set_ciphers(SSL_CTX *ctx, const struct tls_settings *ts, char *err,
    size_t errlen)
{
	const struct cipher	*c;
	char			 l12[LIST_MAX] = "", l13[LIST_MAX] = "";
	char			 why[256];
	size_t			 i;

	if (ts->ncipher_suites == 0) {
		if (SSL_CTX_set_cipher_list(ctx, DEFAULT_CIPHERS) != 1) {
			why_text(why, sizeof(why));
			fail(err, errlen, "tls: default cipher suites: %s",
			    why);
			return -1;
		}
		return 0;
	}
	for (i = 0; i < ts->ncipher_suites; i++) {
		if ((c = cipher_by_go(ts->cipher_suites[i])) == NULL) {
			fail(err, errlen, "tls: cipher_suites: unknown cipher "
			    "suite %s", ts->cipher_suites[i]);
			return -1;
		}
		if (list_add(c->tls13 ? l13 : l12, c->ossl) == -1) {
			fail(err, errlen, "tls: cipher_suites: too many");
			return -1;
		}
	}
	if (l12[0] != '\0' && SSL_CTX_set_cipher_list(ctx, l12) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: cipher_suites: none that this OpenSSL "
		    "supports for TLS 1.2 (%s): %s", l12, why);
		return -1;
	}
	if (l12[0] == '\0' &&
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: cipher_suites: TLS 1.3 only: %s", why);
		return -1;
	}
	if (l13[0] != '\0' && SSL_CTX_set_ciphersuites(ctx, l13) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: cipher_suites: %s: %s", l13, why);
		return -1;
	}
	return 0;
}

static int
set_curves(SSL_CTX *ctx, const struct tls_settings *ts, char *err,
    size_t errlen)
{
	char	 list[LIST_MAX] = "", why[256];
	size_t	 i, j;

	if (ts->ncurve_preferences == 0)
		strlcpy(list, DEFAULT_GROUPS, sizeof(list));
	for (i = 0; i < ts->ncurve_preferences; i++) {
		for (j = 0; j < NITEMS(curves); j++)
			if (strcmp(curves[j].go, ts->curve_preferences[i]) == 0)
				break;
		if (j == NITEMS(curves)) {
			fail(err, errlen, "tls: curve_preferences: unknown "
			    "curve %s", ts->curve_preferences[i]);
			return -1;
		}
		if (list_add(list, curves[j].ossl) == -1) {
			fail(err, errlen, "tls: curve_preferences: too many");
			return -1;
		}
	}
	if (SSL_CTX_set1_groups_list(ctx, list) != 1) {
		why_text(why, sizeof(why));
		fail(err, errlen, "tls: curve_preferences %s: %s", list, why);
		return -1;
	}
	return 0;
}

static const struct cipher *
cipher_by_go(const char *name)
{
	size_t	 i;

	for (i = 0; i < NITEMS(ciphers); i++)
		if (strcmp(ciphers[i].go, name) == 0)
			return &ciphers[i];
	return NULL;
}

/* Append to a colon-separated list of LIST_MAX bytes; -1 if full. */
static int
list_add(char *list, const char *name)
{
	if (list[0] != '\0' && strlcat(list, ":", LIST_MAX) >= LIST_MAX)
		return -1;
	if (strlcat(list, name, LIST_MAX) >= LIST_MAX)
		return -1;
	return 0;
}

static void
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
