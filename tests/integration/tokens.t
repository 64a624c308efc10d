#!/bin/sh
# Tokens carry the day they were made, and tokens.max_age refuses old ones:
# a reply to an unsubscribe+TOKEN@ address older than that proves nothing
# and asks the address to confirm, against a real Dovecot. Tokens mailed
# before tokens were dated still work, counted from the journal's upgrade.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"
. "$(dirname "$0")/imap-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
start_dovecot
ok $? "dovecot starts"
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 2"
gen_list "$P/lists/a.yaml" 1 6
herald_imap_config imaps >>"$P/config/herald.yaml"
printf 'tokens:\n  max_age: 2d\n' >>"$P/config/herald.yaml"
HPORT=$(free_port)
sed -i "s#^  unsubscribe_address: .*#&\n  unsubscribe_url: http://127.0.0.1:$HPORT/unsubscribe/#" "$P/config/herald.yaml"
printf 'http:\n  listen: 127.0.0.1:%s\n' "$HPORT" >>"$P/config/herald.yaml"
DB="$P/state/herald.db"
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1
ok $? "the release goes to 6 subscribers"

# A writable journal, for moving time back.
jw() { "$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$DB" "$1"; }
unsub_of() { grep -h -o 'unsubscribe+[a-z0-9-]*@news.example' $(grep -l "^To: .*$1" "$S"/*.eml) | tail -1; }
reply() { # reply N ADDRESS: user000N writes "unsubscribe" to ADDRESS
	printf 'From: Person %04d <user%04d@example.org>\nTo: %s\nSubject: unsubscribe\nMessage-ID: <r%s@example.org>\n\nunsubscribe\n' \
	    "$1" "$1" "$2" "$1-$(date +%s%N)" >"$SCRATCH/reply$1.eml"
	imap_append "$SCRATCH/reply$1.eml"
}
supp() { sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user000$1@example.org'"; }
asked() { sql "$DB" "SELECT count(*) FROM confirmations WHERE address = 'user000$1@example.org'"; }

U1=$(unsub_of user0001@)
case "$U1" in unsubscribe+*-*-*@news.example) r=0 ;; *) r=1 ;; esac
ok $r "a token carries its day: ENC-DAY-MAC ($U1)"

# Mail sent three days ago: user0002's and user0003's delivery, sent again
# (as a resumed send does) with their first attempt three days back.
now=$(date +%s)
jw "UPDATE deliveries SET state = 'deferred', next_attempt = 0, first_attempt = $now - 3 * 86400 WHERE address IN ('user0002@example.org', 'user0003@example.org')"
"$HERALD" -C "$P" send news >"$SCRATCH/send2.out" 2>&1
ok $? "their messages go again, dated three days back"
U2=$(unsub_of user0002@)
[ -n "$U2" ] && [ "$U2" != "$(grep -h -o 'unsubscribe+[a-z0-9-]*@news.example' $(grep -l '^To: .*user0002@' "$S"/*.eml) | head -1)" ]
ok $? "with another token than the first time ($U2)"

reply 1 "$U1"
reply 2 "$U2"
"$HERALD" -C "$P" -v poll >"$SCRATCH/poll1.out" 2>"$SCRATCH/poll1.err"
ok $? "herald poll exits 0"
diag <"$SCRATCH/poll1.err"
ok "$(test "$(supp 1)" = 1; echo $?)" "a token made today unsubscribes at once"
ok "$(test "$(supp 2)" = 0 && test "$(asked 2)" = 1; echo $?)" \
	"a token older than tokens.max_age (2d) unsubscribes nobody, and asks the address to confirm"
grep -q "request from user0002@example.org with a token older than tokens.max_age: confirmation" \
    "$SCRATCH/poll1.err"
ok $? "and the poll says why"

# Undated tokens, as mailed before tokens carried their day:
# base32(id) "-" base32(HMAC-SHA256(secret, "u" NUL id NUL address)[:10]).
undated() {
	"$PY" - "$P/state/secret" "$1" "$2" <<'PY'
import base64, hashlib, hmac, sys
secret = open(sys.argv[1], "rb").read()
rowid, address = int(sys.argv[2]), sys.argv[3]
def b32num(v):
    d = ""
    while True:
        d = "abcdefghijklmnopqrstuvwxyz234567"[v & 31] + d
        v >>= 5
        if not v:
            return d
mac = hmac.new(secret, b"u\0" + str(rowid).encode() + b"\0" + address.encode(), hashlib.sha256).digest()[:10]
print("unsubscribe+%s-%s@news.example" % (b32num(rowid), base64.b32encode(mac).decode().lower()))
PY
}
id4=$(sql "$DB" "SELECT id FROM deliveries WHERE address = 'user0004@example.org'")
id5=$(sql "$DB" "SELECT id FROM deliveries WHERE address = 'user0005@example.org'")
reply 4 "$(undated "$id4" user0004@example.org)"
"$HERALD" -C "$P" -v poll >"$SCRATCH/poll2.out" 2>"$SCRATCH/poll2.err"
diag <"$SCRATCH/poll2.err"
ok "$(test "$(supp 4)" = 1; echo $?)" "an undated token still unsubscribes: it counts from the upgrade"

# Three days after the upgrade, an undated token is too old as well.
jw "UPDATE settings SET value = value - 3 WHERE key = 'tokens_undated_day'"
reply 5 "$(undated "$id5" user0005@example.org)"
"$HERALD" -C "$P" -v poll >"$SCRATCH/poll3.out" 2>"$SCRATCH/poll3.err"
diag <"$SCRATCH/poll3.err"
ok "$(test "$(supp 5)" = 0 && test "$(asked 5)" = 1; echo $?)" \
	"three days after the upgrade, an undated token asks for confirmation (max_age 2d)"

# The one-click link of a message three days old: the daemon's endpoint
# offers a confirmation by mail, and sends it on POST; it unsubscribes nobody.
link_of() { grep -h -o "http://127.0.0.1:$HPORT/unsubscribe/[a-z0-9-]*" $(grep -l "^To: .*$1" "$S"/*.eml) | tail -1; }
L3=$(link_of user0003@)
L6=$(link_of user0006@)
start_daemon "$P" "$SCRATCH/run.log"
ok "$(grep -q "serving one-click unsubscribe" "$SCRATCH/run.log"; echo $?)" "herald run serves the endpoint"
code=$(curl -s -o "$SCRATCH/get3" -w '%{http_code}' --max-time 10 "$L3")
ok "$(test "$code" = 200 && grep -q "too old" "$SCRATCH/get3" && grep -q "Mail me a confirmation" "$SCRATCH/get3"; echo $?)" \
	"GET of an old link: a page that offers a confirmation by mail ($code)"
code=$(curl -s -o "$SCRATCH/post3" -w '%{http_code}' --max-time 10 -d List-Unsubscribe=One-Click "$L3")
ok "$(test "$code" = 200 && grep -q "We have mailed a confirmation" "$SCRATCH/post3"; echo $?)" \
	"POST of an old link (the mail client's one-click): a confirmation is mailed ($code)"
ok "$(test "$(supp 3)" = 0 && test "$(asked 3)" = 1; echo $?)" \
	"it unsubscribes nobody and records the confirmation asked"
i=0
while ! grep -l "^To: .*user0003@" "$S"/*.eml | xargs grep -l "^Subject: Confirm" >/dev/null 2>&1 && [ $i -lt 100 ]; do
	kill -HUP "$DAEMON_PID"	# a reload wakes the poller, which sends the outbox
	sleep 0.2; i=$((i + 1))
done
ok "$(grep -l "^To: .*user0003@" "$S"/*.eml | xargs grep -l "^Subject: Confirm" | grep -q .; echo $?)" \
	"and the confirmation reaches user0003"
code=$(curl -s -o "$SCRATCH/post6" -w '%{http_code}' --max-time 10 -d List-Unsubscribe=One-Click "$L6")
ok "$(test "$code" = 200 && test "$(supp 6)" = 1; echo $?)" "a link made today unsubscribes at once ($code)"
stop_daemon

done_testing
