#!/bin/sh
# DKIM signing, checked by an independent verifier (python3-dkim) that is
# served the record `herald dkim-record` prints: for rsa-sha256 and
# ed25519-sha256, the message of `herald preview` and every message of a
# real `herald send` into the capturing sink and a digest verify, and
# cover the List-* fields; a changed body byte or Subject fails; so does a
# message with odd white space and a field given twice, signed by
# tests/tools/dkim-sign. A key of mode 0644, or of
# the other algorithm, is refused by check and send (exit 78, nothing
# sent); a DKIM domain that does not align with From is a warning. With
# Dovecot installed, the confirmation `herald poll` sends is signed too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd, dkim, nacl' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd and python3-dkim for $PY"
	exit 0
fi

# verify.py RECORD EML...: each message's first DKIM signature checked
# against the TXT record (the zone-file line herald prints, its strings
# joined); prints "verified N failed M" and, for the first message, h=.
cat >"$SCRATCH/verify.py" <<'PY'
import re, sys, dkim
line = open(sys.argv[1]).read()
name = line.split()[0].encode()
txt = "".join(re.findall(r'"([^"]*)"', line)).encode()
def dnsfunc(q, timeout=5):
    return txt if q == name else None
good = bad = 0
h = ""
for i, path in enumerate(sys.argv[2:]):
    msg = open(path, "rb").read()
    if dkim.verify(msg, dnsfunc=dnsfunc):
        good += 1
    else:
        bad += 1
    if i == 0:
        sig = dkim.util.parse_tag_value(dkim.rfc822_parse(msg)[0][0][1])
        h = re.sub(r"\s", "", sig[b"h"].decode())
print("verified %d failed %d" % (good, bad))
print("h=" + h)
PY
verify() { "$PY" "$SCRATCH/verify.py" "$@"; }

# dkim_block ALG [DOMAIN]: the dkim: section.
dkim_block() {
	printf 'dkim:\n  domain: %s\n  selector: herald2026\n  key_file: config/dkim.key\n  algorithm: %s\n' \
	    "${2:-news.example}" "$1"
}

# keygen ALG FILE: a new private key, PEM, mode 0600.
keygen() {
	if [ "$1" = ed25519-sha256 ]; then
		openssl genpkey -algorithm ed25519 -out "$2" 2>/dev/null
	else
		openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null
	fi
	chmod 600 "$2"
}

for alg in rsa-sha256 ed25519-sha256; do
	S="$SCRATCH/sink-$alg"
	start_sink "$S"
	ok $? "$alg: the capturing sink starts"
	P="$SCRATCH/p-$alg"
	project "$P" "$PORT" "connections: 2"
	# A one-click URL too, so that List-Unsubscribe-Post is there to be signed.
	sed -i 's|^  unsubscribe_address: .*|&\n  unsubscribe_url: https://news.example/unsubscribe/|' \
	    "$P/config/herald.yaml"
	gen_list "$P/lists/a.yaml" 1 30
	# and one digest subscriber, for a digest after the release
	sed -i 's/^template: card$/&\ndigest: { template: digest }/' "$P/lists/a.yaml"
	echo '  - { email: dg@example.org, name: Dee Gee, delivery: digest }' >>"$P/lists/a.yaml"
	cp "$TOP/templates/digest.yaml" "$P/templates/"
	cp "$TOP"/templates/partials/*.mustache "$P/templates/partials/"
	keygen "$alg" "$P/config/dkim.key"
	dkim_block "$alg" >>"$P/config/herald.yaml"

	"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1
	ok $? "$alg: herald check accepts the key"
	ok "$(! grep -q "warning: dkim" "$SCRATCH/check.out"; echo $?)" "$alg: no warning for an aligned domain"

	"$HERALD" -C "$P" dkim-record >"$SCRATCH/$alg.rec" 2>"$SCRATCH/rec.err"
	ok $? "$alg: herald dkim-record exits 0"
	k=rsa; [ "$alg" = ed25519-sha256 ] && k=ed25519
	grep -q "^herald2026\._domainkey\.news\.example\. IN TXT \"v=DKIM1; k=$k; p=[A-Za-z0-9+/=]*\"" \
	    "$SCRATCH/$alg.rec"
	ok $? "$alg: the record names the selector, the domain and k=$k"
	diag <"$SCRATCH/$alg.rec"

	"$HERALD" -C "$P" preview news >"$SCRATCH/preview.eml" 2>"$SCRATCH/preview.err"
	ok $? "$alg: herald preview exits 0"
	head -1 "$SCRATCH/preview.eml" | grep -q '^DKIM-Signature: v=1; a='"$alg"'; c=relaxed/relaxed;'
	ok $? "$alg: the preview starts with its DKIM-Signature"
	# Over 78 columns only where one word cannot be folded (RFC 5322 2.1.1:
	# SHOULD 78, MUST 998): the unsubscribe mailto with its dated token.
	long=$(awk '/^\r?$/ { body = 1 } !body && length($0) > 78 {
		s = $0; sub(/\r$/, "", s); sub(/^[ \t]+/, "", s); sub(/^[A-Za-z0-9-]+: /, "", s)
		if (s ~ /[ \t]/ || length($0) > 998) n++ } END { print n + 0 }' "$SCRATCH/preview.eml")
	ok "$(test "$long" = 0; echo $?)" "$alg: no header line over 78 columns that could be folded"
	out=$(verify "$SCRATCH/$alg.rec" "$SCRATCH/preview.eml")
	ok "$(echo "$out" | grep -qx 'verified 1 failed 0'; echo $?)" "$alg: python3-dkim verifies the preview"
	h=$(echo "$out" | sed -n 's/^h=//p' | tr 'A-Z' 'a-z')
	miss=""
	for f in from to subject date message-id mime-version content-type list-id \
	    list-unsubscribe list-unsubscribe-post; do
		case ":$h:" in *":$f:"*) ;; *) miss="$miss $f" ;; esac
	done
	ok "$(test -z "$miss"; echo $?)" "$alg: h= covers From ... List-Unsubscribe-Post (missing:$miss)"

	sed 's/^Something happened\./Something hoppened./' "$SCRATCH/preview.eml" >"$SCRATCH/body.eml"
	sed 's/^Subject: Quarterly news/Subject: Quarterly newt/' "$SCRATCH/preview.eml" >"$SCRATCH/subj.eml"
	ok "$(! cmp -s "$SCRATCH/preview.eml" "$SCRATCH/body.eml" && ! cmp -s "$SCRATCH/preview.eml" \
	    "$SCRATCH/subj.eml"; echo $?)" "$alg: the altered copies differ from the preview"
	out=$(verify "$SCRATCH/$alg.rec" "$SCRATCH/body.eml" "$SCRATCH/subj.eml")
	ok "$(echo "$out" | grep -qx 'verified 0 failed 2'; echo $?)" \
	    "$alg: a changed body byte or Subject fails verification"

	"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>"$SCRATCH/send.err"; st=$?
	ok "$st" "$alg: herald send exits 0"
	[ "$st" -eq 0 ] || diag <"$SCRATCH/send.err"
	out=$(verify "$SCRATCH/$alg.rec" "$S"/*.eml)
	ok "$(echo "$out" | grep -qx 'verified 30 failed 0'; echo $?)" \
	    "$alg: all 30 messages sent verify ($(echo "$out" | head -1))"
	"$HERALD" -C "$P" digest a >"$SCRATCH/digest.out" 2>&1; st=$?
	D=$(grep -l '^To: .*dg@example.org' "$S"/*.eml | head -1)
	ok "$(test $st = 0 && test -n "$D"; echo $?)" "$alg: herald digest sends the digest (exit $st)"
	[ -n "$D" ] || diag <"$SCRATCH/digest.out"
	out=$(test -n "$D" && verify "$SCRATCH/$alg.rec" "$D")
	ok "$(echo "$out" | grep -qx 'verified 1 failed 0'; echo $?)" "$alg: the digest verifies"
	stop_pid "$SINK_PID"

	# What herald never builds itself: a field given twice, folded values
	# with runs of white space, a body with tabs, spaces at line ends and
	# empty lines at its end.
	printf '%s\r\n' 'From: Desk <desk@news.example>' 'X-Tag: one' 'Subject:  a   folded' \
	    ' 	 subject  ' 'X-Tag:	two  ' 'To: reader@example.org' '' 'a  body	with tabs ' \
	    '  leading' '' 'end	' '' '' >"$SCRATCH/odd.eml"
	"$HERALD_BUILD/tools/dkim-sign" "$P/config/dkim.key" "$alg" news.example herald2026 X-Tag \
	    <"$SCRATCH/odd.eml" >"$SCRATCH/odd-signed.eml" 2>"$SCRATCH/odd.err"
	ok $? "$alg: dkim-sign signs a message with odd white space and a field given twice"
	out=$(verify "$SCRATCH/$alg.rec" "$SCRATCH/odd-signed.eml")
	ok "$(echo "$out" | grep -qx 'verified 1 failed 0' && echo "$out" | grep -qx \
	    'h=from:to:subject:x-tag:x-tag'; echo $?)" \
	    "$alg: python3-dkim verifies it, both X-Tag fields signed ($(echo "$out" | tr '\n' ' '))"
done

# ---- refusals and warnings (on the ed25519 project) ----
chmod 644 "$P/config/dkim.key"
"$HERALD" -C "$P" check >"$SCRATCH/c644.out" 2>&1; st=$?
ok "$(test $st = 78 && grep -q 'dkim.key.*mode 0644.*chmod 600' "$SCRATCH/c644.out"; echo $?)" \
	"a key file of mode 0644: herald check exits 78 and says chmod 600 (got $st)"
diag <"$SCRATCH/c644.out"
S="$SCRATCH/sink-refused"
start_sink "$S"
sed -i "s|^  url: smtp://127.0.0.1:.*|  url: smtp://127.0.0.1:$PORT|" "$P/config/herald.yaml"
cp "$P/releases/news.yaml" "$P/releases/news2.yaml"
"$HERALD" -C "$P" send news2 >"$SCRATCH/s644.out" 2>&1; st=$?
ok "$(test $st = 78 && grep -q 'chmod 600' "$SCRATCH/s644.out" && test "$(received "$S")" = 0; echo $?)" \
	"a key file of mode 0644: herald send exits 78 and sends nothing (got $st)"
chmod 600 "$P/config/dkim.key"

sed -i 's/^  algorithm: ed25519-sha256/  algorithm: rsa-sha256/' "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/calg.out" 2>&1; st=$?
ok "$(test $st = 78 && grep -q 'not an RSA key' "$SCRATCH/calg.out"; echo $?)" \
	"an ed25519 key for rsa-sha256: herald check exits 78 (got $st)"
diag <"$SCRATCH/calg.out"
"$HERALD" -C "$P" send news2 >"$SCRATCH/salg.out" 2>&1; st=$?
ok "$(test $st = 78 && test "$(received "$S")" = 0; echo $?)" \
	"an ed25519 key for rsa-sha256: herald send exits 78, nothing sent (got $st)"
sed -i 's/^  algorithm: rsa-sha256/  algorithm: ed25519-sha256/' "$P/config/herald.yaml"

sed -i 's/^  domain: news.example$/  domain: other.example/' "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/calign.out" 2>&1; st=$?
ok "$(test $st = 0 && grep -q "warning: dkim domain 'other.example' does not align with the From domain 'news.example'" \
    "$SCRATCH/calign.out"; echo $?)" "a DKIM domain not aligned with From: a warning, exit 0 (got $st)"
diag <"$SCRATCH/calign.out"
sed -i 's/^  domain: other.example$/  domain: mail.news.example/' "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/csub.out" 2>&1
ok "$(! grep -q "warning: dkim" "$SCRATCH/csub.out"; echo $?)" "a subdomain of the From domain aligns"
sed -i 's/^  domain: mail.news.example$/  domain: news.example/' "$P/config/herald.yaml"

# ---- herald's own mail: the confirmation a request without a token gets ----
if [ -x /usr/sbin/dovecot ] && command -v doveadm >/dev/null 2>&1; then
	. "$(dirname "$0")/imap-lib.sh"
	start_dovecot
	ok $? "dovecot starts"
	herald_imap_config imaps >>"$P/config/herald.yaml"
	cat >"$SCRATCH/request.eml" <<EOF
From: Person 0004 <user0004@example.org>
To: desk@news.example
Subject: please remove me
Message-ID: <request4@example.org>

Thanks.
EOF
	imap_append "$SCRATCH/request.eml"
	"$HERALD" -C "$P" poll >"$SCRATCH/poll.out" 2>&1
	ok $? "herald poll exits 0"
	C=$(grep -l '^Subject: Confirm' "$S"/*.eml 2>/dev/null | head -1)
	ok "$(test -n "$C"; echo $?)" "the request without a token got a confirmation"
	[ -n "$C" ] || diag <"$SCRATCH/poll.out"
	out=$(test -n "$C" && verify "$SCRATCH/ed25519-sha256.rec" "$C")
	ok "$(echo "$out" | grep -qx 'verified 1 failed 0'; echo $?)" "the confirmation is signed, and verifies"
else
	echo "ok $((tap_n + 1)) # SKIP no dovecot: the robot mail signing is not checked"
	tap_n=$((tap_n + 1))
fi

done_testing
