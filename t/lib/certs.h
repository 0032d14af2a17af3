/*
 * A test PKI made at test time with the openssl CLI, in a temp dir: a CA,
 * a server certificate for 127.0.0.1 and localhost signed by it, a client
 * certificate signed by it, and a client certificate from a second CA
 * that the server does not trust.  Plus a raw TLS probe for the tests
 * that libnats cannot express (old protocol versions, no certificate).
 */
#ifndef NATSD_CERTS_H
#define NATSD_CERTS_H

#include <stddef.h>

struct certs {
	char	*dir;
	char	*ca;			/* ca.pem */
	char	*server_cert, *server_key;
	char	*client_cert, *client_key;
	char	*other_cert, *other_key;	/* signed by an untrusted CA */
};

/* NULL (with a TAP diagnostic) if openssl fails. */
struct certs	*certs_make(void);
/* Remove the dir and free. */
void		 certs_free(struct certs *);

/*
 * Connect to 127.0.0.1:port, read the server's plain INFO line, then do
 * a TLS handshake as a NATS client does, verifying the server against
 * ca (NULL: no verification), offering cert/key (NULL: none), with the
 * protocol limited to max_version (e.g. TLS1_1_VERSION; 0: no limit).
 * Then send "CONNECT {}\r\nPING\r\n" and wait for PONG.  Returns 0 when
 * PONG came back over TLS, -1 otherwise, with the reason in err.
 */
int		 tls_probe(int port, const char *ca, const char *cert,
		    const char *key, int max_version, char *err,
		    size_t errlen);

#endif
