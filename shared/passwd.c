/*
 * Passwords: plaintext or bcrypt, as nats-server accepts them.
 *
 * nats-server takes a configured password or token for a bcrypt hash when
 * it matches ^\$2[abxy]\$\d{2}\$ and hands it to Go's x/crypto/bcrypt,
 * which computes every minor version with the one correct algorithm.
 * libxcrypt is more particular: "$2x$" reproduces the old crypt_blowfish
 * sign-extension bug, and "$2a$" adds a countermeasure that changes the
 * hash of a few passwords with 8-bit bytes ("\xff\xff\xa3").  So that a
 * hash made by gnatsd's mkpasswd verifies here exactly as it does there,
 * every minor version is checked as "$2b$" (the correct algorithm) and
 * the hash compared after its prefix.  For the same reason passwd_hash()
 * computes "$2b$" and labels it "$2a$", which is what gnatsd writes and
 * what older servers, which look for "$2a$" only, recognise.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

#define BCRYPT_LEN		60	/* "$2b$" cost '$' salt[22] hash[31] */
#define BCRYPT_PREFIX_LEN	4
#define BCRYPT_SALT_BYTES	16
#define BCRYPT_MIN_COST		4
#define BCRYPT_MAX_COST		31
#define BCRYPT_KEY_MAX		72	/* bcrypt reads no more of a password */

/*
 * About 32KB of libxcrypt scratch: static rather than on the stack of the
 * small bcrypt helper, and wiped after each use since it holds state
 * derived from the password.  Every natsd process is single-threaded.
 */
static struct crypt_data	cdata;

bool
passwd_is_bcrypt(const char *s)
{
	return s[0] == '$' && s[1] == '2' &&
	    s[2] != '\0' && strchr("abxy", s[2]) != NULL && s[3] == '$' &&
	    s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9' &&
	    s[6] == '$';
}

/*
 * Walks given once and configured alongside it, never past its NUL: the
 * index into configured stops there instead of branching, so the time
 * depends on the length of given alone and says nothing about the
 * length or the contents of configured.
 */
bool
passwd_equal(const char *configured, const char *given)
{
	const unsigned char	*c = (const unsigned char *)configured;
	const unsigned char	*g = (const unsigned char *)given;
	unsigned		 diff = 0;
	size_t			 i, j = 0;

	for (i = 0; g[i] != '\0'; i++) {
		diff |= c[j] ^ g[i];
		j += c[j] != '\0';
	}
	diff |= c[j];		/* configured is longer */
	return diff == 0;
}

static bool
bcrypt_check(const char *configured, const char *given)
{
	char		 setting[BCRYPT_LEN + 1];
	const char	*out;
	bool		 ok;

	if (strlen(configured) != BCRYPT_LEN)
		return false;
	memcpy(setting, configured, sizeof(setting));
	setting[2] = 'b';
	out = crypt_r(given, setting, &cdata);
	ok = out != NULL && out[0] != '*' &&
	    passwd_equal(setting, out);
	explicit_bzero(&cdata, sizeof(cdata));
	return ok;
}

bool
passwd_check(const char *configured, const char *given)
{
	if (passwd_is_bcrypt(configured))
		return bcrypt_check(configured, given);
	return passwd_equal(configured, given);
}

/*
 * Refuses rather than truncates a password longer than bcrypt reads, as
 * Go's GenerateFromPassword does: a hash of the first 72 bytes would
 * accept any password that starts with them.
 */
int
passwd_hash(const char *password, int cost, char *out, size_t outlen)
{
	char		 setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char		 salt[BCRYPT_SALT_BYTES];
	const char	*h;
	int		 rv = -1;

	if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST ||
	    strlen(password) > BCRYPT_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (outlen < BCRYPT_LEN + 1) {
		errno = ERANGE;
		return -1;
	}
	arc4random_buf(salt, sizeof(salt));
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, salt, sizeof(salt),
	    setting, sizeof(setting)) == NULL)
		return -1;
	h = crypt_r(password, setting, &cdata);
	if (h == NULL || h[0] == '*' || strlen(h) != BCRYPT_LEN) {
		errno = EINVAL;
		goto done;
	}
	memcpy(out, h, BCRYPT_LEN + 1);
	out[2] = 'a';
	rv = 0;
done:
	explicit_bzero(&cdata, sizeof(cdata));
	return rv;
}

/*
 * gnatsd's alphabet has '#', '$', '%' and '@', which start a comment or a
 * variable in a configuration file or need escaping in a nats:// URL.
 * This one keeps to characters that need neither: letters, digits and
 * the URL-unreserved "-._~", 66 symbols, so 22 of them carry 133 bits.
 * The first is a letter or digit, so the password never reads as a flag
 * on a command line or as "~user" in a shell.  arc4random_uniform()
 * draws without modulo bias.  out holds len + 1 bytes.
 */
int
passwd_generate(char *out, size_t len)
{
	static const char	 set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ" "0123456789" "-._~";
	const uint32_t		 nalnum = 62, nall = sizeof(set) - 1;
	size_t			 i;

	if (out == NULL)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = set[arc4random_uniform(i == 0 ? nalnum : nall)];
	out[len] = '\0';
	return 0;
}
