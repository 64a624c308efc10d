/*
 * cls_request.c - an unsubscribe request in so many words: a table of
 * whole phrases in four languages, never a word found inside a longer
 * sentence, and the list servers' "unsubscribe LIST" command.
 */
#include "cls_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* U+00C0..U+00FF without their accents, lowercase; x and / are no letters. */
static const char unaccent[] = "aaaaaaaceeeeiiiidnooooo ouuuuyts" "aaaaaaaceeeeiiiidnooooo ouuuuyty";

/* The next character of s as a lowercase ASCII letter, ' ', or 0 for none. */
static char
request_char(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];

	if (c < 0x80) {
		(*i)++;
		if (isalnum(c))
			return (char)tolower(c);
		return c == '\'' || c == '`' ? 0 : ' ';	/* "s'il" is "sil" */
	}
	if (*i + 1 < n && (s[*i + 1] & 0xc0) == 0x80 && c >= 0xc2) {
		/* UTF-8: Latin-1 letters; a right quote is an apostrophe; the rest no letter. */
		size_t k = *i;
		*i += 1;
		while (*i < n && (s[*i] & 0xc0) == 0x80)
			(*i)++;
		if (c == 0xc3 && *i - k == 2)
			return unaccent[s[k + 1] & 0x3f];
		if (c == 0xc2 && *i - k == 2)
			return ' ';	/* no-break space, inverted marks, guillemets */
		if (c == 0xe2 && *i - k == 3 && s[k + 1] == 0x80 && (s[k + 2] == 0x98 || s[k + 2] == 0x99))
			return 0;
		if (c == 0xe2 && *i - k == 3 && s[k + 1] == 0x80)
			return ' ';	/* dashes, quotes, ellipsis */
		return '#';
	}
	(*i)++;
	return c >= 0xc0 ? unaccent[c - 0xc0] : ' ';	/* Latin-1 */
}

/*
 * A line as lowercase ASCII words, single spaces between: accents stripped
 * (from UTF-8 or Latin-1), apostrophes dropped, other punctuation a space.
 * A letter with no ASCII form becomes '#', which no phrase has.
 */
static void
request_words(const char *s, size_t n, char *out, size_t size)
{
	size_t i = 0, o = 0;
	char ch;

	while (i < n && o + 1 < size) {
		ch = request_char((const unsigned char *)s, n, &i);
		if (ch == 0 || (ch == ' ' && (o == 0 || out[o - 1] == ' ')))
			continue;
		out[o++] = ch;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Removes the words w from the start (at_end 0) or the end of s; 1 if it did. */
static int
strip_words(char *s, const char *w, int at_end)
{
	size_t n = strlen(s), m = strlen(w);

	if (m > n)
		return 0;
	if (!at_end && strncmp(s, w, m) == 0 && (s[m] == ' ' || s[m] == '\0')) {
		memmove(s, s + m + (s[m] == ' '), n - m + (s[m] != ' '));
		return 1;
	}
	if (at_end && strcmp(s + n - m, w) == 0 && (n == m || s[n - m - 1] == ' ')) {
		s[n == m ? 0 : n - m - 1] = '\0';
		return 1;
	}
	return 0;
}

static int
strip_any(char *s, const char *const *words, int at_end)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (strip_words(s, words[i], at_end))
			return 1;
	return 0;
}

static const char *const greetings[] = {
	"hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening",
	"hola", "buenos dias", "buenas tardes", "buenas noches", "buenas", "estimado",
	"estimada", "estimados", "estimadas", "ola", "oi", "bom dia", "boa tarde", "boa noite",
	"prezado", "prezada", "prezados", "prezadas", "caro", "cara", "bonjour", "bonsoir",
	"salut", "cher", "chere", "madame", "monsieur", NULL
};

/* Polite words around a request; the longer of two that share a word first. */
static const char *const polite[] = {
	"please", "pls", "plz", "kindly", "thank you very much", "thank you", "thanks a lot",
	"many thanks", "thanks", "thx", "por favor", "favor", "muchas gracias", "gracias",
	"muito obrigado", "muito obrigada", "obrigado", "obrigada", "sil vous plait", "svp",
	"merci beaucoup", "merci", NULL
};

/* "... from this list" and its kind, after a request. */
static const char *const list_tails[] = {
	"from this list", "from your list", "from the list", "from this mailing list",
	"from your mailing list", "from the mailing list", "from this newsletter",
	"from your newsletter", "from the newsletter", "from this email list",
	"from your email list", "from your mailing", "from all lists", "from your lists",
	"off this list", "off your list", "off the list", "off your mailing list",
	"de la lista", "de esta lista", "de su lista", "de tu lista", "de la lista de correo",
	"del boletin", "de este boletin", "da lista", "desta lista", "dessa lista",
	"da sua lista", "da lista de emails", "do boletim", "da newsletter", "de la liste",
	"de cette liste", "de votre liste", "de la newsletter", "de vos listes", NULL
};

/* The requests themselves, in English, Spanish, Portuguese and French. */
static const char *const requests[] = {
	"unsubscribe", "unsubscribe me", "unsub", "remove", "remove me", "remove my address",
	"remove my email", "remove my email address", "stop", "opt out", "opt me out",
	"optout", "take me off", "cancel my subscription", "cancel subscription",
	"i want to unsubscribe", "i would like to unsubscribe", "id like to unsubscribe",
	"baja", "dar de baja", "darme de baja", "dame de baja", "denme de baja",
	"quiero darme de baja", "deseo darme de baja", "solicito la baja",
	"cancelar suscripcion", "cancelar mi suscripcion", "cancelar la suscripcion",
	"desuscribir", "desuscribirme", "borrarme", "eliminarme",
	"descadastrar", "descadastrar me", "me descadastrar", "descadastre me", "me descadastre",
	"descadastro", "quero me descadastrar", "cancelar inscricao", "cancelar minha inscricao",
	"cancelar assinatura", "cancelar a assinatura", "cancelar minha assinatura", "remover",
	"remova me", "me remova", "me remover",
	"desabonner", "me desabonner", "desabonnez moi", "desabonnement", "desinscription",
	"desinscrire", "se desinscrire", "me desinscrire", "desinscrivez moi",
	"je veux me desabonner", "je souhaite me desabonner", "je voudrais me desabonner",
	"retirez moi", "supprimez moi", NULL
};

/* The next word of [*p, end) delimited by blanks, into [*b, *e); 0 at the end. */
static int
next_word(const char **p, const char *end, const char **b, const char **e)
{
	const char *q = *p;

	while (q < end && isspace((unsigned char)*q))
		q++;
	if (q == end)
		return 0;
	*b = q;
	while (q < end && !isspace((unsigned char)*q))
		q++;
	*e = *p = q;
	return 1;
}

/* A list's name as a list server takes it: "ogp-news", "OGP.Americas", "news@lists.example". */
static int
list_name(const char *b, const char *e)
{
	/* Words that make "unsubscribe X" a sentence about unsubscribing. */
	static const char *const nouns[] = { "link", "links", "button", "problem", "problems",
	    "issue", "issues", "question", "help", "not", "error", "failed", "failure", "broken",
	    "page", "option", "confirmation", "confirmed", "successful", "notice", "notification",
	    "instructions", "information", "info", "from", "here", "me", "is", "was", "does",
	    "doesn't", "isn't", "request", "requests", NULL };
	const char *p;
	size_t i, n = (size_t)(e - b);

	for (i = 0; nouns[i]; i++)
		if (strlen(nouns[i]) == n && strncasecmp(b, nouns[i], n) == 0)
			return 0;
	if (n > 64 || !isalnum((unsigned char)*b))
		return 0;
	for (p = b; p < e; p++)
		if (!isalnum((unsigned char)*p) && strchr("._+-@", *p) == NULL)
			return 0;
	return 1;
}

/*
 * The list servers' command, the Majordomo habit of a whole subject:
 * "unsubscribe LIST", "unsubscribe LIST ADDRESS", "signoff LIST" (Listserv).
 */
static int
list_command(const char *s, size_t n)
{
	static const char *const verbs[] = { "unsubscribe", "unsub", "signoff", NULL };
	const char *p = s, *end = s + n, *b, *e;
	size_t i;

	if (!next_word(&p, end, &b, &e))
		return 0;
	for (i = 0; verbs[i]; i++)
		if (strlen(verbs[i]) == (size_t)(e - b) && strncasecmp(b, verbs[i], (size_t)(e - b)) == 0)
			break;
	if (verbs[i] == NULL || !next_word(&p, end, &b, &e) || !list_name(b, e))
		return 0;
	/* An address may follow: the one to take off. */
	if (next_word(&p, end, &b, &e) && memchr(b, '@', (size_t)(e - b)) == NULL)
		return 0;
	return !next_word(&p, end, &b, &e);
}

/*
 * Is this line itself an unsubscribe request: once the greeting, the polite
 * words and a "from this list" are taken away, exactly one of the phrases,
 * or a list server's command naming the list? "I will never unsubscribe" or
 * "How do I stop getting two copies?" is not.
 */
int
cls_request_line(const char *s, size_t n)
{
	char w[256];
	size_t i;

	if (list_command(s, n))
		return 1;
	request_words(s, n, w, sizeof(w));
	strip_any(w, greetings, 0);
	while (strip_any(w, polite, 0) || strip_any(w, polite, 1) || strip_any(w, list_tails, 1))
		;
	for (i = 0; requests[i]; i++)
		if (strcmp(w, requests[i]) == 0)
			return 1;
	return 0;
}

/* The subject past "Re:", "RE[2]:", "Fwd:", "AW:", "RV:", "Enc:", "TR:", "Réf. :" and the like. */
const char *
cls_subject_core(const char *s)
{
	static const char *const prefixes[] = { "re", "fwd", "fw", "aw", "rv", "enc", "tr", "ref",
	    "r\xc3\xa9" "f", "r\xc3\x89" "f", "rif", "res", "sv", "vs", "wg", "antw", "odp", "r",
	    NULL };
	const char *p, *q;
	size_t i, m;

again:
	for (p = s; *p && (isspace((unsigned char)*p) || ispunct((unsigned char)*p)); p++)
		;
	for (i = 0; prefixes[i]; i++) {
		m = strlen(prefixes[i]);
		if (strncasecmp(p, prefixes[i], m) != 0)
			continue;
		q = p + m;
		if (*q == '.')
			q++;
		if (*q == '[' || *q == '(') {
			for (q++; isdigit((unsigned char)*q); q++)
				;
			if (*q == ']' || *q == ')')
				q++;
		}
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ':') {
			s = q + 1;
			goto again;
		}
	}
	return p;
}

/* "Hi", "Hi Ana,", "Dear Sir or Madam,", "Estimados señores:" (w as request_words made it) */
static int
greeting_only(char *w, char last)
{
	size_t words = 1;
	const char *p;

	if (!strip_any(w, greetings, 0))
		return 0;
	if (w[0] == '\0')
		return 1;
	if (last != ',' && last != ':' && last != '!')
		return 0;
	for (p = w; *p; p++)
		words += *p == ' ';
	return words <= 3;
}

/* The first line of the body that is not quoted, not empty, not a greeting alone. */
void
cls_first_own_line(const struct cls_text *t, const char **line, size_t *n)
{
	const char *s = t->data, *end, *lend, *e;
	char w[256];

	*line = NULL;
	*n = 0;
	if (s == NULL)
		return;
	end = s + t->len;
	for (; s < end; s = lend + 1) {
		lend = memchr(s, '\n', (size_t)(end - s));
		if (lend == NULL)
			lend = end;
		while (s < lend && isspace((unsigned char)*s))
			s++;
		for (e = lend; e > s && isspace((unsigned char)e[-1]); e--)
			;
		if (s < e && *s != '>') {
			request_words(s, (size_t)(e - s), w, sizeof(w));
			if (!greeting_only(w, e[-1])) {
				*line = s;
				*n = (size_t)(e - s);
				return;
			}
		}
		if (lend == end)
			return;
	}
}

/* The failed recipients of what looks like a bounce: the report, X-Failed-Recipients, the text. */
