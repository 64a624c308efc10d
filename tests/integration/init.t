#!/bin/sh
# herald init: a new project that check passes, preview renders and send
# delivers, with the very templates the samples use; never a file
# overwritten, and nothing left behind when it cannot finish.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

# tree DIR: every file and folder under DIR with its size, mode, time and sum.
tree() {
	(cd "$1" && find . -printf '%p %y %s %m %T@\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
}

# ---- a new project ----
P="$SCRATCH/office"
"$HERALD" init "$P" >"$SCRATCH/out" 2>"$SCRATCH/err"
ok $? "init makes a new folder"
for f in config/herald.yaml lists/press.yaml releases/first-release.yaml \
	templates/press-release.yaml templates/digest.yaml; do
	ok "$(test -s "$P/$f"; echo $?)" "init wrote $f"
done
same=0
for f in "$TOP"/templates/*.yaml "$TOP"/templates/partials/*.mustache; do
	cmp -s "$f" "$P/${f#"$TOP"/}" || { same=1; echo "# differs: ${f#"$TOP"/}"; }
done
ok $same "its templates and partials are the samples', byte for byte"
ok "$(grep -q 'herald check' "$SCRATCH/out" && grep -q "cd $P" "$SCRATCH/out"; echo $?)" \
	"it says what to do next"
ok "$(test ! -s "$SCRATCH/err"; echo $?)" "and nothing on standard error"
ok "$(test ! -e "$P/state"; echo $?)" "no state yet: the journal is made by the first use"
ok "$(grep -q '^  url: smtp://127.0.0.1:25$' "$P/config/herald.yaml"; echo $?)" \
	"the relay is on loopback"
for k in unsubscribe_url tls username password_env password_file ca_file connections \
	rate burst domain_rates retry give_up_after timeout 'imap:' 'dkim:' selector key_file \
	postal_address reply_to subscribe_address \
	algorithm headers 'http:' listen 'url:' 'tz:' 'state:' 'lists:' 'templates:' 'releases:' \
	'bounces:' mailbox 'poll:'; do
	grep -q "^ *# *$k" "$P/config/herald.yaml" || echo "$k" >>"$SCRATCH/uncommented"
done
ok "$(test ! -s "$SCRATCH/uncommented"; echo $?)" "every optional key is there, commented out"
[ -s "$SCRATCH/uncommented" ] && diag <"$SCRATCH/uncommented"
n=$(grep -c '^  - ' "$P/lists/press.yaml")
ok "$(test "$n" -eq 2; echo $?)" "one list with two example subscribers ($n)"

(cd "$P" && "$HERALD" check) >"$SCRATCH/check" 2>&1
ok $? "herald check passes on it"
ok "$(grep -qx 'configuration OK' "$SCRATCH/check"; echo $?)" "configuration OK"
(cd "$P" && "$HERALD" preview first-release) >"$SCRATCH/preview" 2>"$SCRATCH/err"
ok $? "herald preview renders the example release"
ok "$(grep -q '^Subject: Example Foundation opens its new community library' "$SCRATCH/preview" &&
	grep -q '^To: Alex Editor <editor@example.org>' "$SCRATCH/preview" &&
	grep -q 'text/html' "$SCRATCH/preview"; echo $?)" "to the first subscriber, with a text and an HTML part"
"$HERALD" -C "$P" send first-release --dry-run >"$SCRATCH/dry" 2>&1
ok $? "send --dry-run"
ok "$(grep -q '2 recipients' "$SCRATCH/dry"; echo $?)" "would go to the two subscribers"
diag <"$SCRATCH/dry"

# ---- the first send, into a real SMTP server ----
S="$SCRATCH/sink"
if "$PY" -c 'import aiosmtpd' 2>/dev/null && start_sink "$S"; then
	sed -i "s|^  url: smtp://127.0.0.1:25$|  url: smtp://127.0.0.1:$PORT|" "$P/config/herald.yaml"
	"$HERALD" -C "$P" send first-release >"$SCRATCH/send" 2>&1
	ok $? "herald send first-release through a relay on loopback"
	ok "$(test "$(received "$S")" -eq 2; echo $?)" "the relay received two messages"
	ok "$(grep -ql '^Subject: Example Foundation' "$S"/*.eml; echo $?)" "the example release"
else
	for c in send received release; do skip "first send: $c" "needs aiosmtpd"; done
fi

# ---- never overwrite ----
tree "$P" >"$SCRATCH/before"
"$HERALD" init "$P" >"$SCRATCH/out" 2>"$SCRATCH/err"
rc=$?
ok "$(test $rc -eq 73; echo $?)" "init into an existing project: exit 73 ($rc)"
ok "$(grep -q "'$P/config/herald.yaml' exists; nothing was written" "$SCRATCH/err"; echo $?)" \
	"names the config that exists"
tree "$P" >"$SCRATCH/after"
is_file "$SCRATCH/after" "$SCRATCH/before" "and touches nothing"

# A folder that has only a config of its own: refused, nothing added.
Q="$SCRATCH/mine"
mkdir -p "$Q/config"
echo "sender: {from: me@example.org}" >"$Q/config/herald.yaml"
tree "$Q" >"$SCRATCH/before"
"$HERALD" init "$Q" 2>"$SCRATCH/err"
rc=$?
ok "$(test $rc -eq 73 && test "$(wc -l <"$SCRATCH/err")" -eq 1; echo $?)" \
	"a folder with a config: exit 73, one line ($rc)"
tree "$Q" >"$SCRATCH/after"
is_file "$SCRATCH/after" "$SCRATCH/before" "nothing added, the config untouched"

# A file in the way of a folder: init cannot finish, and leaves nothing.
R="$SCRATCH/blocked"
mkdir -p "$R"
echo "not a folder" >"$R/releases"
"$HERALD" init "$R" 2>"$SCRATCH/err"
rc=$?
ok "$(test $rc -eq 73; echo $?)" "a file where a folder must be: exit 73 ($rc)"
ok "$(grep -q "cannot write '$R/releases/first-release.yaml'" "$SCRATCH/err"; echo $?)" \
	"the path it could not write is named"
ok "$(test "$(cd "$R" && find . | sort | tr '\n' ' ')" = ". ./releases "; echo $?)" \
	"what it had made is removed"

# The current folder by default; more than one folder is a usage error.
mkdir "$SCRATCH/here"
(cd "$SCRATCH/here" && "$HERALD" init >/dev/null)
ok $? "init with no DIR makes the project in the current folder"
ok "$(test -s "$SCRATCH/here/config/herald.yaml"; echo $?)" "there"
"$HERALD" init "$SCRATCH/a" "$SCRATCH/b" 2>/dev/null
ok "$(test $? -eq 64 && test ! -e "$SCRATCH/a"; echo $?)" "two folders: exit 64, nothing made"
"$HERALD" init --help >"$SCRATCH/help"
ok "$(grep -q 'never overwrites' "$SCRATCH/help"; echo $?)" "--help says it never overwrites"

done_testing
