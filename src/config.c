/*
 * config.c - config/herald.yaml: defaults, then every key checked.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "http.h"
#include "schema.h"
#include "store.h"
#include "timefmt.h"
#include "yamltree.h"

static const char *const top_keys[] = { "sender", "smtp", "imap", "dkim", "http",
	"archive", "state", "lists", "templates", "releases", "bounces", "tokens", "tz", "lang",
	"limits", NULL };
static const char *const sender_keys[] = { "from", "domain", "bounce_address",
	"unsubscribe_address", "unsubscribe_url", "reply_to", "postal_address", "logo",
	"subscribe_address",
	"archive_url", NULL };
static const char *const smtp_keys[] = { "url", "tls", "username", "password",
	"password_env", "password_file", "ca_file", "connections", "rate", "burst",
	"domain_rates", "retry", "give_up_after", "timeout", NULL };
static const char *const imap_keys[] = { "url", "username", "password",
	"password_env", "password_file", "ca_file", "mailbox", "poll", NULL };
static const char *const dkim_keys[] = { "domain", "selector", "key_file",
	"algorithm", "headers", NULL };
static const char *const http_keys[] = { "listen", "url", NULL };
static const char *const archive_keys[] = { "dir", NULL };
static const char *const bounce_keys[] = { "soft_threshold", "soft_window", NULL };
static const char *const token_keys[] = { "max_age", NULL };
static const char *const limit_keys[] = { "attachments", NULL };

const char *
config_path(const char *opt)
{
	const char *env = getenv("HERALD_CONFIG");

	if (opt)
		return opt;
	if (env && *env)
		return env;
	return "config/herald.yaml";
}

static void
config_defaults(struct config *c)
{
	static const unsigned long long retry[] = { 300, 1800, 7200, 21600, 43200 };

	c->smtp.tls = TLS_REQUIRED;
	c->smtp.connections = 4;
	c->smtp.retry = xmalloc(sizeof(retry));
	memcpy(c->smtp.retry, retry, sizeof(retry));
	c->smtp.nretry = ARRAY_LEN(retry);
	c->smtp.give_up_after = 2 * 86400;
	c->smtp.timeout = 60;
	c->imap.mailbox = xstrdup("INBOX");
	c->imap.poll = 60;
	c->dkim.algorithm = xstrdup("rsa-sha256");
	c->state = xstrdup("state/herald.db");
	c->lists_dir = xstrdup("lists");
	c->templates_dir = xstrdup("templates");
	c->releases_dir = xstrdup("releases");
	c->bounces.soft_threshold = 5;
	c->bounces.soft_window = 7 * 86400;
	c->tokens.max_age = 180 * 86400;
	c->limits.attachments = 10ULL << 20;
}

/* Replaces *dst with a copy of the string at key, when present and valid. */
static const char *
config_str(const struct ynode *map, const char *key, int required,
    const char *where, char **dst, struct diag *d)
{
	const char *s = schema_string(map, key, required, where, d);

	if (s == NULL)
		return NULL;
	if (util_has_ctl(s, strlen(s))) {
		schema_error(d, ynode_get(map, key), "'%s' contains a control character",
		    key);
		return NULL;
	}
	free(*dst);
	*dst = xstrdup(s);
	return s;
}

static int
config_duration(const struct ynode *map, const char *key, unsigned long long *dst,
    struct diag *d)
{
	const char *s = schema_string(map, key, 0, NULL, d);

	if (s == NULL)
		return 0;
	if (schema_parse_duration(s, dst) == -1) {
		schema_error(d, ynode_get(map, key),
		    "'%s' is not a duration (expected e.g. 90s, 5m, 2h, 7d)", s);
		return -1;
	}
	return 0;
}

static int
config_count(const struct ynode *map, const char *key, unsigned long long max,
    unsigned long long *dst, struct diag *d)
{
	const char *s = schema_string(map, key, 0, NULL, d);

	if (s == NULL)
		return 0;
	if (schema_parse_uint(s, max, dst) == -1 || *dst == 0) {
		schema_error(d, ynode_get(map, key),
		    "'%s' must be a whole number from 1 to %llu", key, max);
		return -1;
	}
	return 0;
}

int
config_parse_size(const char *s, unsigned long long *bytes)
{
	static const struct { const char *unit; unsigned shift; } units[] = {
		{ "", 0 }, { "b", 0 }, { "k", 10 }, { "kb", 10 }, { "kib", 10 }, { "m", 20 },
		{ "mb", 20 }, { "mib", 20 }, { "g", 30 }, { "gb", 30 }, { "gib", 30 },
	};
	unsigned long long n = 0;
	const char *p = s;
	size_t i;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (~0ULL - 9) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (*p == ' ')
		p++;
	for (i = 0; i < ARRAY_LEN(units); i++) {
		if (!util_strcaseeq(p, units[i].unit))
			continue;
		if (n > (~0ULL >> units[i].shift))
			return -1;
		*bytes = n << units[i].shift;
		return 0;
	}
	return -1;
}

int
config_parse_rate(const char *s, struct rate *r)
{
	static const struct { const char *unit; unsigned long long per; } units[] = {
		{ "s", 1 }, { "sec", 1 }, { "min", 60 }, { "m", 60 }, { "h", 3600 },
		{ "hour", 3600 }, { "day", 86400 }, { "d", 86400 },
	};
	const char *slash = strchr(s, '/');
	char *num;
	size_t i;
	int rc;

	if (slash == NULL)
		return -1;
	num = xstrndup(s, (size_t)(slash - s));
	rc = schema_parse_uint(num, 1000000000ULL, &r->count);
	free(num);
	if (rc == -1 || r->count == 0)
		return -1;
	for (i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(slash + 1, units[i].unit) == 0) {
			r->per = units[i].per;
			return 0;
		}
	}
	return -1;
}

static int
config_rate_node(const struct ynode *n, struct rate *r, struct diag *d)
{
	if (n->kind != YNODE_SCALAR) {
		schema_error(d, n, "expected a rate such as 10/s, got %s", ynode_kind_name(n));
		return -1;
	}
	if (config_parse_rate(n->str, r) == -1) {
		schema_error(d, n, "'%s' is not a rate (expected N/s, N/min, N/h or N/day)",
		    n->str);
		return -1;
	}
	return 0;
}

static void
config_rates(struct config *c, const struct ynode *n, struct diag *d)
{
	size_t i, count = n->kind == YNODE_SEQ ? n->n : 1;

	c->smtp.rates = xcalloc(count, sizeof(*c->smtp.rates));
	if (n->kind != YNODE_SEQ) {
		if (config_rate_node(n, &c->smtp.rates[0], d) == 0)
			c->smtp.nrates = 1;
		return;
	}
	for (i = 0; i < n->n; i++)
		if (config_rate_node(n->items[i], &c->smtp.rates[c->smtp.nrates], d) == 0)
			c->smtp.nrates++;
}

static void
config_domain_rates(struct config *c, const struct ynode *n, struct diag *d)
{
	size_t i;

	if (!schema_is_map(n, "'domain_rates'", d))
		return;
	c->smtp.domain_rates = xcalloc(n->n, sizeof(*c->smtp.domain_rates));
	for (i = 0; i < n->n; i++) {
		struct domain_rate *dr = &c->smtp.domain_rates[c->smtp.ndomain_rates];
		if (config_rate_node(ynode_val(n, i), &dr->rate, d) == -1)
			continue;
		dr->domain = xstrdup(ynode_key(n, i)->str);
		for (char *p = dr->domain; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p += 'a' - 'A';
		c->smtp.ndomain_rates++;
	}
}

static void
config_retry(struct config *c, const struct ynode *n, struct diag *d)
{
	size_t i;

	if (n->kind != YNODE_SEQ || n->n == 0) {
		schema_error(d, n, "expected a list of durations for 'retry', got %s",
		    ynode_kind_name(n));
		return;
	}
	c->smtp.nretry = 0;
	c->smtp.retry = xrealloc(c->smtp.retry, n->n * sizeof(*c->smtp.retry));
	for (i = 0; i < n->n; i++) {
		const struct ynode *s = n->items[i];
		if (s->kind != YNODE_SCALAR ||
		    schema_parse_duration(s->str, &c->smtp.retry[c->smtp.nretry]) == -1) {
			schema_error(d, s, "expected a duration such as 5m in 'retry'");
			continue;
		}
		c->smtp.nretry++;
	}
}

/*
 * A password comes from the environment or from a file only the owner can
 * read; a password written into the YAML would end up in backups and
 * version control.
 */
static void
config_secret(const struct ynode *map, const char *where, char **env, char **file,
    struct diag *d)
{
	const struct ynode *lit = ynode_get(map, "password");
	struct stat st;

	if (lit != NULL)
		schema_error(d, lit, "a literal password is not allowed in %s; use password_env or password_file",
		    where);
	config_str(map, "password_env", 0, where, env, d);
	if (config_str(map, "password_file", 0, where, file, d) == NULL)
		return;
	if (*env != NULL) {
		schema_error(d, ynode_get(map, "password_file"),
		    "give password_env or password_file in %s, not both", where);
		return;
	}
	if (stat(*file, &st) == -1) {
		schema_error(d, ynode_get(map, "password_file"),
		    "password file '%s': %s", *file, strerror(errno));
		return;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		schema_error(d, ynode_get(map, "password_file"),
		    "password file '%s' is accessible by group or others (mode %04o); chmod 600 it",
		    *file, (unsigned)(st.st_mode & 07777));
}

static void
config_readable(const struct ynode *map, const char *key, const char *path,
    struct diag *d)
{
	if (path != NULL && access(path, R_OK) == -1)
		schema_error(d, ynode_get(map, key), "%s '%s': %s", key, path,
		    strerror(errno));
}

static int
config_addr(const struct ynode *map, const char *key, char **dst, char **name,
    struct diag *d)
{
	const char *s = schema_string(map, key, 1, "'sender'", d);
	struct addr a = { 0 };
	char err[128];

	if (s == NULL)
		return -1;
	if (addr_parse(s, strlen(s), &a, err, sizeof(err)) == -1) {
		schema_error(d, ynode_get(map, key), "bad address in '%s': %s", key, err);
		return -1;
	}
	if (name == NULL && a.name != NULL) {
		schema_error(d, ynode_get(map, key),
		    "'%s' must be a bare address, without a display name", key);
		addr_clear(&a);
		return -1;
	}
	if (name == NULL && strchr(a.email, '+') != NULL) {
		schema_error(d, ynode_get(map, key),
		    "'%s' must not contain '+': herald adds +TOKEN to it", key);
		addr_clear(&a);
		return -1;
	}
	free(*dst);
	*dst = a.email;
	if (name) {
		free(*name);
		*name = a.name;
	} else {
		free(a.name);
	}
	return 0;
}

/* Where replies go, when not to From: a bare address. */
static void
config_reply_to(struct config *c, const struct ynode *n, struct diag *d)
{
	const struct ynode *v = ynode_get(n, "reply_to");
	struct addr a = { 0 };
	char err[128];

	if (v == NULL || ynode_is_null(v) || schema_string(n, "reply_to", 0, "'sender'", d) == NULL)
		return;
	if (addr_parse(v->str, v->len, &a, err, sizeof(err)) == -1)
		schema_error(d, v, "bad address in 'reply_to': %s", err);
	else if (a.name != NULL)
		schema_error(d, v, "'reply_to' must be a bare address, without a display name");
	else {
		free(c->sender.reply_to);
		c->sender.reply_to = xstrdup(a.email);
	}
	addr_clear(&a);
}

/*
 * The image templates show as sender.logo: a file of the project, opened
 * as a release's files are (attach.h), beneath the folder herald runs in.
 */
static void
config_logo(struct config *c, const struct ynode *n, struct diag *d)
{
	const char *logo = config_str(n, "logo", 0, "'sender'", &c->sender.logo, d);
	int fd;

	if (logo == NULL)
		return;
	if (logo[0] == '\0' || logo[0] == '/') {
		schema_error(d, ynode_get(n, "logo"),
		    "'logo' must be the path of a file inside the project, relative to it");
		return;
	}
	if ((fd = util_open_under(".", logo)) == -1) {
		schema_error(d, ynode_get(n, "logo"), "logo '%s': %s", logo,
		    errno == EXDEV ? "leads outside the project (a symlink or '..'): refused" :
		    util_beneath_error(errno));
		return;
	}
	close(fd);
}

/*
 * Where the archive is served: an absolute http(s) URL of a folder, so
 * that RELEASE/ appended to it is a page's address.
 */
/*
 * An absolute http:// or https:// address ending in '/', under which
 * herald names pages: `sender.archive_url` (a release's page is it +
 * RELEASE/) and `http.url` (confirm/TOKEN and subscribe/LIST). NULL when
 * absent or wrong (reported).
 */
static const char *
config_base_url(const struct ynode *n, const char *key, const char *section, char **dst,
    const char *example, const char *why, struct diag *d)
{
	const char *url = config_str(n, key, 0, section, dst, d);
	const char *host;

	if (url == NULL)
		return NULL;
	host = strncmp(url, "https://", 8) == 0 ? url + 8 : strncmp(url, "http://", 7) == 0 ?
	    url + 7 : NULL;
	if (host == NULL || *host == '\0' || *host == '/')
		schema_error(d, ynode_get(n, key), "'%s' must be an absolute http:// or https:// "
		    "URL, such as %s", key, example);
	else if (strpbrk(url, " <>\"'?#\\") != NULL)
		schema_error(d, ynode_get(n, key),
		    "'%s' must not contain spaces, quotes, angle brackets, '?' or '#'", key);
	else if (url[strlen(url) - 1] != '/')
		schema_error(d, ynode_get(n, key), "'%s' must end in '/': %s", key, why);
	else
		return url;
	return NULL;
}

static void
config_sender(struct config *c, const struct ynode *n, struct diag *d)
{
	const char *url;

	if (!schema_is_map(n, "'sender'", d))
		return;
	schema_unknown_keys(n, sender_keys, d);
	if (config_str(n, "from", 1, "'sender'", &c->sender.from, d))
		config_addr(n, "from", &c->sender.from_addr, &c->sender.from_name, d);
	if (config_str(n, "domain", 1, "'sender'", &c->sender.domain, d) &&
	    (strchr(c->sender.domain, '.') == NULL ||
	    strspn(c->sender.domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
	    != strlen(c->sender.domain)))
		schema_error(d, ynode_get(n, "domain"), "'%s' is not a domain name",
		    c->sender.domain);
	config_addr(n, "bounce_address", &c->sender.bounce_address, NULL, d);
	config_addr(n, "unsubscribe_address", &c->sender.unsubscribe_address, NULL, d);
	url = config_str(n, "unsubscribe_url", 0, "'sender'", &c->sender.unsubscribe_url, d);
	if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		schema_error(d, ynode_get(n, "unsubscribe_url"),
		    "'unsubscribe_url' must be an http:// or https:// URL");
	else if (url && strpbrk(url, " <>\"") != NULL)
		schema_error(d, ynode_get(n, "unsubscribe_url"),
		    "'unsubscribe_url' must not contain spaces, quotes or angle brackets");
	config_reply_to(c, n, d);
	config_str(n, "postal_address", 0, "'sender'", &c->sender.postal_address, d);
	config_logo(c, n, d);
	config_base_url(n, "archive_url", "'sender'", &c->sender.archive_url,
	    "https://press.example/releases/", "a release's page is archive_url + RELEASE/", d);
	if (ynode_get(n, "subscribe_address") != NULL)
		config_addr(n, "subscribe_address", &c->sender.subscribe_address, NULL, d);
}

/* The host part of scheme://[user@]host[:port][/path]. The caller owns it. */
static char *
config_url_host(const char *url)
{
	const char *p = strstr(url, "://"), *end;

	if (p == NULL)
		return NULL;
	p += 3;
	if ((end = strchr(p, '@')) != NULL && end < p + strcspn(p, "/"))
		p = end + 1;
	if (*p == '[') {
		end = strchr(p, ']');
		return end ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
	}
	end = p + strcspn(p, ":/");
	return end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

/*
 * A loopback address, parsed (127.0.0.0/8, ::1, ::ffff:127.x.x.x), or
 * localhost, which resolves only to those: not any name that starts with
 * "127." (127.mail.example is a host on the network).
 */
static int
config_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

static void
config_smtp_tls(struct config *c, const struct ynode *n, struct diag *d)
{
	const char *tls = schema_string(n, "tls", 0, NULL, d);

	c->smtp.tls = c->smtp.loopback ? TLS_NONE : TLS_REQUIRED;
	if (tls == NULL)
		return;
	if (strcmp(tls, "required") == 0)
		c->smtp.tls = TLS_REQUIRED;
	else if (strcmp(tls, "opportunistic") == 0)
		c->smtp.tls = TLS_OPPORTUNISTIC;
	else if (strcmp(tls, "none") == 0)
		c->smtp.tls = TLS_NONE;
	else
		schema_error(d, ynode_get(n, "tls"),
		    "'tls' must be required, opportunistic or none, not '%s'", tls);
	if (c->smtp.url && strncmp(c->smtp.url, "smtps://", 8) == 0 &&
	    c->smtp.tls != TLS_REQUIRED)
		schema_error(d, ynode_get(n, "tls"),
		    "an smtps:// relay always uses TLS; 'tls' must be required");
}

static void
config_smtp(struct config *c, const struct ynode *n, struct diag *d)
{
	const struct ynode *v;
	unsigned long long conns = 0;
	const char *url;

	if (!schema_is_map(n, "'smtp'", d))
		return;
	schema_unknown_keys(n, smtp_keys, d);
	url = config_str(n, "url", 1, "'smtp'", &c->smtp.url, d);
	if (url && strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0)
		schema_error(d, ynode_get(n, "url"),
		    "'url' must start with smtp:// or smtps://, not '%s'", url);
	else if (url && strchr(url + 7, '@') != NULL)
		schema_error(d, ynode_get(n, "url"),
		    "'url' must not carry a user or password: use username and password_env or password_file");
	else if (url && (c->smtp.host = config_url_host(url)) == NULL)
		schema_error(d, ynode_get(n, "url"), "'url' has no host: '%s'", url);
	else if (url)
		c->smtp.loopback = config_is_loopback(c->smtp.host);
	config_smtp_tls(c, n, d);
	config_str(n, "username", 0, "'smtp'", &c->smtp.username, d);
	/* A login must never go in the clear past this machine. */
	if (c->smtp.username && c->smtp.tls == TLS_OPPORTUNISTIC)
		schema_error(d, ynode_get(n, "username"),
		    "a 'username' needs 'tls: required': with opportunistic, a relay whose STARTTLS "
		    "is stripped on the way gets the password in the clear");
	else if (c->smtp.username && c->smtp.tls == TLS_NONE && !c->smtp.loopback)
		schema_error(d, ynode_get(n, "username"),
		    "a 'username' needs 'tls: required' for a relay that is not on loopback: "
		    "with 'tls: none' the password goes in the clear");
	config_secret(n, "'smtp'", &c->smtp.password_env, &c->smtp.password_file, d);
	if (config_str(n, "ca_file", 0, "'smtp'", &c->smtp.ca_file, d))
		config_readable(n, "ca_file", c->smtp.ca_file, d);
	if (config_count(n, "connections", 256, &conns, d) == 0 && conns)
		c->smtp.connections = (unsigned)conns;
	if ((v = ynode_get(n, "rate")) != NULL && !ynode_is_null(v))
		config_rates(c, v, d);
	config_count(n, "burst", 1000000, &c->smtp.burst, d);
	if ((v = ynode_get(n, "domain_rates")) != NULL && !ynode_is_null(v))
		config_domain_rates(c, v, d);
	if ((v = ynode_get(n, "retry")) != NULL && !ynode_is_null(v))
		config_retry(c, v, d);
	config_duration(n, "give_up_after", &c->smtp.give_up_after, d);
	config_duration(n, "timeout", &c->smtp.timeout, d);
}

static void
config_imap(struct config *c, const struct ynode *n, struct diag *d)
{
	const char *url;

	if (!schema_is_map(n, "'imap'", d))
		return;
	c->imap.enabled = 1;
	schema_unknown_keys(n, imap_keys, d);
	url = config_str(n, "url", 1, "'imap'", &c->imap.url, d);
	if (url && strncmp(url, "imap://", 7) != 0 && strncmp(url, "imaps://", 8) != 0)
		schema_error(d, ynode_get(n, "url"),
		    "'url' must start with imap:// or imaps://, not '%s'", url);
	config_str(n, "username", 0, "'imap'", &c->imap.username, d);
	config_secret(n, "'imap'", &c->imap.password_env, &c->imap.password_file, d);
	if (config_str(n, "ca_file", 0, "'imap'", &c->imap.ca_file, d))
		config_readable(n, "ca_file", c->imap.ca_file, d);
	config_str(n, "mailbox", 0, "'imap'", &c->imap.mailbox, d);
	config_duration(n, "poll", &c->imap.poll, d);
}

static void
config_dkim(struct config *c, const struct ynode *n, struct diag *d)
{
	const struct ynode *h;
	const char *alg;
	struct stat st;
	size_t i;

	if (!schema_is_map(n, "'dkim'", d))
		return;
	c->dkim.enabled = 1;
	schema_unknown_keys(n, dkim_keys, d);
	config_str(n, "domain", 1, "'dkim'", &c->dkim.domain, d);
	config_str(n, "selector", 1, "'dkim'", &c->dkim.selector, d);
	if (config_str(n, "key_file", 1, "'dkim'", &c->dkim.key_file, d)) {
		if (stat(c->dkim.key_file, &st) == -1)
			schema_error(d, ynode_get(n, "key_file"), "key file '%s': %s",
			    c->dkim.key_file, strerror(errno));
		else if (st.st_mode & (S_IRWXG | S_IRWXO))
			schema_error(d, ynode_get(n, "key_file"),
			    "key file '%s' is accessible by group or others (mode %04o); chmod 600 it",
			    c->dkim.key_file, (unsigned)(st.st_mode & 07777));
	}
	alg = config_str(n, "algorithm", 0, "'dkim'", &c->dkim.algorithm, d);
	if (alg && strcmp(alg, "rsa-sha256") != 0 && strcmp(alg, "ed25519-sha256") != 0)
		schema_error(d, ynode_get(n, "algorithm"),
		    "'algorithm' must be rsa-sha256 or ed25519-sha256, not '%s'", alg);
	if ((h = ynode_get(n, "headers")) == NULL || ynode_is_null(h))
		return;
	if (h->kind != YNODE_SEQ) {
		schema_error(d, h, "expected a list of header names for 'headers', got %s",
		    ynode_kind_name(h));
		return;
	}
	c->dkim.headers = xcalloc(h->n, sizeof(*c->dkim.headers));
	for (i = 0; i < h->n; i++) {
		if (h->items[i]->kind != YNODE_SCALAR) {
			schema_error(d, h->items[i], "expected a header name");
			continue;
		}
		c->dkim.headers[c->dkim.nheaders++] = xstrdup(h->items[i]->str);
	}
}

static void
config_http(struct config *c, const struct ynode *n, struct diag *d)
{
	struct http_listen l;
	const char *listen;
	char err[256];

	if (!schema_is_map(n, "'http'", d))
		return;
	c->http.enabled = 1;
	schema_unknown_keys(n, http_keys, d);
	listen = config_str(n, "listen", 1, "'http'", &c->http.listen, d);
	if (listen && http_listen_parse(listen, &l, err, sizeof(err)) < 0)
		schema_error(d, ynode_get(n, "listen"), "'listen': %s", err);
	config_base_url(n, "url", "'http'", &c->http.url, "https://news.example/",
	    "the confirmation link is url + confirm/TOKEN", d);
}

static void config_trim_slashes(char *dir);

/* `archive: { dir: public/ }`: the folder herald run keeps the archive in. */
static void
config_archive(struct config *c, const struct ynode *n, struct diag *d)
{
	if (!schema_is_map(n, "'archive'", d))
		return;
	schema_unknown_keys(n, archive_keys, d);
	if (config_str(n, "dir", 1, "'archive'", &c->archive.dir, d) == NULL)
		return;
	if (*c->archive.dir == '\0')
		schema_error(d, ynode_get(n, "dir"), "'dir' is empty: name a folder, such as public/");
	else
		config_trim_slashes(c->archive.dir);
}

static void
config_bounces(struct config *c, const struct ynode *n, struct diag *d)
{
	if (!schema_is_map(n, "'bounces'", d))
		return;
	schema_unknown_keys(n, bounce_keys, d);
	config_count(n, "soft_threshold", 1000, &c->bounces.soft_threshold, d);
	config_duration(n, "soft_window", &c->bounces.soft_window, d);
}

static void
config_tokens(struct config *c, const struct ynode *n, struct diag *d)
{
	if (!schema_is_map(n, "'tokens'", d))
		return;
	schema_unknown_keys(n, token_keys, d);
	config_duration(n, "max_age", &c->tokens.max_age, d);
	if (c->tokens.max_age < 86400)
		schema_error(d, ynode_get(n, "max_age"),
		    "'max_age' must be at least a day (1d): tokens carry the day they were made");
}

static void
config_limits(struct config *c, const struct ynode *n, struct diag *d)
{
	const char *s;

	if (!schema_is_map(n, "'limits'", d))
		return;
	schema_unknown_keys(n, limit_keys, d);
	if ((s = schema_string(n, "attachments", 0, NULL, d)) != NULL &&
	    config_parse_size(s, &c->limits.attachments) == -1)
		schema_error(d, ynode_get(n, "attachments"),
		    "'%s' is not a size (expected e.g. 10MB, 512KB)", s);
}

/* "lists/" and "lists" name one folder; paths are joined with '/'. */
static void
config_trim_slashes(char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
}

/* The zone of digest schedules for lists without their own `tz`. */
static void
config_tz(struct config *c, const struct ynode *root, struct diag *d)
{
	const struct ynode *n = ynode_get(root, "tz");

	if (config_str(root, "tz", 0, NULL, &c->tz, d) && !timefmt_zone_ok(c->tz))
		schema_error(d, n, "unknown time zone '%s' (an IANA name such as"
		    " America/Argentina/Buenos_Aires)", c->tz);
}

/* The language of releases that name none. */
static void
config_lang(struct config *c, const struct ynode *root, struct diag *d)
{
	const struct ynode *n = ynode_get(root, "lang");

	if (n != NULL && !ynode_is_null(n) && schema_lang(n, "lang", d))
		c->lang = xstrdup(n->str);
}

/* state/secret lives beside the journal. */
static void
config_paths(struct config *c, const struct ynode *root, struct diag *d)
{
	config_str(root, "state", 0, NULL, &c->state, d);
	config_str(root, "lists", 0, NULL, &c->lists_dir, d);
	config_str(root, "templates", 0, NULL, &c->templates_dir, d);
	config_str(root, "releases", 0, NULL, &c->releases_dir, d);
	config_trim_slashes(c->lists_dir);
	config_trim_slashes(c->templates_dir);
	config_trim_slashes(c->releases_dir);
	if ((c->secret = store_beside(c->state, "secret")) == NULL)
		schema_error(d, ynode_get(root, "state"), "state: '%s': the journal must be a"
		    " file (a path) in this herald", c->state);
}

int
config_load(const char *path, struct config *c, struct diag *d)
{
	struct ydoc *doc;
	const struct ynode *root, *n;
	size_t before = d->errors;
	int kind = d->kind;

	memset(c, 0, sizeof(*c));
	c->file = xstrdup(path);
	config_defaults(c);
	d->kind = EXIT_CONFIG;
	if ((doc = ydoc_load_file(path, d)) == NULL)
		goto out;
	root = ydoc_root(doc);
	if (root == NULL) {
		diag_error(d, path, 0, 0, "the configuration is empty");
		goto out;
	}
	if (!schema_is_map(root, "the configuration", d))
		goto out;
	schema_unknown_keys(root, top_keys, d);
	if ((n = ynode_get(root, "sender")) != NULL)
		config_sender(c, n, d);
	else
		schema_error(d, root, "missing required key 'sender'");
	if ((n = ynode_get(root, "smtp")) != NULL)
		config_smtp(c, n, d);
	else
		schema_error(d, root, "missing required key 'smtp'");
	if ((n = ynode_get(root, "imap")) != NULL && !ynode_is_null(n))
		config_imap(c, n, d);
	if ((n = ynode_get(root, "dkim")) != NULL && !ynode_is_null(n))
		config_dkim(c, n, d);
	if ((n = ynode_get(root, "http")) != NULL && !ynode_is_null(n))
		config_http(c, n, d);
	if ((n = ynode_get(root, "archive")) != NULL && !ynode_is_null(n))
		config_archive(c, n, d);
	if ((n = ynode_get(root, "bounces")) != NULL && !ynode_is_null(n))
		config_bounces(c, n, d);
	if ((n = ynode_get(root, "tokens")) != NULL && !ynode_is_null(n))
		config_tokens(c, n, d);
	if ((n = ynode_get(root, "limits")) != NULL && !ynode_is_null(n))
		config_limits(c, n, d);
	config_paths(c, root, d);
	config_tz(c, root, d);
	config_lang(c, root, d);
out:
	if (c->secret == NULL)
		c->secret = xstrdup("state/secret");
	ydoc_free(doc);
	d->kind = kind;
	return d->errors > before ? -1 : 0;
}

static void
config_free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *
config_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void
config_copy_sender(struct config *to, const struct config *c)
{
	memset(to, 0, sizeof(*to));
	to->sender.from = config_dup(c->sender.from);
	to->sender.from_name = config_dup(c->sender.from_name);
	to->sender.from_addr = config_dup(c->sender.from_addr);
	to->sender.domain = config_dup(c->sender.domain);
	to->sender.bounce_address = config_dup(c->sender.bounce_address);
	to->sender.unsubscribe_address = config_dup(c->sender.unsubscribe_address);
	to->sender.unsubscribe_url = config_dup(c->sender.unsubscribe_url);
	to->sender.reply_to = config_dup(c->sender.reply_to);
	to->sender.postal_address = config_dup(c->sender.postal_address);
	to->sender.logo = config_dup(c->sender.logo);
	to->sender.archive_url = config_dup(c->sender.archive_url);
	to->sender.subscribe_address = config_dup(c->sender.subscribe_address);
	to->http.url = config_dup(c->http.url);
	to->lists_dir = config_dup(c->lists_dir);
	to->tokens = c->tokens;
	to->imap.enabled = c->imap.enabled;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->file);
	free(c->sender.from);
	free(c->sender.from_name);
	free(c->sender.from_addr);
	free(c->sender.domain);
	free(c->sender.bounce_address);
	free(c->sender.unsubscribe_address);
	free(c->sender.unsubscribe_url);
	free(c->sender.reply_to);
	free(c->sender.postal_address);
	free(c->sender.logo);
	free(c->sender.archive_url);
	free(c->sender.subscribe_address);
	free(c->smtp.url);
	free(c->smtp.host);
	free(c->smtp.username);
	free(c->smtp.password_env);
	free(c->smtp.password_file);
	free(c->smtp.ca_file);
	free(c->smtp.rates);
	for (i = 0; i < c->smtp.ndomain_rates; i++)
		free(c->smtp.domain_rates[i].domain);
	free(c->smtp.domain_rates);
	free(c->smtp.retry);
	free(c->imap.url);
	free(c->imap.username);
	free(c->imap.password_env);
	free(c->imap.password_file);
	free(c->imap.ca_file);
	free(c->imap.mailbox);
	free(c->tz);
	free(c->lang);
	free(c->dkim.domain);
	free(c->dkim.selector);
	free(c->dkim.key_file);
	free(c->dkim.algorithm);
	config_free_strv(c->dkim.headers, c->dkim.nheaders);
	free(c->http.listen);
	free(c->http.url);
	free(c->archive.dir);
	free(c->state);
	free(c->secret);
	free(c->lists_dir);
	free(c->templates_dir);
	free(c->releases_dir);
	memset(c, 0, sizeof(*c));
}

int
config_password(const char *what, const char *password_env, const char *password_file,
    char **out, char *err, size_t errlen)
{
	const char *env;
	char *data;
	size_t len;

	*out = NULL;
	if (password_env) {
		if ((env = getenv(password_env)) == NULL) {
			snprintf(err, errlen, "%s.password_env names %s, which is not set",
			    what, password_env);
			return -1;
		}
		*out = xstrdup(env);
	} else if (password_file) {
		if (util_read_file(password_file, &data, &len) == -1) {
			snprintf(err, errlen, "cannot read %s.password_file %s: %s", what,
			    password_file, strerror(errno));
			return -1;
		}
		while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
			data[--len] = '\0';
		*out = data;
	}
	return 0;
}
