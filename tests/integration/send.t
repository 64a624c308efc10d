#!/bin/sh
# herald send into the capturing sink (tests/tools/sink.py): every
# subscriber gets exactly one message, personalised and addressed to them,
# with a VERP envelope sender and a unique Message-ID; an address on two
# lists once, a suppressed one never (its row skipped); a second send sends
# nothing more. Then: dry run, embargo, expiry, an unreachable relay, a
# refused login, and a bad --at.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

# ---- capture: 500 + 75 subscribers on two lists, 50 shared, 1 suppressed ----
S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 4" "timeout: 5"
gen_list "$P/lists/a.yaml" 1 500
# b: 50 of a's addresses in other letter case (same people), and 25 of its own
awk 'BEGIN {
	print "name: Second"
	print "template: card"
	print "subscribers:"
	for (i = 1; i <= 50; i++)
		printf "  - email: User%04d@EXAMPLE.Org\n    name: Person %04d\n    org: Org %04d\n", i, i, i
	for (i = 1; i <= 25; i++)
		printf "  - email: other%04d@example.net\n    name: Other %04d\n    org: Second Org %04d\n", i, i, i
}' >"$P/lists/b.yaml"
sed -i 's/^lists: .*/lists: [a, b]/' "$P/releases/news.yaml"
SUPP=user0100@example.org
{
	awk 'BEGIN { for (i = 1; i <= 500; i++) printf "user%04d@example.org\tPerson %04d\tOrg %04d\n", i, i, i
	    for (i = 1; i <= 25; i++) printf "other%04d@example.net\tOther %04d\tSecond Org %04d\n", i, i, i }'
} | grep -v "^$SUPP	" >"$SCRATCH/expected.tsv"

"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1; st=$?
ok $st "the test project is valid"
[ $st -eq 0 ] || diag <"$SCRATCH/check.out"

"$HERALD" -C "$P" suppress "$SUPP" >"$SCRATCH/supp.out" 2>&1
ok $? "herald suppress $SUPP before sending"

# strace, when it can trace here, shows which files the send opens.
TRACE=
if strace -f -qq -e trace=open,openat,openat2 -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace (make asan): not for this one run.
	TRACE="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=open,openat,openat2 -o $SCRATCH/send.trace"
fi
t0=$(now)
$TRACE "$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>"$SCRATCH/send.err"; st=$?
t1=$(now)
[ "$st" -eq 0 ]
ok $? "herald send: exit 0 (got $st, $(elapsed "$t0" "$t1") s)"
[ "$st" -eq 0 ] || diag <"$SCRATCH/send.err"
if [ -n "$TRACE" ]; then
	# Project files are opened beneath their folder: openat2(FOLDER_FD, "a.yaml").
	for f in lists/a.yaml lists/b.yaml releases/news.yaml; do
		n=$(grep -cE "\"(${f%/*}/)?${f##*/}\"" "$SCRATCH/send.trace")
		[ "$n" -eq 1 ]
		ok $? "the send reads $f once (opened $n times)"
	done
else
	skip "the send reads each list and the release once" "strace cannot trace here"
fi

cat >"$SCRATCH/check.py" <<'PY'
# check.py SINKDIR EXPECTED.TSV SUPPRESSED: one line per check, "name<TAB>0|1<TAB>detail"
import collections, email, glob, json, re, sys
from email import policy

sink, expected_file, suppressed = sys.argv[1:4]
exp = {}
for line in open(expected_file, encoding="utf-8"):
    a, n, o = line.rstrip("\n").split("\t")
    exp[a] = (n, o)
got = collections.Counter()
mids = collections.Counter()
bad = collections.defaultdict(list)
verp = re.compile(r"^bounces\+[a-z2-7]+-[a-z2-7]+-[a-z2-7]+@news\.example$")
nmsg = 0
for j in sorted(glob.glob(sink + "/[0-9]*.json")):
    nmsg += 1
    meta = json.load(open(j))
    with open(j[:-5] + ".eml", "rb") as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    rcpts = meta["rcpt_tos"]
    if len(rcpts) != 1:
        bad["one envelope recipient a message"].append("%s: %s" % (j, rcpts))
        continue
    rcpt = rcpts[0]
    got[rcpt.lower()] += 1
    if rcpt != rcpt.lower():
        bad["envelope recipient canonical (lowercase)"].append(rcpt)
    if not verp.match(meta["mail_from"] or ""):
        bad["VERP envelope sender"].append(meta["mail_from"])
    mid = msg["Message-ID"]
    mids[mid] += 1
    if not re.match(r"^<news\.[a-z2-7]+-[a-z2-7]+-[a-z2-7]+@news\.example>$", str(mid)):
        bad["Message-ID <news.TOKEN@news.example>"].append(str(mid))
    want = exp.get(rcpt.lower())
    if want is None:
        continue
    to = msg["To"].addresses
    if len(to) != 1 or to[0].addr_spec.lower() != rcpt.lower() or to[0].display_name != want[0]:
        bad["To header: the recipient's name and address"].append("%s: %s" % (rcpt, msg["To"]))
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    if ("Dear %s,\nOrg: %s\n" % want) not in text.replace("\r\n", "\n"):
        bad["personalised text part (name, org)"].append("%s: %r" % (rcpt, text[:80]))
    if ("Dear %s (%s)" % want) not in html:
        bad["personalised html part (name, org)"].append("%s: %r" % (rcpt, html[:80]))

def check(name, good, detail=""):
    print("%s\t%d\t%s" % (name, 0 if good else 1, detail))

missing = [a for a in exp if got[a] == 0]
twice = [a for a in got if got[a] > 1]
extra = [a for a in got if a not in exp]
check("every subscriber received the release", not missing, "missing %d, e.g. %s" % (len(missing), missing[:3]))
check("no one received it twice", not twice, "%d twice, e.g. %s" % (len(twice), twice[:3]))
check("no one else received it", not extra, "%s" % extra[:5])
check("one message a subscriber: %d messages for %d subscribers" % (nmsg, len(exp)), nmsg == len(exp))
shared = ["user%04d@example.org" % i for i in range(1, 51)]
check("the 50 addresses on both lists (other letter case) received it once each",
      all(got[a] == 1 for a in shared), str([(a, got[a]) for a in shared if got[a] != 1][:5]))
check("the suppressed subscriber never received it", got[suppressed] == 0, str(got[suppressed]))
check("Message-IDs all unique", len(mids) == nmsg and all(c == 1 for c in mids.values()),
      str([m for m, c in mids.items() if c > 1][:3]))
for name in ("one envelope recipient a message", "envelope recipient canonical (lowercase)",
             "VERP envelope sender", "Message-ID <news.TOKEN@news.example>",
             "To header: the recipient's name and address",
             "personalised text part (name, org)", "personalised html part (name, org)"):
    check(name, not bad[name], "%d wrong, e.g. %s" % (len(bad[name]), bad[name][:2]))
PY

# run_checks: each line of check.py's output as one TAP test
run_checks() {
	"$PY" "$SCRATCH/check.py" "$S" "$SCRATCH/expected.tsv" "$SUPP" >"$SCRATCH/checks" 2>&1 ||
	    { ok 1 "check.py ran"; diag <"$SCRATCH/checks"; return; }
	while IFS='	' read -r name res detail; do
		ok "$res" "$name"
		[ "$res" -eq 0 ] || echo "$detail" | diag
	done <"$SCRATCH/checks"
}
run_checks

state=$(sql "$P/state/herald.db" "SELECT state, text FROM deliveries WHERE address = '$SUPP'")
[ "$(echo "$state" | cut -f1)" = skipped ]
ok $? "the suppressed subscriber's row is skipped (got '$state')"
n=$(sql "$P/state/herald.db" "SELECT count(*) FROM deliveries")
[ "$n" -eq 525 ]
ok $? "one journal row per distinct address: 525 (got $n)"
got=$(counts "$P")
[ "$got" = "0 0 524 0 0 1 0" ]
ok $? "status --json: 524 sent, 1 skipped, nothing else (queued sending sent deferred failed skipped bounced: $got)"
[ "$(status_field "$P" replies)" = "" ]
ok $? "status --json: no replies of deferred or failed rows"

before=$(received "$S")
"$HERALD" -C "$P" send news >"$SCRATCH/send2.out" 2>"$SCRATCH/send2.err"; st=$?
sleep 0.3
after=$(received "$S")
[ "$st" -eq 0 ] && [ "$after" -eq "$before" ]
ok $? "a second send of the release sends nothing more (exit $st, $before -> $after messages)"
[ "$st" -eq 0 ] || diag <"$SCRATCH/send2.err"
[ "$(counts "$P")" = "0 0 524 0 0 1 0" ]
ok $? "and the counts are unchanged"

# ---- dry run on a fresh project: a count, nothing sent, no journal rows ----
D="$SCRATCH/dry"
mkdir -p "$D"
cp -R "$P/config" "$P/lists" "$P/templates" "$P/releases" "$D/"
before=$(received "$S")
"$HERALD" -C "$D" send news --dry-run >"$SCRATCH/dry.out" 2>"$SCRATCH/dry.err"; st=$?
sleep 0.3
[ "$st" -eq 0 ]
ok $? "send --dry-run: exit 0 (got $st)"
[ "$st" -eq 0 ] || diag <"$SCRATCH/dry.err"
grep -q '\b525\b' "$SCRATCH/dry.out"
ok $? "send --dry-run prints how many would go (525)"
grep -q '\b525\b' "$SCRATCH/dry.out" || diag <"$SCRATCH/dry.out"
[ "$(received "$S")" -eq "$before" ]
ok $? "send --dry-run sends nothing"
rows=0
[ -f "$D/state/herald.db" ] && rows=$(sql "$D/state/herald.db" \
    "SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM releases)")
[ "$rows" -eq 0 ]
ok $? "send --dry-run creates no journal rows (got $rows)"

# A small project for the cases below: 20 subscribers.
small() { # small DIR PORT [SMTP LINES...]
	_d=$1; shift
	project "$_d" "$@"
	gen_list "$_d/lists/a.yaml" 1 20
}

# ---- embargo in the future: 75, nothing sent ----
E="$SCRATCH/embargo"
small "$E" "$PORT" "connections: 4" "timeout: 5"
echo 'embargo: 2099-01-01T00:00:00Z' >>"$E/releases/news.yaml"
before=$(received "$S")
"$HERALD" -C "$E" send news >"$SCRATCH/emb.out" 2>"$SCRATCH/emb.err"; st=$?
sleep 0.3
[ "$st" -eq 75 ]
ok $? "embargo in the future: exit 75 (got $st)"
[ "$st" -eq 75 ] || diag <"$SCRATCH/emb.err"
[ "$(received "$S")" -eq "$before" ]
ok $? "embargo in the future: the sink receives nothing"

"$HERALD" -C "$E" schedule news --at 2099-01-01T00:00:00Z >"$SCRATCH/emb2.out" 2>&1; st=$?
[ "$st" -eq 0 ]
ok $? "after a send refused for its embargo, schedule at the embargo works (got $st)"
diag <"$SCRATCH/emb2.out"

# ---- expired (expires in the past, no embargo): nothing sent ----
X="$SCRATCH/expired"
small "$X" "$PORT" "connections: 4" "timeout: 5"
echo 'expires: 2001-01-01T00:00:00Z' >>"$X/releases/news.yaml"
before=$(received "$S")
"$HERALD" -C "$X" send news >"$SCRATCH/exp.out" 2>"$SCRATCH/exp.err"; st=$?
sleep 0.3
[ "$(received "$S")" -eq "$before" ]
ok $? "an expired release: nothing sent (exit $st)"
{ echo "exit $st"; cat "$SCRATCH/exp.out" "$SCRATCH/exp.err"; } | diag
got=$(counts "$X")
[ "$got" = "0 0 0 0 20 0 0" ]
ok $? "an expired release: every row failed, none left queued or sending (got $got)"
[ "$got" = "0 0 0 0 20 0 0" ] || sql "$X/state/herald.db" "SELECT state, text, count(*) FROM deliveries GROUP BY 1, 2" | diag
said=$(sed -n 's/.* expired at .*: \([0-9]*\) deliveries failed.*/\1/p' "$SCRATCH/exp.err")
[ "${said:-0}" -eq 20 ]
ok $? "an expired release: the error counts the 20 rows failed as expired (says ${said:-nothing})"
"$HERALD" -C "$X" send news >/dev/null 2>&1
sleep 0.3
[ "$(received "$S")" -eq "$before" ]
ok $? "an expired release: a second send sends nothing either"

# ---- unreachable relay (a closed port): 69, rows stay queued ----
U="$SCRATCH/unreachable"
small "$U" "$(free_port)" "connections: 4" "timeout: 5"
t0=$(now)
"$HERALD" -C "$U" send news >"$SCRATCH/unr.out" 2>"$SCRATCH/unr.err"; st=$?
t1=$(now)
[ "$st" -eq 69 ]
ok $? "unreachable relay: exit 69 (got $st)"
[ "$st" -eq 69 ] || diag <"$SCRATCH/unr.err"
got=$(counts "$U")
[ "$got" = "20 0 0 0 0 0 0" ]
ok $? "unreachable relay: the 20 rows are still queued (got $got)"
grep -q '127.0.0.1' "$SCRATCH/unr.err"
ok $? "unreachable relay: the error names the relay"
diag <"$SCRATCH/unr.err"

# ---- a refused login: 78, a clear error, rows queued, nothing received, password never shown ----
A="$SCRATCH/authsink"
printf 'sesame\n' >"$SCRATCH/pw"
start_sink "$A" --auth-user press --auth-password-file "$SCRATCH/pw"
ok $? "a sink that requires AUTH starts"
L="$SCRATCH/login"
small "$L" "$PORT" "connections: 4" "timeout: 5" "username: press" "password_env: HERALD_TEST_SMTP_PASSWORD"
WRONG='Wr0ng-Pa55-xyzzy'
HERALD_TEST_SMTP_PASSWORD=$WRONG "$HERALD" -C "$L" send news >"$SCRATCH/auth.out" 2>"$SCRATCH/auth.err"; st=$?
[ "$st" -eq 78 ]
ok $? "wrong password: exit 78 (got $st)"
grep -qi 'login' "$SCRATCH/auth.err"
ok $? "wrong password: the error names the login"
diag <"$SCRATCH/auth.err"
got=$(counts "$L")
[ "$got" = "20 0 0 0 0 0 0" ]
ok $? "wrong password: the rows are still queued (got $got)"
[ "$(received "$A")" -eq 0 ]
ok $? "wrong password: nothing received"
! grep -q "$WRONG" "$SCRATCH/auth.out" "$SCRATCH/auth.err"
ok $? "wrong password: the password never appears in herald's output"
HERALD_TEST_SMTP_PASSWORD=$WRONG "$HERALD" -v -C "$L" send news >"$SCRATCH/auth-v.out" 2>&1
! grep -q "$WRONG" "$SCRATCH/auth-v.out"
ok $? "wrong password: nor with -v"
HERALD_TEST_SMTP_PASSWORD=sesame "$HERALD" -C "$L" send news >"$SCRATCH/auth2.out" 2>"$SCRATCH/auth2.err"; st=$?
[ "$st" -eq 0 ] && [ "$(received "$A")" -eq 20 ] && [ "$(counts "$L")" = "0 0 20 0 0 0 0" ]
ok $? "the right password then delivers all 20 (exit $st, $(received "$A") received)"
[ "$st" -eq 0 ] || diag <"$SCRATCH/auth2.err"

# ---- schedule with a bad time: usage ----
"$HERALD" -C "$E" schedule news --at not-a-time >"$SCRATCH/sch.out" 2>"$SCRATCH/sch.err"; st=$?
[ "$st" -eq 64 ]
ok $? "herald schedule news --at not-a-time: exit 64 (got $st)"
[ -s "$SCRATCH/sch.err" ]
ok $? "and says why on stderr"

# ---- suppressed after expansion (between an interrupted send and its resume): skipped ----
S="$SCRATCH/sink2"
start_sink "$S"
ok $? "a second plain sink starts"
R="$SCRATCH/resume"
small "$R" "$(free_port)" "connections: 4" "timeout: 5"
"$HERALD" -C "$R" send news >/dev/null 2>&1
"$HERALD" -C "$R" suppress user0007@example.org >/dev/null 2>&1
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$PORT|" "$R/config/herald.yaml"
"$HERALD" -C "$R" send news >"$SCRATCH/res.out" 2>"$SCRATCH/res.err"; st=$?
sleep 0.3
! grep -q 'user0007@example.org' "$S/log.tsv"
ok $? "an address suppressed after expansion is not mailed when the send resumes"
got=$(counts "$R")
[ "$got" = "0 0 19 0 0 1 0" ]
ok $? "its row is skipped, the others sent (got $got, exit $st)"

[ "$(stat -c %a "$R/state/herald.db")" = 600 ] && [ "$(stat -c %a "$R/state")" = 700 ]
ok $? "the journal (every subscriber's address) is readable by its owner only"

# ---- cancel while a send runs: the sender stops, the rest fails as cancelled ----
C2="$SCRATCH/cancel"
small "$C2" "$PORT" "connections: 1" "timeout: 5" "rate: 4/s" "burst: 1"
"$HERALD" -C "$C2" send news >"$SCRATCH/can.out" 2>"$SCRATCH/can.err" &
sender=$!
sleep 1.5
"$HERALD" -C "$C2" cancel news >"$SCRATCH/can2.out" 2>&1
wait "$sender"; st=$?
got=$(counts "$C2")
sent=$(echo "$got" | cut -d' ' -f3)
failed=$(echo "$got" | cut -d' ' -f5)
[ "$st" -eq 0 ] && [ "$sent" -lt 20 ] && [ "$((sent + failed))" -eq 20 ] &&
    [ "$(status_field "$C2" state)" = cancelled ]
ok $? "cancel during a send: it stops, the rest failed, state cancelled (exit $st, counts $got)"
{ cat "$SCRATCH/can.err" "$SCRATCH/can2.out"; } | diag

# ---- a password in smtp.url is refused, and not echoed ----
P2="$SCRATCH/urlpass"
small "$P2" "$PORT" "connections: 1"
sed -i "s|smtp://127.0.0.1:|smtp://press:Sekr1t-Url@127.0.0.1:|" "$P2/config/herald.yaml"
"$HERALD" -C "$P2" check >"$SCRATCH/up.out" 2>&1; st=$?
[ "$st" -eq 78 ] && ! grep -q 'Sekr1t-Url' "$SCRATCH/up.out"
ok $? "a password in smtp.url is a configuration error that does not echo it (exit $st)"
diag <"$SCRATCH/up.out"

done_testing
