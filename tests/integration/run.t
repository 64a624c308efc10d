#!/bin/sh
# herald run, the daemon, against the capturing sink: a scheduled release
# goes out at its time and not before; one that expired while the daemon
# was stopped is not sent; SIGTERM in the middle of a 2,000-recipient send
# exits 0 and a restart finishes it, everyone once; SIGHUP keeps a good
# config over a broken one and picks up a new list; a deferred delivery is
# retried at its time; a second daemon on the same state exits 75.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

# wait_for N DIR [SECONDS]: until the sink has N messages.
wait_for() {
	_i=0
	while [ "$(received "$2")" -lt "$1" ] && [ $_i -lt $((${3:-10} * 20)) ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ "$(received "$2")" -ge "$1" ]
}
iso_in() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

S="$SCRATCH/sink"
start_sink "$S"
SINK_PORT=$PORT
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 4" "timeout: 10" "retry: [3s]"
gen_list "$P/lists/a.yaml" 1 20
LOG="$SCRATCH/run.log"

# ---- a release scheduled 3 s ahead ----
"$HERALD" -C "$P" schedule news --at "$(iso_in 3)" >"$SCRATCH/sch.out" 2>&1
ok $? "news is scheduled 3 s ahead"
start_daemon "$P" "$LOG"
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null; echo $?)" "herald run starts"
sleep 1.5
ok "$(test "$(received "$S")" = 0; echo $?)" "nothing goes out before its time"
wait_for 20 "$S" 10
ok $? "after its time all 20 are delivered by the daemon"

# ---- a second daemon on the same state ----
"$HERALD" -C "$P" run >"$SCRATCH/second.out" 2>&1
st=$?
ok "$(test $st -eq 75 && grep -q "another herald run" "$SCRATCH/second.out"; echo $?)" \
	"a second herald run on the same state exits 75 (got $st)"
diag <"$SCRATCH/second.out"

# ---- SIGHUP: a broken config is kept out, a good one brings a new list ----
cp "$P/config/herald.yaml" "$SCRATCH/good.yaml"
echo "smtp: [broken" >>"$P/config/herald.yaml"
kill -HUP "$DAEMON_PID"
sleep 0.5
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null && grep -q "configuration is broken" "$LOG"; echo $?)" \
	"SIGHUP with a broken config: reported, the daemon keeps running"
cp "$SCRATCH/good.yaml" "$P/config/herald.yaml"
gen_list "$P/lists/b.yaml" 1 5 "new%04d"
kill -HUP "$DAEMON_PID"
sleep 0.3
cat >"$P/releases/second.yaml" <<'EOF'
title: Second news
lists: [b]
body: |
  More happened.
EOF
"$HERALD" -C "$P" schedule second --at "$(iso_in 1)" >"$SCRATCH/sch2.out" 2>&1
kill -HUP "$DAEMON_PID"	# wakes it: a new schedule is found at once
wait_for 25 "$S" 10
ok "$(grep -c "new000" "$S/log.tsv" | grep -qx 5; echo $?)" \
	"after SIGHUP with a good config, a release to the new list goes out"

# herald send from the command line beside the daemon: each recipient once.
cat >"$P/releases/beside.yaml" <<'EOF'
title: Sent by hand
lists: [a]
body: |
  Beside the daemon.
EOF
before=$(received "$S")
"$HERALD" -C "$P" send beside >"$SCRATCH/beside.out" 2>&1
ok $? "herald send works beside a running daemon"
wait_for $((before + 20)) "$S" 10
sleep 1
ok "$(test "$(received "$S")" = $((before + 20)); echo $?)" "and each of the 20 gets it once"

stop_daemon
ok "$(test "$DAEMON_STATUS" -eq 0; echo $?)" "SIGTERM when idle: exit 0"

# ---- expired while the daemon was stopped ----
# Both times from one clock reading: a second boundary between two
# readings made them equal on a loaded machine.
base=$(date +%s)
iso_at() { date -u -d "@$((base + $1))" +%Y-%m-%dT%H:%M:%SZ; }
cat >"$P/releases/late.yaml" <<EOF
title: Late news
lists: [a]
expires: $(iso_at 3)
body: |
  Too late.
EOF
"$HERALD" -C "$P" schedule late --at "$(iso_at 2)" >"$SCRATCH/sch3.out" 2>&1
ok $? "late is scheduled, to expire a second after its time"
diag <"$SCRATCH/sch3.out"
while [ "$(date +%s)" -le $((base + 4)) ]; do sleep 0.2; done
before=$(received "$S")
start_daemon "$P" "$LOG"
# Until the daemon has settled it (at most 10 s), then the same checks.
i=0
while ! "$HERALD" -C "$P" status late --json 2>/dev/null | grep -q '"failed": 20' && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
ok "$(test "$(received "$S")" = "$before"; echo $?)" "a release that expired while stopped is not sent"
"$HERALD" -C "$P" status late --json >"$SCRATCH/late.json" 2>&1
ok "$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["failed"] == 20 and j["sent"] == 0 and "expired" in j["replies"][0]["reply"]))' "$SCRATCH/late.json"; echo $?)" \
	"and its deliveries are failed as expired"
stop_daemon

# ---- a deferred delivery is retried at its time ----
stop_pid "$SINK_PID"
forget_pid "$SINK_PID"
S2="$SCRATCH/sink2"
start_sink "$S2" --defer-rcpt 'user0003@' --defer-code 451 --defer-text '4.3.0 try later'
sed -i "s#url: smtp://127.0.0.1:$SINK_PORT#url: smtp://127.0.0.1:$PORT#" "$P/config/herald.yaml"
cat >"$P/releases/third.yaml" <<'EOF'
title: Third news
lists: [a]
body: |
  Again.
EOF
start_daemon "$P" "$LOG"
"$HERALD" -C "$P" schedule third --at "$(iso_in 0)" >"$SCRATCH/sch4.out" 2>&1
kill -HUP "$DAEMON_PID"
wait_for 19 "$S2" 10
ok "$("$HERALD" -C "$P" status third --json | "$PY" -c 'import json,sys; sys.exit(json.load(sys.stdin)["deferred"] != 1)'; echo $?)" \
	"the 451 recipient is deferred"
# The sink starts accepting everyone, on the same port.
stop_pid "$SINK_PID"
forget_pid "$SINK_PID"
"$PY" "$SINK_PY" --port "$PORT" --dir "$S2" >"$S2.out2" 2>&1 &
SINK_PID=$!
SERVER_PIDS="$SERVER_PIDS $SINK_PID"
"$PY" "$TOP/tests/tools/port.py" wait "$PORT"
wait_for 20 "$S2" 10
ok "$(grep -c "user0003@" "$S2/log.tsv" | grep -qx 1; echo $?)" \
	"the daemon retries it at its time, and it is delivered once"
stop_daemon

# ---- SIGTERM in the middle of a 2,000-recipient send ----
gen_list "$P/lists/big.yaml" 1 2000 "big%04d"
cat >"$P/releases/big.yaml" <<'EOF'
title: Big news
lists: [big]
body: |
  Everyone.
EOF
S3="$SCRATCH/sink3"
stop_pid "$SINK_PID"
forget_pid "$SINK_PID"
start_sink "$S3"
sed -i "s#url: smtp://127.0.0.1:[0-9]*#url: smtp://127.0.0.1:$PORT#" "$P/config/herald.yaml"
start_daemon "$P" "$LOG"
"$HERALD" -C "$P" schedule big --at "$(iso_in 0)" >"$SCRATCH/sch5.out" 2>&1
kill -HUP "$DAEMON_PID"
wait_for 300 "$S3" 20
t0=$(now)
stop_daemon
t1=$(now)
ok "$(test "$DAEMON_STATUS" -eq 0; echo $?)" "SIGTERM during a 2,000-recipient send: exit 0"
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 10) }'; echo $?)" \
	"it stops within the SMTP timeout ($(elapsed "$t0" "$t1") s)"
got=$(received "$S3")
ok "$(test "$got" -lt 2000; echo $?)" "it stopped part-way ($got of 2000)"
start_daemon "$P" "$LOG"
wait_for 2000 "$S3" 60
stop_daemon
"$PY" - "$S3/log.tsv" <<'PY' >"$SCRATCH/dups"
import collections, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    for r in line.rstrip("\n").split("\t")[2].split(","):
        if r.startswith("big"):
            c[r] += 1
print(len(c), sum(v - 1 for v in c.values()))
PY
read -r distinct dups <"$SCRATCH/dups"
ok "$(test "$distinct" = 2000 && test "$dups" -le 4; echo $?)" \
	"after a restart every recipient has it ($distinct), duplicates $dups <= connections (4)"

diag <"$LOG"
done_testing
