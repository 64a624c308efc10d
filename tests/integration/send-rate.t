#!/bin/sh
# The rate limit: smtp.rate 20/s with burst 5, 200 recipients into the
# capturing sink. 5 go at once, the other 195 at 20 a second: about 9.75 s
# whether measured around `herald send` or between the first and last
# arrival at the sink, and no one-second window holds more than 5 + 20.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
N=200

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
R="$SCRATCH/rate"
project "$R" "$PORT" "connections: 4" "timeout: 5" "rate: 20/s" "burst: 5"
gen_list "$R/lists/a.yaml" 1 "$N"

t0=$(now)
/usr/bin/time -f '%U %S' -o "$SCRATCH/cpu" \
    "$HERALD" -C "$R" send news >"$SCRATCH/send.out" 2>"$SCRATCH/send.err"; st=$?
t1=$(now)
wall=$(elapsed "$t0" "$t1")
[ "$st" -eq 0 ] && [ "$(received "$S")" -eq "$N" ]
ok $? "all $N sent: exit $st, $(received "$S") received"
[ "$st" -eq 0 ] || diag <"$SCRATCH/send.err"
awk -v w="$wall" 'BEGIN { exit !(w >= 9.5 && w <= 10.5) }'
ok $? "herald send took 9.5-10.5 s (took $wall s)"
# Waiting for the limiter is waiting, not spinning: rendering and sending
# 200 small messages needs a fraction of a second of CPU.
cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$SCRATCH/cpu")
awk -v c="$cpu" 'BEGIN { exit !(c < 2.0) }'
ok $? "herald waits for the limiter without spinning: under 2 s of CPU in $wall s (used $cpu s)"

"$PY" - "$S/log.tsv" >"$SCRATCH/checks" 2>&1 <<'PY'
import bisect, sys
ts = sorted(float(line.split("\t")[0]) for line in open(sys.argv[1], encoding="utf-8"))
span = ts[-1] - ts[0]
print("the sink's first to last arrival: 9.5-10.5 s (%.2f s)\t%d" % (span, 0 if 9.5 <= span <= 10.5 else 1))
# the busiest one-second window [t, t + 1) starting at each arrival
worst, at = 0, 0.0
for i, t in enumerate(ts):
    n = bisect.bisect_left(ts, t + 1.0) - i
    if n > worst:
        worst, at = n, t - ts[0]
print("no one-second window of arrivals holds more than 25 (the busiest: %d, at +%.2f s)\t%d" %
      (worst, at, 0 if worst <= 25 else 1))
# other window lengths: at most burst + rate x length (one more for arrival jitter)
for w in (0.5, 2.0, 5.0):
    worst = max(bisect.bisect_left(ts, t + w) - i for i, t in enumerate(ts))
    cap = int(5 + 20 * w) + 1
    print("no %.1f-second window holds more than %d (the busiest: %d)\t%d" % (w, cap, worst, 0 if worst <= cap else 1))
PY
ok_checks "$SCRATCH/checks" "the sink's log was read"

done_testing
