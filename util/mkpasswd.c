/*
 * natsd-mkpasswd: gnatsd's util/mkpasswd in C.  Without flags it makes a
 * random password and prints it with its bcrypt hash; with -p it hashes
 * a password read from standard input.  The output lines are gnatsd's,
 * "pass: ..." and "bcrypt hash: ...", so scripts written for it work.
 *
 * Two things differ, both on purpose.  On a terminal the prompts go to
 * the terminal (gnatsd writes them to standard output), so that
 * "natsd-mkpasswd -p > file" leaves only the hash in the file; from a pipe
 * one line is read without any prompt (gnatsd hashes an empty password
 * there).  And a password bcrypt would cut (over 72 bytes) or an empty
 * one is refused rather than hashed.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passwd.h"

#define GEN_LEN		22	/* as gnatsd: enough entropy */
#define PW_MAX		72	/* bcrypt reads no more */
#define COST_MIN	4
#define COST_MAX	31

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f, "usage: natsd-mkpasswd [-p] [-c cost]\n"
	    "  -p\t\tread the password from standard input\n"
	    "  -c cost\tbcrypt cost, %d to %d (default %d)\n"
	    "  -h\t\tshow this help\n", COST_MIN, COST_MAX,
	    PASSWD_BCRYPT_COST);
	exit(status);
}

/*
 * A terminal: prompt, no echo, and ask twice, as gnatsd does.  The
 * prompts go to the terminal itself (readpassphrase opens /dev/tty),
 * never to standard output.
 */
static void
read_tty(char *pw, size_t size)
{
	char again[PW_MAX * 4];
	bool same;

	if (readpassphrase("Enter Password: ", pw, size, RPP_REQUIRE_TTY) == NULL)
		err(1, "reading the password");
	if (readpassphrase("Reenter Password: ", again, sizeof(again),
	    RPP_REQUIRE_TTY) == NULL) {
		explicit_bzero(pw, size);
		err(1, "reading the password");
	}
	same = strcmp(pw, again) == 0;
	explicit_bzero(again, sizeof(again));
	if (!same) {
		explicit_bzero(pw, size);
		errx(1, "passwords do not match");
	}
}

/* A pipe or a file: the first line, without its line end. */
static void
read_line(char *pw, size_t size)
{
	size_t len;

	if (fgets(pw, (int)size, stdin) == NULL) {
		if (ferror(stdin))
			err(1, "reading the password");
		errx(1, "no password on standard input");
	}
	len = strcspn(pw, "\n");
	if (len > 0 && pw[len - 1] == '\r')
		len--;
	pw[len] = '\0';
}

int
main(int argc, char *argv[])
{
	char		 pw[PW_MAX * 4], hash[PASSWD_HASH_MAX];
	const char	*errstr;
	bool		 given = false;
	int		 ch, cost = PASSWD_BCRYPT_COST;

	while ((ch = getopt(argc, argv, "c:hp")) != -1) {
		switch (ch) {
		case 'c':
			cost = (int)strtonum(optarg, COST_MIN, COST_MAX,
			    &errstr);
			if (errstr != NULL)
				errx(1, "cost %s: %s (%d to %d)", optarg,
				    errstr, COST_MIN, COST_MAX);
			break;
		case 'h':
			usage(stdout, 0);
		case 'p':
			given = true;
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (optind != argc)
		usage(stderr, 1);

	if (given) {
		/* No copy of the password in stdio's buffer outlives it. */
		setvbuf(stdin, NULL, _IONBF, 0);
		if (isatty(STDIN_FILENO))
			read_tty(pw, sizeof(pw));
		else
			read_line(pw, sizeof(pw));
		if (pw[0] == '\0')
			errx(1, "empty password");
		if (strlen(pw) > PW_MAX) {
			explicit_bzero(pw, sizeof(pw));
			errx(1, "password longer than %d bytes: bcrypt would "
			    "ignore the rest", PW_MAX);
		}
	} else {
		if (passwd_generate(pw, GEN_LEN) == -1)
			errx(1, "cannot generate a password");
		printf("pass: %s\n", pw);
	}
	if (passwd_hash(pw, cost, hash, sizeof(hash)) == -1) {
		explicit_bzero(pw, sizeof(pw));
		err(1, "bcrypt hash");
	}
	explicit_bzero(pw, sizeof(pw));
	printf("bcrypt hash: %s\n", hash);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "standard output");
	return 0;
}
