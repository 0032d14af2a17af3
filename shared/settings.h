/*
 * Everything a role needs to know of the configuration.  The master fills
 * it (defaults, then the configuration file through shared/config.c, then
 * the command line) and the children inherit it at fork; a reload hands
 * the children a new one.
 */
#ifndef NATSD_SETTINGS_H
#define NATSD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Subject permissions, as nats-server reads them: a rule is a subject
 * (wildcards allowed) and, for subscribe rules, an optional queue group
 * ("foo.* workers").  An empty allow list allows everything the deny
 * list does not deny.
 */
struct perm_rule {
	char		*subject;
	char		*queue;			/* NULL: any subscription */
};

struct perm_list {
	struct perm_rule *rules;
	size_t		 n;
};

struct perm_dir {
	struct perm_list allow;
	struct perm_list deny;
};

struct permissions {
	struct perm_dir	 pub;
	struct perm_dir	 sub;
};

struct auth_user {
	char		*user;
	char		*password;		/* plaintext or bcrypt hash */
	struct permissions *perms;		/* NULL: default_perms */
};

/* authorization { }: at most one of user/password, token, users. */
struct auth_settings {
	char		*user;
	char		*password;
	char		*token;
	int64_t		 timeout_ms;
	struct auth_user *users;
	size_t		 nusers;
	struct permissions *default_perms;	/* NULL: everything */
};

/* tls { }: enabled when cert_file is set. */
struct tls_settings {
	char		*cert_file;
	char		*key_file;
	char		*ca_file;
	bool		 verify;
	bool		 verify_and_map;
	int64_t		 timeout_ms;
	char		**cipher_suites;	/* Go names, as in the file */
	size_t		 ncipher_suites;
	char		**curve_preferences;
	size_t		 ncurve_preferences;
};

/* cluster { }: routes to other servers, served by the router process. */
struct cluster_settings {
	char		*name;			/* NULL: negotiated (dynamic) */
	char		*host;
	int		 port;			/* 0: no route listener */
	char		**routes;		/* URLs as written */
	size_t		 nroutes;
	char		*user;			/* authorization for routes */
	char		*password;
	int64_t		 auth_timeout_ms;
	struct tls_settings tls;
	char		*advertise;		/* host:port told to other servers */
	bool		 no_advertise;		/* keep client URLs out of gossip */
	int64_t		 connect_retries;	/* implicit routes; 0: as nats-server */
};

struct settings {
	/* clients */
	char		*host;
	int		 port;
	char		*server_name;
	/* processes and mesh */
	int		 workers;
	size_t		 ring_size;
	char		*pid_file;
	/* logging */
	char		*log_file;
	bool		 debug;
	bool		 trace;
	bool		 logtime;
	bool		 syslog;
	char		*remote_syslog;		/* udp://host:port or tcp://host:port */
	/* monitoring (served by the monitor process, a later issue) */
	char		*http_host;
	int		 http_port;		/* 0: off */
	char		*https_host;
	int		 https_port;		/* 0: off */
	/* limits */
	int64_t		 max_payload;
	int64_t		 max_control_line;
	int64_t		 max_connections;
	int64_t		 max_pending;
	int64_t		 ping_interval_ms;
	int64_t		 ping_max;
	int64_t		 write_deadline_ms;
	/* security: client authorization and TLS */
	struct auth_settings auth;
	struct tls_settings tls;
	struct cluster_settings cluster;
	/* where they came from */
	char		*config_file;
	/*
	 * The whole configuration as shared/conf.c read it (a libconfuse
	 * cfg_t *): the blocks (authorization, tls, cluster) live only
	 * here.  Owned by these settings; NULL in settings built from JSON.
	 */
	void		*cfg;
};

void	settings_defaults(struct settings *);
bool	settings_auth_required(const struct settings *);
bool	settings_tls_enabled(const struct settings *);
void	permissions_free(struct permissions *);
void	settings_auth_free(struct auth_settings *);
void	settings_tls_free(struct tls_settings *);
void	settings_cluster_free(struct cluster_settings *);
/* Does this server take part in a cluster (listen or solicit routes)? */
bool	settings_cluster_enabled(const struct settings *);
void	settings_free(struct settings *);
/* For handing settings to the children on reload (malloc'd JSON). */
char	*settings_to_json(const struct settings *);
int	settings_from_json(const char *, size_t, struct settings *);
/* (Re)open logging as the settings say; -1 and errno if the file fails. */
int	settings_log_init(const struct settings *);
/* Cross-option checks; -1 with a message in err. */
int	settings_check(struct settings *, char *err, size_t errlen);

#endif
