/*
 * dkim-sign - signs the message on stdin with src/dkim.c, for dkim.t to
 * hand messages herald itself would never build (a field given twice,
 * folded values, runs of white space and empty lines at the end of the
 * body) to an independent verifier.
 *
 *   dkim-sign KEY_FILE ALGORITHM DOMAIN SELECTOR [FIELD...] <message >signed
 *
 * The message must have CRLF line ends. FIELDs are signed besides the
 * fields herald always signs. Exit 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "util.h"

int
main(int argc, char **argv)
{
	struct dkim_signer *s;
	struct config c;
	struct buf in = BUF_INIT;
	char chunk[4096], err[512], *msg;
	size_t n, len;

	if (argc < 5) {
		fprintf(stderr, "usage: dkim-sign KEY_FILE ALGORITHM DOMAIN SELECTOR [FIELD...]\n");
		return 64;
	}
	memset(&c, 0, sizeof(c));
	c.file = (char *)"dkim-sign";
	c.dkim.enabled = 1;
	c.dkim.key_file = argv[1];
	c.dkim.algorithm = argv[2];
	c.dkim.domain = argv[3];
	c.dkim.selector = argv[4];
	c.dkim.headers = argv + 5;
	c.dkim.nheaders = (size_t)(argc - 5);
	if ((s = dkim_signer_new(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dkim-sign: %s\n", err);
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_add(&in, chunk, n);
	if (in.len == 0) {
		fprintf(stderr, "dkim-sign: no message on stdin\n");
		return 1;
	}
	len = in.len;
	msg = buf_detach(&in);
	if (dkim_signer_sign(s, &msg, &len, err, sizeof(err)) == -1) {
		fprintf(stderr, "dkim-sign: %s\n", err);
		return 1;
	}
	fwrite(msg, 1, len, stdout);
	free(msg);
	dkim_signer_free(s);
	return 0;
}
