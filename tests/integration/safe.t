#!/bin/sh
# Safe for the director: the mistakes a tired director makes are refused,
# loudly, before anything goes out. A schedule in the past (a typo in the
# year) is refused; a misspelt subscriber key is an error, not a template
# field; a template name that no data supplies is an error with the name
# meant; .yml files are read like .yaml. A test send to one list does not
# use the release up: the next send reaches everyone else, and the dry run
# says exactly how many; sending to nobody is no success.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

iso_ago() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ; }

P="$SCRATCH/p"
project "$P" 9 "connections: 1"
gen_list "$P/lists/a.yaml" 1 3

# ---- what check says of a project that is valid but will hurt ----
"$HERALD" -C "$P" check >"$SCRATCH/warn.out" 2>"$SCRATCH/warn.err"
st=$?
ok "$(test $st -eq 0 && grep -qx 'configuration OK' "$SCRATCH/warn.out"; echo $?)" \
	"a project without a mailbox or a postal address is valid (exit $st)"
ok "$(grep -q "^config/herald.yaml: warning: nothing reads unsubscribe requests" "$SCRATCH/warn.err" &&
	grep -q "^config/herald.yaml: warning: no 'sender.postal_address'" "$SCRATCH/warn.err"; echo $?)" \
	"but check warns that nothing reads unsubscribe requests, and of the missing postal address"
diag <"$SCRATCH/warn.err"

# A release heavier than Gmail shows whole.
awk 'BEGIN { print "title: A long report"; print "lists: [a]"; print "body: |";
	for (i = 0; i < 1500; i++) printf "  Paragraph %d of a report that goes on and on, as reports do.\n\n", i }' \
	>"$P/releases/heavy.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/heavy.out" 2>&1
ok "$(test $? -eq 0 && grep -q "^releases/heavy.yaml: warning: its message is [0-9]* KB: Gmail clips a message over 102 KB" "$SCRATCH/heavy.out"; echo $?)" \
	"a release whose message is over 100 KB: check warns that Gmail clips it"
grep heavy "$SCRATCH/heavy.out" | diag
rm "$P/releases/heavy.yaml"

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

# ---- status speaks in the config's zone ----
T="$SCRATCH/tz"
project "$T" 9 "connections: 1"
gen_list "$T/lists/a.yaml" 1 2
echo "tz: America/Argentina/Buenos_Aires" >>"$T/config/herald.yaml"
sed 's/Quarterly news/A release whose id is longer than the column was/' "$T/releases/news.yaml" \
	>"$T/releases/a-release-with-a-very-long-identifier.yaml"
"$HERALD" -C "$T" schedule a-release-with-a-very-long-identifier --at 2099-06-22T09:00 \
	--tz America/Argentina/Buenos_Aires >/dev/null 2>&1
"$HERALD" -C "$T" status >"$SCRATCH/st.out" 2>&1
ok "$(grep -q '^a-release-with-a-very-long-identifier scheduled  2099-06-22T09:00:00-03:00 ' "$SCRATCH/st.out"; echo $?)" \
	"status shows the time in the config's tz, with its offset, and a long id in its column"
diag <"$SCRATCH/st.out"
ok "$(test "$(head -1 "$SCRATCH/st.out" | awk '{ print index($0, "STATE") }')" = \
	"$(tail -1 "$SCRATCH/st.out" | awk '{ print index($0, "scheduled") }')"; echo $?)" \
	"its columns line up under their headings"
"$HERALD" -C "$T" status --utc >"$SCRATCH/st2.out" 2>&1
ok "$(grep -q ' 2099-06-22T12:00:00Z ' "$SCRATCH/st2.out"; echo $?)" "--utc: in UTC"

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

# ---- a field only some subscribers have, printed bare ----
printf '  - email: no.org@example.org\n    name: Nobody Inc\n' >>"$P/lists/a.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/partial.out" 2>&1
ok "$(test $? -eq 0 && grep -q "^templates/card.yaml:[0-9]*:[0-9]*: warning: 'subscriber.org' is printed outside a section on it, and 1 of the 4 subscribers of list 'a' have no 'org'" "$SCRATCH/partial.out"; echo $?)" \
	"a field 1 of 4 subscribers lack, printed bare: check warns, at the tag, how many lack it"
grep "subscriber.org" "$SCRATCH/partial.out" | diag
cp "$P/templates/card.yaml" "$SCRATCH/card.keep2"
sed -i -e 's/  Org: {{subscriber.org}}/  {{#subscriber.org}}Org: {{subscriber.org}}{{\/subscriber.org}}/' \
	-e 's/ ({{subscriber.org}})/{{#subscriber.org}} ({{subscriber.org}}){{\/subscriber.org}}/' \
	"$P/templates/card.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/partial2.out" 2>&1
ok "$(! grep -q "subscriber.org" "$SCRATCH/partial2.out"; echo $?)" \
	"inside a section on it, no warning"
cp "$SCRATCH/card.keep2" "$P/templates/card.yaml"
gen_list "$P/lists/a.yaml" 1 3

# ---- a list that names its fields ----
cat >"$P/lists/beats.yaml" <<'LIST'
name: Beats
template: card
fields: [beat, dept]
subscribers:
  - email: one@example.org
    beat: politics
  - email: two@example.org
    org: Reuters
  - email: three@example.org
    beta: economy
LIST
"$HERALD" -C "$P" check >"$SCRATCH/fields.out" 2>&1
ok "$(test $? -eq 65 && grep -q "beats.yaml:8:5: unknown key 'org' in subscriber: the list's fields are beat, dept" "$SCRATCH/fields.out" &&
	grep -q "beats.yaml:10:5: unknown key 'beta' in subscriber; did you mean 'beat'?" "$SCRATCH/fields.out"; echo $?)" \
	"fields: [beat, dept]: any other key of a subscriber is an error, with the field meant"
diag <"$SCRATCH/fields.out"
printf 'name: Late\nsubscribers:\n  - a@example.org\nfields: [beat]\n' >"$P/lists/beats.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/fields2.out" 2>&1
ok "$(grep -q "beats.yaml:4:9: 'fields' must come before 'subscribers'" "$SCRATCH/fields2.out"; echo $?)" \
	"'fields' after the subscribers is said"
printf 'name: Own\nfields: [nmae]\nsubscribers:\n  - email: a@example.org\n    nmae: kept\n' >"$P/lists/beats.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/fields3.out" 2>&1
ok "$(! grep -q "beats.yaml" "$SCRATCH/fields3.out"; echo $?)" \
	"a field the list declares is no typo, whatever it looks like"
diag <"$SCRATCH/fields3.out"
rm "$P/lists/beats.yaml"

# ---- a name no data can supply ----
cp "$P/templates/card.yaml" "$SCRATCH/card.keep"
sed -i 's/Dear {{subscriber.name}},/Dear {{subscriber.firstname}},/' "$P/templates/card.yaml"
sed -i 's|{{{release.body_html}}}|{{{release.bdoy_html}}} {{#release}}{{contcat}}{{/release}}|' \
	"$P/templates/card.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/names.out" 2>&1
st=$?
ok "$(test $st -eq 65; echo $?)" "check: a template name nothing supplies is an error (exit $st)"
ok "$(grep -q "^templates/card.yaml:[0-9]*:[0-9]*: unknown name 'subscriber.firstname' (did you mean 'subscriber.name'?)" "$SCRATCH/names.out"; echo $?)" \
	"'subscriber.firstname': did you mean 'subscriber.name', at its line and column"
ok "$(grep -q "unknown name 'release.bdoy_html' (did you mean 'release.body_html'?)" "$SCRATCH/names.out" &&
	grep -q "unknown name 'contcat' (did you mean 'contact'?)" "$SCRATCH/names.out"; echo $?)" \
	"in the HTML part too, and inside a section"
ok "$(grep -q "subscriber.org" "$SCRATCH/names.out"; test $? -ne 0; echo $?)" \
	"a field the list's subscribers have (subscriber.org) is no error"
diag <"$SCRATCH/names.out"
"$HERALD" -C "$P" preview news >/dev/null 2>"$SCRATCH/names.err"
ok "$(test $? -eq 65 && grep -q "unknown name 'subscriber.firstname'" "$SCRATCH/names.err"; echo $?)" \
	"preview refuses to show 'Dear ,': exit 65"
"$HERALD" -C "$P" send news --dry-run >/dev/null 2>&1
ok "$(test $? -eq 65; echo $?)" "and nothing can be sent"
cp "$SCRATCH/card.keep" "$P/templates/card.yaml"

# ---- a postal address and a Reply-To ----
cp "$P/config/herald.yaml" "$SCRATCH/config.keep"
sed -i 's|^  unsubscribe_address: .*|&\n  postal_address: "Test Desk, 1 Main Street, Springfield"\n  reply_to: newsdesk@news.example|' \
	"$P/config/herald.yaml"
echo '{{#sender.postal_address}}Postal: {{sender.postal_address}}{{/sender.postal_address}}' \
	>>"$P/templates/partials/footer.mustache"
"$HERALD" -C "$P" preview news >"$SCRATCH/postal.eml" 2>&1
ok "$(grep -q '^Reply-To: newsdesk@news.example' "$SCRATCH/postal.eml" &&
	grep -q 'Postal: Test Desk, 1 Main Street, Springfield' "$SCRATCH/postal.eml"; echo $?)" \
	"sender.reply_to is the Reply-To header; sender.postal_address reaches the footer"
sed -i 's|^  reply_to: .*|  reply_to: "Desk <desk@news.example>"|' "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/reply.out" 2>&1
ok "$(test $? -eq 78 && grep -q "herald.yaml:[0-9]*:[0-9]*: 'reply_to' must be a bare address" "$SCRATCH/reply.out"; echo $?)" \
	"a reply_to with a display name is a configuration error, at its line"
diag <"$SCRATCH/reply.out"
cp "$SCRATCH/config.keep" "$P/config/herald.yaml"

# ---- a file saved as Latin-1 ----
printf 'title: Caf\351 news\nlists: [a]\nbody: |\n  Hello\n' >"$P/releases/latin.yaml"
printf '  - email: jose@example.org\n    name: Jos\351\n' >>"$P/lists/a.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/latin.out" 2>&1
ok "$(test $? -eq 65 && grep -q '^releases/latin.yaml:1:11: not UTF-8 (byte 0xE9): save the file as UTF-8$' "$SCRATCH/latin.out" &&
	grep -q '^lists/a.yaml:[0-9]*:14: not UTF-8 (byte 0xE9)' "$SCRATCH/latin.out"; echo $?)" \
	"a Latin-1 release and list: not UTF-8, at the line and column of the first such byte"
diag <"$SCRATCH/latin.out"
rm "$P/releases/latin.yaml"
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

# ---- a send to a test list does not use the release up ----
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	for c in test-send dry-run send once new-subscriber done empty suppressed; do
		skip "release reuse: $c" "needs aiosmtpd"
	done
	done_testing
	exit $?
fi
S="$SCRATCH/sink"
start_sink "$S"
R="$SCRATCH/r"
project "$R" "$PORT" "connections: 2" "timeout: 10"
gen_list "$R/lists/a.yaml" 1 8
gen_list "$R/lists/test.yaml" 1 1 "director%d"
"$HERALD" -C "$R" send news --list test >"$SCRATCH/t1.out" 2>&1
ok "$(test $? -eq 0 && test "$(received "$S")" -eq 1; echo $?)" "a test send to the director's list: 1 message"
"$HERALD" -C "$R" send news --dry-run >"$SCRATCH/t2.out" 2>&1
ok "$(grep -q 'would go to 8 recipients' "$SCRATCH/t2.out"; echo $?)" \
	"then the dry run counts the release's own list: 8"
diag <"$SCRATCH/t2.out"
"$HERALD" -C "$R" send news >"$SCRATCH/t3.out" 2>&1
st=$?
ok "$(test $st -eq 0 && test "$(received "$S")" -eq 9; echo $?)" \
	"and the send delivers those 8 (exit $st, $(received "$S") received in all)"
diag <"$SCRATCH/t3.out"
ok "$(test "$(cut -f3 "$S/log.tsv" | sort | uniq -d | wc -l)" -eq 0; echo $?)" "nobody twice"
gen_list "$R/lists/a.yaml" 1 9
"$HERALD" -C "$R" send news --dry-run >"$SCRATCH/t4.out" 2>&1
"$HERALD" -C "$R" send news >"$SCRATCH/t5.out" 2>&1
ok "$(grep -q 'would go to 1 recipients' "$SCRATCH/t4.out" && test "$(received "$S")" -eq 10; echo $?)" \
	"a subscriber added after it was done: the dry run says 1, the send mails them alone"
diag <"$SCRATCH/t4.out"
ok "$("$HERALD" -C "$R" status news --json | "$PY" -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (j["state"] == "done" and j["sent"] == 10))'; echo $?)" \
	"status: done, 10 sent"
"$HERALD" -C "$R" send news >/dev/null 2>"$SCRATCH/t6.err"
ok "$(test $? -eq 0 && grep -q 'every recipient has had it already; nothing to send' "$SCRATCH/t6.err" &&
	test "$(received "$S")" -eq 10; echo $?)" "once more: it says everyone has it, and sends nothing"

# ---- a test send is not a delivery ----
cat >"$R/releases/tested.yaml" <<'REL'
title: Tested first
lists: [a]
embargo: 2099-01-01T00:00:00Z
body: |
  Checked by the director.
REL
before=$(received "$S")
"$HERALD" -C "$R" send tested --test director@news.example --test deputy@news.example \
	--as user0002@example.org >"$SCRATCH/test.out" 2>"$SCRATCH/test.err"
st=$?
ok "$(test $st -eq 0 && test "$(received "$S")" -eq $((before + 2)); echo $?)" \
	"send --test to two addresses, under embargo: two messages (exit $st)"
diag <"$SCRATCH/test.err"
ok "$(tail -2 "$S/log.tsv" | cut -f3 | sort | tr '\n' ' ' | grep -q '^deputy@news.example director@news.example $'; echo $?)" \
	"to the test addresses, by the envelope"
last=$(ls "$S"/*.eml | sort | tail -1)
ok "$(grep -q '^Subject: \[TEST\] Tested first' "$last" && grep -qi '^To: .*user0002@example.org' "$last"; echo $?)" \
	"the exact message --as user0002 would get, '[TEST] ' before its subject"
"$HERALD" -C "$R" status tested >/dev/null 2>&1
ok "$(test $? -eq 65; echo $?)" "nothing recorded: the release is not in the journal"
grep -q '^test: tested sent to director@news.example, as user0002@example.org would get it$' "$SCRATCH/test.out"
ok $? "it says so"

# ---- on a terminal, send asks first ----
if command -v script >/dev/null; then
	cat >"$R/releases/asked.yaml" <<'REL'
title: Asked first
lists: [a]
body: |
  Only on yes.
REL
	before=$(received "$S")
	printf 'n\n' | script -qec "'$HERALD' -C '$R' send asked" /dev/null >"$SCRATCH/q1.out" 2>&1
	st=$?
	ok "$(grep -q 'send asked to 9 recipients on a? \[y/N\]' "$SCRATCH/q1.out"; echo $?)" \
		"on a terminal: 'send asked to 9 recipients on a? [y/N]'"
	ok "$(test $st -eq 75 && grep -q 'not sent' "$SCRATCH/q1.out" &&
		test "$(received "$S")" -eq "$before"; echo $?)" "n: nothing sent, exit 75 (got $st)"
	tr -d '\r' <"$SCRATCH/q1.out" | diag
	printf 'y\n' | script -qec "'$HERALD' -C '$R' send asked" /dev/null >"$SCRATCH/q2.out" 2>&1
	st=$?
	ok "$(test $st -eq 0 && test "$(received "$S")" -eq $((before + 9)); echo $?)" \
		"y: all 9 sent (exit $st)"
	sed 's/Asked first/Not asked/; s/Only on yes/Sent at once/' "$R/releases/asked.yaml" \
		>"$R/releases/unasked.yaml"
	script -qec "'$HERALD' -C '$R' send unasked --yes" /dev/null </dev/null >"$SCRATCH/q3.out" 2>&1
	ok "$(test $? -eq 0 && ! grep -q '\[y/N\]' "$SCRATCH/q3.out" &&
		test "$(received "$S")" -eq $((before + 18)); echo $?)" "--yes: no question, sent"
else
	for c in asks n y yes; do skip "terminal: $c" "needs script(1)"; done
fi

# ---- a bad address in a list the release does not go to ----
cat >"$R/lists/other.yaml" <<'LIST'
name: Other
template: card
subscribers:
  - email: fine@example.org
  - email: broken@@example
LIST
"$HERALD" -C "$R" check >"$SCRATCH/o1.out" 2>&1
ok "$(test $? -eq 65 && grep -q "^lists/other.yaml:5:" "$SCRATCH/o1.out"; echo $?)" \
	"check still calls a bad address an error, wherever it is"
gen_list "$R/lists/a.yaml" 1 10
before=$(received "$S")
"$HERALD" -C "$R" send news >"$SCRATCH/o2.out" 2>"$SCRATCH/o2.err"
st=$?
ok "$(test $st -eq 0 && test "$(received "$S")" -eq $((before + 1)); echo $?)" \
	"a release that does not go to that list is sent all the same (exit $st)"
ok "$(grep -q "^herald: warning: lists/other.yaml:5:.*(list 'other' is not sent to now" "$SCRATCH/o2.err" ||
	grep -q "warning: lists/other.yaml:5:.*(list 'other' is not sent to now" "$SCRATCH/o2.err"; echo $?)" \
	"and the error is said, as a warning"
diag <"$SCRATCH/o2.err"
"$HERALD" -C "$R" send news --list other >/dev/null 2>"$SCRATCH/o3.err"
ok "$(test $? -eq 65 && grep -q "^lists/other.yaml:5:" "$SCRATCH/o3.err"; echo $?)" \
	"a send to that list is stopped by it (exit 65)"
rm "$R/lists/other.yaml"

# ---- sending to nobody ----
cat >"$R/lists/empty.yaml" <<'LIST'
name: Nobody yet
template: card
subscribers: []
LIST
cat >"$R/releases/lonely.yaml" <<'REL'
title: Lonely news
lists: [empty]
body: |
  Nobody reads this.
REL
"$HERALD" -C "$R" send lonely >"$SCRATCH/e1.out" 2>"$SCRATCH/e1.err"
st=$?
ok "$(test $st -eq 65 && grep -q 'nobody to send it to' "$SCRATCH/e1.err"; echo $?)" \
	"an empty list: exit 65, and it says nobody was sent it (got $st)"
diag <"$SCRATCH/e1.err"
ok "$("$HERALD" -C "$R" status lonely --json | "$PY" -c 'import json,sys; sys.exit(json.load(sys.stdin)["state"] == "done")'; echo $?)" \
	"and the release is not marked done"
gen_list "$R/lists/quiet.yaml" 1 2 "quiet%d"
for i in 1 2; do "$HERALD" -C "$R" suppress "quiet$i@example.org" >/dev/null; done
sed -i 's/lists: \[empty\]/lists: [quiet]/' "$R/releases/lonely.yaml"
sed 's/lonely/hushed/' "$R/releases/lonely.yaml" >"$R/releases/hushed.yaml"
"$HERALD" -C "$R" send hushed >/dev/null 2>"$SCRATCH/e2.err"
st=$?
ok "$(test $st -eq 65 && grep -q 'all 2 recipients are suppressed' "$SCRATCH/e2.err"; echo $?)" \
	"everyone suppressed: exit 65, said (got $st)"
diag <"$SCRATCH/e2.err"

done_testing
