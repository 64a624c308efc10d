#!/bin/sh
# herald run keeps the mailbox read: with IDLE (Dovecot offers it) a
# tokened unsubscribe is acted on within seconds although imap.poll is an
# hour; without IDLE the daemon falls back to reading every imap.poll.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"
. "$(dirname "$0")/imap-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

S="$SCRATCH/sink"
start_sink "$S"
start_dovecot
P="$SCRATCH/p"
project "$P" "$PORT"
gen_list "$P/lists/a.yaml" 1 5
herald_imap_config imaps | sed 's/^  poll: .*/  poll: 1h/' >>"$P/config/herald.yaml"
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1
ok $? "the release goes to 5 subscribers"
DB="$P/state/herald.db"
unsub_of() { grep -o 'unsubscribe+[a-z0-9-]*@news.example' "$1" | head -1; }
# unsubscribe_by_mail N [TRIES]: user000N replies to the unsubscribe+TOKEN@
# address of its message; waits (TRIES x 50 ms) until the journal has it.
unsubscribe_by_mail() {
	printf 'From: user000%s@example.org\nTo: %s\nSubject: unsubscribe\nMessage-ID: <idle%s@example.org>\n\n' \
		"$1" "$(unsub_of "$(grep -l "^To: .*user000$1@" "$S"/*.eml | head -1)")" "$1" >"$SCRATCH/u$1.eml"
	imap_append "$SCRATCH/u$1.eml"
	_i=0
	while [ "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user000$1@example.org'")" = 0 ] &&
	    [ $_i -lt "${2:-100}" ]; do
		sleep 0.05; _i=$((_i + 1))
	done
}

LOG="$SCRATCH/run.log"
"$HERALD" -C "$P" run >"$LOG" 2>&1 &
DAEMON=$!
SERVER_PIDS="$SERVER_PIDS $DAEMON"
i=0
while ! grep -q "mailbox: waiting for new mail (IDLE)" "$LOG" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ok "$(grep -q "mailbox: waiting for new mail (IDLE)" "$LOG"; echo $?)" "the daemon waits with IDLE"

unsubscribe_by_mail 2 100
ok "$(test "$(sql "$DB" "SELECT list FROM suppressions WHERE address = 'user0002@example.org'")" = a; echo $?)" \
	"new mail is acted on within seconds, though imap.poll is an hour"
ok "$(test "$(imap_count Herald.Unsubscribes)" = 1; echo $?)" "and moved"

# Again, to show the IDLE was renewed after the first message.
unsubscribe_by_mail 3 100
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user0003@example.org'")" = 1; echo $?)" \
	"and the next one too"

# Dovecot restarts: the watch is lost, and found again.
restart_dovecot
sleep 0.5
unsubscribe_by_mail 4 300
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user0004@example.org'")" = 1; echo $?)" \
	"after a server restart the daemon watches again and acts"

# A server without IDLE: the daemon says so and reads every imap.poll.
echo 'imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS MOVE' >>"$DOVE_CONF"
restart_dovecot
sed -i 's/^  poll: 1h/  poll: 1s/' "$P/config/herald.yaml"
kill -HUP "$DAEMON"
i=0
while ! grep -q "offers no IDLE" "$LOG" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
ok "$(grep -q "offers no IDLE" "$LOG"; echo $?)" "without IDLE the daemon says so"
unsubscribe_by_mail 5 200
ok "$(test "$(sql "$DB" "SELECT count(*) FROM suppressions WHERE address = 'user0005@example.org'")" = 1; echo $?)" \
	"and reads the mailbox every imap.poll instead"

kill -TERM "$DAEMON"
wait "$DAEMON"
ok $? "SIGTERM: exit 0"
forget_pid "$DAEMON"
diag <"$LOG"
done_testing
