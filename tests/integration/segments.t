#!/bin/sh
# Segments against the capturing sink: a release's `where` reaches exactly
# the subscribers in it (the sink's envelope recipients), a subscriber left
# out gets no journal row; send --where replaces the release's key of that
# name and adds the others; schedule --where is kept in the journal and
# herald run sends to that segment; the dry run and status count what the
# segment kept; a digest carries a segmented release only to digest
# subscribers in it; check warns of a field no subscriber has; a bad
# `where` is an error at its position, exit 65, nothing sent; a bad
# --where is a usage error, exit 64.
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
project "$P" "$PORT" "timeout: 10"
cp "$TOP/templates/digest.yaml" "$P/templates/"
cp "$TOP"/templates/partials/*.mustache "$P/templates/partials/"
DB="$P/state/herald.db"

cat >"$P/lists/press.yaml" <<'EOF'
name: Press
template: card
digest: { template: digest }
subscribers:
  - { email: a1@example.org, name: A One, org: O1, beat: energy, region: americas }
  - { email: a2@example.org, name: A Two, org: O2, beat: climate, region: americas }
  - { email: a3@example.org, name: A Three, org: O3, beat: energy, region: europe }
  - { email: a4@example.org, name: A Four, org: O4, region: americas }
  - { email: a5@example.org, name: A Five, org: O5, beat: sports, region: americas }
  - { email: a6@example.org, name: A Six, org: O6, beat: climate, region: europe }
  - { email: a7@example.org, name: A Seven, org: O7, beat: Energy, region: americas }
  - { email: d1@example.org, name: D One, org: D1, beat: energy, region: americas, delivery: digest }
  - { email: d2@example.org, name: D Two, org: D2, beat: sports, region: americas, delivery: digest }
EOF
cat >"$P/lists/public.yaml" <<'EOF'
name: Public
template: card
subscribers:
  - { email: A1@Example.org, name: A One, org: O1 }
  - { email: p1@example.org, name: P One, org: P1, beat: climate, region: americas }
  - { email: p2@example.org, name: P Two, org: P2, beat: energy, region: asia }
EOF
cat >"$P/releases/seg.yaml" <<'EOF'
title: Segmented news
lists: [press, public]
where: { beat: [energy, climate], region: americas }
body: |
  For the energy and climate desks in the Americas.
EOF
sed 's/^lists: .*/lists: [press]/' "$P/releases/news.yaml" >"$SCRATCH/news.yaml"
mv "$SCRATCH/news.yaml" "$P/releases/news.yaml"
for r in later empty; do
	sed "s/^title: .*/title: Release $r/; s/^lists: .*/lists: [press, public]/" \
	    "$P/releases/news.yaml" >"$P/releases/$r.yaml"
done
cat >"$P/releases/typo.yaml" <<'EOF'
title: A typo in the field
lists: [press, public]
where: { beta: energy }
body: Nobody.
EOF

# rcpts_since N: the envelope recipients of the messages after the first N, lowercase, sorted, one line.
rcpts_since() {
	if [ -f "$S/log.tsv" ]; then
		tail -n +"$(($1 + 1))" "$S/log.tsv" | cut -f3 | tr ',' '\n' | tr 'A-Z' 'a-z' | sort | tr '\n' ' '
	fi
}
# rows RELEASE: the addresses with a delivery row of RELEASE, sorted, one line.
rows() {
	sql "$DB" "SELECT d.address FROM deliveries d JOIN releases r ON r.id = d.release
	    WHERE r.release_id = '$1' ORDER BY 1" | tr '\n' ' '
}
# json RELEASE KEY: one key of `herald status RELEASE --json`.
json() {
	"$HERALD" -C "$P" status "$1" --json 2>/dev/null |
	    "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
# is GOT WANT NAME
is() {
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || printf 'got:  %s\nwant: %s\n' "$1" "$2" | diag
}
# waitfor N: until the sink has N messages (10 s at most).
waitfor() {
	_i=0
	while [ "$(received "$S")" -lt "$1" ] && [ $_i -lt 200 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
}
iso_in() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# ---- check: valid, with a warning for a field nobody has ----
"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1; st=$?
ok $st "the test project is valid (exit $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/check.out"
grep -q "typo.yaml:3:10: warning: 'where' names the field 'beta', which no subscriber of lists 'press', 'public' has" \
    "$SCRATCH/check.out"
ok $? "check warns, at the key's position, of a where on a field no subscriber of the release's lists has"
! grep -q "seg.yaml.*where" "$SCRATCH/check.out"
ok $? "and says nothing of a where whose fields the lists have"

# ---- the dry run counts what the segment keeps ----
"$HERALD" -C "$P" send seg --dry-run >"$SCRATCH/dry.out" 2>"$SCRATCH/dry.err"; st=$?
ok $st "send seg --dry-run: exit 0 (got $st)"
grep -q '^dry run: seg would go to 3 recipients' "$SCRATCH/dry.out"
ok $? "send --dry-run: 3 recipients (a1, a2, p1; A1 on public is left out there, a1 on press is kept)"
grep -q '^dry run: the segment beat=energy|climate region=americas keeps 3 of the 10 subscribers of press, public who take each release, leaves out 7$' \
    "$SCRATCH/dry.out"
ok $? "send --dry-run: the segment keeps 3 of 10, leaves out 7"
diag <"$SCRATCH/dry.out"
[ ! -f "$DB" ] || [ "$(sql "$DB" "SELECT count(*) FROM releases")" -eq 0 ]
ok $? "the dry run records nothing"

# ---- a release's where reaches exactly its segment ----
n0=$(received "$S")
"$HERALD" -C "$P" send seg >"$SCRATCH/send.out" 2>"$SCRATCH/send.err"; st=$?
ok $st "send seg: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/send.err"
is "$(rcpts_since "$n0")" "a1@example.org a2@example.org p1@example.org " \
    "the sink received seg for exactly a1, a2 and p1"
is "$(rows seg)" "a1@example.org a2@example.org p1@example.org " \
    "the journal has rows for them only: nobody left out has a row"
grep -q "the segment kept 3 of the lists' subscribers, left out 7" "$SCRATCH/send.err"
ok $? "send logs what the segment kept"
is "$(json seg segment) $(json seg segment_kept) $(json seg segment_left_out)" \
    "beat=energy|climate region=americas 3 7" "status --json: the segment, kept 3, left out 7"
"$HERALD" -C "$P" status seg >"$SCRATCH/status.out" 2>&1
grep -q "^  segment beat=energy|climate region=americas: the last send kept 3 of the lists' subscribers, left out 7$" \
    "$SCRATCH/status.out"
ok $? "status: the segment and its counts under the release"
diag <"$SCRATCH/status.out"

# ---- send --where: its key replaces the release's, the others stay ----
n0=$(received "$S")
"$HERALD" -C "$P" send seg --where region=europe >"$SCRATCH/send2.out" 2>"$SCRATCH/send2.err"; st=$?
ok $st "send seg --where region=europe: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/send2.err"
is "$(rcpts_since "$n0")" "a3@example.org a6@example.org " \
    "it reaches exactly energy or climate in europe (a3, a6): region replaced, beat kept"
is "$(json seg segment) $(json seg segment_kept) $(json seg segment_left_out)" \
    "beat=energy|climate region=americas, or beat=energy|climate region=europe 2 8" \
    "status: both segments it went to, and what the last send kept"

n0=$(received "$S")
"$HERALD" -C "$P" send news --where beat=sports --where beat=Energy >"$SCRATCH/send3.out" \
    2>"$SCRATCH/send3.err"; st=$?
ok $st "send news --where beat=sports --where beat=Energy: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/send3.err"
is "$(rcpts_since "$n0")" "a5@example.org a7@example.org " \
    "a repeated key is an OR of exact values: a5 (sports) and a7 (Energy), not energy"
is "$(rows news)" "a5@example.org a7@example.org " "news has rows for those two only"

# ---- a segment that keeps nobody ----
n0=$(received "$S")
"$HERALD" -C "$P" send empty --where beat=nothing >"$SCRATCH/empty.out" 2>"$SCRATCH/empty.err"; st=$?
[ $st -eq 65 ] && grep -q "nobody to send it to: the segment beat=nothing keeps none of the 10 subscribers" \
    "$SCRATCH/empty.err"
ok $? "a segment that keeps nobody: exit 65, said as such (got $st)"
diag <"$SCRATCH/empty.err"
is "$(rcpts_since "$n0")" "" "and nothing was sent"

# ---- preview picks from the segment ----
"$HERALD" -C "$P" preview seg >"$SCRATCH/prev1.eml" 2>"$SCRATCH/prev1.err"
ok "$(test $? -eq 0 && grep -q '^To: A One <a1@example.org>' "$SCRATCH/prev1.eml"; echo $?)" \
    "preview seg: the first subscriber in the segment (a1)"
"$HERALD" -C "$P" preview seg --where beat=climate >"$SCRATCH/prev2.eml" 2>"$SCRATCH/prev2.err"
ok "$(test $? -eq 0 && grep -q '^To: A Two <a2@example.org>' "$SCRATCH/prev2.eml"; echo $?)" \
    "preview seg --where beat=climate: a2"
"$HERALD" -C "$P" preview seg --to a5@example.org >"$SCRATCH/prev3.eml" 2>"$SCRATCH/prev3.err"
ok "$(test $? -eq 0 && grep -q '^To: A Five <a5@example.org>' "$SCRATCH/prev3.eml" &&
    grep -q 'the segment beat=energy|climate region=americas leaves a5@example.org out' \
    "$SCRATCH/prev3.err"; echo $?)" \
    "preview --to someone the segment leaves out: rendered, with a note"
"$HERALD" -C "$P" preview news --where beat=nothing >/dev/null 2>"$SCRATCH/prev4.err"; st=$?
ok "$(test $st -eq 65 && grep -q 'no subscriber in the segment beat=nothing' "$SCRATCH/prev4.err"; echo $?)" \
    "preview of a segment with nobody in the list: exit 65 (got $st)"

# ---- schedule --where, then herald run ----
"$HERALD" -C "$P" schedule later --at "$(iso_in 2)" --where region=americas --where beat=climate \
    >"$SCRATCH/sch.out" 2>&1; st=$?
ok "$(test $st -eq 0 && grep -q '^scheduled later for .* (segment region=americas beat=climate)$' \
    "$SCRATCH/sch.out"; echo $?)" "schedule --where: scheduled, the segment said (exit $st)"
diag <"$SCRATCH/sch.out"
is "$(sql "$DB" "SELECT replace(segment, char(10), '|') FROM releases WHERE release_id = 'later'")" \
    "region=americas|beat=climate||" "the journal keeps the segment with the release"
"$HERALD" -C "$P" status later >"$SCRATCH/status2.out" 2>&1
grep -q "^  segment region=americas beat=climate: counted when it is sent$" "$SCRATCH/status2.out"
ok $? "status of the scheduled release: its segment, counted when sent"
n0=$(received "$S")
LOG="$SCRATCH/run.log"
start_daemon "$P" "$LOG"
waitfor $((n0 + 2))
sleep 1	# anything more would have come by now
stop_daemon
ok "$DAEMON_STATUS" "herald run sends it and stops on SIGTERM (exit $DAEMON_STATUS)"
is "$(rcpts_since "$n0")" "a2@example.org p1@example.org " \
    "herald run sent later to exactly the scheduled segment (a2, p1)"
is "$(json later segment_kept) $(json later segment_left_out)" "2 8" \
    "status: the daemon's expansion kept 2, left out 8"

# ---- herald run retries a hand send within its segment ----
# A second project and sink: a3 is always deferred. A send by hand to
# region=europe, then two newcomers (one in europe, one not): the daemon's
# retry expands the lists again, within the segment the journal kept.
S2="$SCRATCH/sink2"
start_sink "$S2" --defer-rcpt '^a3@'
P2="$SCRATCH/p2"
project "$P2" "$PORT" "timeout: 10" "retry: [1s]"
cp "$P/lists/press.yaml" "$P/templates/digest.yaml" "$P/releases/news.yaml" "$P2/"
mv "$P2/press.yaml" "$P2/lists/"
mv "$P2/digest.yaml" "$P2/templates/"
mv "$P2/news.yaml" "$P2/releases/"
cp "$P"/templates/partials/*.mustache "$P2/templates/partials/"
"$HERALD" -C "$P2" send news --where region=europe >"$SCRATCH/p2send.out" 2>&1; st=$?
ok "$(test $st -eq 75; echo $?)" "send news --where region=europe with a3 deferred: exit 75 (got $st)"
[ $st -eq 75 ] || diag <"$SCRATCH/p2send.out"
is "$(tail -n +1 "$S2/log.tsv" 2>/dev/null | cut -f3 | sort | tr '\n' ' ')" "a6@example.org " \
    "a6 has it, a3 waits for a retry"
cat >>"$P2/lists/press.yaml" <<'EOF2'
  - { email: a10@example.org, name: A Ten, org: O10, beat: energy, region: europe }
  - { email: a11@example.org, name: A Eleven, org: O11, beat: energy, region: asia }
EOF2
start_daemon "$P2" "$SCRATCH/run2.log"
_i=0
while ! grep -q 'a10@' "$S2/log.tsv" 2>/dev/null && [ $_i -lt 200 ]; do
	sleep 0.05; _i=$((_i + 1))
done
sleep 1.5	# a retry or two more: anything else would have come by now
stop_daemon
is "$(cut -f3 "$S2/log.tsv" | sort | tr '\n' ' ')" "a10@example.org a6@example.org " \
    "the daemon's retry reached the newcomer in europe, not the one in asia nor anyone else"
is "$(sql "$P2/state/herald.db" "SELECT state FROM deliveries WHERE address = 'a3@example.org'")" \
    deferred "a3 is still deferred"

# ---- a digest carries a segmented release only to digest subscribers in it ----
n0=$(received "$S")
"$HERALD" -C "$P" digest press >"$SCRATCH/digest.out" 2>&1; st=$?
ok $st "herald digest press: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/digest.out"
is "$(sql "$DB" "SELECT i.address || ':' || r.release_id FROM digest_items i
    JOIN releases r ON r.id = i.release ORDER BY 1" | tr '\n' ' ')" \
    "d1@example.org:seg d2@example.org:news " \
    "d1 (energy, americas) is carried seg only, d2 (sports) news only"
is "$(rcpts_since "$n0")" "d1@example.org d2@example.org " "one digest each"

# ---- bad where: errors at their positions, nothing sent ----
B="$SCRATCH/bad"
mkdir -p "$B"
cp -R "$P/config" "$P/lists" "$P/templates" "$B/"
mkdir "$B/releases"
cat >"$B/releases/bad.yaml" <<'EOF'
title: Bad segments
lists: [press]
where:
  beat: []
  region: { a: b }
  org: [O1, [O2]]
  tz: UTC
  name: ~
body: Never.
EOF
cat >"$B/releases/list.yaml" <<'EOF'
title: Not a mapping
lists: [press]
where: [beat, energy]
EOF
"$HERALD" -C "$B" check >"$SCRATCH/bad.out" 2>&1; st=$?
ok "$(test $st -eq 65; echo $?)" "check of a bad where: exit 65 (got $st)"
for want in "bad.yaml:4:9: 'beat' in 'where' is an empty list" \
    "bad.yaml:5:11: expected a value for 'region' in 'where', got a mapping" \
    "bad.yaml:6:13: expected a value for 'org' in 'where', got a list" \
    "bad.yaml:7:3: 'tz' in 'where' is no subscriber field" \
    "bad.yaml:8:9: 'name' in 'where' has no value" \
    "list.yaml:3:8: expected a mapping of subscriber fields to values for 'where'"; do
	grep -qF "$want" "$SCRATCH/bad.out"
	ok $? "check: $want"
done
grep -qF "bad.yaml" "$SCRATCH/bad.out" || diag <"$SCRATCH/bad.out"
n0=$(received "$S")
"$HERALD" -C "$B" send bad >"$SCRATCH/bad-send.out" 2>&1; st=$?
ok "$(test $st -eq 65 && grep -qF "bad.yaml:4:9:" "$SCRATCH/bad-send.out"; echo $?)" \
    "send of a release with a bad where: exit 65 with the position (got $st)"
"$HERALD" -C "$B" schedule bad --at "$(iso_in 60)" >"$SCRATCH/bad-sch.out" 2>&1; st=$?
ok "$(test $st -eq 65 && grep -qF "bad.yaml:4:9:" "$SCRATCH/bad-sch.out"; echo $?)" \
    "schedule of it: exit 65 with the position (got $st)"
is "$(rcpts_since "$n0")" "" "nothing was sent"
rows=0
[ -f "$B/state/herald.db" ] && rows=$(sql "$B/state/herald.db" "SELECT count(*) FROM releases")
is "$rows" 0 "nothing was recorded"

# ---- bad --where: usage errors ----
for args in "send news --where beat" "send news --where =energy" "send news --dry-run --where beat=" \
    "preview news --where region" "schedule empty --at $(iso_in 60) --where =x" \
    "send news --where tz=UTC" "send digest.press.20270101T000000Z --where beat=energy"; do
	# shellcheck disable=SC2086
	"$HERALD" -C "$P" $args >"$SCRATCH/usage.out" 2>&1; st=$?
	ok "$(test $st -eq 64 && grep -q -- '--where' "$SCRATCH/usage.out"; echo $?)" \
	    "herald $args: usage error, exit 64 (got $st)"
done
is "$(sql "$DB" "SELECT count(*) FROM releases WHERE release_id = 'empty' AND state = 'scheduled'")" 0 \
    "a schedule with a bad --where records nothing"
"$HERALD" -C "$P" reschedule later --at "$(iso_in 60)" --where beat=x >"$SCRATCH/resch.out" 2>&1; st=$?
ok "$(test $st -eq 64; echo $?)" "reschedule takes no --where: it keeps the recorded segment (exit $st)"

done_testing
