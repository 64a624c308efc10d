#!/bin/sh
# make install and make uninstall, under DESTDIR and PREFIX as a packager
# runs them: the binary, herald(1), herald.yaml(5) and the systemd unit,
# whose ExecStart names the installed binary; uninstall takes all four away.
. "$(dirname "$0")/lib.sh"
scratch

D="$SCRATCH/dest"
# The build under test (O=...) is up to date: install copies it, rebuilding nothing.
O=$(basename "${HERALD_BUILD:-$TOP/build}")
make -s -C "$TOP" install O="$O" DESTDIR="$D" PREFIX=/usr >"$SCRATCH/out" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr"
[ -s "$SCRATCH/out" ] && diag <"$SCRATCH/out"

for f in bin/herald:755 share/man/man1/herald.1:644 share/man/man5/herald.yaml.5:644 \
	lib/systemd/system/herald.service:644; do
	path=$D/usr/${f%:*}
	mode=$(stat -c %a "$path" 2>/dev/null)
	ok "$(test "$mode" = "${f#*:}"; echo $?)" "usr/${f%:*} installed, mode ${f#*:} ($mode)"
done
"$D/usr/bin/herald" --version >/dev/null
ok $? "the installed binary runs"
cmp -s "$D/usr/bin/herald" "$TOP/$O/herald"
ok $? "and is the one built"
ok "$(grep -qx 'ExecStart=/usr/bin/herald run' "$D/usr/lib/systemd/system/herald.service"; echo $?)" \
	"the unit runs the installed binary"
grep -v '^ExecStart=' "$D/usr/lib/systemd/system/herald.service" >"$SCRATCH/unit.got"
grep -v '^ExecStart=' "$TOP/contrib/herald.service" >"$SCRATCH/unit.want"
is_file "$SCRATCH/unit.got" "$SCRATCH/unit.want" "the rest of the unit is contrib/herald.service"

for page in man1/herald.1 man5/herald.yaml.5; do
	MANWIDTH=80 man -l "$D/usr/share/man/$page" >"$SCRATCH/page" 2>"$SCRATCH/warn"
	ok "$(test $? -eq 0 && test -s "$SCRATCH/page" && test ! -s "$SCRATCH/warn"; echo $?)" \
		"man -l renders $page without a warning"
	diag <"$SCRATCH/warn"
done

make -s -C "$TOP" uninstall O="$O" DESTDIR="$D" PREFIX=/usr >"$SCRATCH/out" 2>&1
ok $? "make uninstall"
left=$(find "$D" -type f | sed "s|^$D/||")
ok "$(test -z "$left"; echo $?)" "removes every file install put there"
[ -n "$left" ] && echo "$left" | diag

done_testing
