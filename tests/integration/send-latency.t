#!/bin/sh
# A relay that takes its time over the final dot, as one that writes each
# message to disk before it answers: herald keeps every connection busy
# meanwhile. The sink waits 0.4 s before each 250; with connections 6,
# six messages must wait for that answer at once, and 30 recipients go
# in five rounds, each once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
N=30

S="$SCRATCH/sink"
start_sink "$S" --data-delay 0.4
ok $? "the capturing sink starts, answering each final dot after 0.4 s"
L="$SCRATCH/latency"
project "$L" "$PORT" "connections: 6" "timeout: 10"
gen_list "$L/lists/a.yaml" 1 "$N"

"$HERALD" -C "$L" send news >"$SCRATCH/send.out" 2>"$SCRATCH/send.err"; st=$?
[ "$st" -eq 0 ] && [ "$(received "$S")" -eq "$N" ]
ok $? "all $N sent: exit $st, $(received "$S") received"
[ "$st" -eq 0 ] || diag <"$SCRATCH/send.err"

"$PY" - "$S" "$N" >"$SCRATCH/checks" 2>&1 <<'PY'
import collections, glob, json, sys
metas = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
peak = max(m["waiting"] for m in metas)
print("six messages waited for the relay's answer at once, one a connection (at most %d did)\t%d"
      % (peak, 0 if peak == 6 else 1))
counts = collections.Counter(r for m in metas for r in m["rcpt_tos"])
print("every recipient received it once (%d distinct, %d messages)\t%d"
      % (len(counts), len(metas), 0 if len(counts) == int(sys.argv[2]) and len(metas) == len(counts) else 1))
PY
ok_checks "$SCRATCH/checks" "the sink's files were read"

done_testing
