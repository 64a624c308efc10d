#!/bin/sh
# Members who joined a list, with real programs: a CSV of 10,000 members
# (a BOM, CRLF, quoted commas, doubled quotes, line breaks inside quotes)
# imported with its bad rows reported at their lines, imported again with
# nothing changed, exported and read back by Python's csv module, and
# imported into another list whose export is the same bytes; herald
# subscribers says where each came from. Then sends into the capturing
# sink: file subscribers and imported members once each, a suppressed
# member skipped, the file winning for an address it has, a `where`
# segment applying to members, the dry run counting them, preview
# rendering a member, a digest reaching a member who takes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

# is GOT WANT NAME
is() {
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || printf 'got:  %s\nwant: %s\n' "$1" "$2" | diag
}

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
P="$SCRATCH/p"
project "$P" "$PORT" "timeout: 10"
cp "$TOP/templates/digest.yaml" "$P/templates/"
cp "$TOP"/templates/partials/*.mustache "$P/templates/partials/"
DB="$P/state/herald.db"
rm "$P/releases/news.yaml"

cat >"$P/lists/press.yaml" <<'EOF'
name: Press
template: card
subscribers:
  - { email: first@example.org, name: First File, org: File Org }
  - "Second File <second@example.org>"
EOF
cat >"$P/lists/copy.yaml" <<'EOF'
name: Copy
template: card
subscribers: []
EOF

# ---- 10,000 members, and bad rows at lines the generator knows ----
"$PY" - "$P/m.csv" "$SCRATCH/want.err" "$SCRATCH/want.tsv" <<'PY'
import sys
out, errs, want = sys.argv[1:4]
rows, expected, good = [], [], []
line = 1
def add(text, err=None):
    global line
    if err:
        expected.append("m.csv:%d: %s" % (line, err))
    rows.append(text)
    line += text.count("\n")
add("email,name,org,notes,lang,tz\r\n")
bad = [
    ("not-an-address,Nobody,,,,\r\n", "invalid address 'not-an-address': missing '@'"),
    ("bad-lang@example.org,X,,,pt-br,\r\n", "language 'pt-br' is written 'pt-BR'"),
    ("bad-tz@example.org,X,,,,Mars/Olympus\r\n", "unknown time zone 'Mars/Olympus'"),
    ("short@example.org,X\r\n", "2 fields where the header has 6"),
    ("quote@example.org,X\"Y,,,,\r\n",
     "bad quoting: a field with a '\"' in it must be quoted whole, and the '\"' doubled (\"say \"\"hi\"\"\")"),
    ("member00007@example.org,Dup,,,,\r\n", "duplicate address 'member00007@example.org' (first at line %d)"),
]
first7 = None
for i in range(10000):
    if i % 1000 == 500:
        text, err = bad[(i // 1000) % len(bad)]
        if "first at line" in err:
            err = err % first7
        add(text, err)
    email = "member%05d@example.org" % i
    name = "Member %05d" % i
    if i % 3 == 0:
        name = "Doe, Member %05d" % i
    org = "Org %d" % (i % 17)
    if i % 7 == 0:
        org = 'The "Seven" %d' % i
    notes = "" if i % 2 else "a note"
    if i % 5 == 0:
        notes = "line one of %d\nline two" % i
    lang = "es" if i % 4 == 0 else ""
    tz = "America/Argentina/Buenos_Aires" if i % 6 == 0 else ""
    if i == 7:
        first7 = line
    def q(s):
        if any(c in s for c in ',"\r\n'):
            return '"' + s.replace('"', '""') + '"'
        return s
    add(",".join(q(v) for v in (email.upper() if i % 11 == 0 else email, name, org, notes, lang, tz)) + "\r\n")
    good.append((email, name, org, notes, lang, tz))
add("\r\n")
add(",,,,,\r\n")
with open(out, "wb") as f:
    f.write(b"\xef\xbb\xbf" + "".join(rows).encode("utf-8"))
with open(errs, "w") as f:
    f.write("\n".join(expected) + "\n")
with open(want, "w") as f:
    for g in good:
        f.write("\t".join(v.replace("\n", "\\n") for v in g) + "\n")
PY
ok $? "a CSV of 10,000 members and 10 bad rows is made"

(cd "$P" && "$HERALD" import press m.csv) >"$SCRATCH/import.out" 2>"$SCRATCH/import.err"; st=$?
is "$st" 65 "import: exit 65, for the bad rows"
is_file "$SCRATCH/import.err" "$SCRATCH/want.err" "each bad row is reported as m.csv:LINE, LINE where it starts"
grep -q "^list press, m.csv: 10010 rows: 10000 added, 0 updated, 0 unchanged$" "$SCRATCH/import.out"
ok $? "10,000 members added"
grep -q "^10 bad rows skipped (see above); the others are imported$" "$SCRATCH/import.out"
ok $? "and the 10 bad rows skipped, said so"
diag <"$SCRATCH/import.out"
is "$(sql "$DB" "SELECT count(*) FROM members WHERE list = 'press'")" 10000 "the journal has 10,000 members of press"
is "$(sql "$DB" "SELECT DISTINCT how FROM members")" import "all imported"

snapshot() { sql "$DB" "SELECT * FROM members ORDER BY id" | sha256sum; }
before=$(snapshot)
(cd "$P" && "$HERALD" import press m.csv) >"$SCRATCH/import2.out" 2>"$SCRATCH/import2.err"; st=$?
is "$st" 65 "import again: exit 65 (the same bad rows)"
grep -q "^list press, m.csv: 10010 rows: 0 added, 0 updated, 10000 unchanged$" "$SCRATCH/import2.out"
ok $? "the second import says 10000 unchanged"
diag <"$SCRATCH/import2.out"
is "$(snapshot)" "$before" "and the journal's members are byte for byte as they were"

# ---- export, read back by Python's csv module ----
"$HERALD" -C "$P" export press >"$SCRATCH/e.csv" 2>"$SCRATCH/e.err"; st=$?
is "$st" 0 "export: exit 0"
"$PY" - "$SCRATCH/e.csv" "$SCRATCH/want.tsv" >"$SCRATCH/export.check" 2>&1 <<'PY'
import csv, sys
raw = open(sys.argv[1], "rb").read()
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))
want = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
want = [[v.replace("\\n", "\n") for v in w] for w in want]
print("header email,name,org,notes,lang,tz\t%d" % (rows[0] != ["email", "name", "org", "notes", "lang", "tz"]))
print("the file's two subscribers first\t%d" % (rows[1:3] != [
    ["first@example.org", "First File", "File Org", "", "", ""],
    ["second@example.org", "Second File", "", "", "", ""]]))
print("then the 10,000 members as imported, in order\t%d" % (rows[3:] != want))
print("lines end in CRLF, line breaks inside quotes kept\t%d" % (not raw.endswith(b"\r\n") or b'"line one of 0\nline two"' not in raw))
print("no BOM written\t%d" % raw.startswith(b"\xef\xbb\xbf"))
PY
ok_checks "$SCRATCH/export.check" "the export reads back with Python's csv module"

(cd "$P" && "$HERALD" import copy "$SCRATCH/e.csv") >"$SCRATCH/import3.out" 2>&1; st=$?
is "$st" 0 "the export imports into another list: exit 0"
grep -q "10002 rows: 10002 added, 0 updated, 0 unchanged$" "$SCRATCH/import3.out"
ok $? "every row of it is a member"
diag <"$SCRATCH/import3.out"
"$HERALD" -C "$P" export copy >"$SCRATCH/e2.csv"
is_file "$SCRATCH/e2.csv" "$SCRATCH/e.csv" "and that list exports the same bytes: a round trip"

# ---- where each came from ----
"$HERALD" -C "$P" subscribers press --json >"$SCRATCH/subs.json"; st=$?
is "$st" 0 "subscribers --json: exit 0"
"$PY" - "$SCRATCH/subs.json" "$P/m.csv" >"$SCRATCH/subs.check" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
lines = open(sys.argv[2], "rb").read().decode("utf-8-sig").split("\n")
print("10,002 entries\t%d" % (len(j) != 10002))
f = j[0]
print("the file's: its path and line\t%d" % (f["source"] != "file" or f["file"] != "lists/press.yaml" or f["line"] != 4 or f["joined"] is not None))
m = j[2]
ref = m["ref"]
print("a member: imported, when, from which row\t%d" % (m["source"] != "import" or not m["joined"].endswith("Z") or ref != "m.csv:2" or m["file"] is not None))
last = j[-1]
n = int(last["ref"].split(":")[1])
print("the last member's row is at the line its ref says\t%d" % (not lines[n - 1].lower().startswith("member09999@example.org,")))
print("nobody suppressed\t%d" % any(e["suppressed"] for e in j))
PY
ok_checks "$SCRATCH/subs.check" "subscribers --json says where each came from"
"$HERALD" -C "$P" subscribers press >"$SCRATCH/subs.txt"
grep -q "^member00000@example.org  *Doe, Member 00000  *each   imported [0-9T:-]*Z (m.csv:2)$" "$SCRATCH/subs.txt"
ok $? "subscribers: a member's line says imported, when and from which row"
grep -q "^first@example.org  *First File  *each   lists/press.yaml:4$" "$SCRATCH/subs.txt"
ok $? "subscribers: a file's subscriber's line says its file and line"
tail -n 1 "$SCRATCH/subs.txt" | grep -q "^10002 subscribers: 2 in lists/press.yaml, 10000 who joined; 0 suppressed$"
ok $? "and the counts at the end"

# ---- sends reach them ----
cat >"$P/lists/desk.yaml" <<'EOF'
name: Desk
template: card
digest: { template: digest }
subscribers:
  - { email: f1@example.org, name: F One, org: FO1, beat: energy }
  - { email: f2@example.org, name: F Two, org: FO2, beat: climate }
  - { email: f3@example.org, name: File Three, org: FO3, beat: energy }
EOF
printf 'email,name,org,beat,delivery\nm1@example.org,M One,MO1,energy,\nm2@example.org,M Two,MO2,climate,\nm3@example.org,M Three,MO3,energy,\nF3@example.org,CSV Three,CO3,climate,\nm4@example.org,M Four,MO4,energy,digest\n' \
    >"$SCRATCH/desk.csv"
"$HERALD" -C "$P" suppress m3@example.org --list desk >/dev/null
"$HERALD" -C "$P" import desk "$SCRATCH/desk.csv" >"$SCRATCH/desk.out" 2>&1; st=$?
is "$st" 0 "import desk: exit 0"
grep -q "5 rows: 5 added" "$SCRATCH/desk.out" && grep -q "^1 of them is suppressed: imported, and still never mailed" "$SCRATCH/desk.out"
ok $? "a suppressed address is imported and said to stay suppressed"
diag <"$SCRATCH/desk.out"
cat >"$P/releases/all.yaml" <<'EOF'
title: For the whole desk
lists: [desk]
body: Everyone.
EOF
cat >"$P/releases/energy.yaml" <<'EOF'
title: For the energy beat
lists: [desk]
where: { beat: energy }
body: Energy only.
EOF
"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1; st=$?
is "$st" 0 "the project is valid"
[ "$st" -eq 0 ] || diag <"$SCRATCH/check.out"

"$HERALD" -C "$P" subscribers desk >"$SCRATCH/desk.subs"
grep -q "^m3@example.org .*imported .*  suppressed (manual)$" "$SCRATCH/desk.subs" &&
    grep -q "^f3@example.org  *File Three .*lists/desk.yaml:7$" "$SCRATCH/desk.subs" &&
    ! grep -q "CSV Three" "$SCRATCH/desk.subs"
ok $? "subscribers: the suppressed member marked so, f3 once, as the file says"
"$HERALD" -C "$P" export desk >"$SCRATCH/desk.csv.out" 2>"$SCRATCH/desk.csv.err"
! grep -q m3@ "$SCRATCH/desk.csv.out" && grep -q "^herald: 1 suppressed address left out$" "$SCRATCH/desk.csv.err" &&
    grep -q "^m4@example.org,M Four,MO4,energy,digest" "$SCRATCH/desk.csv.out"
ok $? "export leaves the suppressed member out, says so, and writes the delivery column"
printf 'mail,name\nx@example.org,X\n' >"$SCRATCH/nohead.csv"
"$HERALD" -C "$P" import desk "$SCRATCH/nohead.csv" >/dev/null 2>"$SCRATCH/nohead.err"; st=$?
is "$st" 65 "a header without email: exit 65"
grep -q "nohead.csv:1: no column 'email' in the header row; is 'mail' a typo?" "$SCRATCH/nohead.err" &&
    grep -q "nothing imported" "$SCRATCH/nohead.err" &&
    [ "$(sql "$DB" "SELECT count(*) FROM members WHERE address = 'x@example.org'")" -eq 0 ]
ok $? "said at line 1, and nothing imported"
"$HERALD" -C "$P" import desk "$SCRATCH/missing.csv" >/dev/null 2>&1; st=$?
is "$st" 66 "a CSV file that cannot be read: exit 66"

"$HERALD" -C "$P" preview all --to M1@example.org >"$SCRATCH/preview.eml" 2>"$SCRATCH/preview.err"; st=$?
is "$st" 0 "preview --to a member: exit 0"
grep -q "Dear M One" "$SCRATCH/preview.eml" && grep -q "Org: MO1" "$SCRATCH/preview.eml" &&
    ! grep -q "not on list" "$SCRATCH/preview.err"
ok $? "preview renders a member with the fields the journal keeps for them"

# rcpts_since N: the envelope recipients after the first N messages, sorted, one line.
rcpts_since() {
	tail -n +"$(($1 + 1))" "$S/log.tsv" | cut -f3 | tr ',' '\n' | sort | tr '\n' ' '
}
# message_to ADDRESS TITLE: the file of the sink's message to ADDRESS with TITLE in it.
message_to() {
	for _f in "$S"/*.eml; do
		if grep -q "\"$1\"" "${_f%.eml}.json" && grep -q "^Subject: $2" "$_f"; then
			echo "$_f"; return
		fi
	done
}

"$HERALD" -C "$P" send all --dry-run >"$SCRATCH/dry.out" 2>&1; st=$?
is "$st" 0 "send all --dry-run: exit 0"
grep -q "^dry run: all would go to 5 recipients" "$SCRATCH/dry.out"
ok $? "the dry run counts the members: 5 (3 of the file, 2 members; not the suppressed, not the digest)"
diag <"$SCRATCH/dry.out"

n0=$(received "$S")
"$HERALD" -C "$P" send all >"$SCRATCH/send.out" 2>&1; st=$?
is "$st" 0 "send all: exit 0"
[ "$st" -eq 0 ] || diag <"$SCRATCH/send.out"
is "$(rcpts_since "$n0")" "f1@example.org f2@example.org f3@example.org m1@example.org m2@example.org " \
    "the sink got it once for each file subscriber and member, not for the suppressed one nor the digest's"
is "$(sql "$DB" "SELECT d.address, d.state, d.text FROM deliveries d JOIN releases r ON r.id = d.release WHERE r.release_id = 'all' AND d.state = 'skipped'")" \
    "m3@example.org	skipped	suppressed" "the suppressed member has a row, skipped as suppressed"
f=$(message_to m1@example.org "For the whole desk")
grep -q "Dear M One" "$f" && grep -q "Org: MO1" "$f"
ok $? "a member's message has their name and fields from the CSV"
f=$(message_to f3@example.org "For the whole desk")
grep -q "Dear File Three" "$f" && grep -q "Org: FO3" "$f"
ok $? "an address in the file and in the CSV gets what the file says"

n0=$(received "$S")
"$HERALD" -C "$P" send energy >"$SCRATCH/send2.out" 2>&1; st=$?
is "$st" 0 "send energy: exit 0"
is "$(rcpts_since "$n0")" "f1@example.org f3@example.org m1@example.org " \
    "the where segment applies to members: m1 in, m2 left out, f3 in as the file says"
grep -q "the segment kept 4 of the lists' subscribers, left out 2" "$SCRATCH/send2.out"
ok $? "the segment counted the members too (m3 kept, then skipped as suppressed)"
diag <"$SCRATCH/send2.out"

n0=$(received "$S")
"$HERALD" -C "$P" digest desk >"$SCRATCH/digest.out" 2>&1; st=$?
is "$st" 0 "digest desk: exit 0"
is "$(rcpts_since "$n0")" "m4@example.org " "the digest reaches the member who takes it"
f=$(message_to m4@example.org "")
grep -q "For the whole desk" "$f" && grep -q "For the energy beat" "$f"
ok $? "and carries both releases"
diag <"$SCRATCH/digest.out"

done_testing
