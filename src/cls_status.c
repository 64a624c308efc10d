/*
 * cls_status.c - status codes and hard or soft.
 *
 * A hard bounce suppresses an address for good, so it is given only when
 * the failure says the address itself is bad: its mailbox or its domain
 * does not exist, or it has moved. Everything else can pass (a full
 * mailbox, a spam or policy block, a disabled or suspended account, a
 * timeout) and is soft: a soft bounce only scores, and enough of them in
 * the window suppress the address anyway.
 *
 * Three witnesses, weighed together:
 *
 *   the RFC 3463 code      X.1.1 X.1.2 X.1.3 X.1.6 X.1.10      leans hard
 *   (subject.detail)       X.2.2 X.2.3 X.3.4 (storage, size)   leans soft
 *                          anything else, or no code           says nothing
 *   the SMTP reply code    4xx                                  soft, always
 *                          452 552 (storage)                    leans soft
 *                          5xx otherwise                        says nothing
 *   the words              "sender address rejected"...         soft, first
 *                          "quota", "mailbox full"...           soft, first
 *                          "user unknown", "no such domain",    hard
 *                          "account disabled"...
 *                          "spam", "policy", "blocked"...       soft
 *
 *   class 2 or 4 (a success or a delay)                     -> soft
 *   the words say soft                                      -> soft
 *   the words say hard, the code leans soft (they disagree) -> soft
 *   the words say hard otherwise                            -> hard
 *   the words say nothing                                   -> hard only if the code leans hard
 *
 * So 5.2.2 "mailbox full" is soft; 5.7.1 "blocked as spam" is soft; 550
 * alone is soft; 5.1.1 "quota exceeded" is soft; 5.2.2 "user unknown" is
 * soft (they disagree); 5.4.4 "host not found" is hard (Postfix writes it
 * for a domain that does not resolve); 5.7.1 "no such user" is hard, as
 * gateways answer an unknown user with their policy code. A disabled,
 * suspended or deactivated mailbox is hard: the accounts that providers
 * close this way do not come back, and a list mailing to them harms its
 * reputation (the project's corpus holds them so).
 */
#include "cls_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The first enhanced status code (RFC 3463) of one of the classes in the text, into out. */
int
cls_find_enhanced(const char *s, size_t n, const char *classes, char *out, size_t size)
{
	size_t i, j, k;

	for (i = 0; i + 5 <= n; i++) {
		if (s[i] == '\0' || strchr(classes, s[i]) == NULL || s[i + 1] != '.' ||
		    (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.')))
			continue;
		for (j = i + 2; j < n && j < i + 5 && isdigit((unsigned char)s[j]); j++)
			;
		if (j == i + 2 || j >= n || s[j] != '.')
			continue;
		for (k = j + 1; k < n && k < j + 4 && isdigit((unsigned char)s[k]); k++)
			;
		if (k == j + 1 || (k < n && (isalnum((unsigned char)s[k]) ||
		    (s[k] == '.' && k + 1 < n && isdigit((unsigned char)s[k + 1])))))
			continue;
		cls_copy_lower(out, size, s + i, k - i);
		return 1;
	}
	return 0;
}

/* The first SMTP reply code 4xx or 5xx standing as a word in the text. */
int
cls_find_reply_code(const char *s, size_t n, char *out, size_t size)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if ((s[i] != '4' && s[i] != '5') || !isdigit((unsigned char)s[i + 1]) ||
		    !isdigit((unsigned char)s[i + 2]))
			continue;
		if (i > 0 && (isalnum((unsigned char)s[i - 1]) || strchr(".-:/", s[i - 1])))
			continue;
		if (i + 3 < n && (isalnum((unsigned char)s[i + 3]) || s[i + 3] == '.' ||
		    s[i + 3] == ':' || s[i + 3] == '/'))
			continue;
		if (s[i + 1] > '5')
			continue;
		cls_copy_lower(out, size, s + i, 3);
		return 1;
	}
	return 0;
}

void
cls_find_status(const char *s, size_t n, char *out, size_t size)
{
	if (!cls_find_enhanced(s, n, "245", out, size) && !cls_find_reply_code(s, n, out, size))
		out[0] = '\0';
}

/*
 * A failure's status from a whole notice: a 2.x.x there is some version
 * number ("Version 2.0.12"), not this recipient's success.
 */
void
cls_find_failure_status(const char *s, size_t n, char *out, size_t size)
{
	if (!cls_find_enhanced(s, n, "45", out, size) && !cls_find_reply_code(s, n, out, size))
		out[0] = '\0';
}

/* Failures that can pass, or not the recipient's at all: checked first. */
static const char *const passing_words[] = {
	"sender address rejected", "sender verify failed", "sender verification failed",
	"sender rejected", "sender domain", "envelope sender", "relay access denied",
	"relaying denied", "relay not permitted", "unable to relay", "not allowed to relay",
	"quota", "mailbox full", "mailbox is full", "mailfolder is full", "box is full",
	"full mailbox", "insufficient", "too large", "too big", "size limit", "exceeds",
	"exceeded", "message size", "over the limit", "storage", "disk full",
	/* French, German, Spanish, Portuguese, Italian */
	"boite pleine", "bo\xc3\xaete pleine", "boite aux lettres pleine",
	"bo\xc3\xaete aux lettres pleine", "postfach voll", "postfach ist voll", "speicherplatz",
	"buz\xc3\xb3n lleno", "buzon lleno", "caixa postal cheia", "caixa cheia",
	"casella piena", "pleine", "plein", "satur",
	/* Japanese: capacity, full */
	"\xe5\xae\xb9\xe9\x87\x8f", "\xe4\xb8\x80\xe6\x9d\xaf",
	"\xe3\x81\x84\xe3\x81\xa3\xe3\x81\xb1\xe3\x81\x84", NULL
};

/* The address itself is bad: it, or its domain, does not exist, or it moved. */
static const char *const hard_words[] = {
	"user unknown", "unknown user", "no such user", "user not found", "unknown recipient",
	"recipient unknown", "recipient not found", "recipient address rejected: user",
	"recipient address rejected: access denied",	/* Exchange Online: no such recipient */
	"no such recipient", "invalid recipient", "bad recipient", "invalid mailbox",
	"no mailbox", "mailbox not found", "mailbox unavailable", "mailbox does not exist",
	"does not exist", "doesn't exist", "not exist", "unknown address", "address unknown",
	"addressee unknown", "not a valid", "is not valid", "not a known user", "not known",
	"no longer", "disabled", "deactivated", "inactive", "suspended", "closed",
	"not an active", "account has been", "not recognized", "unknown local", "not our customer", "host unknown",
	"unknown host", "no such domain", "domain not found", "domain does not", "no such host",
	"host not found", "unrouteable", "unroutable", "name service error",
	"bad destination", "moved", "not listed", "no account", "invalid address",
	"bad address", "unknown or illegal", "no such mailbox", "does not have an account",
	"doesn't have a", "does not have a", "recipnotfound", "recipientnotfound",
	"no valid recipients", "not a valid recipient", "unknown mailbox",
	"wasn't found", "was not found", "couldn't be found", "could not be found",
	"does not accept mail", "doesn't accept mail", "no mx", "null mx",
	/* French, German, Spanish, Portuguese, Italian */
	"utilisateur inconnu", "destinataire inconnu", "adresse inconnue", "existe pas",
	"adresse invalide", "inexistant", "unbekannt", "existiert nicht", "gibt es nicht",
	"usuario desconocido", "destinatario desconocido", "no existe", "desconhecido",
	"n\xc3\xa3o existe", "nao existe", "utente sconosciuto", "non esiste",
	"destinataire invalide", "adresse d au moins un destinataire invalide",
	/* Japanese: does not exist, unknown address, unknown user */
	"\xe5\xad\x98\xe5\x9c\xa8\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",
	"\xe5\xae\x9b\xe5\x85\x88\xe4\xb8\x8d\xe6\x98\x8e",
	"\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6\xe4\xb8\x8d\xe6\x98\x8e",
	"\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6\xe3\x83\xbc\xe4\xb8\x8d\xe6\x98\x8e",
	"\xe3\x82\xa2\xe3\x83\x89\xe3\x83\xac\xe3\x82\xb9\xe4\xb8\x8d\xe6\x98\x8e", NULL
};

/* Can pass: blocks, policy, load, an account disabled or suspended for now. */
static const char *const soft_words[] = {
	"spam", "blacklist", "blocklist", "block list", "blocked", "listed", "reputation",
	"policy", "greylist", "graylist", "try again", "temporar", "delay", "deferred",
	"postponed", "timed out", "timeout", "rate limit", "too many", "not accepted",
	"content", "virus", "rejected due to", "denied", "relay access", "unsolicited", "retry",
	"locked", "frozen", "expired", "authentication", "spf", "dkim",
	"dmarc", "rbl", "dnsbl", "not permitted", "not allowed", "refused", "prohibited",
	"temporairement", "bloqu", "archiv", "refus", "gesperrt",
	/* Japanese: reception refused, refused */
	"\xe5\x8f\x97\xe4\xbf\xa1\xe6\x8b\x92\xe5\x90\xa6", "\xe6\x8b\x92\xe5\x90\xa6", NULL
};

/*
 * The reason's words on one line: replies are folded anywhere ("does not\n
 * exist"), MTAs write BAD_RECIPIENT and "mail-box" or "mail box".
 */
static size_t
reason_text(const char *raw, size_t rawlen, char *text, size_t size)
{
	size_t n = 0, i;

	for (i = 0; i < rawlen && n + 1 < size; i++) {
		if (isspace((unsigned char)raw[i]) || raw[i] == '_') {
			if (n > 0 && text[n - 1] != ' ')
				text[n++] = ' ';
		} else {
			text[n++] = (char)tolower((unsigned char)raw[i]);
		}
	}
	text[n] = '\0';
	for (i = 0; i + 8 <= n; i++)
		if (strncmp(text + i, "mail", 4) == 0 && (text[i + 4] == ' ' || text[i + 4] == '-') &&
		    strncmp(text + i + 5, "box", 3) == 0) {
			memmove(text + i + 4, text + i + 5, n - i - 4);
			n--;
		}
	return n;
}

int
cls_reason_hard(const char *raw, size_t rawlen)
{
	char text[2048];
	size_t n = reason_text(raw, rawlen, text, sizeof(text));

	if (cls_has_any(text, n, passing_words))
		return 0;
	if (cls_has_any(text, n, hard_words))
		return 1;
	if (cls_has_any(text, n, soft_words))
		return 0;
	return -1;
}

enum lean { LEAN_NONE, LEAN_HARD, LEAN_SOFT };

/* What the code says on its own: the table at the top of this file. */
static enum lean
status_lean(const char *st)
{
	static const char *const hard[] = { "1.1", "1.2", "1.3", "1.6", "1.10", NULL };
	static const char *const soft[] = { "2.2", "2.3", "3.4", NULL };
	size_t i;

	if (st[0] == '\0')
		return LEAN_NONE;
	if (st[1] != '.')	/* an SMTP reply code */
		return strcmp(st, "552") == 0 || strcmp(st, "452") == 0 ? LEAN_SOFT : LEAN_NONE;
	for (i = 0; hard[i]; i++)
		if (strcmp(st + 2, hard[i]) == 0)
			return LEAN_HARD;
	for (i = 0; soft[i]; i++)
		if (strcmp(st + 2, soft[i]) == 0)
			return LEAN_SOFT;
	return LEAN_NONE;
}

int
cls_judge_hard(const char *status, const char *raw, size_t rawlen)
{
	enum lean s = status_lean(status);

	if (status[0] == '4' || status[0] == '2')
		return 0;
	switch (cls_reason_hard(raw, rawlen)) {
	case 1:
		return s != LEAN_SOFT;
	case 0:
		return 0;
	default:
		return s == LEAN_HARD;
	}
}
