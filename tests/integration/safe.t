#!/bin/sh
# Safe for the director: the mistakes a tired director makes are refused,
# loudly, before anything goes out. A schedule in the past (a typo in the
# year) is refused; a misspelt subscriber key is an error, not a template
# field; .yml files are read like .yaml.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

iso_ago() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ; }

P="$SCRATCH/p"
project "$P" 9 "connections: 1"
gen_list "$P/lists/a.yaml" 1 3

# ---- a schedule in the past ----
"$HERALD" -C "$P" schedule news --at "$(iso_ago 3600)" >"$SCRATCH/past.out" 2>"$SCRATCH/past.err"
st=$?
ok "$(test $st -eq 64; echo $?)" "schedule --at an hour ago: exit 64 (got $st)"
ok "$(grep -q 'is in the past (it is now .*); use herald send to send now' "$SCRATCH/past.err"; echo $?)" \
	"it says the time is past, and what to do instead"
diag <"$SCRATCH/past.err"
"$HERALD" -C "$P" status news >/dev/null 2>&1
ok "$(test $? -eq 65; echo $?)" "nothing was recorded"
year=$(($(date -u +%Y) - 1))
"$HERALD" -C "$P" schedule news --at "$year-$(date -u +%m-%dT%H:%M:%SZ)" >/dev/null 2>&1
ok "$(test $? -eq 64; echo $?)" "a typo in the year ($year) is refused"
"$HERALD" -C "$P" schedule news --at "$(date -u +%Y-%m-%dT%H:%M)" --tz UTC >"$SCRATCH/now.out" 2>&1
ok $? "the current minute, as read on a clock, is still now"
diag <"$SCRATCH/now.out"
"$HERALD" -C "$P" reschedule news --at "$(iso_ago 7200)" >/dev/null 2>"$SCRATCH/re.err"
ok "$(test $? -eq 64 && grep -q 'in the past' "$SCRATCH/re.err"; echo $?)" \
	"reschedule to a time past is refused too"
"$HERALD" -C "$P" cancel news >/dev/null 2>&1

# ---- a misspelt subscriber key ----
cat >>"$P/lists/a.yaml" <<'LIST'
  - email: digest.reader@example.org
    name: Dee
    delivry: digest
  - email: other.reader@example.org
    nmae: Oscar
  - email: third.reader@example.org
    Email: third@example.org
  - email: fourth.reader@example.org
    beat: politics
LIST
"$HERALD" -C "$P" check >"$SCRATCH/typo.out" 2>&1
st=$?
ok "$(test $st -eq 65; echo $?)" "check: a misspelt subscriber key is an error (exit $st)"
ok "$(grep -q "a.yaml:[0-9]*:5: unknown key 'delivry' in subscriber; did you mean 'delivery'?" "$SCRATCH/typo.out"; echo $?)" \
	"'delivry' -> did you mean 'delivery', at its line and column"
ok "$(grep -q "unknown key 'nmae' in subscriber; did you mean 'name'?" "$SCRATCH/typo.out"; echo $?)" \
	"two letters swapped: 'nmae' -> 'name'"
ok "$(grep -q "unknown key 'Email' in subscriber; did you mean 'email'?" "$SCRATCH/typo.out"; echo $?)" \
	"'Email' is not 'email'"
ok "$(grep -q "beat" "$SCRATCH/typo.out"; test $? -ne 0; echo $?)" \
	"a field of the list's own ('beat') is still a template field"
diag <"$SCRATCH/typo.out"
"$HERALD" -C "$P" send news --dry-run >/dev/null 2>&1
ok "$(test $? -eq 65; echo $?)" "and nothing can be sent until it is fixed"
gen_list "$P/lists/a.yaml" 1 3

# ---- .yml files ----
mv "$P/lists/a.yaml" "$P/lists/a.yml"
mv "$P/releases/news.yaml" "$P/releases/news.yml"
mv "$P/templates/card.yaml" "$P/templates/card.yml"
"$HERALD" -C "$P" check >"$SCRATCH/yml.out" 2>&1
ok "$(test $? -eq 0 && grep -qx 'configuration OK' "$SCRATCH/yml.out"; echo $?)" \
	"lists, templates and releases ending .yml are read like .yaml"
diag <"$SCRATCH/yml.out"
"$HERALD" -C "$P" send news --dry-run >"$SCRATCH/ymlsend.out" 2>&1
ok "$(grep -q 'would go to 3 recipients' "$SCRATCH/ymlsend.out"; echo $?)" \
	"and sent by their id: news.yml, list a.yml, template card.yml"
diag <"$SCRATCH/ymlsend.out"
cp "$P/lists/a.yml" "$P/lists/a.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/both.out" 2>&1
ok "$(test $? -eq 65 && grep -q 'lists/a.yml: both a.yaml and a.yml: keep one' "$SCRATCH/both.out"; echo $?)" \
	"a.yaml beside a.yml: which one is meant? an error"
diag <"$SCRATCH/both.out"

done_testing
