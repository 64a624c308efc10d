/*
 * fuzz_list.c - list_load on arbitrary bytes.
 *
 * Besides crashes, leaks and undefined behaviour, it checks the promise
 * that matters most: whatever the file holds, no subscriber handed to a
 * callback carries a control character in its address, name or fields
 * (they end up in mail headers).
 */
#define _GNU_SOURCE	/* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "list.h"
#include "util.h"

static int fd = -1;
static char path[64];

static void
check_text(const char *s, size_t len, const char *what)
{
	if (util_has_ctl(s, len)) {
		fprintf(stderr, "control character in %s\n", what);
		abort();
	}
}

static int
check_sub(void *arg, const struct list_info *info, const struct subscriber *s)
{
	const struct ynode *v;
	size_t i;

	(void)info;
	check_text(s->email, strlen(s->email), "email");
	if (s->name)
		check_text(s->name, strlen(s->name), "name");
	if (s->fields == NULL || s->fields->kind != YNODE_MAP)
		abort();
	for (i = 0; i < s->fields->n; i++) {
		v = ynode_val(s->fields, i);
		if (v->kind != YNODE_SCALAR)
			abort();
		check_text(v->str, v->len, "field");
	}
	/* Stop now and then, to cover that path too. */
	return ++*(size_t *)arg == 50;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list_info info;
	struct diag d;
	size_t n = 0;

	if (fd == -1) {
		if ((fd = memfd_create("fuzz_list", 0)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	diag_init(&d, EXIT_DATAERR);
	list_load(path, &info, check_sub, &n, &d);
	if (info.id == NULL)
		abort();
	list_info_free(&info);
	diag_free(&d);
	return 0;
}
