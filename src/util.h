/*
 * util.h - allocation that never fails, fatal errors, growable buffers.
 *
 * x*() allocators stop the process on out-of-memory: there is nothing
 * sensible a mail tool can do without memory, and every caller checking
 * would hide the real logic.
 */
#ifndef HERALD_UTIL_H
#define HERALD_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define HERALD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HERALD_NORETURN __attribute__((noreturn))
#else
#define HERALD_PRINTF(a, b)
#define HERALD_NORETURN
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (an array of *cap elements of size `size`) to hold at least `need`. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* The caller owns the returned string. */
char *xasprintf(const char *fmt, ...) HERALD_PRINTF(1, 2);

/* A broken invariant: print "herald: fatal: ..." and abort. */
void fatalx(const char *fmt, ...) HERALD_PRINTF(1, 2) HERALD_NORETURN;

/*
 * A growable byte buffer, always NUL-terminated after its `len` bytes.
 * A zeroed struct buf (BUF_INIT) is an empty buffer; buf_free() releases
 * it and leaves it empty again; buf_detach() hands the bytes to the caller.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
#define BUF_INIT { NULL, 0, 0 }

void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
/* Inline: templates and encoders add bytes one at a time. */
static inline void
buf_addc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}
void buf_addf(struct buf *b, const char *fmt, ...) HERALD_PRINTF(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* The caller owns the returned string ("" for an empty buffer). */
char *buf_detach(struct buf *b);
/* Returns b->data, or "" when nothing was ever added. */
const char *buf_str(const struct buf *b);

/*
 * Reads a whole file. Returns 0, or -1 with errno set.
 * On success the caller owns *data (NUL-terminated, *len bytes).
 */
int util_read_file(const char *path, char **data, size_t *len);

/*
 * The offset of the first byte of str (len bytes) that does not start a
 * valid UTF-8 character (shortest form, no surrogate, at most U+10FFFF),
 * or len when all of it is valid.
 */
size_t util_utf8_bad(const char *str, size_t len);

/*
 * Opens a project file for reading: the last component of path is opened
 * beneath the folder that holds it (openat2 RESOLVE_BENEATH), so a
 * symlink may lead to another file of that folder but never out of it
 * (an absolute symlink, or '..' that climbs out, fails with EXDEV), and
 * what is opened must be a regular file (else EINVAL: a FIFO or a device
 * would hang or never end). -1 with errno set.
 */
int util_open_beneath(const char *path);
/*
 * The same for a relative path of any depth beneath dir: nothing on the
 * way ('..', a symlink) may lead out of dir; an absolute rel fails
 * (EXDEV). For files a project names by path ("files/report.pdf").
 */
int util_open_under(const char *dir, const char *rel);
/* util_read_file through util_open_beneath. */
int util_read_beneath(const char *path, char **data, size_t *len);
/* Reads the whole of an open file and closes it; as util_read_file. */
int util_read_fd(int fd, char **data, size_t *len);
/* What errno from those means, for an error message: strerror but for EXDEV and EINVAL. */
const char *util_beneath_error(int err);

/*
 * Makes s safe to print on a terminal, in place, and returns it: a tab
 * becomes a space, every other control character (C0, DEL, and C1 in
 * UTF-8, which take ESC's part on some terminals) a '?'. For text that
 * came in mail: a Message-ID or an address must not set a terminal's
 * title or colours.
 */
char *util_unctrl(char *s);

/*
 * Before a process starts threads: makes TZ a variable that exists, set
 * to ":/etc/localtime" (what glibc reads when TZ is unset) when it is not
 * set. cron.c and timefmt.c swap TZ to compute a zone's times and put the
 * old value back; with TZ there from the start, setenv only replaces its
 * value and never moves or reallocates the environment under another
 * thread's getenv (the mailbox thread reads password_env, libraries read
 * theirs).
 */
void util_pin_tz(void);

/* Case-insensitive ASCII compare of n bytes / whole strings. */
int util_strcaseeq(const char *a, const char *b);

/* Edits from a to b, a swap of two neighbours counting as one: for "did you mean". */
size_t util_edit_distance(const char *a, const char *b);

/* The file name without directories and without its last extension. The caller owns it. */
char *util_file_stem(const char *path);

/* Appends s as a JSON string, quoted and escaped. */
void buf_add_json(struct buf *b, const char *s);

/* 1 if s contains CR or LF (or any other C0 control but TAB), else 0. */
int util_has_ctl(const char *s, size_t len);

#endif
