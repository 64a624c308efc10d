#!/bin/sh
# herald digest into the capturing sink (tests/tools/sink.py): three
# releases sent to a list with two digest subscribers and two `each` ones;
# `herald digest` sends each digest subscriber exactly one
# multipart/alternative message holding all three releases, with our
# Message-ID, VERP sender and List-Unsubscribe; a second run sends nothing;
# a fourth release, then a digest, carries only the fourth; a subscriber
# who switches from each to digest, and a newcomer, get only what they have
# not had. Then a deferred digest row retried by `herald send DIGEST-ID`,
# and the errors: unknown list, no digest template, no digest subscribers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
P="$SCRATCH/p"
project "$P" "$PORT" "retry: [3s]"
cp "$TOP/templates/digest.yaml" "$P/templates/"
cp "$TOP"/templates/partials/*.mustache "$P/templates/partials/"
DB="$P/state/herald.db"

# write_list EACH2-DELIVERY [MORE SUBSCRIBER LINES...]: list a; e2's delivery is the first argument.
write_list() {
	_e2=$1; shift
	{
		cat <<EOF
name: Alpha Press
description: releases of the alpha desk
template: card
digest: { template: digest }
subscribers:
  - { email: d1@example.org, name: Dee One, org: Org D1, delivery: digest }
  - { email: e1@example.org, name: Ee One, org: Org E1 }
  - { email: D2@Example.org, name: Dee Two, org: Org D2, delivery: digest }
  - { email: e2@example.org, name: Ee Two, org: Org E2, delivery: $_e2 }
EOF
		for _l in "$@"; do
			echo "  $_l"
		done
	} >"$P/lists/a.yaml"
}
write_list each

# release N: releases/rN.yaml on list a, with a byline, a summary and a body.
release() {
	cat >"$P/releases/r$1.yaml" <<EOF
title: "Release number $1"
lists: [a]
byline: Desk $1
dateline: CITY, day $1
summary: The summary of release $1.
body: |
  The body of release $1, with *emphasis*.

  A second paragraph of release $1.
EOF
}

# send_releases N...: herald send rN for each; any failure fails the test.
send_releases() {
	_st=0
	for _n in "$@"; do
		release "$_n"
		"$HERALD" -C "$P" send "r$_n" >>"$SCRATCH/sends.out" 2>&1 || _st=1
	done
	return $_st
}

cat >"$SCRATCH/digests.py" <<'PY'
# digests.py SINKDIR FIRST: the messages received from number FIRST on,
# one line each: "rcpt<TAB>release numbers in it<TAB>problems" (problems "-"
# when none; "not a digest: SUBJECT" for a release's own message).
import email, glob, json, re, sys
from email import policy

sink, first = sys.argv[1], int(sys.argv[2])
for j in sorted(glob.glob(sink + "/[0-9]*.json")):
    if int(j[-11:-5]) < first:
        continue
    meta = json.load(open(j))
    with open(j[:-5] + ".eml", "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=policy.default)
    rcpt = meta["rcpt_tos"][0]
    if not str(msg["Message-ID"]).strip().startswith("<digest."):
        print("%s\tnone\tnot a digest: %s" % (rcpt, msg["Subject"]))
        continue
    bad = []
    if msg.get_content_type() != "multipart/alternative":
        bad.append("type " + msg.get_content_type())
    if not re.match(r"^<digest\.a\.\d{8}T\d{6}Z(-\d+)?\.[a-z2-7]+-[a-z2-7]+-[a-z2-7]+@news\.example>$", str(msg["Message-ID"]).strip()):
        bad.append("Message-ID " + str(msg["Message-ID"]).strip())
    if not re.match(r"^<mailto:unsubscribe\+[a-z2-7]+-[a-z2-7]+-[a-z2-7]+@news\.example\?subject=unsubscribe>$", str(msg["List-Unsubscribe"]).strip()):
        bad.append("List-Unsubscribe " + str(msg["List-Unsubscribe"]))
    if str(msg["List-Id"]) != "Alpha Press <a.news.example>":
        bad.append("List-Id " + str(msg["List-Id"]))
    if not re.match(r"^bounces\+[a-z2-7]+-[a-z2-7]+-[a-z2-7]+@news\.example$", meta["mail_from"] or ""):
        bad.append("envelope sender " + str(meta["mail_from"]))
    if "digest" not in str(msg["Subject"]) or "Alpha Press" not in str(msg["Subject"]):
        bad.append("Subject " + str(msg["Subject"]))
    if any(len(l) > 998 for l in raw.split(b"\r\n")):
        bad.append("a line over 998")
    parts = [p.get_content_type() for p in msg.iter_parts()]
    if parts != ["text/plain", "text/html"]:
        bad.append("parts %s" % parts)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    nums = sorted(int(n) for n in set(re.findall(r"Release number (\d+)", text)))
    for n in nums:
        for want in ("Release number %d" % n, "By Desk %d" % n, "CITY, day %d" % n,
                     "The summary of release %d." % n, "The body of release %d, with emphasis." % n,
                     "A second paragraph of release %d." % n):
            if want not in text:
                bad.append("text lacks %r" % want)
        # The text part is plain text: Markdown's marks are not shown.
        if "*emphasis*" in text:
            bad.append("text shows Markdown's *emphasis*")
        for want in ("Release number %d" % n, "<em>emphasis</em>", "The summary of release %d." % n):
            if want not in html:
                bad.append("html lacks %r" % want)
    if ("sent to %s" % rcpt) not in text or "unsubscribe+" not in text:
        bad.append("text footer")
    print("%s\t%s\t%s" % (rcpt, ",".join(map(str, nums)) or "none", "; ".join(bad) or "-"))
PY

# digests_since FIRST [SINKDIR]: digests.py's lines for the messages from number FIRST, sorted.
digests_since() { "$PY" "$SCRATCH/digests.py" "${2:-$S}" "$1" | sort; }
next_msg() { echo $(( $(received "$S") + 1 )); }

# expect_digests FIRST NAME EXPECTED: the received digests are exactly EXPECTED ("rcpt<TAB>nums" lines, sorted).
expect_digests() {
	_got=$(digests_since "$1")
	[ "$(echo "$_got" | cut -f1,2)" = "$3" ]
	ok $? "$2"
	[ "$(echo "$_got" | cut -f1,2)" = "$3" ] || { echo "got:"; echo "$_got"; echo "want:"; echo "$3"; } | diag
	_bad=$(echo "$_got" | awk -F'\t' '$3 != "-"')
	[ -z "$_bad" ]
	ok $? "$2: multipart/alternative, parts decode, headers and tokens ours"
	[ -z "$_bad" ] || echo "$_bad" | diag
}

T='	'

"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1
ok $? "the test project (with the sample digest template) is valid"

# ---- three releases, then the digest ----
send_releases 1 2 3
ok $? "three releases sent to the list"
[ "$(received "$S")" -eq 6 ]
ok $? "only the two each subscribers got them: 6 messages (got $(received "$S"))"

# The dry run and the preview say what the digest will be, and record nothing.
"$HERALD" -C "$P" digest a --dry-run >"$SCRATCH/dry.out" 2>&1; st=$?
ok "$(test $st -eq 0 && grep -q '^dry run: digest a would go to 2 of 2 digest subscribers, carrying 3 releases; nothing sent$' "$SCRATCH/dry.out"; echo $?)" \
	"digest --dry-run: to 2 of 2, carrying 3 releases (exit $st)"
diag <"$SCRATCH/dry.out"
"$HERALD" -C "$P" preview --digest a --to D2@Example.org >"$SCRATCH/dprev.eml" 2>"$SCRATCH/dprev.err"; st=$?
ok "$(test $st -eq 0 && grep -q '^To: .*d2@example.org' "$SCRATCH/dprev.eml" &&
	test "$(grep -c 'Release number [123]' "$SCRATCH/dprev.eml")" -ge 3; echo $?)" \
	"preview --digest a --to d2: the digest message, with the three releases (exit $st)"
diag <"$SCRATCH/dprev.err"
"$HERALD" -C "$P" preview --digest a --to nobody@example.org >/dev/null 2>"$SCRATCH/dprev2.err"
ok "$(test $? -eq 64 && grep -q 'takes no digest' "$SCRATCH/dprev2.err"; echo $?)" \
	"preview --digest for someone who takes no digest: said, exit 64"
ok "$(test "$(received "$S")" -eq 6; echo $?)" "the dry run and the preview sent nothing"

first=$(next_msg)
"$HERALD" -C "$P" digest a >"$SCRATCH/d1.out" 2>"$SCRATCH/d1.err"; st=$?
ok $st "herald digest a: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/d1.err"
grep -q "carries 3 releases to 2 of 2 digest subscribers" "$SCRATCH/d1.out"
ok $? "it says what the digest carries"
[ $? -eq 0 ] || diag <"$SCRATCH/d1.out"
expect_digests "$first" "each digest subscriber got one digest holding the three releases" \
    "d1@example.org${T}1,2,3
d2@example.org${T}1,2,3"
DIGEST1=$(sed -n 's/^digest a: \(digest\.a\.[^ ]*\) carries.*/\1/p' "$SCRATCH/d1.out")
n=$(sql "$DB" "SELECT count(*) FROM digest_items i JOIN releases r ON r.id = i.digest WHERE r.release_id = '$DIGEST1'")
[ "$n" = 6 ]
ok $? "the journal records 2 x 3 items for $DIGEST1 (got $n)"
"$HERALD" -C "$P" status "$DIGEST1" --json >"$SCRATCH/status.json" 2>&1
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["sent"] == 2 and j["state"] == "done"))' "$SCRATCH/status.json"
ok $? "herald status $DIGEST1: 2 sent, done"

# ---- run twice: nothing ----
before=$(received "$S")
"$HERALD" -C "$P" digest a >"$SCRATCH/d2.out" 2>"$SCRATCH/d2.err"; st=$?
ok $st "a second herald digest a: exit 0 (got $st)"
sleep 0.3
[ "$(received "$S")" -eq "$before" ]
ok $? "and it sends nothing"
grep -q "^digest a: nothing new since the last digest" "$SCRATCH/d2.out"
ok $? "and says so: $(cat "$SCRATCH/d2.out")"

# ---- a fourth release: the next digest carries only it ----
send_releases 4
ok $? "a fourth release sent"
# A newcomer is owed what goes out from the previous digest on: keep r4 out of that second.
sleep 1.1
first=$(next_msg)
"$HERALD" -C "$P" digest a >"$SCRATCH/d3.out" 2>"$SCRATCH/d3.err"; st=$?
ok $st "herald digest a after it: exit 0"
expect_digests "$first" "each digest subscriber got the fourth release only" \
    "d1@example.org${T}4
d2@example.org${T}4"

# ---- e2 switches to digest; n1 joins as digest; release 5 ----
write_list digest "- { email: n1@example.org, name: New One, org: Org N1, delivery: digest }"
send_releases 5
ok $? "a fifth release sent after e2 switched to digest and n1 joined"
n=$(sql "$DB" "SELECT count(*) FROM deliveries d JOIN releases r ON r.id = d.release WHERE r.release_id = 'r5'")
[ "$n" = 1 ]
ok $? "release 5 went by itself to e1 only (rows: $n)"
first=$(next_msg)
"$HERALD" -C "$P" digest a >"$SCRATCH/d4.out" 2>"$SCRATCH/d4.err"; st=$?
ok $st "herald digest a: exit 0"
expect_digests "$first" "the switcher and the newcomer get only release 5, as the others" \
    "d1@example.org${T}5
d2@example.org${T}5
e2@example.org${T}5
n1@example.org${T}5"

# ---- across every digest: no address got a release twice, no one missed one ----
got=$("$PY" "$SCRATCH/digests.py" "$S" 1 | "$PY" -c '
import collections, sys
seen = collections.Counter()
for line in sys.stdin:
    rcpt, nums, problems = line.rstrip("\n").split("\t")
    if problems.startswith("not a digest"):
        continue
    for n in nums.split(","):
        seen[(rcpt, n)] += 1
print(" ".join("%s:%s" % k for k, c in sorted(seen.items()) if c > 1) or "none")')
[ "$got" = none ]
ok $? "no release reached an address in two digests (repeats: $got)"
n=$(sql "$DB" "SELECT count(*) FROM (SELECT address, release FROM digest_items GROUP BY 1, 2 HAVING count(*) > 1)")
[ "$n" = 0 ]
ok $? "the journal has each (address, release) item once"

# ---- a deferred digest row: retried by herald send DIGEST-ID ----
stop_pid "$SINK_PID"
S2="$SCRATCH/sink2"
start_sink "$S2" --defer-rcpt '^d1@'
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$PORT|" "$P/config/herald.yaml"
send_releases 6
"$HERALD" -C "$P" digest a >"$SCRATCH/d5.out" 2>"$SCRATCH/d5.err"; st=$?
[ $st -eq 75 ]
ok $? "a digest whose row is deferred: exit 75 (got $st)"
DIGEST5=$(sed -n 's/^digest a: \(digest\.a\.[^ ]*\) carries.*/\1/p' "$SCRATCH/d5.out")
state=$(sql "$DB" "SELECT d.state FROM deliveries d JOIN releases r ON r.id = d.release WHERE r.release_id = '$DIGEST5' AND d.address = 'd1@example.org'")
[ "$state" = deferred ]
ok $? "d1's row of $DIGEST5 is deferred (got '$state')"
[ "$(cut -f3 "$S2/log.tsv" | sort | tr '\n' ' ')" = "d2@example.org e1@example.org e2@example.org n1@example.org " ]
ok $? "the others got their digests, e1 release 6: $(cut -f3 "$S2/log.tsv" | sort | tr '\n' ' ')"
stop_pid "$SINK_PID"
start_sink "$S2"
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$PORT|" "$P/config/herald.yaml"
"$HERALD" -C "$P" digest a >"$SCRATCH/d6.out" 2>"$SCRATCH/d6.err"; st=$?
[ $st -eq 75 ] && grep -q "nothing new" "$SCRATCH/d6.out"
ok $? "before its retry time, herald digest makes no new digest and says the old one waits (exit $st)"
[ $st -eq 75 ] || cat "$SCRATCH/d6.out" "$SCRATCH/d6.err" | diag
sleep 3.1
"$HERALD" -C "$P" send "$DIGEST5" >"$SCRATCH/d7.out" 2>"$SCRATCH/d7.err"; st=$?
ok $st "herald send $DIGEST5 retries it: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/d7.err"
[ "$(grep -c '	d1@example.org$' "$S2/log.tsv")" -eq 1 ]
ok $? "d1 got the digest once"
n=$(sql "$DB" "SELECT count(*) FROM digest_items WHERE address = 'd1@example.org' AND release = (SELECT id FROM releases WHERE release_id = 'r6')")
[ "$n" = 1 ]
ok $? "release 6 is recorded once for d1"

# ---- two digests at once: one makes the digest, the other finds nothing new ----
send_releases 7
before=$(received "$S2")
"$HERALD" -C "$P" digest a >"$SCRATCH/c1.out" 2>&1 &
c1=$!
"$HERALD" -C "$P" digest a >"$SCRATCH/c2.out" 2>&1; st2=$?
wait $c1; st1=$?
# 75 is fair too: one may resume the other's digest and find rows the other has in flight.
[ $st1 -eq 0 -o $st1 -eq 75 ] && [ $st2 -eq 0 -o $st2 -eq 75 ] && [ $((st1 + st2)) -lt 150 ]
ok $? "two herald digest a at once: exit 0 (or 75 for one of them; got $st1, $st2)"
[ "$(cat "$SCRATCH/c1.out" "$SCRATCH/c2.out" | grep -c 'carries 1 release to 4 of 4')" -eq 1 ] &&
    [ "$(cat "$SCRATCH/c1.out" "$SCRATCH/c2.out" | grep -c 'nothing new')" -eq 1 ]
ok $? "one made the digest, the other found nothing new"
[ $? -eq 0 ] || cat "$SCRATCH/c1.out" "$SCRATCH/c2.out" | diag
first=$((before + 1))
_got=$(digests_since "$first" "$S2" | cut -f1,2 | grep -v '^e1@')
[ "$_got" = "d1@example.org${T}7
d2@example.org${T}7
e2@example.org${T}7
n1@example.org${T}7" ]
ok $? "each digest subscriber got release 7 once"
[ $? -eq 0 ] || echo "$_got" | diag

# ---- errors ----
"$HERALD" -C "$P" digest nosuch >"$SCRATCH/e1.out" 2>"$SCRATCH/e1.err"; st=$?
[ $st -eq 65 ] && [ "$(wc -l <"$SCRATCH/e1.err")" -eq 1 ] && grep -q "unknown list 'nosuch'" "$SCRATCH/e1.err"
ok $? "an unknown list: exit 65 and one line (got $st: $(cat "$SCRATCH/e1.err"))"
gen_list "$P/lists/b.yaml" 1 3
"$HERALD" -C "$P" digest b >"$SCRATCH/e2.out" 2>"$SCRATCH/e2.err"; st=$?
[ $st -eq 65 ] && [ "$(wc -l <"$SCRATCH/e2.err")" -eq 1 ] && grep -q "lists/b.yaml: list 'b' has no digest template" "$SCRATCH/e2.err"
ok $? "a list without a digest template: exit 65 and one line (got $st: $(cat "$SCRATCH/e2.err"))"
echo "digest: { template: digest }" >>"$P/lists/b.yaml"
before=$(received "$S2")
"$HERALD" -C "$P" digest b >"$SCRATCH/e3.out" 2>"$SCRATCH/e3.err"; st=$?
sleep 0.3
[ $st -eq 0 ] && [ "$(received "$S2")" -eq "$before" ] && grep -q "no subscriber takes the digest" "$SCRATCH/e3.out"
ok $? "a list without digest subscribers: exit 0, no mail (got $st: $(cat "$SCRATCH/e3.out"))"
"$HERALD" -C "$P" digest >/dev/null 2>&1; st=$?
[ $st -eq 64 ]
ok $? "no LIST: exit 64 (got $st)"

done_testing
