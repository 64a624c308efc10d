#!/bin/sh
# The sample templates hold their layout on a phone: a release with a
# 120-character link and a long unbroken word, rendered by the real
# templates and laid out by a real headless Chromium in a 375 px and a
# 700 px frame, needs no more width than the frame (no sideways scrolling).
. "$(dirname "$0")/lib.sh"
scratch

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "1..0 # SKIP needs chromium (scripts/deps installs it)"
	exit 0
fi

P="$SCRATCH/p"
mkdir -p "$P/state"
cp -R "$TOP/config" "$TOP/lists" "$TOP/templates" "$P/"
mkdir -p "$P/releases"
cp "$TOP/tests/data/secret" "$P/state/secret"
chmod 600 "$P/state/secret"
url="https://www.opengovpartnership.org/americas-regional-meeting-2017/call-for-proposals/speakers-moderators-and-facilitators"
word="Supercalifragilisticexpialidociousandlongerstillbyafewmorelettersforgoodmeasure"
ok "$(test ${#url} -ge 120; echo $?)" "the link is ${#url} characters"
cat >"$P/releases/wide.yaml" <<REL
title: "A headline long enough to wrap on a phone: $word"
byline: OGP Support Unit
lists: [press]
summary: A release with a long link and a long word.
body: |
  Read the call at $url
  or on [the call's own page]($url).

  $word $word.
about: |
  The boilerplate, with the link again: <$url>.
contact: "Press office, $url"
REL
"$HERALD" -C "$P" preview wide >"$SCRATCH/wide.eml" 2>"$SCRATCH/err"
ok $? "the sample templates render the release"
/usr/bin/python3 "$TOP/tests/tools/layout.py" "$CHROMIUM" "$SCRATCH/wide.eml" 375 700 \
	>"$SCRATCH/widths" 2>"$SCRATCH/err"
ok $? "headless Chromium lays it out"
diag <"$SCRATCH/err"
diag <"$SCRATCH/widths"
for w in 375 700; do
	got=$(awk -v w="$w" '$1 == w { print $2 }' "$SCRATCH/widths")
	ok "$(test -n "$got" && test "$got" -le "$w"; echo $?)" \
		"in a $w px frame it needs $got px: no sideways scrolling"
done

done_testing
