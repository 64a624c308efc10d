#!/bin/sh
# herald preview: whole messages against reviewed golden files, and an
# independent parser (Python's email package, strict policy) finds no defect.
. "$(dirname "$0")/lib.sh"
scratch

# A copy of the samples with a fixed secret and a fixed time: same bytes every run.
proj="$SCRATCH/proj"
mkdir -p "$proj/state"
cp -R "$TOP/config" "$TOP/lists" "$TOP/templates" "$TOP/releases" "$proj/"
cp "$TOP/tests/data/secret" "$proj/state/secret"
chmod 600 "$proj/state/secret"
export HERALD_NOW=2017-06-22T12:00:00Z
golden="$TOP/tests/data/golden"

"$HERALD" -C "$proj" preview ogp-americas-2017 >"$SCRATCH/first.eml" 2>"$SCRATCH/err"
ok $? "preview of the sample release exits 0"
is_file "$SCRATCH/first.eml" "$golden/ogp-americas-2017.eml" "the first subscriber's message, byte for byte"

"$HERALD" -C "$proj" preview ogp-americas-2017 --list press --to 'Zoe.Fairbanks@Example.NET' \
	>"$SCRATCH/zoe.eml" 2>"$SCRATCH/err"
ok $? "preview --to a subscriber (address in another case) exits 0"
is_file "$SCRATCH/zoe.eml" "$golden/ogp-americas-2017-zoe.eml" "an English subscriber with an accented name, byte for byte"

"$HERALD" -C "$proj" preview "$proj/releases/ogp-americas-2017.yaml" >"$SCRATCH/bypath.eml" 2>/dev/null
is_file "$SCRATCH/bypath.eml" "$golden/ogp-americas-2017.eml" "RELEASE may be a path"

for f in first zoe; do
	/usr/bin/python3 "$TOP/tests/integration/strict_parse.py" "$SCRATCH/$f.eml" \
		"OGP’s Americas Regional Event announced for November 21-22 in Argentina" \
		>"$SCRATCH/py.out" 2>&1
	ok $? "$f: Python's strict email parser finds no defect and every header"
	diag < "$SCRATCH/py.out"
done

# The secret was not replaced, and a fresh project gets one, mode 0600.
fresh="$SCRATCH/fresh"
mkdir -p "$fresh"
cp -R "$TOP/config" "$TOP/lists" "$TOP/templates" "$TOP/releases" "$fresh/"
"$HERALD" -C "$fresh" preview ogp-americas-2017 >/dev/null 2>&1
[ "$(stat -c %a "$fresh/state/secret")" = 600 ] && [ "$(stat -c %s "$fresh/state/secret")" = 32 ]
ok $? "state/secret is created with mode 0600 on first use"
"$HERALD" -C "$fresh" preview ogp-americas-2017 >"$SCRATCH/fresh1.eml" 2>/dev/null
"$HERALD" -C "$fresh" preview ogp-americas-2017 >"$SCRATCH/fresh2.eml" 2>/dev/null
cmp -s "$SCRATCH/fresh1.eml" "$SCRATCH/fresh2.eml" && ! cmp -s "$SCRATCH/fresh1.eml" "$SCRATCH/first.eml"
ok $? "the same secret gives the same bytes; another secret other tokens"
chmod 644 "$fresh/state/secret"
"$HERALD" -C "$fresh" preview ogp-americas-2017 >/dev/null 2>"$SCRATCH/err"
[ $? -eq 78 ] && grep -q 'secret' "$SCRATCH/err"
ok $? "a secret readable by others is refused (78)"

"$HERALD" -C "$proj" preview >/dev/null 2>&1
[ $? -eq 64 ]; ok $? "preview without RELEASE is a usage error (64)"
"$HERALD" -C "$proj" preview no-such-release >/dev/null 2>"$SCRATCH/err"
[ $? -eq 65 ] && grep -q "^releases/no-such-release.yaml: cannot read" "$SCRATCH/err"
ok $? "an unknown release is reported with its path (65)"
"$HERALD" -C "$proj" preview ogp-americas-2017 --list nope >/dev/null 2>"$SCRATCH/err"
[ $? -eq 65 ] && grep -q "unknown list 'nope'" "$SCRATCH/err"
ok $? "an unknown list is reported (65)"
"$HERALD" -C "$proj" preview ogp-americas-2017 --to stranger@example.org >"$SCRATCH/stranger.eml" 2>"$SCRATCH/err"
[ $? -eq 0 ] && grep -q '^To: stranger@example.org' "$SCRATCH/stranger.eml" && grep -q 'not on list' "$SCRATCH/err"
ok $? "--to an address not on the list renders for it, with a note"

# Header injection: a subscriber name and a subject field with line breaks
# never reach a header unencoded, even when check is bypassed.
inj="$SCRATCH/inj"
cp -R "$TOP/tests/data/base" "$inj"
printf 'subject: "{{release.title}} {{subscriber.org}}"\ntext: "x"\nhtml: "x"\n' > "$inj/templates/note.yaml"
cat > "$inj/lists/press.yaml" <<'YAML'
template: note
subscribers:
  - email: ana@example.org
    org: "Org\r\nBcc: victim@example.com"
YAML
"$HERALD" -C "$inj" preview hello >"$SCRATCH/inj.eml" 2>"$SCRATCH/err"; st=$?
[ $st -ne 0 ] || ! grep -qi '^Bcc:' "$SCRATCH/inj.eml"
ok $? "a field with CR/LF cannot inject a header (exit $st)"

done_testing
