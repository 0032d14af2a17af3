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
/* Empty OpenSSL's error queue into one line of text. */
void		 tls_error_text(char *buf, size_t len);

#endif
