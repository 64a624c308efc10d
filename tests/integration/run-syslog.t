#!/bin/sh
# herald run logs what the engine did: a scheduled send's summary is a log
# line of the daemon's (nothing on stdout), on stderr by default and
# through syslog under --syslog. The syslog case runs the daemon in a
# private mount namespace (unshare -m) whose /dev/log is this test's own
# datagram socket, so nothing of the machine's logging is touched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

iso_in() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
# wait_log FILE PATTERN: until FILE has a line matching PATTERN (10 s at most).
wait_log() {
	_i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $_i -lt 200 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	grep -q "$2" "$1" 2>/dev/null
}

S="$SCRATCH/sink"
start_sink "$S"
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 2" "timeout: 10"
gen_list "$P/lists/a.yaml" 1 7
SUMMARY='release=news: 7 sent, 0 failed, 0 skipped'

# ---- on stderr ----
"$HERALD" -C "$P" schedule news --at "$(iso_in 0)" >/dev/null 2>&1
ok $? "news is scheduled now"
"$HERALD" -C "$P" run >"$SCRATCH/run.out" 2>"$SCRATCH/run.err" &
DAEMON_PID=$!
SERVER_PIDS="$SERVER_PIDS $DAEMON_PID"
wait_log "$SCRATCH/run.err" "$SUMMARY"
ok $? "herald run logs the send's summary: info run: $SUMMARY"
grep "$SUMMARY" "$SCRATCH/run.err" | diag
ok "$(grep -q "^info run: $SUMMARY\$" "$SCRATCH/run.err"; echo $?)" "as one tagged log line"
stop_daemon
ok "$(test ! -s "$SCRATCH/run.out"; echo $?)" "and nothing on standard output"
ok "$(grep -q 'resumes' "$SCRATCH/run.err" "$SCRATCH/run.out"; test $? -ne 0; echo $?)" \
	"no 'herald send ... resumes' advice from the daemon"

# ---- through syslog ----
if ! unshare -m true 2>/dev/null; then
	for c in starts summary "no stderr"; do skip "syslog: $c" "cannot make a mount namespace here"; done
	done_testing
	exit $?
fi
"$PY" - "$SCRATCH/log.sock" "$SCRATCH/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b"\n")
PY
SERVER_PIDS="$SERVER_PIDS $!"
i=0
while [ ! -S "$SCRATCH/log.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

gen_list "$P/lists/a.yaml" 1 7 "next%04d"
cat >"$P/releases/more.yaml" <<'REL'
title: More news
lists: [a]
body: |
  Something else happened.
REL
"$HERALD" -C "$P" schedule more --at "$(iso_in 0)" >/dev/null 2>&1
# The namespace sees its own /dev: a tmpfs with the few devices herald needs
# and, as /dev/log, this test's socket.
unshare -m sh -c '
	set -e
	mount --make-rprivate /
	mkdir -p "$0/olddev"
	mount --rbind /dev "$0/olddev"
	mount -t tmpfs tmpfs /dev
	for n in null zero full random urandom; do
		touch "/dev/$n"
		mount --bind "$0/olddev/$n" "/dev/$n"
	done
	touch /dev/log
	mount --bind "$0/log.sock" /dev/log
	exec "$1" -C "$2" run --syslog
' "$SCRATCH" "$HERALD" "$P" >"$SCRATCH/sys.out" 2>"$SCRATCH/sys.err" &
DAEMON_PID=$!
SERVER_PIDS="$SERVER_PIDS $DAEMON_PID"
wait_log "$SCRATCH/syslog" "run: started"
ok $? "herald run --syslog starts, and says so through syslog"
MORE='release=more: 7 sent, 0 failed, 0 skipped'
wait_log "$SCRATCH/syslog" "herald\[[0-9]*\]: run: $MORE"
ok $? "the scheduled send's summary reaches syslog: run: $MORE"
grep -a "$MORE" "$SCRATCH/syslog" | diag
stop_daemon
ok "$(test ! -s "$SCRATCH/sys.err" && test ! -s "$SCRATCH/sys.out"; echo $?)" \
	"under --syslog nothing goes to stderr or stdout"
diag <"$SCRATCH/sys.err"

done_testing
