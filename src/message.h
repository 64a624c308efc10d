/*
 * message.h - the exact bytes of one outgoing message.
 *
 * RFC 5322 headers (RFC 2047 where not ASCII), a multipart/alternative body
 * (text/plain + text/html, UTF-8, quoted-printable), CRLF line ends
 * throughout. Files ride along: the images the HTML shows in a
 * multipart/related around the HTML part (each with a Content-ID), the
 * attachments in a multipart/mixed around everything, each base64 with its
 * file name (RFC 2231 where it is not plain ASCII). Pure: no I/O, no clock,
 * no globals; the same input always gives the same bytes, so tests compare
 * whole messages.
 *
 * Nothing from an input can inject a header line: in every value that
 * reaches a header, each control character (C0 including TAB and CR/LF,
 * DEL, C1, U+2028, U+2029) becomes a space and invalid UTF-8 becomes
 * U+FFFD; white space around a value is dropped. Addresses, ids and URLs
 * are checked instead, and refused when they do not fit their grammar.
 */
#ifndef HERALD_MESSAGE_H
#define HERALD_MESSAGE_H

#include <stddef.h>

#include "mbuf.h"
#include "util.h"

/*
 * Every string is borrowed: message_build() reads them and keeps nothing.
 * Required: from_addr, to_addr, subject (may be ""), message_id, text
 * (may be ""). Everything else may be NULL.
 */
enum { MESSAGE_HUMAN, MESSAGE_AUTO_GENERATED, MESSAGE_AUTO_REPLIED };

/* A file the message carries: an attachment, or an image its HTML shows. */
struct message_file {
	const char *name;	/* the file name the reader sees, UTF-8 */
	const char *type;	/* "image/png", "text/plain; charset=utf-8" */
	const char *content_id;	/* an image the HTML shows as cid:ID (no <>); NULL: attached */
	const char *b64;	/* message_base64 of its bytes; referred to, never copied */
	size_t b64_len;
};

struct message {
	const char *from_name, *from_addr;	/* display name UTF-8 (NULL or "" for none), dot-atom address */
	const char *to_name, *to_addr;
	const char *reply_to;			/* an address, or NULL */
	const char *subject;			/* UTF-8 */
	long long date;				/* Unix time, 0..9999-12-31; written in UTC */
	const char *message_id;			/* "release.TOKEN@domain", without <> (a surrounding <> is tolerated) */
	const char *list_name, *list_id;	/* List-Id: NAME <ID>; omitted when list_id is NULL */
	const char *unsub_mailto;		/* List-Unsubscribe: <mailto:ADDR?subject=unsubscribe> */
	const char *unsub_url;			/* also <URL> in List-Unsubscribe, and List-Unsubscribe-Post (RFC 8058) */
	const char *in_reply_to;		/* a Message-ID, with or without <> */
	int robot;				/* MESSAGE_AUTO_GENERATED or _REPLIED: Auto-Submitted */
	int bulk;				/* 1: Precedence: bulk */
	const char *content_language;		/* Content-Language (RFC 3282): "es", "es, en"; NULL: none */
	const char *text;			/* text/plain body, UTF-8, LF or CRLF line ends */
	const char *html;			/* text/html body; NULL: a single text/plain part */
	const struct message_file *files;	/* attachments and the HTML's images, or NULL */
	size_t nfiles;
};

/*
 * Appends the whole message to out. Returns 0, or -1 when a required field
 * is missing or an address, id, URL or the date is unusable; then nothing
 * is appended. List-Unsubscribe is written when unsub_mailto or unsub_url
 * is set (robot mail may have neither).
 */
int message_build(const struct message *m, struct buf *out);
/*
 * The same into out's own bytes, the files' base64 referred to where it
 * goes (mbuf.h): they must outlive out. With files, the HTML's images need
 * html set; an image is carried only with it.
 */
int message_build_parts(const struct message *m, struct mbuf *out);

/*
 * RFC 2045 base64 of len bytes of data, appended to out: lines of 76
 * characters (the last one shorter), each ending in CRLF. Nothing for
 * len 0.
 */
void message_base64(const void *data, size_t len, struct buf *out);

/*
 * RFC 2045 quoted-printable of len bytes of s, appended to out. LF and CRLF
 * in s are line breaks (CRLF in the output); a lone CR is encoded. Lines
 * are at most 76 columns, soft breaks never split an =XX escape, and the
 * output never contains "=_" (so "=_..." is a safe MIME boundary). "From "
 * and "." at the start of a line are encoded too.
 */
void message_qp_encode(const char *s, size_t len, struct buf *out);

/*
 * Appends "Name: value\r\n" for an unstructured header (Subject, ...): the
 * value cleaned as above, words that are not plain ASCII (or that look like
 * an encoded-word, or are too long for a line) as RFC 2047 UTF-8
 * encoded-words of at most 75 characters, folded under 78 columns. Decoding
 * gives back the cleaned value exactly. value NULL is "".
 */
void message_header(struct buf *out, const char *name, const char *value);

/*
 * Appends "Name: display <addr>\r\n" (From, To, Reply-To, ...), or
 * "Name: addr\r\n" when display is NULL or empty after cleaning. An ASCII
 * display name with specials is one quoted string (\" and \\ escaped);
 * otherwise words of atext stay atoms and the other words become
 * encoded-words. The address must be ASCII dot-atom "@" hostname labels.
 * Returns 0, or -1 when it is not (then nothing is appended).
 */
int message_mailbox_header(struct buf *out, const char *name,
    const char *display, const char *addr);

#endif
