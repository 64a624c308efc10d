#!/bin/sh
# Crash safety: `herald send` of 5,000 recipients into the capturing sink
# (connections 4) killed with SIGKILL at random moments mid-send, then
# finished by one more send. At-least-once: everyone gets the release;
# duplicates only for rows that were in flight at a kill, at most
# `connections` of them a kill; the journal's sent count is the number of
# distinct recipients the sink got; nothing left queued or sending.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
TOTAL=5000
CONNS=4
KILLS=5
MAX_TRIES=12

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
C="$SCRATCH/crash"
project "$C" "$PORT" "connections: $CONNS" "timeout: 5"
gen_list "$C/lists/a.yaml" 1 "$TOTAL"
DB="$C/state/herald.db"

# rand_delay: 0.02 to 0.30 s, from /dev/urandom (the sink takes at most ~2,000 msg/s,
# so five runs cannot finish the 5,000 before their kills)
rand_delay() { od -An -N2 -tu2 /dev/urandom | awk '{ printf "%.3f", 0.02 + ($1 % 281) / 1000 }'; }

HPID=""
trap '[ -n "$HPID" ] && kill -9 "$HPID" 2>/dev/null; cleanup' EXIT

kills=0 tries=0 inflight_ok=0
CLAIM_BATCH=32	# src/delivery.c DV_CLAIM_BATCH
: >"$SCRATCH/inflight"	# "kill-number<TAB>address" of the rows left sending by each kill
t_start=$(now)
while [ "$kills" -lt "$KILLS" ] && [ "$tries" -lt "$MAX_TRIES" ]; do
	tries=$((tries + 1))
	before=$(received "$S")
	"$HERALD" -C "$C" send news >"$SCRATCH/run.$tries.out" 2>"$SCRATCH/run.$tries.err" &
	HPID=$!
	# until this run's first message has arrived (expansion and reclaim are done)
	i=0
	while [ "$(received "$S")" -le "$before" ] && [ $i -lt 1000 ]; do
		sleep 0.01; i=$((i + 1))
	done
	delay=$(rand_delay)
	sleep "$delay"
	kill -9 "$HPID" 2>/dev/null
	{ wait "$HPID"; } 2>/dev/null; st=$?
	HPID=""
	if [ "$st" -ne 137 ]; then
		echo "try $tries: herald ended by itself (exit $st) before the kill at +${delay}s" | diag
		break
	fi
	run_got=$(( $(received "$S") - before ))
	left=$(sql "$DB" "SELECT count(*) FROM deliveries WHERE state IN ('queued', 'sending')")
	if [ "$left" -eq 0 ] || [ "$run_got" -eq 0 ]; then
		echo "try $tries: killed before this run's first message or after its last ($run_got sent, $left left); not counted" | diag
		continue
	fi
	kills=$((kills + 1))
	sql "$DB" "SELECT address FROM deliveries WHERE state = 'sending'" |
	    sed "s/^/$kills	/" >>"$SCRATCH/inflight"
	nsending=$(awk -F'\t' -v k="$kills" '$1 == k' "$SCRATCH/inflight" | wc -l)
	# In flight (at most CONNS) plus a claimed batch not yet handed to the relay
	# (at most CLAIM_BATCH): only the first can ever be received twice.
	[ "$nsending" -le $((CONNS + CLAIM_BATCH)) ] && inflight_ok=$((inflight_ok + 1))
	echo "kill $kills: +${delay}s after the run's first message; $run_got received in this run, $nsending rows left sending, $left queued or sending" | diag
	echo "$tries $kills $nsending" >>"$SCRATCH/killed-runs"
done
[ "$kills" -ge "$KILLS" ]
ok $? "$kills kills landed mid-send (rows still queued or sending after each)"
[ "$inflight_ok" -eq "$kills" ]
ok $? "after each kill, at most $CONNS + $CLAIM_BATCH rows were left sending (in flight, and claimed but unsent)"

# Each next run gives back what the killed one left sending, and says so.
reclaim_ok=0
while read -r try k n; do
	[ "$try" -eq "$tries" ] && continue	# its successor is the final send, checked below
	next=$((try + 1))
	said=$(sed -n 's/^herald: \([0-9]*\) deliveries left sending.*/\1/p' "$SCRATCH/run.$next.err" 2>/dev/null)
	[ "${said:-0}" -eq "$n" ] && reclaim_ok=$((reclaim_ok + 1))
	[ "${said:-0}" -eq "$n" ] || echo "kill $k left $n sending; the next run reclaimed '${said:-}'" | diag
done <"$SCRATCH/killed-runs"
# the last killed run's successor is the final send below: checked there

# ---- the final send finishes ----
next=$((tries + 1))
"$HERALD" -C "$C" send news >"$SCRATCH/run.$next.out" 2>"$SCRATCH/run.$next.err"; st=$?
t_end=$(now)
[ "$st" -eq 0 ]
ok $? "the final send finishes: exit 0 (got $st; $(elapsed "$t_start" "$t_end") s for all runs)"
[ "$st" -eq 0 ] || diag <"$SCRATCH/run.$next.err"
last=$(tail -1 "$SCRATCH/killed-runs" 2>/dev/null)
if [ -n "$last" ] && [ "${last%% *}" -eq "$tries" ]; then
	n=${last##* }
	said=$(sed -n 's/^herald: \([0-9]*\) deliveries left sending.*/\1/p' "$SCRATCH/run.$next.err")
	[ "${said:-0}" -eq "$n" ] && reclaim_ok=$((reclaim_ok + 1))
	[ "${said:-0}" -eq "$n" ] || echo "the final send reclaimed '${said:-}', want $n" | diag
fi
[ "$reclaim_ok" -eq "$kills" ]
ok $? "each run after a kill sends again exactly the rows left sending ($reclaim_ok of $kills)"

sleep 0.3
"$PY" - "$S/log.tsv" "$SCRATCH/inflight" "$TOTAL" "$kills" "$CONNS" >"$SCRATCH/checks" 2>&1 <<'PY'
import collections, sys
log, inflight, total, kills, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
got = collections.Counter()
for line in open(log, encoding="utf-8"):
    t, frm, rcpts = line.rstrip("\n").split("\t")
    for r in rcpts.split(","):
        got[r.lower()] += 1
want = {"user%04d@example.org" % i for i in range(1, total + 1)}
left = collections.defaultdict(set)
for line in open(inflight, encoding="utf-8"):
    k, a = line.rstrip("\n").split("\t")
    left[a].add(int(k))
missing = sorted(want - set(got))
extra = sorted(set(got) - want)
dups = {a: c - 1 for a, c in got.items() if c > 1}
ndup = sum(dups.values())
def check(name, good, detail=""):
    print("%s\t%d\t%s" % (name, 0 if good else 1, detail))
check("every recipient received the message at least once", not missing,
      "%d missing, e.g. %s" % (len(missing), missing[:5]))
check("no one else received it", not extra, str(extra[:5]))
check("duplicates: %d, at most %d per kill (%d kills)" % (ndup, conns, kills), ndup <= conns * kills,
      str(sorted(dups.items())[:10]))
outside = sorted(a for a in dups if a not in left)
check("every duplicate was a row in flight at a kill", not outside, str(outside[:10]))
many = sorted(a for a, c in dups.items() if c > len(left.get(a, ())))
check("no one received it more often than kills caught it in flight", not many, str(many[:10]))
print("distinct\t%d" % len(got))
PY
distinct=
while IFS='	' read -r name res detail; do
	if [ "$name" = distinct ]; then
		distinct=$res
		continue
	fi
	ok "$res" "$name"
	[ "$res" -eq 0 ] || echo "$detail" | diag
done <"$SCRATCH/checks"
[ -n "$distinct" ] || { ok 1 "the sink's log was read"; diag <"$SCRATCH/checks"; }

got=$(counts "$C")
sent=$(echo "$got" | cut -d' ' -f3)
[ "$sent" = "$distinct" ] && [ "$sent" -eq "$TOTAL" ]
ok $? "the journal's sent count ($sent) equals the distinct recipients the sink got (${distinct:-?})"
[ "$got" = "0 0 $TOTAL 0 0 0 0" ]
ok $? "nothing left queued or sending, nothing deferred or failed ($got)"
echo "$(received "$S") messages received for $TOTAL recipients" | diag

done_testing
