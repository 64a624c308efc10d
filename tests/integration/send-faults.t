#!/bin/sh
# herald send against Postfix's smtp-sink with one injected fault at a
# time, 5 recipients a case on 5 connections: 4xx, lost connections and
# timeouts leave the rows deferred with the relay's reply in `status
# --json`; 5xx fails them. The retry step, 5 s, is longer than a case
# runs: a row deferred early must not come due while another is still in
# flight (a timeout takes up to 3 s), or the send would go on retrying it.
# Then, after the retry step, the same journals sent again to a healthy
# smtp-sink: every deferred row becomes sent, failed rows stay failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! command -v smtp-sink >/dev/null 2>&1; then
	echo "1..0 # SKIP needs smtp-sink (postfix)"
	exit 0
fi
N=5
CASES=""

# fault NAME EXIT STATE REPLY-REGEX [SMTP-SINK OPTIONS...]: one project
# (in $SCRATCH/NAME) sent to an smtp-sink with those options; every row
# must end in STATE, the exit status must be EXIT, and status --json's
# replies must all match REPLY-REGEX (Python re) and count N rows in all.
fault() {
	name=$1 want_st=$2 want_state=$3 want_reply=$4
	shift 4
	start_smtp_sink "$@" || { ok 1 "$name: smtp-sink starts"; return; }
	dir="$SCRATCH/$name"
	project "$dir" "$PORT" "connections: $N" "timeout: 1" "retry: [5s]"
	gen_list "$dir/lists/a.yaml" 1 "$N"
	t0=$(now)
	"$HERALD" -C "$dir" send news >"$dir.out" 2>"$dir.err"; st=$?
	t1=$(now)
	stop_pid "$SMTP_SINK_PID"
	[ "$st" -eq "$want_st" ]
	ok $? "smtp-sink $*: exit $want_st (got $st, $(elapsed "$t0" "$t1") s)"
	[ "$st" -eq "$want_st" ] || diag <"$dir.err"
	got=$(counts "$dir")
	case $want_state in
	deferred) want="0 0 0 $N 0 0 0" ;;
	failed) want="0 0 0 0 $N 0 0" ;;
	esac
	[ "$got" = "$want" ]
	ok $? "smtp-sink $*: all $N rows $want_state (queued sending sent deferred failed skipped bounced: $got)"
	[ "$got" = "$want" ] || sql "$dir/state/herald.db" "SELECT state, code, enhanced, text FROM deliveries" | diag
	replies=$(status_field "$dir" replies)
	# every reply matches, and they count all N rows (libcurl words one
	# timeout in more than one way)
	"$PY" -c '
import re, sys
want, got, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pairs = [r.rsplit("=", 1) for r in got.split("|")] if got else []
sys.exit(0 if pairs and all(re.fullmatch(want, r) for r, c in pairs)
         and sum(int(c) for r, c in pairs) == n else 1)' "$want_reply" "$replies" "$N"
	ok $? "smtp-sink $*: status replies: $replies"
	CASES="$CASES $name:$want_state"
}

fault rcpt-450 75 deferred '450 4\.3\.0 .+' -r RCPT
fault rcpt-452 75 deferred '452 4\.2\.2 mailbox full' -r RCPT -b '452 4.2.2 mailbox full'
fault rcpt-500 0 failed '500 5\.3\.0 .+' -f RCPT
fault dot-500 0 failed '500 5\.3\.0 .+' -f .
fault dot-450 75 deferred '450 4\.3\.0 .+' -r .
fault mail-421 75 deferred '421( 4\.\d\.\d)? .+' -Q MAIL
fault data-lost 75 deferred '(?i).*(connection|recv|receiv|reading|lost|closed|reset).*' -q DATA
# -w delays the reply to DATA (not the greeting); -W CONNECT:S delays the greeting.
fault data-slow 75 deferred '(?i).*(time|timeout|timed out).*' -w 3
fault greeting-slow 75 deferred '(?i).*(time|timeout|timed out).*' -W CONNECT:3

# The failed rows were refused for good: none of them suppressed as a hard
# bounce (5.3.0 is not a mailbox problem).
n=$(sql "$SCRATCH/rcpt-500/state/herald.db" "SELECT count(*) FROM suppressions")
[ "$n" -eq 0 ]
ok $? "500 5.3.0 suppresses no one (got $n suppressions)"

# ---- recovery: a healthy smtp-sink, after the 5 s retry step ----
start_smtp_sink -c
ok $? "a healthy smtp-sink starts"
sleep 5
for c in $CASES; do
	name=${c%%:*} was=${c#*:}
	dir="$SCRATCH/$name"
	sed -i "s|url: smtp://127.0.0.1:[0-9]*|url: smtp://127.0.0.1:$PORT|" "$dir/config/herald.yaml"
	"$HERALD" -C "$dir" send news >"$dir.out2" 2>"$dir.err2"; st=$?
	got=$(counts "$dir")
	if [ "$was" = deferred ]; then
		[ "$st" -eq 0 ] && [ "$got" = "0 0 $N 0 0 0 0" ]
		ok $? "$name: sent again after the retry step, every deferred row is sent (exit $st; $got)"
	else
		[ "$st" -eq 0 ] && [ "$got" = "0 0 0 0 $N 0 0" ]
		ok $? "$name: failed rows are not sent again (exit $st; $got)"
	fi
	[ "$st" -eq 0 ] || diag <"$dir.err2"
done
stop_pid "$SMTP_SINK_PID"
# smtp-sink -c counts sessions and messages; every recovered row went out once.
want=$(( $(echo "$CASES" | tr ' ' '\n' | grep -c ':deferred$') * N ))
msgs=$(tr '\r' '\n' <"$SCRATCH/smtp-sink.$PORT.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1)
[ "${msgs:-0}" -eq "$want" ]
ok $? "the healthy smtp-sink got each recovered row once: $want messages (got ${msgs:-none})"

done_testing
