/*
 * Integration test harness: start a NATS server (natsd or nats-server) on
 * a free loopback port, talk to it over raw sockets, stop it by pid and
 * check its log.  Modelled on nginx-tests' Test::Nginx and nats-server's
 * test/test.go.
 *
 * Every read is bounded in time with poll(2); every wait is bounded in
 * count.  Failures are reported as TAP comments ("# ...") on stdout and
 * as return values, never by exiting, so one broken test does not hide
 * the rest.
 *
 * Environment: NATSD names the server binary (default ./natsd; a name
 * containing "nats-server" gets no --workers); HARNESS_KEEP keeps each
 * server's temp dir (log, config, stderr) for a post-mortem; TMPDIR says
 * where those dirs go.
 */
#ifndef NATSD_HARNESS_H
#define NATSD_HARNESS_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define HARNESS_START_MS	5000	/* server must accept within this */
#define HARNESS_STOP_MS		3000	/* SIGINT grace before SIGKILL */
#define HARNESS_TIMEOUT_MS	2000	/* default for reads in tests */
#define HARNESS_CLUSTER		"natsd_test"	/* node_start()'s cluster */
#define HARNESS_NODE_WORKERS	2	/* each node's workers (natsd) */

struct server_opts {
	const char		*bin;		/* NULL: harness_server_bin() */
	int			 workers;	/* natsd only; 0: flag not given */
	const char		*config;	/* config file text, or NULL */
	const char *const	*args;		/* extra args, NULL-terminated */
	int			 port;		/* 0: pick a free port */
};

struct server {
	pid_t		 pid;		/* -1 once reaped */
	int		 port;
	int		 nats_server;	/* bin is nats-server: no --workers */
	int		 status;	/* wait status once reaped */
	char		*bin;
	char		*dir;		/* temp dir: log, config, stderr */
	char		*log_path;
	char		*conf_path;	/* NULL without a config */
	char		*err_path;	/* the server's stdout and stderr */
	char		**allow;	/* log patterns server_log_check allows */
	size_t		 nallow;
};

/* A MSG or HMSG as read from the wire; fields are NUL-terminated. */
struct msg {
	char		*subject;
	char		*sid;
	char		*reply;		/* "" when the MSG had none */
	char		*headers;	/* HMSG header block, NULL for MSG */
	size_t		 hdr_len;
	char		*payload;	/* body after the headers */
	size_t		 len;		/* body length */
	int		 hmsg;		/* 1 for HMSG */
	char		*raw_;		/* storage behind the pointers */
};

struct conn {
	int		 fd;
	int		 port;
	json_t		*info;		/* the INFO the server sent, or NULL */
	int64_t		 client_id;	/* from INFO, -1 if absent */
	int		 worker;	/* natsd's INFO "worker", -1 if absent */
	int		 auto_pong;	/* answer and skip server PINGs (default 1) */
	int		 eof;		/* EOF or a reset was seen */
	size_t		 discarded;	/* bytes conn_closed() threw away */
	char		*buf;		/* unconsumed input at buf + off */
	size_t		 off, len, cap;
	char		*line;		/* last line read, without CRLF */
	size_t		 linecap;
};

/* Server control. */
const char	*harness_server_bin(void);	/* $NATSD or "./natsd" */
int		 harness_is_nats_server(const char *bin);
int		 harness_free_port(void);
struct server	*server_start(const struct server_opts *);
int		 server_stop(struct server *);
void		 server_free(struct server *);
void		 server_log_allow(struct server *, const char *pattern);
int		 server_log_check(struct server *);
int		 server_log_grep(struct server *, const char *needle);
int		 server_children(struct server *, pid_t *pids, int max);
int		 server_alive(struct server *);
int		 harness_pid_running(pid_t);	/* exists and not a zombie */
pid_t		 server_child_titled(struct server *, const char *title);
/* The same for any parent pid: its children, the one titled `title'. */
int		 harness_children(pid_t parent, pid_t *pids, int max);
pid_t		 harness_child_titled(pid_t parent, const char *title);

/* Raw client. */
struct conn	*conn_open(int port);
struct conn	*conn_open_raw(int port);
void		 conn_free(struct conn *);
int		 conn_write(struct conn *, const void *, size_t);
int		 conn_send(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
const char	*conn_read_line(struct conn *, int timeout_ms);
int		 conn_expect_line(struct conn *, const char *want,
		    int timeout_ms);
int		 conn_read_msg(struct conn *, struct msg *, int timeout_ms);
int		 conn_expect_msg(struct conn *, const char *subject,
		    const char *sid, const char *reply, const char *payload,
		    int timeout_ms);
int		 conn_read_bytes(struct conn *, void *, size_t, int timeout_ms);
int		 conn_quiet(struct conn *, int ms);
int		 conn_closed(struct conn *, int timeout_ms);
int		 conn_connect(struct conn *, const char *extra_json);
int		 conn_ping(struct conn *, int timeout_ms);
struct conn	*client_new(int port, const char *extra_json);
void		 msg_free(struct msg *);

void		 harness_diag(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
int64_t		 harness_now_ms(void);

/* Clustering tests. */
int		 conn_next_msg(struct conn *, struct msg *, int timeout_ms);
int		 harness_route_probe(int from_port, int to_port,
		    int timeout_ms);
json_t		*harness_http_json(int port, const char *path);

/* Helpers the test programs share. */
void		 harness_nap(int ms);
char		*harness_asprintf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
int		 harness_tcp_connect(int port, int timeout_ms);
char		*harness_bcrypt(const char *pw, const char *prefix, int cost);
int		 harness_lists_url(json_t *urls, int port);
struct server	*server_start_with(int workers, const char *config,
		    const char *const *args);
void		 server_log_allow_list(struct server *,
		    const char *const *patterns);
int		 server_write_conf(struct server *, const char *text);
int		 server_wait_log(struct server *, const char *needle, int n,
		    int ms);
int		 server_wait_log_icase(struct server *, const char *needle,
		    int ms);
int		 server_reload(struct server *, const char *text, int nth,
		    int ms);
int		 conn_flush(struct conn *, int timeout_ms);

/* A cluster node: a server joined to others by routes. */
struct node {
	struct server		*s;
	const char		*label;		/* "A", "B", "C" */
	const char		*bin;		/* NULL: $NATSD */
	int			 cport;		/* route listen port */
	int			 mport;		/* monitor port, 0: none */
	int			 natsd;		/* the binary is natsd */
	const char *const	*extra;		/* more flags, NULL-ended */
};

int		 node_start(struct node *, const char *label, const char *bin,
		    const char *routes, const char *config, int monitor);
int		 cluster_start3(struct node *n, const char *const *bins,
		    int monitor, int cseed);

/* The whole file as a string ("" when missing); the caller frees. */
char		*harness_slurp(const char *path);

#endif
