/*
 * The configuration schema: the one place where every option natsd reads
 * from a configuration file is declared, with its type, default,
 * validation and reload class (shared/conf.c, the tables there).
 *
 * shared/conf_parse.c turns the text into a tree; this module walks the
 * tree against the schema and fills a libconfuse cfg_t, checking every
 * value.  The command line goes through the same setters (conf_set()),
 * so a flag is validated exactly as the option it overrides.  Then
 * conf_apply() copies the scalar options into struct settings, which
 * every role reads; the blocks (authorization, tls, cluster) stay in the
 * cfg_t, kept in settings->cfg, for the code that implements them.
 *
 * Errors name the file, the line and the option, as in
 *	natsd.conf:12: max_payload: invalid size "12x"
 *	natsd.conf:3: authorization: unknown option "usr"
 *	flag -p: port: must be between 0 and 65535 (got 70000)
 */
#ifndef NATSD_CONF_H
#define NATSD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <confuse.h>

#include "conf_parse.h"
#include "settings.h"

/* Whether a running natsd can take a new value on reload (SIGHUP). */
enum conf_reload {
	CONF_LIVE,		/* applied by the children at once */
	CONF_RESTART,		/* sockets, processes: refused on reload */
};

/* A cfg_t holding every option at its default. */
cfg_t	*conf_new(void);
/* Free a cfg_t (a void * so that settings.c needs no libconfuse). */
void	 conf_cfg_free(void *cfg);

/*
 * Read a configuration file (or text, for tests) into cfg.  Options the
 * file does not set keep their value.  0, or -1 with one line in err.
 */
int	 conf_load_file(cfg_t *, const char *path, char *err, size_t errlen);
int	 conf_load_string(cfg_t *, const char *text, const char *name,
	    char *err, size_t errlen);
int	 conf_load_tree(cfg_t *, const struct conf_node *root, char *err,
	    size_t errlen);

/*
 * Set one option from the command line.  path names it with dots
 * ("port", "authorization.user", "cluster.routes"); value is read as
 * that option reads a value ("4222", "a, b" for a list, "true" for a
 * boolean); where names the flag in messages ("flag -p").
 */
int	 conf_set(cfg_t *, const char *path, const char *value,
	    const char *where, char *err, size_t errlen);
/* Put a block ("tls") back to its defaults, as if the file had none. */
void	 conf_reset(cfg_t *, const char *block);
/* Where a block ("tls") was written: its line and *file; 0 if not in a file. */
int	 conf_block_line(cfg_t *, const char *block, const char **file);
/* Does the configuration set any option of this block ("cluster")? */
bool	 conf_block_set(cfg_t *, const char *block);

/* Checks between the options of a block; 0, or -1 with err. */
int	 conf_check(cfg_t *, char *err, size_t errlen);
/*
 * Copy every scalar option into *s (whose strings are replaced) and hand
 * cfg over to s->cfg, which owns it from then on.
 */
void	 conf_apply(cfg_t *, struct settings *s);

/*
 * What a configuration asks for that this natsd cannot serve as given
 * (https_port without TLS material): -1 with the reason, and natsd
 * refuses to run.
 */
int	 conf_unsupported(const struct settings *, char *err, size_t errlen);

/*
 * Can a running natsd go from old to new?  0, or -1 naming the first
 * option that cannot change live, with both values, in err:
 *	port: cannot change on reload (4222 -> 4223); restart natsd
 */
int	 conf_reload_diff(const struct settings *old,
	    const struct settings *new, char *err, size_t errlen);
/* The reload class of an option by path ("cluster.port"); -1 if none. */
int	 conf_reload_class(const char *path);

/* The --help_tls text: the tls block and the names it accepts. */
void	 conf_tls_help(FILE *);

#endif
