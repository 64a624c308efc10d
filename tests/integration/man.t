#!/bin/sh
# The manual pages: herald(1) and herald.yaml(5) lint clean, herald(1)
# documents every command, option and exit status the binary's --help
# gives, and herald.yaml(5) every key the code accepts.
# Needs mandoc and groff (Debian: mandoc, groff-base).
. "$(dirname "$0")/lib.sh"
scratch

MAN1=$TOP/man/herald.1
MAN5=$TOP/man/herald.yaml.5

have_tools=0
for tool in mandoc groff; do
	command -v "$tool" >/dev/null 2>&1
	st=$?
	ok $st "$tool is installed"
	[ $st -eq 0 ] || have_tools=1
done

# ---- both pages lint clean ----

for page in "$MAN1" "$MAN5"; do
	name=$(basename "$page")
	[ -s "$page" ]
	ok $? "$name exists"
	if [ $have_tools -ne 0 ]; then
		ok 1 "$name: no linter to run"
		continue
	fi
	mandoc -T lint -W warning "$page" >"$SCRATCH/lint" 2>&1
	st=$?
	[ $st -eq 0 ] && [ ! -s "$SCRATCH/lint" ]
	ok $? "$name: mandoc -T lint -W warning says nothing (exit $st)"
	diag <"$SCRATCH/lint"
	groff -ww -z -mandoc "$page" >"$SCRATCH/groff" 2>&1
	st=$?
	[ $st -eq 0 ] && [ ! -s "$SCRATCH/groff" ]
	ok $? "$name: groff -ww -z -mandoc says nothing (exit $st)"
	diag <"$SCRATCH/groff"
done

# ---- herald(1) against the binary ----

# Each command's entry in herald.1, from its `.It Cm NAME` line to the next
# one, in the COMMANDS section.
mkdir "$SCRATCH/entry"
awk -v dir="$SCRATCH/entry" '
	/^\.Sh / { insec = ($2 == "COMMANDS"); out = ""; next }
	insec && /^\.It Cm / { out = dir "/" $3 }
	insec && out != "" { print > out }
' "$MAN1"

# Whether FILE mentions the long option NAME (without its dashes): as mdoc's
# "Fl -NAME", or written out in a literal display.
has_long() { # has_long FILE NAME
	grep -Eq -e "(Fl -|--|\\\\-\\\\-)$2([^A-Za-z0-9-]|\$)" "$1"
}

"$HERALD" --help >"$SCRATCH/help" 2>&1
st=$?
ok $st "herald --help exits 0"

# The global options: "  -C DIR ...", "  -v, --verbose ...".
sed -n '/^Options:$/,/^$/p' "$SCRATCH/help" |
    sed -n 's/^  \(-[A-Za-z]\)\(, --\([a-z][a-z0-9-]*\)\)\{0,1\} .*/\1 \3/p' >"$SCRATCH/globals"
[ -s "$SCRATCH/globals" ]
ok $? "herald --help lists the global options"
while read -r short long; do
	grep -Eq "^\.It Fl ${short#-}( |\$)" "$MAN1"
	ok $? "herald.1 documents the global option $short"
	if [ -n "$long" ]; then
		has_long "$MAN1" "$long"
		ok $? "herald.1 documents the global option --$long"
	fi
done <"$SCRATCH/globals"

# The commands: "  check       validate ...".
sed -n '/^Commands:$/,/^$/p' "$SCRATCH/help" |
    sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p' >"$SCRATCH/commands"
[ "$(wc -l <"$SCRATCH/commands")" -ge 10 ]
ok $? "herald --help lists the commands ($(wc -l <"$SCRATCH/commands" | tr -d ' '))"
grep -qx init "$SCRATCH/commands" ||
    echo "# herald --help does not list init yet; herald.1 documents it ahead"

# The exit statuses a command's help gives: "Exit status: 0 ok; 65 ...; 78 ...".
help_statuses() { # help_statuses HELPFILE
	sed -n '/^Exit status:/,/^$/p' "$1" | tr '\n' ' ' | sed 's/^Exit status://' |
	    tr ';' '\n' | sed -n 's/^ *\([0-9][0-9]*\)\([^0-9].*\)\{0,1\}$/\1/p'
}

while read -r cmd; do
	entry=$SCRATCH/entry/$cmd
	[ -s "$entry" ]
	ok $? "herald.1 documents the command $cmd (.It Cm $cmd)"
	[ -s "$entry" ] || continue
	"$HERALD" "$cmd" --help >"$SCRATCH/help.$cmd" 2>&1
	st=$?
	ok $st "herald $cmd --help exits 0"
	# The command's own options, in its usage line or at the head of a
	# line of its option list ("  -l, --list ID", "  --at TIME"), are in
	# its entry; an option the prose mentions (another command's) is
	# somewhere in herald.1.
	grep -E -e '^usage: ' -e '^ +(-[A-Za-z], )?--[a-z]' "$SCRATCH/help.$cmd" |
	    sed -E 's/^( +(-[A-Za-z], )?--[a-z][a-z0-9-]*).*/\1/' |
	    grep -o -e '--[a-z][a-z0-9-]*' | sort -u >"$SCRATCH/own"
	for opt in $(grep -o -e '--[a-z][a-z0-9-]*' "$SCRATCH/help.$cmd" | sort -u); do
		name=${opt#--}
		if [ "$name" != help ] && grep -qx -e "$opt" "$SCRATCH/own"; then
			has_long "$entry" "$name"
			ok $? "herald.1 documents $cmd $opt in the entry of $cmd"
		else
			has_long "$MAN1" "$name"
			ok $? "herald.1 documents $opt (in herald $cmd --help)"
		fi
	done
	want=$(help_statuses "$SCRATCH/help.$cmd" | tr '\n' ' ')
	missing=
	for code in $want; do
		grep -Eq "^\.It $code( |\$)" "$entry" || missing="$missing $code"
	done
	[ -z "$missing" ]
	ok $? "herald.1 gives the exit statuses of $cmd: ${want:-none in its help}"
	[ -z "$missing" ] || echo "# missing in herald.1:$missing"
done <"$SCRATCH/commands"

# ---- herald.yaml(5) against the code ----

# The names in a key table of a C file:
#   static const char *const NAME[] = { "a", "b",
#       "c", NULL };
c_table() { # c_table FILE NAME
	awk -v name="$2" '
		$0 ~ "^static const char \\*const " name "\\[\\] = \\{" { on = 1 }
		on {
			s = $0
			sub(/^[^{]*\{/, "", s)
			while (match(s, /"[^"]*"/)) {
				print substr(s, RSTART + 1, RLENGTH - 2)
				s = substr(s, RSTART + RLENGTH)
			}
			if ($0 ~ /\};/)
				exit
		}
	' "$1"
}

# A subsection of herald.yaml.5, from ".Ss TITLE" to the next .Ss or .Sh.
section5() { # section5 TITLE
	awk -v title="$1" '
		/^\.S[sh] / { t = $0; sub(/^\.S[sh] /, "", t); on = (t == title); next }
		on
	' "$MAN5"
}

# Whether KEY is the tag of an item (".It Ic KEY", or one of several on
# the line) in FILE.
has_item() { # has_item FILE KEY
	k=$(printf '%s' "$2" | sed 's/\./\\./g')
	grep -Eq "^\.It (.* )?Ic $k( |\$)" "$1"
}

# config.c checks each mapping's keys against a table,
# schema_unknown_keys(n, TABLE, d), in the function that also says what the
# mapping is, schema_is_map(n, "'SECTION'", d) ("the configuration" for
# the top level). Derive TABLE -> SECTION ("." for the top level) from that.
awk '
	/^[a-z_][a-z0-9_]*\(/ { fn = $0; sub(/\(.*/, "", fn) }
	/schema_is_map\(/ {
		if (match($0, /"'"'"'[a-z_]+'"'"'"/))
			sec[fn] = substr($0, RSTART + 2, RLENGTH - 4)
		else if ($0 ~ /"the configuration"/)
			sec[fn] = "."
	}
	/schema_unknown_keys\(/ && match($0, /, *[a-z_]+_keys *,/) {
		t = substr($0, RSTART, RLENGTH)
		gsub(/[, ]/, "", t)
		tbl[t] = fn
	}
	END { for (t in tbl) print t, ((tbl[t] in sec) ? sec[tbl[t]] : "?") }
' "$TOP/src/config.c" | sort >"$SCRATCH/tables"
grep -q ' \.$' "$SCRATCH/tables" && [ "$(wc -l <"$SCRATCH/tables")" -ge 5 ]
ok $? "config.c's key tables found ($(tr '\n' ' ' <"$SCRATCH/tables"))"
! grep -q ' ?$' "$SCRATCH/tables"
ok $? "every key table of config.c belongs to a known mapping"

section5 "The configuration" >"$SCRATCH/config.5"
[ -s "$SCRATCH/config.5" ]
ok $? "herald.yaml.5 has a subsection 'The configuration'"
: >"$SCRATCH/keys"
while read -r table section; do
	keys=$(c_table "$TOP/src/config.c" "$table")
	[ -n "$keys" ]
	ok $? "config.c's $table has keys"
	for key in $keys; do
		if [ "$section" = . ]; then
			echo "$key"
		else
			echo "$section.$key"
		fi
	done >>"$SCRATCH/keys"
done <"$SCRATCH/tables"
while read -r key; do
	has_item "$SCRATCH/config.5" "$key"
	ok $? "herald.yaml.5 documents the configuration key $key"
done <"$SCRATCH/keys"

# The keys of list, template and release files, from their tables.
check_file_keys() { # check_file_keys TITLE CFILE TABLE...
	title=$1 cfile=$2
	shift 2
	section5 "$title" >"$SCRATCH/part.5"
	[ -s "$SCRATCH/part.5" ]
	ok $? "herald.yaml.5 has a subsection '$title'"
	for table; do
		keys=$(c_table "$TOP/src/$cfile" "$table")
		[ -n "$keys" ]
		ok $? "$cfile's $table has keys"
		for key in $keys; do
			has_item "$SCRATCH/part.5" "$key"
			ok $? "herald.yaml.5, $title: documents '$key' ($cfile $table)"
		done
	done
}
check_file_keys "List files" list.c list_keys list_digest_keys list_sub_keys
check_file_keys "Template files" tmplfile.c tmplfile_keys
check_file_keys "Release files" release.c release_keys

# ---- the pages render ----

if [ $have_tools -eq 0 ]; then
	for page in "$MAN1" "$MAN5"; do
		mandoc -T ascii "$page" 2>&1 | sed 's/.\x08//g' >"$SCRATCH/out" &&
		    grep -q '^NAME' "$SCRATCH/out" &&
		    grep -q '^SEE ALSO' "$SCRATCH/out"
		ok $? "$(basename "$page") renders"
	done
fi

done_testing
