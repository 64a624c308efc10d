/*
 * config.h - config/herald.yaml into a struct config.
 *
 * Defaults live in config_defaults(); config_load() reports every problem
 * (EXIT_CONFIG) with its position and never stops at the first. Durations
 * are seconds; rates are messages per `per` seconds.
 */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include "diag.h"

enum tls_mode { TLS_REQUIRED, TLS_OPPORTUNISTIC, TLS_NONE };

struct rate {
	unsigned long long count;
	unsigned long long per;		/* seconds: 1, 60, 3600, 86400 */
};

struct domain_rate {
	char *domain;
	struct rate rate;
};

struct config {
	char *file;
	struct {
		char *from, *from_name, *from_addr;
		char *domain, *bounce_address, *unsubscribe_address, *unsubscribe_url;
		char *reply_to;			/* a bare address, or NULL */
		char *postal_address;		/* for the footers (bulk mail law), or NULL */
		char *logo;			/* a path in the project: an image templates show, or NULL */
		char *archive_url;		/* where the archive is served, ending in '/'; or NULL */
		char *subscribe_address;	/* subscribe+LIST@ asks to join LIST; or NULL */
	} sender;
	struct {
		char *url, *host;
		int loopback;
		enum tls_mode tls;
		char *username, *password_env, *password_file, *ca_file;
		unsigned connections;
		struct rate *rates;
		size_t nrates;
		unsigned long long burst;	/* 0: one second's worth of the tightest rate */
		struct domain_rate *domain_rates;
		size_t ndomain_rates;
		unsigned long long *retry;
		size_t nretry;
		unsigned long long give_up_after;
		unsigned long long timeout;
	} smtp;
	struct {
		int enabled;
		char *url, *username, *password_env, *password_file, *ca_file, *mailbox;
		unsigned long long poll;
	} imap;
	struct {
		int enabled;
		char *domain, *selector, *key_file, *algorithm;
		char **headers;
		size_t nheaders;
	} dkim;
	struct {
		int enabled;
		char *listen;
		char *url;		/* the listener's public address, ending in '/'; or NULL */
	} http;
	struct {
		char *dir;		/* `archive.dir`: herald run rewrites it after each send; or NULL */
	} archive;
	char *state, *secret, *lists_dir, *templates_dir, *releases_dir;
	char *tz;			/* digest schedules' zone when a list has none; NULL: UTC */
	char *lang;			/* releases' language when they name none; NULL: en */
	struct {
		unsigned long long soft_threshold, soft_window;
	} bounces;
	struct {
		unsigned long long max_age;	/* seconds a token in mail is honoured */
	} tokens;
	struct {
		unsigned long long attachments;	/* bytes of files one release may carry */
	} limits;
};

/*
 * The password a section names: the environment variable password_env,
 * or the first line of password_file; NULL when the section names none.
 * Returns 0, or -1 with why in err (what names the section: "smtp").
 * The caller owns *out and should wipe it; it is never logged.
 */
int config_password(const char *what, const char *password_env, const char *password_file,
    char **out, char *err, size_t errlen);

/* The path herald reads: -c FILE, else $HERALD_CONFIG, else config/herald.yaml. */
const char *config_path(const char *opt);
/* Loads and validates; 0, or -1 with every error in d. *c is filled either way (config_free it). */
int config_load(const char *path, struct config *c, struct diag *d);
void config_free(struct config *c);
/*
 * What herald's own mails need, copied from c into *to (zeroed first):
 * every sender.* string, tokens and imap.enabled; free it with
 * config_free. For a thread that outlives the configuration it started
 * with (a SIGHUP frees the daemon's).
 */
void config_copy_sender(struct config *to, const struct config *c);

/*
 * A size: "10MB", "512KB", "1GB", "2048" or "2048B" (K, M and G are
 * 1024, 1024^2 and 1024^3 bytes; case and a space before the unit do not
 * matter). 0 with *bytes, or -1.
 */
int config_parse_size(const char *s, unsigned long long *bytes);

/* "10/s", "120/min", "5/h", "1000/day": 0 with *r, or -1. */
int config_parse_rate(const char *s, struct rate *r);

#endif
