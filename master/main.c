/*
 * natsd: the master.  Parses flags and configuration, binds the client
 * socket, creates the shared-memory mesh, then forks and supervises the
 * workers (master/supervisor.c).  Workers inherit the socket and the mesh.
 */
#include "config.h"

#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mesh.h"
#include "natsd.h"
#include "options.h"
#include "passwd.h"
#include "pidfile.h"
#include "supervisor.h"

static int
listen_on(const char *host, int port)
{
	struct addrinfo	 hints, *res, *ai;
	char		 portstr[16];
	int		 fd = -1, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0)
		fatalx("Error listening on port: %s:%d, %s", host, port,
		    gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		fatal("Error listening on port: %s:%d", host, port);
	freeaddrinfo(res);
	return fd;
}

/* As nats-server: plaintext secrets in a file deserve a word at start. */
static void
security_warnings(const struct settings *s)
{
	const struct auth_settings	*a = &s->auth;
	bool				 plain = false;
	size_t				 i;

	if (a->password != NULL && !passwd_is_bcrypt(a->password))
		plain = true;
	if (a->token != NULL && !passwd_is_bcrypt(a->token))
		plain = true;
	for (i = 0; i < a->nusers; i++)
		if (a->users[i].password != NULL &&
		    !passwd_is_bcrypt(a->users[i].password))
			plain = true;
	if (plain)
		log_warnx("Plaintext passwords detected, use bcrypt "
		    "(natsd-mkpasswd)");
}

int
main(int argc, char **argv, char **envp)
{
	struct settings	 s;
	struct mesh	*m;
	char		 errbuf[512], id[57];
	struct listeners l;
	const char	*h;
	int		 rc;

	/* Before the title is written over argv (options_parse copies it). */
	options_parse(argc, argv);
	proc_title_init(argc, argv, envp);
	if (options_load(&s, errbuf, sizeof(errbuf)) == -1) {
		fprintf(stderr, "natsd: %s\n", errbuf);
		return 1;
	}
	if (settings_log_init(&s) == -1) {
		fprintf(stderr, "natsd: logging: %s\n", log_init_error());
		return 1;
	}
	log_info("Starting natsd version %s", NATSD_VERSION);
	id[0] = 'N';
	random_id(id + 1, 55);
	log_debug("Server id is %s", id);
	if (pid_file_open(s.pid_file) == -1) {
		fprintf(stderr, "natsd: cannot take pid file %s (see the log)\n",
		    s.pid_file);
		settings_free(&s);
		return 1;
	}
	pid_file_write();
	/* Monitoring first, as nats-server logs it; nothing binds unless asked. */
	l.http = l.https = -1;
	if (s.https_port > 0) {
		h = s.https_host != NULL ? s.https_host : s.host;
		l.https = listen_on(h, s.https_port);
		log_info("Starting https monitor on %s:%d", h, s.https_port);
	}
	if (s.http_port > 0) {
		h = s.http_host != NULL ? s.http_host : s.host;
		l.http = listen_on(h, s.http_port);
		log_info("Starting http monitor on %s:%d", h, s.http_port);
	}
	l.client = listen_on(s.host, s.port);
	log_info("Listening for client connections on %s:%d", s.host, s.port);
	if (settings_tls_enabled(&s))
		log_info("TLS required for client connections");
	l.route = -1;
	if (s.cluster.port > 0) {
		l.route = listen_on(s.cluster.host, s.cluster.port);
		log_info("Listening for route connections on %s:%d",
		    s.cluster.host, s.cluster.port);
	}
	security_warnings(&s);
	m = mesh_create(s.workers, s.ring_size,
	    (uint32_t)(s.max_connections < UINT32_MAX ? s.max_connections :
	    UINT32_MAX));
	mesh_set_server_id(m, id);
	if (s.server_name == NULL)
		s.server_name = strdup(id);
	proc_title("natsd: master");
	rc = supervisor_run(&s, m, &l, options_load);
	pid_file_remove();
	settings_free(&s);
	return rc;
}
