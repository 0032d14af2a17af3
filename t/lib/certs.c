/*
 * A throw-away PKI for the TLS tests, made with the openssl CLI so the
 * tests exercise files as an operator would write them, and a raw TLS
 * probe (see certs.h).
 *
 * Keys: EC P-256 for the CAs and clients (made in a millisecond), RSA
 * 2048 for the server, because the seed's cipher suites and the Go names
 * the tests negotiate (TLS_ECDHE_RSA_WITH_...) need an RSA certificate.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "harness.h"

#define OPENSSL_TIMEOUT_MS	30000	/* one openssl command, RSA keygen */
#define STEP_MS			2000	/* each step of the probe */
#define POLL_STEP_MS		10
#define DAYS			"7"

/* Extensions for each kind of certificate; -subj gives the names. */
static const char cnf[] =
	"[req]\n"
	"distinguished_name = dn\n"
	"[dn]\n"
	"[ca]\n"
	"basicConstraints = critical, CA:TRUE\n"
	"keyUsage = critical, keyCertSign, cRLSign\n"
	"subjectKeyIdentifier = hash\n"
	"[server]\n"
	"basicConstraints = CA:FALSE\n"
	"keyUsage = critical, digitalSignature, keyEncipherment\n"
	/* clientAuth too: a route presents its server certificate. */
	"extendedKeyUsage = serverAuth, clientAuth\n"
	"subjectAltName = IP:127.0.0.1, DNS:localhost\n"
	"[client]\n"
	"basicConstraints = CA:FALSE\n"
	"keyUsage = critical, digitalSignature\n"
	"extendedKeyUsage = clientAuth\n";

static char	*path_in(const char *, const char *);
static int	 run_openssl(const char *, const char *const *);
static int	 make_ca(const char *, const char *, const char *);
static int	 make_cert(const char *, const char *, int, const char *,
		    const char *, const char *, const char *);
static void	 remove_tree(const char *);
static void	 fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 fail_ssl(char *, size_t, const char *);
static int	 wait_fd(int, short, int64_t);
static int	 tcp_connect(int, int64_t, char *, size_t);
static int	 read_info(int, int64_t, char *, size_t);
static int	 ssl_step(SSL *, int, int, int64_t, char *, size_t,
		    const char *);

static char *
path_in(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		return NULL;
	return p;
}

/*
 * Run openssl with argv, its output into dir/openssl.log; shown as TAP
 * diagnostics only if it fails.  Bounded: a stuck openssl is killed.
 */
static int
run_openssl(const char *dir, const char *const *argv)
{
	char	*log, line[512];
	FILE	*fp;
	pid_t	 pid, r;
	int64_t	 deadline;
	int	 fd, status = 0, devnull;

	if ((log = path_in(dir, "openssl.log")) == NULL)
		return -1;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		harness_diag("certs: %s: %s", log, strerror(errno));
		free(log);
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		harness_diag("certs: fork: %s", strerror(errno));
		close(fd);
		free(log);
		return -1;
	case 0:
		if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(fd, 1) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(127);
		execvp("openssl", (char *const *)argv);
		dprintf(2, "exec openssl: %s\n", strerror(errno));
		_exit(127);
	}
	close(fd);
	deadline = harness_now_ms() + OPENSSL_TIMEOUT_MS;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    harness_now_ms() < deadline)
		poll(NULL, 0, POLL_STEP_MS);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		harness_diag("certs: openssl %s: no result in %d ms", argv[1],
		    OPENSSL_TIMEOUT_MS);
	}
	if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		free(log);
		return 0;
	}
	harness_diag("certs: openssl %s failed:", argv[1]);
	if ((fp = fopen(log, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			harness_diag("  %s", line);
		}
		fclose(fp);
	}
	free(log);
	return -1;
}

/* A self-signed CA with an EC P-256 key. */
static int
make_ca(const char *dir, const char *name, const char *subj)
{
	char	*cnfp, *cert, *key, certf[64], keyf[64];
	int	 rc = -1;

	snprintf(certf, sizeof(certf), "%s.pem", name);
	snprintf(keyf, sizeof(keyf), "%s-key.pem", name);
	cnfp = path_in(dir, "openssl.cnf");
	cert = path_in(dir, certf);
	key = path_in(dir, keyf);
	if (cnfp != NULL && cert != NULL && key != NULL) {
		const char *const argv[] = { "openssl", "req", "-x509",
		    "-new", "-config", cnfp, "-extensions", "ca",
		    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		    "-nodes", "-keyout", key, "-out", cert, "-days", DAYS,
		    "-subj", subj, NULL };

		rc = run_openssl(dir, argv);
	}
	free(cnfp);
	free(cert);
	free(key);
	return rc;
}

/*
 * name.pem / name-key.pem with an RSA 2048 key (rsa) or an EC P-256 key,
 * signed by the CA ca with the extensions of section ext.
 */
static int
make_cert(const char *dir, const char *name, int rsa, const char *subj,
    const char *ca, const char *ext, const char *serial)
{
	char	*cnfp, *cert, *key, *csr, *cacert, *cakey, f[64];
	int	 rc = -1;

	cnfp = path_in(dir, "openssl.cnf");
	snprintf(f, sizeof(f), "%s.pem", name);
	cert = path_in(dir, f);
	snprintf(f, sizeof(f), "%s-key.pem", name);
	key = path_in(dir, f);
	snprintf(f, sizeof(f), "%s.csr", name);
	csr = path_in(dir, f);
	snprintf(f, sizeof(f), "%s.pem", ca);
	cacert = path_in(dir, f);
	snprintf(f, sizeof(f), "%s-key.pem", ca);
	cakey = path_in(dir, f);
	if (cnfp != NULL && cert != NULL && key != NULL && csr != NULL &&
	    cacert != NULL && cakey != NULL) {
		const char *const req_rsa[] = { "openssl", "req", "-new",
		    "-config", cnfp, "-newkey", "rsa:2048", "-nodes",
		    "-keyout", key, "-out", csr, "-subj", subj, NULL };
		const char *const req_ec[] = { "openssl", "req", "-new",
		    "-config", cnfp, "-newkey", "ec", "-pkeyopt",
		    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
		    "-out", csr, "-subj", subj, NULL };
		const char *const sign[] = { "openssl", "x509", "-req",
		    "-in", csr, "-CA", cacert, "-CAkey", cakey,
		    "-set_serial", serial, "-days", DAYS,
		    "-extfile", cnfp, "-extensions", ext, "-out", cert,
		    NULL };

		if (run_openssl(dir, rsa ? req_rsa : req_ec) == 0 &&
		    run_openssl(dir, sign) == 0)
			rc = 0;
	}
	free(cnfp);
	free(cert);
	free(key);
	free(csr);
	free(cacert);
	free(cakey);
	return rc;
}

struct certs *
certs_make(void)
{
	struct certs	*c;
	const char	*tmp;
	char		*tmpl, *cnfp = NULL;
	FILE		*fp;

	if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    asprintf(&tmpl, "%s/natsd-certs.XXXXXX", tmp) == -1) {
		harness_diag("certs: out of memory");
		free(c);
		return NULL;
	}
	if ((c->dir = mkdtemp(tmpl)) == NULL) {
		harness_diag("certs: mkdtemp %s: %s", tmpl, strerror(errno));
		free(tmpl);
		free(c);
		return NULL;
	}
	if ((cnfp = path_in(c->dir, "openssl.cnf")) == NULL ||
	    (fp = fopen(cnfp, "w")) == NULL) {
		harness_diag("certs: openssl.cnf: %s", strerror(errno));
		goto bad;
	}
	fputs(cnf, fp);
	if (fclose(fp) == EOF) {
		harness_diag("certs: openssl.cnf: %s", strerror(errno));
		goto bad;
	}
	if (make_ca(c->dir, "ca", "/CN=natsd test CA") == -1 ||
	    make_cert(c->dir, "server", 1, "/CN=localhost", "ca", "server",
	    "2") == -1 ||
	    make_cert(c->dir, "client", 0, "/CN=natsd test client", "ca",
	    "client", "3") == -1 ||
	    make_ca(c->dir, "other-ca", "/CN=natsd untrusted CA") == -1 ||
	    make_cert(c->dir, "other", 0, "/CN=natsd untrusted client",
	    "other-ca", "client", "2") == -1)
		goto bad;
	c->ca = path_in(c->dir, "ca.pem");
	c->server_cert = path_in(c->dir, "server.pem");
	c->server_key = path_in(c->dir, "server-key.pem");
	c->client_cert = path_in(c->dir, "client.pem");
	c->client_key = path_in(c->dir, "client-key.pem");
	c->other_cert = path_in(c->dir, "other.pem");
	c->other_key = path_in(c->dir, "other-key.pem");
	if (c->ca == NULL || c->server_cert == NULL || c->server_key == NULL ||
	    c->client_cert == NULL || c->client_key == NULL ||
	    c->other_cert == NULL || c->other_key == NULL) {
		harness_diag("certs: out of memory");
		goto bad;
	}
	free(cnfp);
	return c;
bad:
	free(cnfp);
	certs_free(c);
	return NULL;
}

/* The dir is flat: the files openssl wrote, nothing else. */
static void
remove_tree(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		*p;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if ((p = path_in(dir, e->d_name)) != NULL) {
				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	if (rmdir(dir) == -1)
		harness_diag("certs: rmdir %s: %s", dir, strerror(errno));
}

void
certs_free(struct certs *c)
{
	if (c == NULL)
		return;
	if (c->dir != NULL)
		remove_tree(c->dir);
	free(c->dir);
	free(c->ca);
	free(c->server_cert);
	free(c->server_key);
	free(c->client_cert);
	free(c->client_key);
	free(c->other_cert);
	free(c->other_key);
	free(c);
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

/* "what: <OpenSSL's reasons>", emptying the error queue. */
static void
fail_ssl(char *err, size_t errlen, const char *what)
{
	char		 why[256];
	unsigned long	 e;
	size_t		 off = 0;

	why[0] = '\0';
	while ((e = ERR_get_error()) != 0 && off < sizeof(why)) {
		const char *r = ERR_reason_error_string(e);

		off += snprintf(why + off, sizeof(why) - off, "%s%s",
		    off > 0 ? ", " : "", r != NULL ? r : "system error");
	}
	fail(err, errlen, "%s: %s", what, why[0] != '\0' ? why :
	    "connection closed");
}

/* 1 when fd is ready for events before deadline, 0 on timeout, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	 pfd = { .fd = fd, .events = events };
	int64_t		 left;
	int		 n;

	for (;;) {
		if ((left = deadline - harness_now_ms()) <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}

static int
tcp_connect(int port, int64_t deadline, char *err, size_t errlen)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(int);
	int			 fd, soerr = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		fail(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS) {
			fail(err, errlen, "connect: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (wait_fd(fd, POLLOUT, deadline) != 1) {
			fail(err, errlen, "connect: timed out");
			close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 ||
		    soerr != 0) {
			fail(err, errlen, "connect: %s",
			    strerror(soerr != 0 ? soerr : errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * The plain INFO line, read a byte at a time so nothing of the TLS
 * stream that follows is taken from the socket.
 */
static int
read_info(int fd, int64_t deadline, char *err, size_t errlen)
{
	char	 line[4096];
	size_t	 n = 0;
	ssize_t	 r;

	while (n < sizeof(line) - 1) {
		if ((r = read(fd, line + n, 1)) == 1) {
			if (line[n++] == '\n')
				break;
			continue;
		}
		if (r == 0) {
			fail(err, errlen, "INFO: connection closed");
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR) {
			fail(err, errlen, "INFO: read: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(fd, POLLIN, deadline) != 1) {
			fail(err, errlen, "INFO: timed out");
			return -1;
		}
	}
	line[n] = '\0';
	if (strncmp(line, "INFO ", 5) != 0) {
		line[strcspn(line, "\r\n")] = '\0';
		fail(err, errlen, "INFO: got \"%.60s\"", line);
		return -1;
	}
	return 0;
}

/*
 * Wait for what OpenSSL asked for after a call returned r.  0: call
 * again; -1: failed, reason in err.
 */
static int
ssl_step(SSL *ssl, int fd, int r, int64_t deadline, char *err,
    size_t errlen, const char *what)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		if (wait_fd(fd, POLLIN, deadline) == 1)
			return 0;
		break;
	case SSL_ERROR_WANT_WRITE:
		if (wait_fd(fd, POLLOUT, deadline) == 1)
			return 0;
		break;
	case SSL_ERROR_ZERO_RETURN:
		fail(err, errlen, "%s: connection closed", what);
		return -1;
	case SSL_ERROR_SYSCALL:
		if (errno != 0 && ERR_peek_error() == 0) {
			fail(err, errlen, "%s: %s", what, strerror(errno));
			return -1;
		}
		/* FALLTHROUGH */
	default:
		fail_ssl(err, errlen, what);
		return -1;
	}
	fail(err, errlen, "%s: timed out", what);
	return -1;
}

int
tls_probe(int port, const char *ca, const char *cert, const char *key,
    int max_version, char *err, size_t errlen)
{
	static const char	 req[] = "CONNECT {}\r\nPING\r\n";
	struct sigaction	 ign, old;
	SSL_CTX			*ctx = NULL;
	SSL			*ssl = NULL;
	char			 buf[4096], *e;
	size_t			 got = 0, sent = 0;
	int64_t			 deadline;
	int			 fd, r, rc = -1;

	/* A server that hangs up mid-write must not kill the test. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	ERR_clear_error();

	if ((fd = tcp_connect(port, harness_now_ms() + STEP_MS, err,
	    errlen)) == -1)
		goto done;
	if (read_info(fd, harness_now_ms() + STEP_MS, err, errlen) == -1)
		goto done;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		fail_ssl(err, errlen, "SSL_CTX_new");
		goto done;
	}
	if (max_version != 0 && max_version < TLS1_2_VERSION) {
		/*
		 * Debian's OpenSSL refuses to offer TLS 1.0/1.1 at its
		 * default security level; lower it so the refusal, if
		 * any, is the server's.
		 */
		SSL_CTX_set_security_level(ctx, 0);
		if (SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0") != 1 ||
		    SSL_CTX_set_min_proto_version(ctx, max_version) != 1) {
			fail_ssl(err, errlen, "old protocol setup");
			goto done;
		}
	}
	if (max_version != 0 &&
	    SSL_CTX_set_max_proto_version(ctx, max_version) != 1) {
		fail_ssl(err, errlen, "max_version");
		goto done;
	}
	if (ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			fail_ssl(err, errlen, ca);
			goto done;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
		fail_ssl(err, errlen, cert);
		goto done;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		fail_ssl(err, errlen, "SSL_new");
		goto done;
	}
	/* As a NATS client connecting to nats://127.0.0.1 checks. */
	if (ca != NULL && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    "127.0.0.1") != 1) {
		fail_ssl(err, errlen, "expected IP");
		goto done;
	}
	SSL_set_connect_state(ssl);

	deadline = harness_now_ms() + STEP_MS;
	while ((r = SSL_do_handshake(ssl)) != 1)
		if (ssl_step(ssl, fd, r, deadline, err, errlen,
		    "handshake") == -1)
			goto done;

	deadline = harness_now_ms() + STEP_MS;
	while (sent < sizeof(req) - 1) {
		if ((r = SSL_write(ssl, req + sent, sizeof(req) - 1 - sent)) > 0)
			sent += r;
		else if (ssl_step(ssl, fd, r, deadline, err, errlen,
		    "write") == -1)
			goto done;
	}

	/*
	 * A server that refuses our certificate after a TLS 1.3 handshake
	 * says so here, with an alert instead of PONG.
	 */
	deadline = harness_now_ms() + STEP_MS;
	while (got < sizeof(buf) - 1) {
		if ((r = SSL_read(ssl, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += r;
			buf[got] = '\0';
			if (strstr(buf, "PONG\r\n") != NULL) {
				rc = 0;
				goto done;
			}
			if ((e = strstr(buf, "-ERR")) != NULL &&
			    strstr(e, "\r\n") != NULL) {
				e[strcspn(e, "\r\n")] = '\0';
				fail(err, errlen, "got %s", e);
				goto done;
			}
		} else if (ssl_step(ssl, fd, r, deadline, err, errlen,
		    "PONG") == -1)
			goto done;
	}
	fail(err, errlen, "PONG: not in the first %zu bytes", got);
done:
	if (ssl != NULL)
		SSL_free(ssl);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}
