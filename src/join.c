/*
 * join.c - joining a list, double opt-in; see join.h.
 */
#include "join.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "list.h"
#include "yamltree.h"
#include "log.h"
#include "lookup.h"
#include "render.h"
#include "robot.h"
#include "token.h"
#include "util.h"

#define JOIN_PURPOSE "j"
#define JOIN_MSGID "join."		/* a confirmation's Message-ID: join.TOKEN@domain */

/* ---- the project's lists ---- */

/* Each list id with a file in the lists folder, to fn; nonzero from fn stops. */
static void
join_each_list(const struct config *c, int (*fn)(void *arg, const char *id, size_t len),
    void *arg)
{
	DIR *dir = opendir(c->lists_dir ? c->lists_dir : "lists");
	struct dirent *e;
	size_t n;

	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".yaml") != 0 ||
		    !list_id_ok(e->d_name, n - 5))
			continue;
		if (fn(arg, e->d_name, n - 5) != 0)
			break;
	}
	closedir(dir);
}

struct find {
	const char *want;
	size_t len;
	char *found;
};

/* The file's spelling wins; another case only when no file has this one. */
static int
join_find_one(void *arg, const char *id, size_t len)
{
	struct find *f = arg;

	if (len != f->len || strncasecmp(id, f->want, len) != 0)
		return 0;
	free(f->found);
	f->found = xstrndup(id, len);
	return strncmp(id, f->want, len) == 0;
}

/* The id of the list (len bytes) names, as its file spells it; NULL when none. */
static char *
join_list_find(const struct config *c, const char *list, size_t len)
{
	struct find f = { list, len, NULL };

	if (!list_id_ok(list, len))
		return NULL;
	join_each_list(c, join_find_one, &f);
	return f.found;
}

int
join_list_known(const struct config *c, const char *list, size_t len)
{
	char *id = join_list_find(c, list, len);
	int known = id != NULL && strlen(id) == len && strncmp(id, list, len) == 0;

	free(id);
	return known;
}

struct names {
	char **v;
	size_t n, cap;
};

static int
join_name_add(void *arg, const char *id, size_t len)
{
	struct names *ns = arg;

	ns->v = xgrow(ns->v, &ns->cap, ns->n + 1, sizeof(*ns->v));
	ns->v[ns->n++] = xstrndup(id, len);
	return 0;
}

/* ---- asking ---- */

int
join_ask(struct store *st, const struct config *c, const unsigned char *secret,
    const struct join_request *q, long long now, long long *jid)
{
	struct store_join j = { 0 };
	struct robot_mail rm = { q->address, NULL, NULL, now };
	struct buf b = BUF_INIT;
	char token[TOKEN_MAX], *from = NULL, *url = NULL, *id;
	size_t by_address, by_client;
	int rc;

	*jid = 0;
	if (store_join_recent(st, q->address, q->client, now - JOIN_WINDOW, &by_address,
	    &by_client) < 0)
		return -1;
	if (q->client && by_client >= JOIN_PER_CLIENT)
		return JOIN_LIMITED_CLIENT;
	if (by_address >= JOIN_PER_ADDRESS)
		return JOIN_LIMITED_ADDRESS;
	j.list = (char *)q->list;
	j.address = (char *)q->address;
	j.name = (char *)q->name;
	j.how = (char *)q->how;
	j.client = (char *)q->client;
	j.ref = (char *)q->ref;
	if (store_join_add(st, &j, now, jid) < 0)
		return -1;
	token_make(secret, JOIN_PURPOSE, (unsigned long long)*jid, q->address,
	    (long)(now / 86400), token);
	/* A reply confirms only where a mailbox is read. */
	if (c->sender.subscribe_address && c->imap.enabled)
		from = render_plus_address(c->sender.subscribe_address, token);
	if (c->http.url)
		url = xasprintf("%sconfirm/%s", c->http.url, token);
	id = xasprintf(JOIN_MSGID "%s@%s", token, c->sender.domain);
	rm.message_id = id;
	rm.in_reply_to = q->ref && q->ref[0] ? q->ref : NULL;
	rc = 0;
	/* An In-Reply-To that does not fit the grammar is dropped, not the mail. */
	if (robot_join(c, &rm, q->list, from, url, &b) == 0 ||
	    (rm.in_reply_to = NULL, robot_join(c, &rm, q->list, from, url, &b)) == 0)
		rc = store_outbox_add(st, "join", c->sender.bounce_address, q->address, b.data,
		    b.len, now) < 0 ? -1 : JOIN_ASKED;
	else
		log_error("join", "cannot build the confirmation to %s", q->address);
	buf_free(&b);
	free(id);
	free(url);
	free(from);
	return rc;
}

/* ---- confirming ---- */

int
join_lookup(struct store *st, const unsigned char *secret, const char *token, size_t len,
    long long now, struct store_join *j)
{
	unsigned long long id;
	long day;
	int rc;

	memset(j, 0, sizeof(*j));
	if (token_parse(secret, token, len, &id, &day) < 0 || id > (unsigned long long)INT64_MAX)
		return 1;
	if ((rc = store_join_get(st, (long long)id, j)) != 0)
		return rc;
	if (!token_verify(secret, JOIN_PURPOSE, id, j->address, token, len)) {
		store_join_clear(j);
		return 1;
	}
	if (now - j->asked > JOIN_TTL) {
		store_join_clear(j);
		return LOOKUP_EXPIRED;
	}
	return 0;
}

/* The blob a delivery row takes for a member who gave only an address and perhaps a name. */
static void
join_pack(const struct store_join *j, struct buf *out)
{
	struct ydoc *doc = ydoc_new(NULL);
	struct subscriber s;

	memset(&s, 0, sizeof(s));
	s.email = j->address;
	s.name = j->name;
	s.delivery = DELIVERY_EACH;
	s.doc = doc;
	s.fields = ynode_map(doc);
	ynode_map_set(doc, s.fields, "email", ynode_str(doc, j->address));
	if (j->name)
		ynode_map_set(doc, s.fields, "name", ynode_str(doc, j->name));
	render_subscriber_pack(&s, out);
	ydoc_free(doc);
}

int
join_confirm(struct store *st, const struct config *c, const struct store_join *j,
    const char *how, const char *ref, long long now, int *readmitted)
{
	struct store_member m, old;
	struct names others = { 0 };
	enum store_change change;
	struct buf pack = BUF_INIT;
	size_t i;
	int rc, had;

	*readmitted = 0;
	if ((rc = store_join_done(st, j->id, now)) != 0)
		return rc;
	/* A member already (imported, say) keeps what it has; the consent is this one. */
	if ((had = store_member_get(st, j->list, j->address, &old)) < 0)
		return -1;
	if (had == 0) {
		m = old;
	} else {
		memset(&m, 0, sizeof(m));
		join_pack(j, &pack);
		m.list = j->list;
		m.address = j->address;
		m.name = j->name;
		m.fields = pack.data;
		m.fields_len = pack.len;
	}
	m.how = (char *)how;
	m.ref = (char *)(ref ? ref : "");
	m.consented = now;
	rc = store_member_put(st, &m, now, &change);
	if (had == 0) {
		m.how = m.ref = NULL;	/* not old's: put back before clearing it */
		store_member_clear(&old);
	}
	buf_free(&pack);
	if (rc < 0)
		return -1;
	join_each_list(c, join_name_add, &others);
	rc = store_readmit(st, j->address, j->list, (const char *const *)others.v, others.n,
	    readmitted);
	for (i = 0; i < others.n; i++)
		free(others.v[i]);
	free(others.v);
	return rc < 0 ? -1 : 0;
}

/* ---- what a mail is about ---- */

int
join_target(struct store *st, const struct config *c, const unsigned char *secret,
    const struct cls_result *r, long long now, struct store_join *j, char **list, int *expired)
{
	const char *tok = NULL, *at;
	size_t len = 0;
	int rc;

	*list = NULL;
	*expired = 0;
	memset(j, 0, sizeof(*j));
	if (r->sub_detail[0]) {
		tok = r->sub_detail;
		len = strlen(tok);
	} else if (strncmp(r->reply_id, JOIN_MSGID, strlen(JOIN_MSGID)) == 0 &&
	    (at = strrchr(r->reply_id, '@')) != NULL) {
		tok = r->reply_id + strlen(JOIN_MSGID);
		len = (size_t)(at - tok);
	}
	if (tok == NULL || len == 0)
		return 1;
	if (st != NULL && (rc = join_lookup(st, secret, tok, len, now, j)) != 1) {
		if (rc == LOOKUP_EXPIRED)
			*expired = 1;
		return rc == LOOKUP_EXPIRED ? 1 : rc;
	}
	if (r->sub_detail[0] && (*list = join_list_find(c, tok, len)) != NULL)
		return 2;
	return 1;
}
