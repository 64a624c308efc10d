/* config and schema: defaults, rates, durations, suggestions, secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "schema.h"
#include "tap.h"

static char dir[] = "/tmp/herald-t-config-XXXXXX";

static const char *base =
    "sender:\n"
    "  from: \"Desk <desk@news.example>\"\n"
    "  domain: news.example\n"
    "  bounce_address: bounces@news.example\n"
    "  unsubscribe_address: unsubscribe@news.example\n";

/* Loads base + extra; returns the number of errors, the first in *first. */
static size_t
load(const char *extra, struct config *c, char *first, size_t firstlen)
{
	char path[256];
	struct diag d;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/herald.yaml", dir);
	f = fopen(path, "w");
	fputs(base, f);
	fputs(extra, f);
	fclose(f);
	diag_init(&d, EXIT_DATAERR);
	config_load(path, c, &d);
	if (first && firstlen)
		snprintf(first, firstlen, "%s", d.n ? d.items[0].text + strlen(dir) + 1 : "");
	n = d.errors;
	if (n && d.status != EXIT_CONFIG)
		n = 1000;	/* config errors must carry 78 */
	diag_free(&d);
	return n;
}

static void
test_defaults(void)
{
	struct config c;

	is_int(load("smtp:\n  url: smtp://127.0.0.1:2525\n", &c, NULL, 0), 0, "minimal config loads");
	is_int(c.smtp.tls, TLS_NONE, "a loopback relay defaults to tls none");
	is_int(c.smtp.connections, 4, "4 connections by default");
	is_int((long long)c.smtp.nretry, 5, "five retry steps by default");
	is_int((long long)c.smtp.retry[4], 43200, "last default step is 12h");
	is_int((long long)c.smtp.give_up_after, 172800, "give up after 2d");
	is_str(c.state, "state/herald.db", "state default");
	is_str(c.secret, "state/secret", "the secret lives beside the journal");
	is_str(c.sender.from_name, "Desk", "From display name");
	is_str(c.sender.from_addr, "desk@news.example", "From address");
	config_free(&c);

	is_int(load("smtp:\n  url: smtp://relay.news.example:587\nlists: lists/\n", &c, NULL, 0), 0,
	    "a remote relay loads");
	is_int(c.smtp.tls, TLS_REQUIRED, "a remote relay defaults to tls required");
	is_str(c.lists_dir, "lists", "a trailing slash is dropped");
	config_free(&c);
}

/* Loopback is an address, parsed: not a name that starts with "127.". */
static void
test_loopback(void)
{
	static const struct {
		const char *url;
		int tls;
	} cases[] = {
		{ "smtp://127.mail.example:25", TLS_REQUIRED },
		{ "smtp://127.0.0.1.example.net:25", TLS_REQUIRED },
		{ "smtp://127.0.0.1:25", TLS_NONE },
		{ "smtp://127.8.9.10:25", TLS_NONE },
		{ "smtp://[::1]:25", TLS_NONE },
		{ "smtp://[::ffff:127.0.0.1]:25", TLS_NONE },
		{ "smtp://[::2]:25", TLS_REQUIRED },
		{ "smtp://localhost:25", TLS_NONE },
		{ "smtp://localhost.evil.example:25", TLS_REQUIRED },
		{ "smtp://128.0.0.1:25", TLS_REQUIRED },
	};
	struct config c;
	char yaml[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "smtp:\n  url: %s\n", cases[i].url);
		if (load(yaml, &c, NULL, 0) != 0)
			ok(0, "%s loads", cases[i].url);
		else
			is_int(c.smtp.tls, cases[i].tls, cases[i].url);
		config_free(&c);
	}
}

/* A login never goes in the clear past this machine. */
static void
test_login_tls(void)
{
	struct config c;
	char first[256];

	is_int(load("smtp:\n  url: smtp://relay.example:587\n  tls: opportunistic\n"
	    "  username: desk\n  password_env: P\n", &c, first, sizeof(first)), 1,
	    "a username with tls: opportunistic is refused");
	is_str(first, "herald.yaml:9:13: a 'username' needs 'tls: required': with opportunistic, "
	    "a relay whose STARTTLS is stripped on the way gets the password in the clear",
	    "and says why, at the username");
	config_free(&c);
	is_int(load("smtp:\n  url: smtp://127.0.0.1:587\n  tls: opportunistic\n"
	    "  username: desk\n  password_env: P\n", &c, first, sizeof(first)), 1,
	    "even to a relay on loopback");
	config_free(&c);
	is_int(load("smtp:\n  url: smtp://relay.example:587\n  tls: none\n"
	    "  username: desk\n  password_env: P\n", &c, first, sizeof(first)), 1,
	    "a username with tls: none to a relay on the network is refused");
	config_free(&c);
	is_int(load("smtp:\n  url: smtp://127.mail.example:587\n  tls: none\n"
	    "  username: desk\n  password_env: P\n", &c, first, sizeof(first)), 1,
	    "and 127.mail.example is on the network");
	config_free(&c);
	is_int(load("smtp:\n  url: smtp://127.0.0.1:587\n  tls: none\n"
	    "  username: desk\n  password_env: P\n", &c, NULL, 0), 0,
	    "a username with tls: none to a relay on loopback is fine");
	config_free(&c);
	is_int(load("smtp:\n  url: smtp://relay.example:587\n  username: desk\n"
	    "  password_env: P\n", &c, NULL, 0), 0, "a username with the default (required) is fine");
	config_free(&c);
}

static void
test_values(void)
{
	struct config c;
	char first[256];

	is_int(load("smtp:\n  url: smtp://127.0.0.1:25\n  rate: [10/s, 500/min, 20000/day]\n"
	    "  domain_rates: { Gmail.com: 120/min }\n  retry: [1m, 1h]\n  burst: 7\n", &c, NULL, 0),
	    0, "rates, domain rates, retry and burst load");
	ok(c.smtp.nrates == 3 && c.smtp.rates[1].count == 500 && c.smtp.rates[1].per == 60,
	    "three rates, the second 500/min");
	ok(c.smtp.ndomain_rates == 1 && strcmp(c.smtp.domain_rates[0].domain, "gmail.com") == 0,
	    "domain rates are lowercased");
	ok(c.smtp.nretry == 2 && c.smtp.retry[1] == 3600, "retry replaced");
	is_int((long long)c.smtp.burst, 7, "burst");
	config_free(&c);

	is_int(load("smtp:\n  url: smtps://relay.example:465\n  tls: none\n", &c, first, sizeof(first)),
	    1, "smtps with tls none is refused");
	is_str(first, "herald.yaml:8:8: an smtps:// relay always uses TLS; 'tls' must be required",
	    "smtps/tls message");
	config_free(&c);

	is_int(load("smtp:\n  url: smtp://127.0.0.1:25\n  password_env: A\n  password_file: /etc/hostname\n",
	    &c, first, sizeof(first)), 1, "password_env and password_file together are refused");
	config_free(&c);

	is_int(load("smtp:\n  url: smtp://127.0.0.1:25\nimap:\n  url: pop3://x\n", &c, first,
	    sizeof(first)), 1, "a non-IMAP URL is refused");
	is_str(first, "herald.yaml:9:8: 'url' must start with imap:// or imaps://, not 'pop3://x'",
	    "imap url message");
	config_free(&c);

	is_int(load("smtp: smtp://127.0.0.1:25\n", &c, first, sizeof(first)), 1,
	    "smtp as a string is a type error");
	is_str(first, "herald.yaml:6:7: expected a mapping for 'smtp', got a scalar", "type message");
	config_free(&c);
}

/* sender.archive_url (an absolute http(s) folder) and archive.dir: input -> the first error. */
static void
test_archive(void)
{
	static const struct { const char *yaml, *error; } cases[] = {
		{ "  archive_url: https://press.news.example/releases/\n", "" },
		{ "  archive_url: http://127.0.0.1:8080/\n", "" },
		{ "  archive_url: https://press.news.example/releases\n",
		  "herald.yaml:6:16: 'archive_url' must end in '/': a release's page is "
		  "archive_url + RELEASE/" },
		{ "  archive_url: /releases/\n",
		  "herald.yaml:6:16: 'archive_url' must be an absolute http:// or https:// URL, "
		  "such as https://press.example/releases/" },
		{ "  archive_url: https:///x/\n",
		  "herald.yaml:6:16: 'archive_url' must be an absolute http:// or https:// URL, "
		  "such as https://press.example/releases/" },
		{ "  archive_url: \"https://press.news.example/a b/\"\n",
		  "herald.yaml:6:16: 'archive_url' must not contain spaces, quotes, angle brackets, "
		  "'?' or '#'" },
		{ "  archive_url: https://press.news.example/?page=/\n",
		  "herald.yaml:6:16: 'archive_url' must not contain spaces, quotes, angle brackets, "
		  "'?' or '#'" },
	};
	struct config c;
	char first[256], name[128], *yaml;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		yaml = xasprintf("%ssmtp:\n  url: smtp://127.0.0.1:25\n", cases[i].yaml);
		load(yaml, &c, first, sizeof(first));
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(cases[i].yaml + 2, "\n"),
		    cases[i].yaml + 2);
		is_str(first, cases[i].error, name);
		if (!*cases[i].error)
			ok(c.sender.archive_url != NULL && c.sender.archive_url[strlen(
			    c.sender.archive_url) - 1] == '/', "kept as given");
		config_free(&c);
		free(yaml);
	}
	is_int(load("smtp:\n  url: smtp://127.0.0.1:25\n", &c, NULL, 0), 0, "no archive keys");
	ok(c.sender.archive_url == NULL && c.archive.dir == NULL,
	    "no archive_url and no archive.dir by default: herald run writes no archive");
	config_free(&c);
	is_int(load("smtp:\n  url: smtp://127.0.0.1:25\narchive:\n  dir: public/\n", &c, NULL, 0), 0,
	    "archive.dir loads");
	is_str(c.archive.dir, "public", "its final '/' is dropped, as other folders' are");
	config_free(&c);
	load("smtp:\n  url: smtp://127.0.0.1:25\narchive:\n  folder: public/\n", &c, first,
	    sizeof(first));
	is_str(first, "herald.yaml:9:3: unknown key 'folder'", "an unknown archive key");
	config_free(&c);
	/* Subscribing: http.url and sender.subscribe_address. */
	is_int(load("  subscribe_address: subscribe@news.example\nsmtp:\n  url: smtp://127.0.0.1:25\n"
	    "http:\n  listen: 127.0.0.1:8025\n  url: https://news.example/\n", &c, NULL, 0), 0,
	    "http.url and sender.subscribe_address load");
	ok(c.http.url && strcmp(c.http.url, "https://news.example/") == 0 &&
	    c.sender.subscribe_address && strcmp(c.sender.subscribe_address,
	    "subscribe@news.example") == 0, "and are kept");
	config_free(&c);
	load("smtp:\n  url: smtp://127.0.0.1:25\nhttp:\n  listen: 127.0.0.1:8025\n"
	    "  url: https://news.example\n", &c, first, sizeof(first));
	is_str(first, "herald.yaml:10:8: 'url' must end in '/': the confirmation link is url + "
	    "confirm/TOKEN", "an http.url without its final '/'");
	config_free(&c);
	load("  subscribe_address: subscribe+x@news.example\nsmtp:\n  url: smtp://127.0.0.1:25\n",
	    &c, first, sizeof(first));
	is_str(first, "herald.yaml:6:22: 'subscribe_address' must not contain '+': herald adds "
	    "+TOKEN to it", "a subscribe_address with a '+'");
	config_free(&c);
}

static void
test_parsers(void)
{
	static const struct { const char *s; int rc; unsigned long long secs; } durations[] = {
		{ "90s", 0, 90 }, { "5m", 0, 300 }, { "2h", 0, 7200 }, { "7d", 0, 604800 },
		{ "1w", 0, 604800 }, { "30", 0, 30 }, { "5 m", -1, 0 }, { "m", -1, 0 },
		{ "-5m", -1, 0 }, { "99999999999999999999s", -1, 0 }, { "5y", -1, 0 },
	};
	static const struct { const char *s; int rc; unsigned long long count, per; } rates[] = {
		{ "10/s", 0, 10, 1 }, { "120/min", 0, 120, 60 }, { "5/h", 0, 5, 3600 },
		{ "1000/day", 0, 1000, 86400 }, { "0/s", -1, 0, 0 }, { "10", -1, 0, 0 },
		{ "10/fortnight", -1, 0, 0 }, { "/s", -1, 0, 0 },
	};
	static const struct { const char *s; int rc; unsigned long long bytes; } sizes[] = {
		{ "10MB", 0, 10ULL << 20 }, { "512KB", 0, 512ULL << 10 }, { "1GB", 0, 1ULL << 30 },
		{ "2048", 0, 2048 }, { "2048B", 0, 2048 }, { "10 mb", 0, 10ULL << 20 },
		{ "3k", 0, 3072 }, { "2MiB", 0, 2ULL << 20 }, { "0", 0, 0 }, { "MB", -1, 0 },
		{ "10 TB", -1, 0 }, { "-1MB", -1, 0 }, { "1.5MB", -1, 0 }, { "10  MB", -1, 0 },
		{ "99999999999999999999", -1, 0 }, { "17179869184GB", -1, 0 }, { "", -1, 0 },
	};
	static const char *const known[] = { "subscribers", "name", "template", NULL };
	unsigned long long secs = 0;
	struct rate r;
	size_t i;

	for (i = 0; i < ARRAY_LEN(durations); i++) {
		int rc = schema_parse_duration(durations[i].s, &secs);
		ok(rc == durations[i].rc && (rc || secs == durations[i].secs), "duration '%s'",
		    durations[i].s);
	}
	for (i = 0; i < ARRAY_LEN(rates); i++) {
		int rc = config_parse_rate(rates[i].s, &r);
		ok(rc == rates[i].rc && (rc || (r.count == rates[i].count && r.per == rates[i].per)),
		    "rate '%s'", rates[i].s);
	}
	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		unsigned long long bytes = 0;
		int rc = config_parse_size(sizes[i].s, &bytes);
		ok(rc == sizes[i].rc && (rc || bytes == sizes[i].bytes), "size '%s'", sizes[i].s);
	}
	is_str(schema_suggest("subscibers", known), "subscribers", "suggests subscribers");
	is_str(schema_suggest("templat", known), "template", "suggests template");
	ok(schema_suggest("colour", known) == NULL, "no suggestion for an unrelated key");
}

/* sender.logo (a file of the project), sender.archive_url, limits.attachments. */
static void
test_press_kit(void)
{
	static const char smtp[] = "smtp:\n  url: smtp://127.0.0.1:25\n";
	char old[4096], yaml[512], first[256];
	struct config c;
	FILE *f;

	if (getcwd(old, sizeof(old)) == NULL || chdir(dir) == -1) {
		ok(0, "cd to the scratch folder");
		return;
	}
	mkdir("files", 0700);
	f = fopen("files/logo.png", "w");
	fputs("png", f);
	fclose(f);
	f = fopen("outside.png", "w");
	fclose(f);
	if (symlink("../../outside.png", "files/out.png") == -1)
		tap_diag("symlink failed");

	is_int(load(smtp, &c, NULL, 0), 0, "no logo, no archive, no limits");
	is_int((long long)c.limits.attachments, 10LL << 20, "limits.attachments is 10 MB by default");
	ok(c.sender.logo == NULL && c.sender.archive_url == NULL, "logo and archive_url unset");
	config_free(&c);
	snprintf(yaml, sizeof(yaml), "  logo: files/logo.png\n  archive_url: https://news.example/"
	    "files/\n%slimits:\n  attachments: 512KB\n", smtp);
	is_int(load(yaml, &c, NULL, 0), 0, "a logo, an archive and a limit load");
	is_str(c.sender.logo, "files/logo.png", "sender.logo");
	is_str(c.sender.archive_url, "https://news.example/files/", "sender.archive_url");
	is_int((long long)c.limits.attachments, 512LL << 10, "limits.attachments: 512KB");
	config_free(&c);
	snprintf(yaml, sizeof(yaml), "%slimits:\n  attachments: lots\n", smtp);
	is_int(load(yaml, &c, first, sizeof(first)), 1, "a limit that is no size is refused");
	is_str(first, "herald.yaml:9:16: 'lots' is not a size (expected e.g. 10MB, 512KB)",
	    "and said at its value");
	config_free(&c);
	snprintf(yaml, sizeof(yaml), "  logo: files/none.png\n%s", smtp);
	is_int(load(yaml, &c, first, sizeof(first)), 1, "a missing logo is refused");
	is_str(first, "herald.yaml:6:9: logo 'files/none.png': No such file or directory",
	    "and said at the key");
	config_free(&c);
	snprintf(yaml, sizeof(yaml), "  logo: files/out.png\n%s", smtp);
	is_int(load(yaml, &c, first, sizeof(first)), 1, "a logo that is a symlink out is refused");
	ok(strstr(first, "leads outside the project") != NULL, "and says it leads out: %s", first);
	config_free(&c);
	snprintf(yaml, sizeof(yaml), "  logo: /etc/hostname\n%s", smtp);
	is_int(load(yaml, &c, NULL, 0), 1, "an absolute logo path is refused");
	config_free(&c);
	snprintf(yaml, sizeof(yaml), "  archive_url: ftp://news.example/\n%s", smtp);
	is_int(load(yaml, &c, first, sizeof(first)), 1, "an archive_url that is not http(s) is refused");
	config_free(&c);
	if (chdir(old) == -1)
		tap_diag("cannot go back to %s", old);
}

int
main(void)
{
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_defaults();
	test_values();
	test_loopback();
	test_login_tls();
	test_archive();
	test_parsers();
	test_press_kit();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return done_testing();
}
