/*
 * Passwords and tokens: plaintext compared in constant time, bcrypt
 * hashes ($2a$, $2b$, $2y$) verified with libxcrypt's crypt_r.  Also what
 * natsd-mkpasswd needs: new random passwords and their hashes.
 */
#ifndef NATSD_PASSWD_H
#define NATSD_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWD_BCRYPT_COST	11	/* as gnatsd's mkpasswd */
#define PASSWD_HASH_MAX		128

/* Is s a bcrypt hash natsd can verify? */
bool	passwd_is_bcrypt(const char *s);
/* Equal strings, in time that depends only on the length of given. */
bool	passwd_equal(const char *configured, const char *given);
/*
 * Does given match configured (plaintext or bcrypt)?  A bcrypt check
 * costs tens of milliseconds of CPU: workers run it through
 * worker/bcrypt.h, never on their event loop.
 */
bool	passwd_check(const char *configured, const char *given);
/* bcrypt ($2a$, as gnatsd) of password at cost (4..31); 0 or -1. */
int	passwd_hash(const char *password, int cost, char *out, size_t outlen);
/* A random password like mkpasswd's: len printable characters; 0 or -1. */
int	passwd_generate(char *out, size_t len);

#endif
