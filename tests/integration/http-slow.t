#!/bin/sh
# Slowloris against the one-click endpoint of a real `herald run`: two
# attacker addresses (127.0.0.2 and 127.0.0.3) hold as many half-sent
# requests as the endpoint takes and trickle a byte on each every 4 s, for
# longer than the endpoint's idle timeout (10 s); a third client on
# 127.0.0.1 must be answered within 1 s every time it asks meanwhile, and
# the attacker's first connections are closed at the whole-request
# deadline (10 s after their accept), however many bytes they still send.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null; then
	echo "1..0 # SKIP cannot bind 127.0.0.2 (all of 127/8 is loopback on Linux)"
	exit 0
fi

HPORT=$(free_port)
P="$SCRATCH/p"
project "$P" "$(free_port)"
printf 'http:\n  listen: 127.0.0.1:%s\n' "$HPORT" >>"$P/config/herald.yaml"
LOG="$SCRATCH/run.log"
start_daemon "$P" "$LOG"
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null && grep -q "serving one-click unsubscribe on 127.0.0.1:$HPORT" "$LOG"; echo $?)" \
	"herald run serves the endpoint on 127.0.0.1:$HPORT"

"$PY" "$TOP/tests/tools/slowloris.py" "$HPORT" 14 127.0.0.2 127.0.0.3 >"$SCRATCH/attack" 2>&1
diag <"$SCRATCH/attack"
field() { awk -v k="$1" '$1 == k { print $2 }' "$SCRATCH/attack"; }
held=$(awk '$1 == "held" { n += $3 } END { print n + 0 }' "$SCRATCH/attack")
probes=$(field probes) served=$(field served) worst=$(field worst)
ok "$(test "$held" -gt 0; echo $?)" "the attacker holds half-sent requests from two addresses ($held)"
ok "$(test "${probes:-0}" -ge 20 && test "$served" = "$probes"; echo $?)" \
	"for 14 s, every request of a third client is answered within 1 s (${served:-?} of ${probes:-?}, slowest ${worst:-?} s)"
set -- $(awk '$1 == "closed" { print $2, $3, $4 }' "$SCRATCH/attack")
ok "$(test "${1:-0}" -eq "$held" && awk -v a="$2" -v b="$3" 'BEGIN { exit !(a >= 9.5 && b <= 12) }'; echo $?)" \
	"each of the attacker's first connections is closed 10 s after its accept (${1:-?} of $held, after ${2:-?} to ${3:-?} s)"
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null; echo $?)" "the daemon is still up"

stop_daemon
ok "$(test "$DAEMON_STATUS" -eq 0; echo $?)" "SIGTERM: exit 0 (got $DAEMON_STATUS)"
done_testing
