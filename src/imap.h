/*
 * imap.h - one IMAP session through libetpan: connect (imaps://, or
 * imap:// with STARTTLS; never in the clear), verify the server's
 * certificate chain and host name ourselves (libetpan does not), log in,
 * select, list UIDs, fetch raw messages without setting \Seen, create
 * folders, move. Nothing here knows what a message means.
 *
 * Every call returns IMAP_OK, IMAP_LOST (the connection failed: try again
 * later, on a new session), IMAP_NO (the server refused this one command,
 * NO or BAD; the session is still usable) or IMAP_REFUSED (the certificate
 * or the login was refused, or the mailbox cannot be selected: a
 * configuration problem, trying again will not help; or the server sent
 * more than herald accepts, below). After a failure,
 * imap_error() says what happened; it never holds the password.
 */
#ifndef HERALD_IMAP_H
#define HERALD_IMAP_H

#include <signal.h>
#include <stddef.h>

enum imap_status { IMAP_OK = 0, IMAP_LOST = -1, IMAP_REFUSED = -2, IMAP_NO = -4 };

/*
 * What herald accepts from a server, that a hostile one cannot make it
 * hold gigabytes in memory: the stream stops at the first byte past a
 * limit, and the command fails with IMAP_REFUSED (a server that does it
 * once does it again: trying again would not help).
 *
 *   IMAP_LINE_MAX       bytes of one response line outside its literals
 *                       (a SEARCH of IMAP_SEARCH_WINDOW UIDs is ~110 KB)
 *   IMAP_LITERAL_MAX    bytes of one literal, except a message's body:
 *                       imap_fetch's max_bytes, what it asked for
 *   IMAP_RESPONSE_MAX   bytes in answer to one command, plus the bodies
 *                       asked for by a UID FETCH
 *   IMAP_FETCH_BUDGET   bytes of bodies asked for by one UID FETCH
 *   IMAP_SEARCH_WINDOW  UIDs one UID SEARCH may cover (imap_uids)
 */
#define IMAP_LINE_MAX (256u * 1024)
#define IMAP_LITERAL_MAX ((size_t)64 * 1024)
#define IMAP_RESPONSE_MAX ((size_t)1024 * 1024)
#define IMAP_FETCH_BUDGET ((size_t)8 * 1024 * 1024)
#define IMAP_SEARCH_WINDOW 10000ULL

struct imap_opts {
	const char *url;	/* imaps://host[:port] or imap://host[:port] */
	const char *username;
	const char *password;
	const char *ca_file;	/* PEM; NULL: the system CAs */
	long timeout;		/* seconds, for connecting and for each reply */
	volatile sig_atomic_t *stop;	/* set: the session fails (IMAP_LOST, "stopped")
					   within a second, even in the middle of a read */
};

struct imap;

/*
 * Connects, secures and logs in. *out is set either way (imap_close it);
 * on failure imap_error(*out) says why.
 */
int imap_open(const struct imap_opts *o, struct imap **out);
/* LOGOUT when still connected, then frees; NULL is fine. */
void imap_close(struct imap *im);
const char *imap_error(const struct imap *im);
/* "user@host", for the journal's mailbox key (the same over imaps:// and imap://) and for logs. */
const char *imap_account(const struct imap *im);

/* SELECTs mailbox (read-write); *uidvalidity is the server's. */
int imap_select(struct imap *im, const char *mailbox, unsigned long long *uidvalidity);

/*
 * The highest UID the selected mailbox can hold now (UIDNEXT - 1, or the
 * highest in use when the server did not say UIDNEXT); 0 when empty. A
 * message arriving later gets a higher one.
 */
int imap_uid_end(struct imap *im, unsigned long long *end);

/*
 * The UIDs of the selected mailbox in [lo, hi], ascending: one UID SEARCH
 * UID lo:hi, so hi - lo < IMAP_SEARCH_WINDOW (no response can then hold
 * millions). The caller frees *uids.
 */
int imap_uids(struct imap *im, unsigned long long lo, unsigned long long hi,
    unsigned long long **uids, size_t *n);

/*
 * Called for each fetched message: its UID and its first bytes (at most
 * the max_bytes given to imap_fetch). Returns 0 to go on, -1 to stop
 * (imap_fetch then returns IMAP_LOST with "stopped").
 */
typedef int (*imap_msg_fn)(void *arg, unsigned long long uid, const char *raw, size_t len);

/*
 * UID FETCH BODY.PEEK[]<0.max_bytes> of uids, IMAP_FETCH_BUDGET / max_bytes
 * at a time (max_bytes at most IMAP_FETCH_BUDGET): \Seen is never set; at
 * most the first max_bytes of a message are read, and a server that sends
 * more is refused. fn sees them in the server's order.
 */
int imap_fetch(struct imap *im, const unsigned long long *uids, size_t n, size_t max_bytes,
    imap_msg_fn fn, void *arg);

/*
 * The server's name of folder path ("Herald/Bounces": '/' separates
 * levels), with the server's own hierarchy delimiter, created (and
 * subscribed) when missing. The caller frees *name.
 */
int imap_folder(struct imap *im, const char *path, char **name);

/*
 * Moves uids of the selected mailbox into folder: UID MOVE (RFC 6851)
 * where offered, else UID COPY, \Deleted and UID EXPUNGE (RFC 4315), or
 * EXPUNGE when UIDPLUS is missing too. UIDs no longer there are no error.
 */
int imap_move(struct imap *im, const unsigned long long *uids, size_t n, const char *folder);

/* 1 when the server offers IDLE (RFC 2177). */
int imap_has_idle(struct imap *im);

/*
 * Starts IDLE on the selected mailbox. *fd becomes readable when the
 * server says something (new mail); then call imap_idle_done, which ends
 * IDLE and reads what the server said. A server may drop an IDLE after 30
 * minutes: end and restart it well before.
 */
int imap_idle_start(struct imap *im, int *fd);
int imap_idle_done(struct imap *im);

#endif
