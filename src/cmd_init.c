/*
 * cmd_init.c - herald init [DIR]: a new project to send from, made of the
 * files in skeleton.h. It never overwrites: when any of its files exists it
 * writes nothing, and when writing fails half-way it removes what it made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "diag.h"
#include "skeleton.h"
#include "util.h"

/* What init made, in order, so that a failure can take it back. */
struct made_item {
	char *path;
	int is_dir;
};

struct made {
	struct made_item *items;
	size_t n, cap;
};

static void
made_add(struct made *m, const char *path, int is_dir)
{
	m->items = xgrow(m->items, &m->cap, m->n + 1, sizeof(*m->items));
	m->items[m->n].path = xstrdup(path);
	m->items[m->n++].is_dir = is_dir;
}

/* Removes what was made, newest first (a folder after what it holds). */
static void
made_undo(const struct made *m)
{
	size_t i;

	for (i = m->n; i-- > 0;) {
		if (m->items[i].is_dir)
			rmdir(m->items[i].path);
		else
			unlink(m->items[i].path);
	}
}

static void
made_free(struct made *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->items[i].path);
	free(m->items);
}

static int
mkdir_one(const char *path, struct made *m)
{
	if (mkdir(path, 0777) == 0) {
		made_add(m, path, 1);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	fprintf(stderr, "herald: init: cannot create '%s': %s\n", path, strerror(errno));
	return -1;
}

/* Makes each missing folder of path: all of it when whole, else its parents. */
static int
mkdirs(const char *path, int whole, struct made *m)
{
	char *p = xstrdup(path), *s = p;
	int rc = 0;

	while (rc == 0 && (s = strchr(s + 1, '/')) != NULL) {
		*s = '\0';
		rc = mkdir_one(p, m);
		*s = '/';
	}
	if (rc == 0 && whole)
		rc = mkdir_one(p, m);
	free(p);
	return rc;
}

static int
write_new(const char *path, const struct skel_file *f, struct made *m)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd == -1)
		goto fail;
	made_add(m, path, 0);
	while (off < f->len) {
		n = write(fd, f->data + off, f->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "herald: init: cannot write '%s': %s\n", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* Every file of the skeleton that is there already, named; their number. */
static int
existing(const char *dir)
{
	struct stat st;
	size_t i;
	int n = 0;

	for (i = 0; i < skel_nfiles; i++) {
		char *path = xasprintf("%s/%s", dir, skel_files[i].path);

		if (lstat(path, &st) == 0) {
			fprintf(stderr, "herald: init: '%s' exists; nothing was written\n", path);
			n++;
		}
		free(path);
	}
	return n;
}

static void
next_steps(const char *dir)
{
	size_t i;

	printf("herald: a new project in %s:\n", dir);
	for (i = 0; i < skel_nfiles; i++)
		printf("  %s\n", skel_files[i].path);
	printf("\nNext:\n");
	if (strcmp(dir, ".") != 0)
		printf("  cd %s\n", dir);
	printf("  edit config/herald.yaml   the sender, and the relay in smtp.url\n"
	    "  edit lists/press.yaml     the subscribers (put yourself first)\n"
	    "  herald check              is everything right?\n"
	    "  herald preview first-release            the message, as one subscriber gets it\n"
	    "  herald send first-release --dry-run     who it would go to\n"
	    "  herald send first-release               send it\n"
	    "  herald status first-release             how it went\n");
}

int
cmd_init(const struct global_opts *g, int argc, char **argv)
{
	struct made m = { NULL, 0, 0 };
	const char *dir;
	size_t i;
	int rc;

	(void)g;
	if ((rc = cmd_help_only(argc, argv)) != -1)
		return rc;
	if (argc - optind > 1) {
		cmd_usage(cmd_current, stderr);
		return EXIT_USAGE;
	}
	dir = optind < argc ? argv[optind] : ".";
	if (*dir == '\0') {
		fprintf(stderr, "herald: init: the folder is an empty string\n");
		return EXIT_USAGE;
	}
	if (existing(dir) > 0)
		return EXIT_CANTCREAT;
	rc = mkdirs(dir, 1, &m);
	for (i = 0; rc == 0 && i < skel_nfiles; i++) {
		char *path = xasprintf("%s/%s", dir, skel_files[i].path);

		rc = mkdirs(path, 0, &m);
		if (rc == 0)
			rc = write_new(path, &skel_files[i], &m);
		free(path);
	}
	if (rc != 0) {
		made_undo(&m);
		made_free(&m);
		return EXIT_CANTCREAT;
	}
	made_free(&m);
	next_steps(dir);
	return 0;
}
