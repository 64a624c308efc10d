#!/bin/sh
# imap-lib.sh itself, against a real Dovecot: start on two free ports,
# append 3 messages, count and read them back, restart on the same ports
# (same messages, same UIDVALIDITY), deliver 50 straight into the Maildir,
# and the imap: block it writes passes `herald check`; stop frees the ports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imap-lib.sh"
scratch
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

start_dovecot
ok $? "start_dovecot"
[ -n "$IMAP_PORT" ] && [ -n "$IMAPS_PORT" ] && [ "$IMAP_PORT" != "$IMAPS_PORT" ] &&
    [ -s "$DOVE_CERT" ] && [ -d "$DOVE_DIR" ] && [ -f "$DOVE_CONF" ]
ok $? "ports $IMAP_PORT and $IMAPS_PORT, cert, dir and conf set"
/usr/bin/python3 "$TOP/tests/tools/port.py" wait "$IMAP_PORT" &&
    /usr/bin/python3 "$TOP/tests/tools/port.py" wait "$IMAPS_PORT"
ok $? "both ports accept connections"

# The server answers IMAP on the plain port and TLS (with our CN) on imaps.
greet=$(/usr/bin/python3 - "$IMAP_PORT" "$IMAPS_PORT" "$DOVE_CERT" <<'PY' 2>&1
import imaplib, ssl, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.starttls(ssl.create_default_context(cafile=sys.argv[3]))
m.login("press", "pw"); m.logout()
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[2]),
    ssl_context=ssl.create_default_context(cafile=sys.argv[3]))
m.login("press", "pw"); m.logout()
print("both")
PY
)
[ "$greet" = both ]
ok $? "login press/pw over STARTTLS and imaps, the cert verified as ca_file"
[ "$greet" = both ] || echo "$greet" | diag

[ "$(imap_count INBOX)" = 0 ]
ok $? "empty INBOX: 0"
[ "$(imap_count Nowhere)" = 0 ]
ok $? "a mailbox that does not exist: 0"

for i in 1 2 3; do
	printf 'From: Ana <ana@example.org>\nTo: desk@news.example\nSubject: question %d\nMessage-ID: <q%d@example.org>\n\nHello %d\n' \
	    "$i" "$i" "$i" >"$SCRATCH/m$i.eml"
	imap_append "$SCRATCH/m$i.eml" || echo "# append $i failed"
done
[ "$(imap_count INBOX)" = 3 ]
ok $? "append 3: count 3"
printf 'question 1\nquestion 2\nquestion 3\n' >"$SCRATCH/want"
imap_subjects INBOX >"$SCRATCH/got"
is_file "$SCRATCH/got" "$SCRATCH/want" "subjects, in order"
[ "$(imap_status INBOX messages unseen)" = "messages=3 unseen=3" ]
ok $? "status: messages=3 unseen=3 ($(imap_status INBOX messages unseen))"
[ "$(imap_unseen INBOX)" = 3 ]
ok $? "unseen 3 (reading subjects marks nothing seen)"
# Maildir++'s hierarchy separator is '.': "herald/done" is refused.
imap_append "$SCRATCH/m1.eml" herald.done && [ "$(imap_count herald.done)" = 1 ] &&
    [ "$(imap_count INBOX)" = 3 ]
ok $? "append to a missing mailbox (herald.done) creates it"
uv=$(imap_uidvalidity INBOX)
[ -n "$uv" ] && [ "$uv" -gt 0 ]
ok $? "uidvalidity $uv"

old_pid=$DOVE_PID old_imap=$IMAP_PORT old_imaps=$IMAPS_PORT
t0=$(now)
restart_dovecot
ok $? "restart_dovecot ($(elapsed "$t0" "$(now)") s)"
[ "$IMAP_PORT" = "$old_imap" ] && [ "$IMAPS_PORT" = "$old_imaps" ] && [ "$DOVE_PID" != "$old_pid" ]
ok $? "same ports, a new master"
[ "$(imap_count INBOX)" = 3 ]
ok $? "still 3 messages"
[ "$(imap_uidvalidity INBOX)" = "$uv" ]
ok $? "uidvalidity unchanged"

mkdir "$SCRATCH/many"
i=0
while [ $i -lt 50 ]; do
	i=$((i + 1))
	printf 'From: b%d@example.org\nTo: desk@news.example\nSubject: bulk %02d\n\nbody\n' "$i" "$i" >"$SCRATCH/many/$i.eml"
done
imap_deliver_many "$SCRATCH/many"
ok $? "imap_deliver_many 50"
[ "$(imap_count INBOX)" = 53 ]
ok $? "count 53"
[ "$(imap_subjects INBOX | grep -c '^bulk ')" = 50 ]
ok $? "Dovecot reads the 50 delivered ones"
bad=$(find "$DOVE_DIR/mail/press/Maildir/new" -type f ! -user nobody | wc -l)
[ "$bad" = 0 ]
ok $? "delivered files owned by nobody"

# The imap: block is valid herald configuration (both forms).
p=$SCRATCH/project
mkdir -p "$p/config" "$p/lists" "$p/templates" "$p/releases"
for mode in imaps starttls; do
	printf 'sender:\n  from: "Desk <desk@news.example>"\n  domain: news.example\n  bounce_address: bounces@news.example\n  unsubscribe_address: unsubscribe@news.example\nsmtp:\n  url: smtp://127.0.0.1:25\n' >"$p/config/herald.yaml"
	herald_imap_config "$mode" >>"$p/config/herald.yaml"
	out=$("$HERALD" -C "$p" check 2>&1)
	ok $? "herald check accepts herald_imap_config $mode"
	echo "$out" | grep -q 'imap' && echo "$out" | diag
done
grep -q "url: imap://127.0.0.1:$IMAP_PORT\$" "$p/config/herald.yaml" &&
    grep -q "ca_file: $DOVE_CERT\$" "$p/config/herald.yaml" && [ "$HERALD_IMAP_PASSWORD" = pw ]
ok $? "starttls: imap:// on the plain port, ca_file, HERALD_IMAP_PASSWORD=pw"

t0=$(now)
stop_dovecot
ok $? "stop_dovecot ($(elapsed "$t0" "$(now)") s)"
/usr/bin/python3 - "$IMAP_PORT" "$IMAPS_PORT" <<'PY'
import socket, sys
for p in sys.argv[1:]:
    if socket.socket().connect_ex(("127.0.0.1", int(p))) == 0:
        sys.exit(1)
PY
ok $? "nothing listens on either port"

done_testing
