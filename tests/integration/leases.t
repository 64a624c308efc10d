#!/bin/sh
# Leases in the journal (store.h), with real herald processes:
#  - the mailbox's `poll` lease: a second herald poll exits 75 while a
#    first one reads (it waits on a server that never speaks); once the
#    first is killed with SIGKILL the lease is free at once (SQLite's
#    flock proof), without waiting for it to lapse;
#  - the daemon's `run` lease: a daemon stopped (SIGSTOP) for longer than
#    the lease lives loses it to a new daemon; let go on (SIGCONT), the old
#    one finds it lost and exits 75; a daemon killed with SIGKILL is
#    followed by a new one at once;
#  - what killed holders leave is gone after the next send.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

TTL=15	# STORE_LEASE_TTL
# A daemon left stopped by a failure would never hear SIGTERM.
trap 'for p in $SERVER_PIDS; do kill -CONT "$p" 2>/dev/null; done; cleanup' EXIT

start_sink "$SCRATCH/sink"
P="$SCRATCH/p"
project "$P" "$PORT"
gen_list "$P/lists/a.yaml" 1 2
HERALD_IMAP_PASSWORD=pw
export HERALD_IMAP_PASSWORD

# A server that accepts and never says a word: a poll waits on its greeting.
SILENT=$(free_port)
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$SILENT" &
SILENT_PID=$!
SERVER_PIDS="$SERVER_PIDS $SILENT_PID"
"$PY" "$TOP/tests/tools/port.py" wait "$SILENT"
cat >>"$P/config/herald.yaml" <<EOF
imap:
  url: imap://127.0.0.1:$SILENT
  username: press
  password_env: HERALD_IMAP_PASSWORD
  poll: 1m
EOF
"$HERALD" -C "$P" check >/dev/null 2>&1
ok $? "the project checks"

# ---- poll: one reader at a time ----
"$HERALD" -C "$P" poll >"$SCRATCH/first.out" 2>&1 &
FIRST=$!
SERVER_PIDS="$SERVER_PIDS $FIRST"
sleep 1
ok "$(kill -0 "$FIRST" 2>/dev/null; echo $?)" "a first herald poll waits on the silent server"
"$HERALD" -C "$P" poll >"$SCRATCH/second.out" 2>&1
st=$?
ok "$(test $st -eq 75 && grep -q "another herald poll" "$SCRATCH/second.out"; echo $?)" \
	"a second one exits 75: another is reading the mailbox (got $st)"
diag <"$SCRATCH/second.out"
kill -9 "$FIRST"
wait "$FIRST" 2>/dev/null
forget_pid "$FIRST"
# The third waits on the silent server too: alive after a second, it got
# past the lease, long before the first's would have lapsed.
"$HERALD" -C "$P" poll >"$SCRATCH/third.out" 2>&1 &
THIRD=$!
SERVER_PIDS="$SERVER_PIDS $THIRD"
sleep 1
ok "$(kill -0 "$THIRD" 2>/dev/null && ! grep -q "another herald poll" "$SCRATCH/third.out"; echo $?)" \
	"the first killed, a third reads at once: the lease is free without lapsing"
diag <"$SCRATCH/third.out"
kill -9 "$THIRD"
wait "$THIRD" 2>/dev/null
forget_pid "$THIRD"
stop_pid "$SILENT_PID"
sed -i '/^imap:/,$d' "$P/config/herald.yaml"

# ---- run: a stalled daemon loses its lease ----
A_LOG="$SCRATCH/a.log"
start_daemon "$P" "$A_LOG"
A=$DAEMON_PID
ok "$(grep -q "info run: started" "$A_LOG"; echo $?)" "daemon A starts"
"$HERALD" -C "$P" run >"$SCRATCH/refused.out" 2>&1
st=$?
ok "$(test $st -eq 75 && grep -q "another herald run (pid $A)" "$SCRATCH/refused.out"; echo $?)" \
	"a second daemon exits 75, naming A's pid (got $st)"
diag <"$SCRATCH/refused.out"
kill -STOP "$A"
sleep $((TTL + 2))
B_LOG="$SCRATCH/b.log"
start_daemon "$P" "$B_LOG"
B=$DAEMON_PID
ok "$(grep -q "info run: started" "$B_LOG"; echo $?)" \
	"A stopped for longer than its lease: daemon B takes the run lease"
kill -CONT "$A"
i=0
while kill -0 "$A" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
wait "$A"
st=$?
forget_pid "$A"
ok "$(test $st -eq 75 && grep -q "run lease lapsed" "$A_LOG"; echo $?)" \
	"A, let go on, finds its lease lost and exits 75 (got $st)"
diag <"$A_LOG"
ok "$(kill -0 "$B" 2>/dev/null; echo $?)" "B runs on"

# ---- run: a killed daemon is followed at once ----
kill -9 "$B"
wait "$B" 2>/dev/null
forget_pid "$B"
C_LOG="$SCRATCH/c.log"
start_daemon "$P" "$C_LOG"
ok "$(grep -q "info run: started" "$C_LOG"; echo $?)" "B killed, daemon C starts at once"
stop_daemon
ok "$(test "$DAEMON_STATUS" -eq 0; echo $?)" "C stops cleanly on SIGTERM"
# What killed holders left (the third poll's lock file) goes at the next
# send's reclaim; the send's own lease leaves nothing either.
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1
ok $? "a send afterwards"
ok "$(test -z "$(ls "$P/state/owners" 2>/dev/null)"; echo $?)" \
	"no lock file is left in state/owners"
ls "$P/state/owners" 2>/dev/null | diag
ok "$("$PY" -c 'import sqlite3, sys; sys.exit(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM leases WHERE name = holder").fetchone()[0])' "$P/state/herald.db"; echo $?)" \
	"nor an owner lease in the journal"

done_testing
