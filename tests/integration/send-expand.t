#!/bin/sh
# A large list does not hold up its first recipients: `herald send` puts
# the rows into the journal a batch at a time while the first messages go
# out. Killed (SIGKILL) as soon as the capturing sink has the first message,
# the journal still lacks part of the list; the next send finishes the
# expansion and the sending: everyone gets it, nobody twice but for what
# was in flight at the kill (at most `connections`), nothing left queued.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
TOTAL=30000
CONNS=4
TRIES=3

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
C="$SCRATCH/big"
project "$C" "$PORT" "connections: $CONNS" "timeout: 10"
gen_list "$C/lists/a.yaml" 1 "$TOTAL" "user%06d"
DB="$C/state/herald.db"

HPID=""
trap '[ -n "$HPID" ] && kill -9 "$HPID" 2>/dev/null; cleanup' EXIT

# Each try from a fresh journal: the first message arrives, herald is
# killed at once, and the journal says how much of the list was in.
try=0 caught=0 rows=$TOTAL
while [ "$try" -lt "$TRIES" ] && [ "$caught" -eq 0 ]; do
	try=$((try + 1))
	rm -rf "$C/state"
	"$HERALD" -C "$C" check >/dev/null 2>&1
	before=$(received "$S")
	"$HERALD" -C "$C" send news >"$SCRATCH/run.$try.out" 2>"$SCRATCH/run.$try.err" &
	HPID=$!
	i=0
	while [ "$(received "$S")" -le "$before" ] && [ $i -lt 3000 ]; do
		sleep 0.005; i=$((i + 1))
	done
	kill -9 "$HPID" 2>/dev/null
	{ wait "$HPID"; } 2>/dev/null
	HPID=""
	rows=$(sql "$DB" "SELECT count(*) FROM deliveries")
	got=$(( $(received "$S") - before ))
	echo "try $try: killed once the sink had a message ($got by then): $rows of $TOTAL rows in the journal" | diag
	[ "$got" -gt 0 ] && [ "$rows" -lt "$TOTAL" ] && caught=1 caught_from=$before
done
[ "$caught" -eq 1 ]
ok $? "the first message left while the list was still being expanded ($rows of $TOTAL rows in)"
inflight=$(sql "$DB" "SELECT count(*) FROM deliveries WHERE state = 'sending'")
[ "$inflight" -le $((CONNS + 32)) ]
ok $? "at the kill, $inflight rows were left sending (in flight, or claimed and unsent)"

# The next send finishes the expansion and the sending.
"$HERALD" -C "$C" send news >"$SCRATCH/final.out" 2>"$SCRATCH/final.err"; st=$?
[ "$st" -eq 0 ]
ok $? "the next send finishes: exit 0 (got $st)"
[ "$st" -eq 0 ] || diag <"$SCRATCH/final.err"
c=$(sql "$DB" "SELECT count(*), sum(state = 'sent'), sum(state IN ('queued', 'sending', 'deferred')) FROM deliveries")
[ "$c" = "$TOTAL	$TOTAL	0" ]
ok $? "the journal has every subscriber once, each sent, nothing pending (rows, sent, pending: $c)"
st_rel=$(sql "$DB" "SELECT state FROM releases")
[ "$st_rel" = done ]
ok $? "the release is done (got $st_rel)"

sleep 0.3
"$PY" - "$S/log.tsv" "$TOTAL" "${caught_from:-$before}" >"$SCRATCH/checks" 2>&1 <<'PY'
import collections, sys
log, total, skip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = open(log, encoding="utf-8").read().splitlines()
# The killed run that was caught, then the last send, on the journal they shared.
runs = lines[skip:]
got = collections.Counter(r.lower() for l in runs for r in l.split("\t")[2].split(","))
want = {"user%06d@example.org" % i for i in range(1, total + 1)}
missing = sorted(want - set(got))
extra = sorted(set(got) - want)
print("missing\t%d\t%s" % (len(missing), missing[:5]))
print("extra\t%d\t%s" % (len(extra), extra[:5]))
dups = sum(c - 1 for c in got.values() if c > 1)
print("dups\t%d" % dups)
PY
missing=$(awk -F'\t' '$1 == "missing" { print $2 }' "$SCRATCH/checks")
extra=$(awk -F'\t' '$1 == "extra" { print $2 }' "$SCRATCH/checks")
[ "$missing" = 0 ] && [ "$extra" = 0 ]
ok $? "between them the killed send and the next reached everyone, and no one else (missing $missing, extra $extra)"
[ "$missing" = 0 ] || diag <"$SCRATCH/checks"
dups=$(awk -F'\t' '$1 == "dups" { print $2 }' "$SCRATCH/checks")
[ -n "$dups" ] && [ "$dups" -le "$CONNS" ]
ok $? "duplicates: $dups, at most connections ($CONNS): only what was in flight at the kill"
done_testing
