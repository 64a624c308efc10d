#define _GNU_SOURCE	/* memmem */
#include "addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util.h"

static int
addr_fail(char *err, size_t errlen, const char *reason)
{
	if (errlen)
		snprintf(err, errlen, "%s", reason);
	return -1;
}

static int
addr_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 atext. */
static int
addr_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '/': case '=': case '?': case '^': case '_':
	case '`': case '{': case '|': case '}': case '~':
		return 1;
	default:
		return 0;
	}
}

static int
addr_is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static const char *
addr_check_local(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "missing local part";
	if (len > ADDR_LOCAL_MAX)
		return "local part longer than 64 octets";
	if (s[0] == '"')
		return "quoted local part not supported";
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (i == 0 || i == len - 1 || s[i - 1] == '.')
				return "invalid local part";
		} else if (!addr_is_atext((unsigned char)s[i]))
			return "invalid local part";
	}
	return NULL;
}

static const char *
addr_check_domain(const char *s, size_t len)
{
	size_t i, label = 0, dots = 0;

	if (len == 0)
		return "missing domain";
	if (s[0] == '[')
		return "address literal not supported";
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return "invalid domain";
			label = 0;
			dots++;
			continue;
		}
		if (!addr_is_ldh((unsigned char)s[i]) ||
		    (label == 0 && s[i] == '-') || ++label > 63)
			return "invalid domain";
	}
	if (label == 0 || s[len - 1] == '-')
		return "invalid domain";
	if (dots == 0)
		return "domain has no dot";
	return NULL;
}

/*
 * Checks the addr-spec libetpan returned. It must appear verbatim in the
 * input: libetpan's lenient parser drops spaces and comments inside an
 * address ("a b@x.org" becomes "ab@x.org"), which would be a silent guess.
 */
static const char *
addr_check_spec(const char *spec, const char *in, size_t inlen)
{
	const char *at;
	size_t n = strlen(spec), i;
	const char *reason;

	for (i = 0; i < n; i++)
		if ((unsigned char)spec[i] >= 0x80)
			return "non-ascii address (write the domain in punycode)";
	if ((at = strchr(spec, '@')) == NULL)
		return "missing '@'";
	if ((reason = addr_check_local(spec, (size_t)(at - spec))) != NULL)
		return reason;
	if ((reason = addr_check_domain(at + 1, strlen(at + 1))) != NULL)
		return reason;
	if (n > ADDR_MAX)
		return "address longer than 254 octets";
	if (memmem(in, inlen, spec, n) == NULL)
		return "invalid address";
	return NULL;
}

static int
addr_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, k, need;
	unsigned cp, min;

	while (i < len) {
		unsigned char c = s[i++];
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (len - i < need)
			return 0;
		for (k = 0; k < need; k++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i++] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

static const char *
addr_ctl_reason(const char *s, size_t len, const char *line_break,
    const char *control)
{
	if (memchr(s, '\r', len) || memchr(s, '\n', len))
		return line_break;
	if (util_has_ctl(s, len))
		return control;
	return NULL;
}

/*
 * Decodes RFC 2047 words in a display name; *out is NULL for an empty
 * name. libetpan has already unquoted a name without encoded words, and
 * the decoder (an iconv_open per call) is most of the cost of a million
 * addresses, so it only runs when there is something to decode.
 */
static const char *
addr_decode_name(const char *raw, char **out)
{
	char *dec = NULL;
	size_t idx = 0, len, start = 0;
	const char *reason;

	*out = NULL;
	if (strstr(raw, "=?") == NULL)
		dec = xstrdup(raw);
	else if (mailmime_encoded_phrase_parse("utf-8", raw, strlen(raw), &idx,
	    "utf-8", &dec) != MAILIMF_NO_ERROR || dec == NULL)
		return "invalid encoded name";
	len = strlen(dec);
	if ((reason = addr_ctl_reason(dec, len, "name contains a line break",
	    "name contains a control character")) != NULL)
		goto out;
	reason = "name is not valid utf-8";
	if (!addr_utf8_valid((const unsigned char *)dec, len))
		goto out;
	reason = NULL;
	while (start < len && addr_is_space(dec[start]))
		start++;
	while (len > start && addr_is_space(dec[len - 1]))
		len--;
	if (len > start)
		*out = xstrndup(dec + start, len - start);
out:
	free(dec);
	return reason;
}

int
addr_parse(const char *s, size_t len, struct addr *out, char *err,
    size_t errlen)
{
	struct mailimf_mailbox *mb = NULL;
	const char *reason;
	size_t idx = 0, i;

	memset(out, 0, sizeof(*out));
	while (len > 0 && addr_is_space(s[0]))
		s++, len--;
	while (len > 0 && addr_is_space(s[len - 1]))
		len--;
	if (len == 0)
		return addr_fail(err, errlen, "empty address");
	if ((reason = addr_ctl_reason(s, len, "address contains a line break",
	    "address contains a control character")) != NULL)
		return addr_fail(err, errlen, reason);
	if (memchr(s, '@', len) == NULL)
		return addr_fail(err, errlen, "missing '@'");
	if (mailimf_mailbox_parse(s, len, &idx, &mb) != MAILIMF_NO_ERROR)
		return addr_fail(err, errlen, "invalid address");
	while (idx < len && addr_is_space(s[idx]))
		idx++;
	reason = "invalid address";
	if (idx != len)
		goto fail;
	if ((reason = addr_check_spec(mb->mb_addr_spec, s, len)) != NULL)
		goto fail;
	if (mb->mb_display_name != NULL &&
	    (reason = addr_decode_name(mb->mb_display_name, &out->name)) != NULL)
		goto fail;
	out->email = xstrdup(mb->mb_addr_spec);
	for (i = 0; out->email[i]; i++)
		if (out->email[i] >= 'A' && out->email[i] <= 'Z')
			out->email[i] += 'a' - 'A';
	mailimf_mailbox_free(mb);
	return 0;
fail:
	mailimf_mailbox_free(mb);
	addr_clear(out);
	return addr_fail(err, errlen, reason);
}

void
addr_clear(struct addr *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->email);
	a->name = a->email = NULL;
}

uint64_t
addr_hash(const char *canon, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)canon[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h ? h : 1;
}
