#!/bin/sh
# herald check on YAML built to be slow: a subscriber of 40,000 keys with a
# repeat near the end (duplicate keys were found by a quadratic scan: 33 s)
# and 20,000 or 200,000 nested '[' (libyaml's time grows with the square of the depth
# it reads through: seconds). Each gives its one error, at its place, with
# status 65, well within a bound the old code far exceeds; the time taken
# is printed as a diagnostic (scripts/bench-yaml keeps the figures).
. "$(dirname "$0")/lib.sh"
scratch

BOUND=${YAML_LIMIT_SECONDS:-5}

now() { date +%s.%N; }

# check_case NAME DIR WANT: herald check in DIR gives exactly WANT, status 65, within BOUND.
check_case() {
	t0=$(now)
	"$HERALD" -C "$2" check >"$2.out" 2>"$2.err"; st=$?
	t1=$(now)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	echo "$3" >"$2.want"
	[ "$st" -eq 65 ]
	ok $? "$1: exit status 65 (got $st)"
	is_file "$2.err" "$2.want" "$1: the one error, at its place"
	awk -v s="$secs" -v b="$BOUND" 'BEGIN { exit !(s < b) }'
	ok $? "$1: within $BOUND s"
	echo "$1: $secs s" | diag
}

project() { # project NAME: a copy of the base project
	mkdir -p "$SCRATCH/$1"
	cp -R "$TOP/tests/data/base/." "$SCRATCH/$1/"
	echo "$SCRATCH/$1"
}

# The first subscriber's lines 5 to 40002 hold its keys 0..39997; the
# repeat of key 39990 is line 40003. The second has 40,000 keys and no
# repeat, its email last (which a lookup per key made quadratic too).
dir=$(project many-keys)
awk 'BEGIN {
	print "name: Press\ntemplate: note\nsubscribers:\n  - email: ana@example.org"
	for (i = 0; i < 39998; i++) printf "    organisation_department_%05d: v\n", i
	print "    organisation_department_39990: again"
	print "  -"
	for (i = 0; i < 39999; i++) printf "    organisation_department_%05d: v\n", i
	print "    email: bob@example.org"
}' >"$dir/lists/press.yaml"
check_case "40,000 keys in a subscriber" "$dir" \
    "lists/press.yaml:40003:5: duplicate key 'organisation_department_39990' (first at line 39995)"

# The subscriber is depth 0, so the 66th '[' (column 4 + 66) is one too
# deep. The old code read on to the end: 0.5 s for 20,000 here, 100 times
# that for ten times as many.
for n in 20000 200000; do
	dir=$(project "deep-list-$n")
	awk -v n="$n" 'BEGIN {
		printf "name: Press\ntemplate: note\nsubscribers:\n  - "
		for (i = 0; i < n; i++) printf "["
		printf "\n"
	}' >"$dir/lists/press.yaml"
	check_case "$n nested '[' in a list" "$dir" \
	    "lists/press.yaml:4:70: nesting too deep (over 64 levels)"
done

# The same in a file read whole (a release), under a key of its mapping.
dir=$(project deep-release)
awk 'BEGIN {
	printf "title: Deep\nlists: [press]\nbody: "
	for (i = 0; i < 20000; i++) printf "["
	printf "\n"
}' >"$dir/releases/hello.yaml"
check_case "20,000 nested '[' in a release" "$dir" \
    "releases/hello.yaml:3:71: nesting too deep (over 64 levels)"

done_testing
