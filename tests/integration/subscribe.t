#!/bin/sh
# Subscribing, double opt-in, against the real parts: `herald run` serving
# /subscribe/LIST and /confirm/TOKEN over real HTTP, its confirmation mail
# caught by the sink, and `herald poll` reading requests and replies from
# a real Dovecot.
#   web: the form; the same answer for a known and an unknown address; the
#   link's GET changes nothing, its POST adds the member with the consent
#   record (web, client address); a forged or expired token is 404; 200
#   POSTs for one address in a minute mail at most 3 confirmations, and a
#   client past 10 requests an hour gets 429; the member gets the next
#   release, and a reply unsubscribes them as any subscriber.
#   mail: subscribe+LIST@ gets a confirmation (classify says so); a reply
#   from another address, or an auto-reply, confirms nothing; the reply
#   from the address does (consent: mail, its Message-ID); an address
#   unsubscribed from every list that joins one again stays suppressed for
#   the others.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"
. "$(dirname "$0")/imap-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP needs curl"
	exit 0
fi

S="$SCRATCH/sink"
start_sink "$S"
start_dovecot
HPORT=$(free_port)
P="$SCRATCH/p"
project "$P" "$PORT"
DB="$P/state/herald.db"
sed -i "s#^  unsubscribe_address: .*#&\n  subscribe_address: subscribe@news.example#" \
	"$P/config/herald.yaml"
printf 'http:\n  listen: 127.0.0.1:%s\n  url: http://127.0.0.1:%s/\n' "$HPORT" "$HPORT" \
	>>"$P/config/herald.yaml"
herald_imap_config >>"$P/config/herald.yaml"
gen_list "$P/lists/a.yaml" 1 2
gen_list "$P/lists/b.yaml" 1 2
BASE="http://127.0.0.1:$HPORT"
LOG="$SCRATCH/run.log"

# code METHOD URL [CURL ARGS...]: the HTTP status; the body in $SCRATCH/body.
code() {
	_m=$1 _u=$2; shift 2
	curl -s -o "$SCRATCH/body" -w '%{http_code}' -X "$_m" --max-time 10 "$@" "$_u"
}
# mails RCPT: how many messages the sink has for RCPT.
mails() { awk -F '\t' -v r="$1" '$3 == r' "$S/log.tsv" 2>/dev/null | wc -l | tr -d ' '; }
# wait_mails RCPT N: until the sink has N messages for RCPT (10 s at most).
wait_mails() {
	_i=0
	while [ "$(mails "$1")" -lt "$2" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
}
# last_mail RCPT: the file of the sink's newest message to RCPT.
last_mail() {
	"$PY" - "$S" "$1" <<'PY'
import email, glob, sys
last = None
for path in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(path, "rb"))
    if email.utils.parseaddr(m["To"])[1] == sys.argv[2]:
        last = path
print(last or "")
PY
}
# link FILE: the confirmation link in a message's text.
link() { grep -o "$BASE/confirm/[a-z0-9-]*" "$1" | head -n 1; }
# header FILE NAME: a header's value, unfolded.
header() {
	"$PY" -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb")); print(" ".join(str(m.get(sys.argv[2], "")).split()))' "$1" "$2"
}
member() { sql "$DB" "SELECT how, ref, consented > 0 FROM members WHERE list = '$1' AND address = '$2'"; }
suppressed() { sql "$DB" "SELECT list, reason FROM suppressions WHERE address = '$1' ORDER BY list"; }
# mail FILE FROM TO SUBJECT [MORE HEADER LINES]: a message to put in the mailbox.
mail() {
	_f=$1 _from=$2 _to=$3 _subj=$4; shift 4
	{
		printf 'From: %s\nTo: %s\nSubject: %s\nDate: Sat, 05 Dec 2026 10:00:00 +0000\n' \
			"$_from" "$_to" "$_subj"
		printf 'Message-ID: <%s@mail.example>\n' "$(basename "$_f")"
		for _h in "$@"; do printf '%s\n' "$_h"; done
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nplease\n'
	} >"$_f"
}
poll() { "$HERALD" -C "$P" poll >"$SCRATCH/poll.out" 2>&1; }

"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1
ok $? "the project with http.url and sender.subscribe_address checks"
diag <"$SCRATCH/check.out"
start_daemon "$P" "$LOG"

# ---- the form ----
c=$(code GET "$BASE/subscribe/a")
ok "$(test "$c" = 200 && grep -q '<input type="email" name="email"' "$SCRATCH/body"; echo $?)" \
	"GET /subscribe/a: 200, a form with an email field (got $c)"
for u in /subscribe/nosuch /subscribe/ "/subscribe/..%2fa" /subscribe/a/x /confirm/; do
	c=$(code GET "$BASE$u")
	ok "$(test "$c" = 404; echo $?)" "GET $u: 404 (got $c)"
done
c=$(code POST "$BASE/subscribe/a" --data-urlencode "email=not an address")
ok "$(test "$c" = 400 && grep -q 'not an email address' "$SCRATCH/body" &&
	test "$(sql "$DB" 'SELECT count(*) FROM joins')" = 0; echo $?)" \
	"a bad address: 400 with the form and why, nothing recorded (got $c)"

# ---- the same answer for a stranger and a subscriber ----
c1=$(code POST "$BASE/subscribe/a" --data-urlencode "email=new@example.org" \
	--data-urlencode "name=Nuevo Lector")
sed 's/new@example.org/ADDRESS/g' "$SCRATCH/body" >"$SCRATCH/answer1"
c2=$(code POST "$BASE/subscribe/a" --data-urlencode "email=user0001@example.org")
sed 's/user0001@example.org/ADDRESS/g' "$SCRATCH/body" >"$SCRATCH/answer2"
ok "$(test "$c1" = 200 && test "$c2" = 200 && cmp -s "$SCRATCH/answer1" "$SCRATCH/answer2"; echo $?)" \
	"a stranger and a subscriber get the same answer, 200 (got $c1 and $c2)"
diag <"$SCRATCH/answer1"
wait_mails new@example.org 1
F=$(last_mail new@example.org)
ok "$(test -n "$F" && test "$(header "$F" Subject)" = "Confirm: subscribe to a" &&
	test "$(header "$F" Auto-Submitted)" = auto-generated; echo $?)" \
	"the confirmation reaches the sink: its subject, Auto-Submitted: auto-generated"
L=$(link "$F")
ok "$(test -n "$L"; echo $?)" "it carries the link $L"
R=$(header "$F" Reply-To)
ok "$(echo "$R" | grep -Eq '^subscribe\+[a-z0-9-]+@news.example$'; echo $?)" \
	"its Reply-To is subscribe+TOKEN@ ($R)"

# ---- the link ----
c=$(code GET "$L")
ok "$(test "$c" = 200 && grep -q '<form method="post">' "$SCRATCH/body" &&
	test -z "$(member a new@example.org)"; echo $?)" \
	"GET of the link: 200, a button, nobody added (got $c)"
TAMPERED=$(echo "$L" | sed 's/a$/b/; t; s/.$/a/')
for u in "$TAMPERED" "$BASE/confirm/a-aaaa-aaaaaaaaaaaaaaaa" "$BASE/confirm/x"; do
	c=$(code GET "$u"); c2=$(code POST "$u" -d confirm=yes)
	ok "$(test "$c" = 404 && test "$c2" = 404 && test -z "$(member a new@example.org)"; echo $?)" \
		"a forged token: GET and POST 404 ($c, $c2), nobody added"
done
c=$(code POST "$L" -d confirm=yes)
ok "$(test "$c" = 200 && grep -q 'is subscribed to the list' "$SCRATCH/body"; echo $?)" \
	"POST of the link: 200, subscribed (got $c)"
ok "$(test "$(member a new@example.org)" = "web	127.0.0.1	1"; echo $?)" \
	"the member is in the journal with its consent: web, 127.0.0.1, a time"
c=$(code POST "$L" -d confirm=yes)
ok "$(test "$c" = 200 && test "$(sql "$DB" "SELECT count(*) FROM members")" = 1; echo $?)" \
	"the link again: 200, still one member (got $c)"
"$HERALD" -C "$P" subscribers a --json >"$SCRATCH/subs.json" 2>&1
ok "$("$PY" -c '
import json, sys
s = [m for m in json.load(open(sys.argv[1])) if m["email"] == "new@example.org"]
sys.exit(0 if len(s) == 1 and s[0]["source"] == "web" and s[0]["ref"] == "127.0.0.1"
         and s[0]["name"] == "Nuevo Lector" and s[0]["joined"] else 1)' "$SCRATCH/subs.json"; echo $?)" \
	"herald subscribers shows the member, its name and its consent record"

# ---- an expired confirmation ----
code POST "$BASE/subscribe/b" --data-urlencode "email=late@example.org" >/dev/null
wait_mails late@example.org 1
LL=$(link "$(last_mail late@example.org)")
sql_write() { "$PY" -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1], timeout=10); db.execute(sys.argv[2]); db.commit()' "$DB" "$1"; }
sql_write "UPDATE joins SET asked = asked - 8 * 86400 WHERE address = 'late@example.org'"
c=$(code GET "$LL"); c2=$(code POST "$LL" -d confirm=yes)
ok "$(test "$c" = 404 && test "$c2" = 404 && test -z "$(member b late@example.org)"; echo $?)" \
	"a confirmation older than 7 days: GET and POST 404 ($c, $c2), nobody added"

# ---- rate limits ----
before=$(mails flood@example.org)
i=0; codes=""
while [ $i -lt 200 ]; do
	codes="$codes $(code POST "$BASE/subscribe/a" --data-urlencode "email=flood@example.org")"
	i=$((i + 1))
done
sleep 2
n=$(($(mails flood@example.org) - before))
ok "$(test "$n" -eq 3 && test "$(echo $codes | tr ' ' '\n' | sort -u)" = 200; echo $?)" \
	"200 POSTs for one address: all answered 200, $n confirmations mailed (3 at most)"
# The requests of this client in the last hour: the expired one is older.
recent() { sql "$DB" "SELECT count(*) FROM joins WHERE client = '127.0.0.1' AND asked >= strftime('%s', 'now') - 3600"; }
rows=$(recent)
i=0; got200=0; got429=0
while [ $i -lt 12 ]; do
	c=$(code POST "$BASE/subscribe/a" --data-urlencode "email=many$i@example.org")
	[ "$c" = 200 ] && got200=$((got200 + 1))
	[ "$c" = 429 ] && got429=$((got429 + 1))
	i=$((i + 1))
done
ok "$(test $got200 -eq $((10 - rows)) && test $got429 -eq $((12 - 10 + rows)) &&
	test "$(recent)" = 10; echo $?)" \
	"a client past 10 requests an hour: 429 ($got200 answered 200 after $rows, $got429 got 429)"

# ---- the member gets the next release; a reply unsubscribes them ----
stop_daemon
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1
ok "$(test "$(mails new@example.org)" = 2 &&
	grep -q 'Dear Nuevo Lector' "$(last_mail new@example.org)"; echo $?)" \
	"the confirmed member gets the next release, with its name"
diag <"$SCRATCH/send.out"
UNSUB=$(header "$(last_mail new@example.org)" List-Unsubscribe | grep -o 'unsubscribe+[a-z0-9-]*@news.example')
mail "$SCRATCH/m-unsub" "new@example.org" "$UNSUB" "unsubscribe"
imap_append "$SCRATCH/m-unsub"
poll
ok "$(test "$(suppressed new@example.org)" = "a	unsubscribed"; echo $?)" \
	"a reply to the member's List-Unsubscribe address suppresses them for a"
diag <"$SCRATCH/poll.out"

# ---- by mail ----
mail "$SCRATCH/m-req" "Mail Person <mailp@example.org>" "subscribe+b@news.example" "hello"
"$HERALD" -C "$P" classify "$SCRATCH/m-req" >"$SCRATCH/cls.out" 2>&1
ok "$(test "$(cat "$SCRATCH/cls.out")" = "subscribe	mailp@example.org	b"; echo $?)" \
	"classify: subscribe<TAB>mailp@example.org<TAB>b"
diag <"$SCRATCH/cls.out"
imap_append "$SCRATCH/m-req"
poll
ok "$(grep -q 'subscribing: 1 confirmation mailed, 0 joined' "$SCRATCH/poll.out" &&
	test "$(mails mailp@example.org)" = 1; echo $?)" \
	"poll mails the confirmation to mailp@example.org"
diag <"$SCRATCH/poll.out"
F=$(last_mail mailp@example.org)
TOKADDR=$(header "$F" Reply-To)
JOINID=$(header "$F" Message-ID)
ok "$(test "$(header "$F" In-Reply-To)" = "<m-req@mail.example>" &&
	test "$(header "$F" Auto-Submitted)" = auto-replied; echo $?)" \
	"it answers the request: In-Reply-To, Auto-Submitted: auto-replied"
mail "$SCRATCH/m-forged" "other@example.org" "$TOKADDR" "Re: Confirm" "In-Reply-To: $JOINID"
mail "$SCRATCH/m-auto" "mailp@example.org" "$TOKADDR" "Out of office" "In-Reply-To: $JOINID" \
	"Auto-Submitted: auto-replied"
imap_append "$SCRATCH/m-forged"
imap_append "$SCRATCH/m-auto"
poll
ok "$(test -z "$(member b mailp@example.org)"; echo $?)" \
	"a reply from another address and an auto-reply confirm nothing"
diag <"$SCRATCH/poll.out"
mail "$SCRATCH/m-yes" "mailp@example.org" "$TOKADDR" "Re: Confirm: subscribe to b" \
	"In-Reply-To: $JOINID"
"$HERALD" -C "$P" classify "$SCRATCH/m-yes" >"$SCRATCH/cls.out" 2>&1
ok "$(test "$(cat "$SCRATCH/cls.out")" = "subscribe	mailp@example.org	b"; echo $?)" \
	"classify of the reply names the join's list"
imap_append "$SCRATCH/m-yes"
poll
ok "$(test "$(member b mailp@example.org)" = "mail	m-yes@mail.example	1"; echo $?)" \
	"the reply from the address confirms: consent mail, its Message-ID"
diag <"$SCRATCH/poll.out"
ok "$(test "$(imap_count Herald.Subscribes)" = 3 && test "$(imap_count Herald.AutoReplies)" = 1; echo $?)" \
	"the request and both answers are moved to Herald/Subscribes, the auto-reply to Herald/AutoReplies"
echo "Subscribes $(imap_count Herald.Subscribes), AutoReplies $(imap_count Herald.AutoReplies)" | diag
mail "$SCRATCH/m-nolist" "x@example.org" "subscribe+nosuch@news.example" "hi"
imap_append "$SCRATCH/m-nolist"
poll
ok "$(test "$(mails x@example.org)" = 0; echo $?)" "subscribe+nosuch@: no confirmation"

# ---- re-joining after an unsubscribe from every list ----
"$HERALD" -C "$P" suppress user0002@example.org >/dev/null 2>&1
mail "$SCRATCH/m-re" "user0002@example.org" "subscribe+a@news.example" "again"
imap_append "$SCRATCH/m-re"
poll
F=$(last_mail user0002@example.org)
mail "$SCRATCH/m-re-yes" "user0002@example.org" "$(header "$F" Reply-To)" "Re: confirm"
imap_append "$SCRATCH/m-re-yes"
poll
ok "$(test "$(suppressed user0002@example.org | cut -f1)" = b; echo $?)" \
	"a suppression for every list becomes one for b when the address joins a again"
diag <"$SCRATCH/poll.out"
sed 's/^lists: \[a\]/lists: [a, b]/; s/^title: .*/title: Second news/' "$P/releases/news.yaml" \
	>"$P/releases/second.yaml"
before2=$(mails user0002@example.org); beforep=$(mails mailp@example.org)
beforen=$(mails new@example.org)
"$HERALD" -C "$P" send second >"$SCRATCH/send2.out" 2>&1
ok "$(test "$(mails user0002@example.org)" = $((before2 + 1)) &&
	test "$(mails mailp@example.org)" = $((beforep + 1)) &&
	test "$(mails new@example.org)" = "$beforen"; echo $?)" \
	"the next release: user0002 once (by a), mailp by b, the unsubscribed member not at all"
diag <"$SCRATCH/send2.out"
echo "user0002 $before2 -> $(mails user0002@example.org), mailp $beforep -> $(mails mailp@example.org), new $beforen -> $(mails new@example.org)" | diag
ok "$(! grep -Eq 'new@example.org|flood@|mailp@|confirm/' "$LOG"; echo $?)" \
	"the daemon's log names no address and no link"
done_testing
