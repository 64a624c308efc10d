#!/bin/sh
# A trusted but hostile IMAPS server (tests/tools/hostile-imaps.py, its
# certificate from a CA made here and given as imap.ca_file) cannot make
# herald hold what it announces: a 300 MiB literal in a FETCH response,
# sent at once or trickled, and a SEARCH answered with 5,000,000 UIDs each
# end `herald poll` at once with a clear error, its peak RSS under 64 MB.
# And a server that stalls the daemon's poll does not hold up sending: a
# release falling due meanwhile goes out at its time, and SIGTERM still
# stops the daemon within seconds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
RSS_MAX=65536	# KB: 64 MB

# A CA, and the server's certificate for 127.0.0.1 signed by it.
T="$SCRATCH/tls"
mkdir -p "$T"
{
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=herald test CA" \
	    -keyout "$T/ca.key" -out "$T/ca.pem" &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
	    -keyout "$T/key.pem" -out "$T/req.pem" &&
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/ext" &&
	openssl x509 -req -in "$T/req.pem" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	    -days 30 -extfile "$T/ext" -out "$T/cert.pem"
} >"$T/openssl.log" 2>&1
ok $? "a test CA and a server certificate signed by it"

# start_hostile MODE: the hostile server on a free port ($HPORT).
start_hostile() {
	HPORT=$(free_port)
	"$PY" "$TOP/tests/tools/hostile-imaps.py" --port "$HPORT" --cert "$T/cert.pem" \
	    --key "$T/key.pem" "$1" >"$SCRATCH/hostile.$1.out" 2>&1 &
	HOSTILE_PID=$!
	SERVER_PIDS="$SERVER_PIDS $HOSTILE_PID"
	"$PY" "$TOP/tests/tools/port.py" wait "$HPORT"
}

# imap_block: the imap: section for the hostile server on $HPORT.
imap_block() {
	printf 'imap:\n  url: imaps://127.0.0.1:%s\n  username: press\n' "$HPORT"
	printf '  password_env: HERALD_IMAP_PASSWORD\n  ca_file: %s\n' "$T/ca.pem"
	printf '  mailbox: INBOX\n  poll: 1s\n'
}
HERALD_IMAP_PASSWORD=pw
export HERALD_IMAP_PASSWORD

# poll_case MODE WHAT PATTERN: herald poll against it, killed after 60 s;
# it must end by itself, with an error saying PATTERN, its peak RSS
# under RSS_MAX.
poll_case() {
	start_hostile "$1"
	_p="$SCRATCH/p-$1"
	project "$_p" 9
	gen_list "$_p/lists/a.yaml" 1 1
	imap_block >>"$_p/config/herald.yaml"
	_t0=$(now)
	/usr/bin/time -f %M -o "$SCRATCH/rss.$1" timeout 60 "$HERALD" -C "$_p" poll \
	    >"$SCRATCH/poll.$1.out" 2>&1
	_st=$?
	_t1=$(now)
	_rss=$(tail -n 1 "$SCRATCH/rss.$1")
	ok "$(test "$_st" -ne 124 && test "$_st" -ne 0; echo $?)" \
	    "$2: herald poll ends with an error, no hang (status $_st, $(elapsed "$_t0" "$_t1") s)"
	ok "$(test "$_rss" -lt "$RSS_MAX"; echo $?)" "$2: peak RSS $_rss KB, under $RSS_MAX KB"
	ok "$(grep -q "$3" "$SCRATCH/poll.$1.out"; echo $?)" "$2: it says why ($3)"
	diag <"$SCRATCH/poll.$1.out"
	stop_pid "$HOSTILE_PID"
}

poll_case literal "a 300 MiB literal sent at once" "announced a literal of 314572800 bytes"
poll_case trickle "a 300 MiB literal trickled" "announced a literal of 314572800 bytes"
poll_case hidden "a 300 MiB literal after a status line ending in {30}" \
    "announced a literal of 314572800 bytes"
poll_case search "5,000,000 UIDs in one SEARCH" "a line of more than"

# ---- a stalled poll does not hold up sending ----
iso_at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
S="$SCRATCH/sink"
start_sink "$S"
start_hostile stall
P="$SCRATCH/p"
project "$P" "$PORT" "timeout: 10"
gen_list "$P/lists/a.yaml" 1 3
imap_block >>"$P/config/herald.yaml"
LOG="$SCRATCH/run.log"
due=$(($(date +%s) + 3))
"$HERALD" -C "$P" schedule news --at "$(iso_at "$due")" >"$SCRATCH/sch.out" 2>&1
ok $? "news is scheduled 3 s ahead"
start_daemon "$P" "$LOG"
i=0
while [ "$(received "$S")" -lt 3 ] && [ $i -lt 400 ]; do
	sleep 0.05; i=$((i + 1))
done
t=$(now)
ok "$(test "$(received "$S")" -eq 3; echo $?)" \
    "while the server stalls the poll, news goes out ($(elapsed "$due" "$t") s after it fell due)"
ok "$(awk -v a="$due" -v b="$t" 'BEGIN { exit !(b - a < 5) }'; echo $?)" "within 5 s of its time"
ok "$(grep -q "mailbox.*not read" "$LOG"; test $? -ne 0; echo $?)" \
    "the poll was still waiting on the server meanwhile"
t0=$(now)
stop_daemon
t1=$(now)
ok "$(test "$DAEMON_STATUS" -eq 0; echo $?)" "SIGTERM during the stalled poll: exit 0"
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }'; echo $?)" \
    "and it stops within 5 s ($(elapsed "$t0" "$t1") s)"
diag <"$LOG"

done_testing
