/*
 * OpenSSL contexts from the tls settings, for every role that speaks TLS:
 * workers (clients), the monitor (HTTPS) and the router (routes).
 *
 * As nats-server: TLS 1.2 at least; cipher_suites and curve_preferences
 * take Go's names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CurveP256,
 * X25519) and are mapped to OpenSSL's; without them the seed's
 * preference for ECDHE with AES-GCM holds.  verify asks for a client
 * certificate, checked against ca_file, and refuses a client without
 * one.
 */
#ifndef NATSD_TLS_H
#define NATSD_TLS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "settings.h"

/* A server context; NULL with the reason (file, OpenSSL's error) in err. */
SSL_CTX		*tls_server_ctx(const struct tls_settings *, char *err,
		    size_t errlen);
/* A client context (routes): verifies the server against ca_file. */
SSL_CTX		*tls_client_ctx(const struct tls_settings *, char *err,
		    size_t errlen);
/* "1.2", "1.3" for logs, as nats-server prints them. */
const char	*tls_version_text(const SSL *);
/* The negotiated cipher by its Go name (OpenSSL's name if it has none). */
const char	*tls_cipher_text(const SSL *);
/*
 * The Go names cipher_suites and curve_preferences accept (as
 * nats-server 2.9): the i-th, NULL past the last.  The configuration
 * checks and --help_tls read them here, where they are mapped.
 */
const char	*tls_cipher_go_name(size_t i);
const char	*tls_curve_go_name(size_t i);
/* Empty OpenSSL's error queue into one line of text. */
void		 tls_error_text(char *buf, size_t len);
/*
 * SSL_read and SSL_write on a non-blocking socket, kept to read(2)'s and
 * write(2)'s contract: a byte count, 0 at the end of the stream (read
 * only; also a close without close_notify), or -1 and errno.  EAGAIN:
 * wait for the socket, and for a read *want_write says OpenSSL must
 * write first (a renegotiation).  EPROTO: a TLS error, OpenSSL's text for
 * it in err (a TCP socket never fails so).  Otherwise the socket's own
 * errno, which a write may leave 0 when the peer just went away.
 */
ssize_t		 tls_read(SSL *, void *buf, size_t len, bool *want_write,
		    char *err, size_t errlen);
ssize_t		 tls_write(SSL *, const void *buf, size_t len, char *err,
		    size_t errlen);

#endif
