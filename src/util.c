#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("herald: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return q;
}

void *
xgrow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap;

	if (need <= c)
		return p;
	if (c < 8)
		c = 8;
	while (c < need) {
		if (c > ((size_t)-1) / 2 / size)
			fatalx("array too large");
		c *= 2;
	}
	*cap = c;
	return xrealloc(p, c * size);
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

void
buf_grow(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 < b->len)
		fatalx("buffer too large");
	b->data = xgrow(b->data, &b->cap, b->len + extra + 1, 1);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		fatalx("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_detach(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* Reads all of fd into *data and closes it. */
int
util_read_fd(int fd, char **data, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int saved;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			buf_free(&b);
			errno = saved;
			return -1;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
}

int
util_read_file(const char *path, char **data, size_t *len)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	return util_read_fd(fd, data, len);
}

/* name (a relative path) opened beneath the folder dfd: see util_open_beneath. */
static int
util_openat_beneath(int dfd, const char *name)
{
	struct open_how how;
	struct stat st;
	int fd, saved;

	memset(&how, 0, sizeof(how));
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat refuses it. */
	how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	/* Linux 5.6 and later (Debian 12 has 6.1): without it, ENOSYS and nothing read. */
	if ((fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how))) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		saved = errno;
		if (saved == 0 || S_ISREG(st.st_mode) == 0)
			saved = EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	/* Reads block as usual: a regular file never waits anyway. */
	if (fcntl(fd, F_SETFL, 0) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
util_open_under(const char *dir, const char *rel)
{
	int dfd, fd, saved;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	fd = util_openat_beneath(dfd, rel);
	saved = errno;
	close(dfd);
	errno = saved;
	return fd;
}

int
util_open_beneath(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xasprintf("%.*s", (int)(slash - path + (slash == path)), path) :
	    xstrdup(".");
	int fd, saved;

	fd = util_open_under(dir, slash ? slash + 1 : path);
	saved = errno;
	free(dir);
	errno = saved;
	return fd;
}

int
util_read_beneath(const char *path, char **data, size_t *len)
{
	int fd;

	if ((fd = util_open_beneath(path)) == -1)
		return -1;
	return util_read_fd(fd, data, len);
}

const char *
util_beneath_error(int err)
{
	if (err == EXDEV)
		return "a symlink or '..' leads out of its folder: refused";
	if (err == EINVAL)
		return "not a regular file: refused";
	return strerror(err);
}

int
util_strcaseeq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

size_t
util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best, *two, *one, *row, *t;

	/* Three rows of the matrix: the one two back sees a transposition. */
	two = xcalloc(lb + 1, sizeof(*two));
	one = xmalloc((lb + 1) * sizeof(*one));
	row = xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		one[j] = j;
	for (i = 1; i <= la; i++) {
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			best = one[j - 1] + (a[i - 1] != b[j - 1]);
			if (one[j] + 1 < best)
				best = one[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    two[j - 2] + 1 < best)
				best = two[j - 2] + 1;
			row[j] = best;
		}
		t = two, two = one, one = row, row = t;
	}
	best = one[lb];
	free(two);
	free(one);
	free(row);
	return best;
}

char *
util_file_stem(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return xstrdup(base);
	return xstrndup(base, (size_t)(dot - base));
}

int
util_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

void
buf_add_json(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_addf(b, "\\%c", c);
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_addf(b, "\\u%04x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

size_t
util_utf8_bad(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	unsigned long cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC2 ? 2 : 0;
		if (s[i] > 0xF4 || n == 0 || i + n > len)
			return i;
		cp = s[i] & (0x7F >> n);
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		/* Shortest forms only, no surrogates, nothing past U+10FFFF. */
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n;
	}
	return len;
}

char *
util_unctrl(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;

	for (; *r; r++) {
		if (*r == '\t')
			*w++ = ' ';
		else if (*r < 0x20 || *r == 0x7f)
			*w++ = '?';
		else if (*r == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
			*w++ = '?';
			r++;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return s;
}

void
util_pin_tz(void)
{
	if (getenv("TZ") == NULL && setenv("TZ", ":/etc/localtime", 1) == -1)
		fatalx("cannot set TZ: %s", strerror(errno));
}
