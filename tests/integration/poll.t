#!/bin/sh
# herald poll against a real Dovecot: a release is sent into the capturing
# sink, then the mailbox gets what comes back (a DSN for a VERP address, a
# tokened unsubscribe, an "unsubscribe" reply, a request without a token, a
# vacation reply, a journalist's question). Each lands in its folder with
# the right suppressions and states; human mail stays in INBOX, unseen; a
# second poll acts on nothing; a confirmation completes a request; the
# certificate is checked; a Dovecot restart mid-poll loses nothing.
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
gen_list "$P/lists/a.yaml" 1 20
herald_imap_config imaps >>"$P/config/herald.yaml"
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1
ok $? "the release goes to 20 subscribers"
DB="$P/state/herald.db"

# What one subscriber received: its VERP sender, Message-ID and unsubscribe address.
eml_of() { grep -l "^To: .*$1" "$S"/*.eml | head -1; }
verp_of() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["mail_from"])' "${1%.eml}.json"; }
msgid_of() { sed -n 's/^Message-ID: <\(.*\)>\r*$/\1/p' "$1" | head -1; }
unsub_of() { grep -o 'unsubscribe+[a-z0-9-]*@news.example' "$1" | head -1; }

E1=$(eml_of user0001@); E2=$(eml_of user0002@); E3=$(eml_of user0003@)
E5=$(eml_of user0005@)
V1=$(verp_of "$E1")
U2=$(unsub_of "$E2")
M3=$(msgid_of "$E3")
M5=$(msgid_of "$E5")
ok "$(case "$V1" in bounces+*@news.example) echo 0 ;; *) echo 1 ;; esac)" "the VERP sender is bounces+TOKEN@ ($V1)"

M="$SCRATCH/msgs"
mkdir -p "$M"
cat >"$M/1-dsn.eml" <<EOF
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: $V1
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; user0001@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <user0001@example.org>: User unknown

--B--
EOF
cat >"$M/2-unsub.eml" <<EOF
From: Person 0002 <user0002@example.org>
To: $U2
Subject: unsubscribe
Message-ID: <unsub2@example.org>

EOF
cat >"$M/3-reply.eml" <<EOF
From: Person 0003 <user0003@example.org>
To: desk@news.example
Subject: Re: Quarterly news
Message-ID: <reply3@example.org>
In-Reply-To: <$M3>

Unsubscribe

> Dear Person 0003,
EOF
cat >"$M/4-request.eml" <<EOF
From: Person 0004 <user0004@example.org>
To: desk@news.example
Subject: please remove me
Message-ID: <request4@example.org>

Thanks.
EOF
cat >"$M/5-vacation.eml" <<EOF
From: Person 0005 <user0005@example.org>
To: bounces@news.example
Subject: Out of office: Quarterly news
Message-ID: <vacation5@example.org>
Auto-Submitted: auto-replied
In-Reply-To: <$M5>

I am away until Monday.
EOF
cat >"$M/6-question.eml" <<EOF
From: Person 0006 <user0006@example.org>
To: desk@news.example
Subject: Re: Quarterly news
Message-ID: <question6@example.org>
In-Reply-To: <$M5>

Who speaks on the second day? I do not want to stop reading these.
EOF
for f in "$M"/*.eml; do imap_append "$f"; done
ok "$(test "$(imap_count INBOX)" = 6; echo $?)" "six messages in INBOX"

before=$(received "$S")
"$HERALD" -C "$P" -v poll >"$SCRATCH/poll1.out" 2>"$SCRATCH/poll1.err"
ok $? "herald poll exits 0"
diag <"$SCRATCH/poll1.out"
diag <"$SCRATCH/poll1.err"
grep -q "6 new messages" "$SCRATCH/poll1.out"
ok $? "the summary counts six messages"

# Dovecot's Maildir++ separates levels with '.': herald asked it (LIST) and
# created Herald.Bounces and its siblings, not folders named with a '/'.
ok "$(test "$(imap_count INBOX)" = 1; echo $?)" "only the question is left in INBOX"
ok "$(test "$(imap_subjects INBOX)" = "Re: Quarterly news" && test "$(imap_unseen INBOX)" = 1; echo $?)" \
	"the question is untouched: still unseen"
ok "$(test "$(imap_count Herald.Bounces)" = 1; echo $?)" "the DSN is in Herald/Bounces"
ok "$(test "$(imap_count Herald.Unsubscribes)" = 3; echo $?)" "three requests are in Herald/Unsubscribes"
ok "$(test "$(imap_count Herald.AutoReplies)" = 1; echo $?)" "the vacation reply is in Herald/AutoReplies"

supp=$(sql "$DB" "SELECT address || ' ' || list || ' ' || reason FROM suppressions ORDER BY address")
want="user0001@example.org  hard-bounce
user0002@example.org a unsubscribed
user0003@example.org a unsubscribed"
ok "$(test "$supp" = "$want"; echo $?)" "suppressed: the bounce for every list, two unsubscribes for list a"
[ "$supp" = "$want" ] || echo "$supp" | diag
ok "$(test "$(sql "$DB" "SELECT state FROM deliveries WHERE address = 'user0001@example.org'")" = bounced; echo $?)" \
	"the bounced delivery is marked bounced"
ok "$(test "$(sql "$DB" "SELECT count(*) FROM inbound")" = 5; echo $?)" "five messages recorded with their UIDs"

# The notices (2) and the confirmation (1) went out through the relay.
i=0
while [ "$(received "$S")" -lt $((before + 3)) ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ok "$(test "$(received "$S")" = $((before + 3)); echo $?)" "two notices and one confirmation were sent"
N2=$(grep -l "^To: user0002@example.org" "$S"/*.eml | xargs grep -l "^Auto-Submitted: auto-replied" | head -1)
ok "$(test -n "$N2" && grep -q "^Subject: You are unsubscribed from a" "$N2"; echo $?)" \
	"the tokened unsubscribe got a notice, Auto-Submitted: auto-replied"
C4=$(grep -l "^To: user0004@example.org" "$S"/*.eml | xargs grep -l "^Subject: Confirm" | head -1)
ok "$(test -n "$C4"; echo $?)" "the request without a token got a confirmation"
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user0004@example.org'")" = 0; echo $?)" \
	"a request without a token unsubscribes nobody yet"

# herald classify names the list a verified token stands for, and "-" otherwise.
ok "$(test "$("$HERALD" -C "$P" classify "$M/2-unsub.eml")" = "unsubscribe	user0002@example.org	a"; echo $?)" \
	"classify names the list of a tokened unsubscribe"
ok "$(test "$("$HERALD" -C "$P" classify "$M/3-reply.eml")" = "unsubscribe	user0003@example.org	a"; echo $?)" \
	"classify names the list of a reply to our message"
ok "$(test "$("$HERALD" -C "$P" classify "$M/4-request.eml")" = "unsubscribe	user0004@example.org	-"; echo $?)" \
	"classify says - for a request without a token"

# A second poll acts on nothing.
"$HERALD" -C "$P" poll >"$SCRATCH/poll2.out" 2>&1
ok $? "a second poll exits 0"
grep -q "^poll: 0 new messages" "$SCRATCH/poll2.out"
ok $? "a second poll reads nothing new"
ok "$(test "$(received "$S")" = $((before + 3)); echo $?)" "and sends nothing more"

# Confirming: a reply to the confirmation (its Reply-To) unsubscribes from every list.
CONF=$(sed -n 's/^Reply-To: \(.*\)\r*$/\1/p' "$C4" | tr -d '\r<>' | sed 's/.* //')
CID=$(msgid_of "$C4")
cat >"$M/7-confirm.eml" <<EOF
From: Person 0004 <user0004@example.org>
To: $CONF
Subject: Re: Confirm: unsubscribe
Message-ID: <confirm7@example.org>
In-Reply-To: <$CID>

yes
EOF
imap_append "$M/7-confirm.eml"
"$HERALD" -C "$P" poll >"$SCRATCH/poll3.out" 2>&1
ok $? "the poll after the confirming reply exits 0"
ok "$(test "$(sql "$DB" "SELECT list || ' ' || reason FROM suppressions WHERE address = 'user0004@example.org'")" = " unsubscribed"; echo $?)" \
	"the confirming reply unsubscribes user0004 from every list"

# A forged unsubscribe: From a subscriber, no token, no reply of ours.
cat >"$M/8-forged.eml" <<EOF
From: Person 0008 <user0008@example.org>
To: unsubscribe@news.example
Subject: unsubscribe
Message-ID: <forged8@example.net>

unsubscribe
EOF
# and a forged token: the right shape, the wrong MAC.
FORGED=$(echo "$U2" | sed 's/-[a-z0-9]*@/-aaaaaaaaaaaaaaaa@/')
sed "s/^To: .*/To: $FORGED/; s/<unsub2@/<forged2@/" "$M/2-unsub.eml" | sed 's/user0002/user0009/g' >"$M/9-forged-token.eml"
imap_append "$M/8-forged.eml"
imap_append "$M/9-forged-token.eml"
before=$(received "$S")
"$HERALD" -C "$P" poll >"$SCRATCH/poll4.out" 2>&1
ok $? "the poll over forged requests exits 0"
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address IN ('user0008@example.org', 'user0009@example.org', 'user0002@example.org') AND reason = 'unsubscribed'")" = 1; echo $?)" \
	"forged requests unsubscribe nobody (user0002 stays as it was)"
i=0
while [ "$(received "$S")" -lt $((before + 2)) ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ok "$(grep -l "^Subject: Confirm" "$S"/*.eml | xargs grep -l "^To: user0008@example.org" | grep -q .; echo $?)" \
	"the forged request asks its From address to confirm instead"

# A soft bounce scores; it does not suppress.
V6=$(verp_of "$(eml_of user0006@)")
sed "s/^To: .*/To: $V6/; s/user0001/user0006/g; s/5\.1\.1/4.2.2/g; s/User unknown/Mailbox full/; s/<dsn1@/<dsn6@/" \
	"$M/1-dsn.eml" >"$M/10-soft.eml"
imap_append "$M/10-soft.eml"
"$HERALD" -C "$P" poll >"$SCRATCH/poll5.out" 2>&1
ok "$(test "$(sql "$DB" "SELECT score FROM soft_bounces WHERE address = 'user0006@example.org'")" = 1 &&
	test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user0006@example.org'")" = 0; echo $?)" \
	"a soft bounce scores one point and suppresses nobody"

# A Message-ID is no secret: whoever was on Cc of a reply has ours. Forged
# mail that carries it must not suppress anyone; the VERP bounce above did.
M12=$(msgid_of "$(eml_of user0012@)")
cat >"$M/11-forged-bounce.eml" <<EOF
From: Mail Delivery System <MAILER-DAEMON@evil.example>
To: bounces@news.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <forged11@evil.example>
In-Reply-To: <$M12>
References: <$M12>

<user0012@example.org>: host mx.example.org said: 550 5.1.1 User unknown

Message-ID: <$M12>
EOF
cat >"$M/12-forged-report.eml" <<EOF
From: Mail Delivery System <MAILER-DAEMON@evil.example>
To: bounces@news.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <forged12@evil.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; evil.example

Final-Recipient: rfc822; user0012@example.org
Action: failed
Status: 5.1.1

--B
Content-Type: text/rfc822-headers

From: News <news@news.example>
To: user0012@example.org
Message-ID: <$M12>

--B--
EOF
cat >"$M/13-forged-reply.eml" <<EOF
From: Mallory <mallory@evil.example>
To: desk@news.example
Subject: unsubscribe
Message-ID: <forged13@evil.example>
In-Reply-To: <$M12>

unsubscribe
EOF
cat >"$M/14-pasted.eml" <<EOF
From: Mallory <mallory@evil.example>
To: unsubscribe@news.example
Subject: unsubscribe
Message-ID: <forged14@evil.example>

unsubscribe
In-Reply-To: <$M12>
Message-ID: <$M12>
EOF
for f in 11-forged-bounce 12-forged-report 13-forged-reply 14-pasted; do imap_append "$M/$f.eml"; done
"$HERALD" -C "$P" -v poll >"$SCRATCH/poll6.out" 2>"$SCRATCH/poll6.err"
ok $? "the poll over mail that carries a Message-ID of ours exits 0"
diag <"$SCRATCH/poll6.err"
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user0012@example.org'")" = 0; echo $?)" \
	"forged bounces and requests with our Message-ID suppress nobody"
ok "$(test "$(sql "$DB" "SELECT state FROM deliveries WHERE address = 'user0012@example.org'")" = sent; echo $?)" \
	"the delivery stays sent, not bounced"
ok "$(test "$(sql "$DB" "SELECT score FROM soft_bounces WHERE address = 'user0012@example.org'")" = 1; echo $?)" \
	"the report with our Message-ID in its returned header counts one soft point"
grep -q "matched by Message-ID only" "$SCRATCH/poll6.err"
ok $? "the poll says why that report suppressed nobody"
grep -q "request from mallory@evil.example, not a recipient of ours: ignored" "$SCRATCH/poll6.err"
ok $? "the reply from another address is a request without a token, from nobody of ours"

# Terminal escapes in mail (here in the Message-ID) never reach a terminal.
V13=$(verp_of "$(eml_of user0013@)")
ESC=$(printf '\033')
BEL=$(printf '\007')
sed "s/^To: .*/To: $V13/; s/user0001/user0013/g; s/^Message-ID: .*/Message-ID: <${ESC}]0;pwned${BEL}${ESC}[31mred@evil.example>/" \
	"$M/1-dsn.eml" >"$M/15-escape.eml"
imap_append "$M/15-escape.eml"
"$HERALD" -C "$P" -v poll >"$SCRATCH/poll7.out" 2>"$SCRATCH/poll7.err"
ok $? "the poll over a Message-ID with escape sequences exits 0"
"$HERALD" -C "$P" suppressed >"$SCRATCH/suppressed.out" 2>&1
grep -q "user0013@example.org.*red@evil.example" "$SCRATCH/suppressed.out"
ok $? "herald suppressed shows the bounce's Message-ID as its source"
ok "$(! grep -q "$ESC" "$SCRATCH/suppressed.out" "$SCRATCH/poll7.err" "$SCRATCH/poll7.out"; echo $?)" \
	"with no escape character, in herald suppressed or in the poll's lines"
"$HERALD" -C "$P" suppressed --json >"$SCRATCH/suppressed.json" 2>&1
grep -q 'u001b\]0;pwned' "$SCRATCH/suppressed.json"
ok $? "--json keeps the source as it was, escaped"

# The certificate: without ca_file the self-signed server is refused, before login.
Q="$SCRATCH/q"
cp -R "$P" "$Q"
sed -i '/^imap:/,$ {/^  ca_file:/d}' "$Q/config/herald.yaml"
imap_append "$M/4-request.eml"
"$HERALD" -C "$Q" poll >"$SCRATCH/nocert.out" 2>"$SCRATCH/nocert.err"
ok "$(test $? -eq 78 && grep -q "not trusted" "$SCRATCH/nocert.err"; echo $?)" \
	"a self-signed server without ca_file is refused (exit 78)"
diag <"$SCRATCH/nocert.err"
ok "$(test "$(imap_count INBOX)" = 3; echo $?)" "and nothing was touched (the question, the forged notice, this request)"
# An address the certificate does not name is refused too.
R="$SCRATCH/r"
cp -R "$P" "$R"
sed -i "/^imap:/,\$ s#^  url: .*#  url: imaps://127.1:$IMAPS_PORT#" "$R/config/herald.yaml"
"$HERALD" -C "$R" poll >/dev/null 2>"$SCRATCH/name.err"
ok "$(test $? -ne 0 && ! grep -q "^poll: [1-9]" "$SCRATCH/name.err"; echo $?)" \
	"a server reached by a name its certificate lacks is refused"
diag <"$SCRATCH/name.err"

# A certificate made for clients only (extendedKeyUsage clientAuth) is no
# server's, even when ca_file trusts it.
cp "$DOVE_CERT" "$SCRATCH/cert.keep"; cp "$DOVE_DIR/key.pem" "$SCRATCH/key.keep"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "extendedKeyUsage=clientAuth" \
	-keyout "$DOVE_DIR/key.pem" -out "$DOVE_CERT" >/dev/null 2>&1
restart_dovecot
"$HERALD" -C "$P" poll >/dev/null 2>"$SCRATCH/eku.err"
ok "$(test $? -eq 78 && grep -q "not trusted" "$SCRATCH/eku.err"; echo $?)" \
	"a certificate for clients only is refused"
cp "$SCRATCH/cert.keep" "$DOVE_CERT"; cp "$SCRATCH/key.keep" "$DOVE_DIR/key.pem"
restart_dovecot

# STARTTLS on imap:// works the same.
sed -i "/^imap:/,\$ s#^  url: .*#  url: imap://127.0.0.1:$IMAP_PORT#" "$P/config/herald.yaml"
"$HERALD" -C "$P" poll >"$SCRATCH/starttls.out" 2>&1
ok $? "imap:// with STARTTLS and ca_file polls"
diag <"$SCRATCH/starttls.out"

# ---- a new UIDVALIDITY: every message is read again, nothing acted on twice ----
# A message herald acted on but never moved (a crash between the two, then
# the server renumbered the mailbox) comes back under a new UID.
imap_append "$M/2-unsub.eml"
notices=$(received "$S")
# Dovecot renumbers INBOX when its UID list and indexes are lost.
uidv=$(imap_uidvalidity INBOX)
stop_dovecot
rm -f "$DOVE_DIR"/mail/press/Maildir/dovecot-uidlist "$DOVE_DIR"/mail/press/Maildir/dovecot.index*
restart_dovecot
ok "$(test "$(imap_uidvalidity INBOX)" != "$uidv"; echo $?)" "the server's UIDVALIDITY changed"
"$HERALD" -C "$P" poll >"$SCRATCH/uidv.out" 2>"$SCRATCH/uidv.err"
ok $? "the poll after a new UIDVALIDITY exits 0"
diag <"$SCRATCH/uidv.out"
ok "$(grep -q "UIDVALIDITY changed" "$SCRATCH/uidv.err" && grep -q " 1 repeated" "$SCRATCH/uidv.out"; echo $?)" \
	"it rescans, and knows the unsubscribe by its Message-ID"
ok "$(test "$(received "$S")" = "$notices" && test "$(imap_unseen INBOX)" = "$(imap_count INBOX)"; echo $?)" \
	"no second notice; the human mail left is still unseen"

# ---- a soft bounce at the threshold suppresses ----
printf 'bounces:\n  soft_threshold: 1\n' >>"$P/config/herald.yaml"
V7=$(verp_of "$(eml_of user0007@)")
sed "s/^To: .*/To: $V7/; s/user0006/user0007/g; s/<dsn6@/<dsn7@/" "$M/10-soft.eml" >"$M/11-soft.eml"
imap_append "$M/11-soft.eml"
"$HERALD" -C "$P" poll >"$SCRATCH/soft.out" 2>&1
ok "$(test "$(sql "$DB" "SELECT list || ' ' || reason FROM suppressions WHERE address = 'user0007@example.org'")" = " soft-bounces"; echo $?)" \
	"reaching soft_threshold suppresses the address for every list"

# ---- a server without MOVE: UID COPY, \Deleted, UID EXPUNGE ----
echo 'imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS' >>"$DOVE_CONF"
restart_dovecot
sed "s/<vacation5@/<vacation12@/" "$M/5-vacation.eml" >"$M/12-vacation.eml"
imap_append "$M/12-vacation.eml"
"$HERALD" -C "$P" poll >"$SCRATCH/nomove.out" 2>&1
ok $? "a poll on a server without MOVE exits 0"
ok "$(test "$(imap_count Herald.AutoReplies)" = 2 && test "$(imap_subjects INBOX | grep -c "Out of office")" = 0; echo $?)" \
	"without MOVE the message is copied and expunged from INBOX"
sed -i '/^imap_capability/d' "$DOVE_CONF"
restart_dovecot

# ---- a restart of Dovecot in the middle of a poll ----
B="$SCRATCH/many"
mkdir -p "$B"
"$PY" - "$B" "$V1" <<'PY'
import sys
d, verp = sys.argv[1], sys.argv[2]
for i in range(4500):
    if i % 3 == 0:
        body = ("From: someone%d@example.net\nTo: desk@news.example\nSubject: question %d\n"
                "Message-ID: <q%d@example.net>\n\nA question.\n" % (i, i, i))
    elif i % 3 == 1:
        body = ("From: away%d@example.net\nTo: bounces@news.example\nSubject: Out of office\n"
                "Auto-Submitted: auto-replied\nMessage-ID: <ooo%d@example.net>\n\nAway.\n" % (i, i))
    else:
        body = ("From: MAILER-DAEMON@mx.example.org\nTo: %s\nSubject: failure %d\n"
                "Message-ID: <b%d@mx.example.org>\nMIME-Version: 1.0\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
                "--B\nContent-Type: text/plain\n\nfailed\n\n--B\n"
                "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
                "Final-Recipient: rfc822; user0001@example.org\nAction: failed\nStatus: 5.1.1\n\n--B--\n"
                % (verp, i, i))
    open("%s/%05d.eml" % (d, i), "w").write(body)
PY
imap_deliver_many "$B"
sed -i "/^imap:/,\$ s#^  url: .*#  url: imaps://127.0.0.1:$IMAPS_PORT#" "$P/config/herald.yaml"
inbox_before=$(imap_count INBOX)
recorded=$(sql "$DB" "SELECT count(*) FROM inbound")
"$HERALD" -C "$P" poll >"$SCRATCH/restart.out" 2>"$SCRATCH/restart.err" &
POLL=$!
i=0
# As soon as the journal shows the first batch acted on, the server goes
# away under the poll.
while [ "$(sql "$DB" "SELECT count(*) FROM inbound")" -le "$recorded" ] && [ $i -lt 2000 ]; do
	sleep 0.005; i=$((i + 1))
done
# A stopping master leaves its IMAP processes to finish their clients:
# these are told to stop at once (SIGTERM: "BYE Server shutting down").
pkill -TERM -P "$DOVE_PID" -x imap
restart_dovecot
wait $POLL
st=$?
ok "$(test $st -eq 0; echo $?)" "a poll whose server restarts in the middle finishes (exit 0, got $st)"
diag <"$SCRATCH/restart.out"
diag <"$SCRATCH/restart.err"
grep -q "trying again" "$SCRATCH/restart.err"
ok $? "it reconnected ($(grep -v '^herald: poll: uid' "$SCRATCH/restart.err" | tail -1))"
ok "$(test "$(imap_count INBOX)" = $((inbox_before - 3000)); echo $?)" "every handled message left INBOX"
ok "$(test "$(imap_count Herald.AutoReplies)" = 1502; echo $?)" "1,500 more auto-replies in Herald/AutoReplies"
ok "$(test "$(imap_count Herald.Bounces)" = 1505; echo $?)" "1,500 more bounces in Herald/Bounces"
ok "$(test "$(sql "$DB" "SELECT count(*) FROM inbound WHERE message_id LIKE 'b%@mx.example.org' OR message_id LIKE 'ooo%'")" = 3000; echo $?)" \
	"each was recorded exactly once"
"$HERALD" -C "$P" poll >"$SCRATCH/after.out" 2>&1
grep -q "^poll: 0 new messages" "$SCRATCH/after.out"
ok $? "a poll after it finds nothing left to do"

# ---- forgeries ----
# A report naming a subscriber without a token, or with a forged one,
# suppresses nobody and stays where it is (it may be the staff's own).
sed "s/^To: .*/To: bounces@news.example/; s/user0001/user0010/g; s/<dsn1@/<forged-dsn1@/" \
	"$M/1-dsn.eml" >"$M/13-forged-dsn.eml"
FV=$(echo "$V1" | sed 's/-[a-z0-9]*@/-aaaaaaaaaaaaaaaa@/')
sed "s/^To: .*/To: $FV/; s/user0001/user0011/g; s/<dsn1@/<forged-dsn2@/" \
	"$M/1-dsn.eml" >"$M/14-forged-verp.eml"
# A reply to user0008's confirmation, but from someone else.
C8=$(grep -l "^To: user0008@example.org" "$S"/*.eml | xargs grep -l "^Subject: Confirm" | head -1)
CONF8=$(sed -n 's/^Reply-To: \(.*\)\r*$/\1/p' "$C8" | tr -d '\r<>' | sed 's/.* //')
cat >"$M/15-wrong-confirmer.eml" <<EOF
From: Helpdesk <helpdesk@example.net>
To: $CONF8
Subject: Ticket 4711 received
Message-ID: <ticket4711@example.net>

Your request has been received.
EOF
inbox=$(imap_count INBOX)
for f in 13-forged-dsn 14-forged-verp 15-wrong-confirmer; do imap_append "$M/$f.eml"; done
"$HERALD" -C "$P" poll >"$SCRATCH/forged.out" 2>&1
ok $? "the poll over forged bounces and a stranger's confirmation exits 0"
diag <"$SCRATCH/forged.out"
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address IN ('user0010@example.org', 'user0011@example.org', 'user0008@example.org')")" = 0; echo $?)" \
	"forged bounces and a confirmation from another address suppress nobody"
ok "$(test "$(imap_count INBOX)" = $((inbox + 2)); echo $?)" \
	"the bounces no token of ours names stay in INBOX"

# A mailbox that does not exist is a configuration error, said at once.
NB="$SCRATCH/nobox"
cp -R "$P" "$NB"
sed -i '/^imap:/,$ s/^  mailbox: .*/  mailbox: NoSuchFolder/' "$NB/config/herald.yaml"
"$HERALD" -C "$NB" poll >"$SCRATCH/nobox.out" 2>&1
ok "$(test $? -eq 78 && grep -q "NoSuchFolder does not exist" "$SCRATCH/nobox.out"; echo $?)" \
	"a mailbox that cannot be selected: exit 78, no retries"
diag <"$SCRATCH/nobox.out"

# A wrong password: refused, exit 78, the password never printed. Last:
# Dovecot delays the next logins from an address that failed one.
HERALD_IMAP_PASSWORD=wrong-secret-pw "$HERALD" -C "$P" poll >"$SCRATCH/badpw.out" 2>&1
ok "$(test $? -eq 78 && ! grep -q wrong-secret-pw "$SCRATCH/badpw.out"; echo $?)" \
	"a refused login exits 78 and never prints the password"

"$HERALD" poll --help | grep -q "Herald/Bounces"
ok $? "poll --help tells where messages go"

done_testing
