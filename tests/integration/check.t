#!/bin/sh
# herald check: the samples are valid; each broken input gives exactly its
# errors, with file:line:col, and the right exit status.
. "$(dirname "$0")/lib.sh"
scratch

out=$("$HERALD" -C "$TOP" check 2>"$SCRATCH/err"); st=$?
[ "$st" -eq 0 ] && [ "$out" = "configuration OK" ] && [ ! -s "$SCRATCH/err" ]
ok $? "the samples: configuration OK"
[ "$st" -eq 0 ] || diag < "$SCRATCH/err"

out=$("$HERALD" -C "$TOP/tests/data/base" check 2>&1); st=$?
[ "$st" -eq 0 ] && [ "$out" = "configuration OK" ]
ok $? "the base test project is valid"

for case in "$TOP"/tests/data/broken/*/; do
	name=$(basename "$case")
	dir="$SCRATCH/$name"
	mkdir -p "$dir"
	cp -R "$TOP/tests/data/base/." "$dir/"
	cp -R "$case/files/." "$dir/"
	[ -f "$case/setup" ] && (cd "$dir" && sh "$case/setup")
	"$HERALD" -C "$dir" check >"$dir.out" 2>"$dir.err"; st=$?
	[ "$st" -eq "$(cat "$case/status")" ]
	ok $? "$name: exit status $(cat "$case/status") (got $st)"
	is_file "$dir.err" "$case/expected" "$name: every error, precisely"
	[ ! -s "$dir.out" ]
	ok $? "$name: nothing on stdout"
done

# The literal password never appears in any output.
dir="$SCRATCH/literal-password"
! grep -q hunter2 "$dir.err" "$dir.out"
ok $? "a literal password is never echoed"

"$HERALD" -C "$TOP" check extra >/dev/null 2>&1
[ $? -eq 64 ]; ok $? "check with an argument is a usage error (64)"
"$HERALD" -C "$TOP" -c /nonexistent/herald.yaml check >/dev/null 2>"$SCRATCH/err"
[ $? -eq 78 ] && grep -q '^/nonexistent/herald.yaml: cannot read: No such file or directory$' "$SCRATCH/err"
ok $? "a missing configuration is a configuration error (78)"

# A list id may hold a dot; a release names that list by the same rule.
dir="$SCRATCH/dotted"
cp -R "$TOP/tests/data/base/." "$dir/"
sed -i 's/^lists: .*/lists: [press.es]/' "$dir/releases/hello.yaml"
mv "$dir/lists/press.yaml" "$dir/lists/press.es.yaml"
sed -i '/^id:/d' "$dir/lists/press.es.yaml"
out=$("$HERALD" -C "$dir" check 2>&1)
ok "$(test "$out" = "configuration OK"; echo $?)" "a release names a list whose id has a dot"
[ "$out" = "configuration OK" ] || echo "$out" | diag

done_testing
