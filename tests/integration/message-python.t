#!/bin/sh
# message-python.t - every sample message of t_message parses defect-free
# under Python's email package with policy=email.policy.strict, and decodes
# to what herald meant: subject, display names, both bodies.
# Python is an independent MIME reader; the unit tests check the bytes.

here=$(cd "$(dirname "$0")" && pwd)
build=${HERALD_BUILD:-$here/../../build}
t=$build/t/t_message
py=/usr/bin/python3

if [ ! -x "$py" ]; then
	echo "1..0 # SKIP no $py"
	exit 0
fi
if [ ! -x "$t" ]; then
	echo "1..0 # SKIP $t not built"
	exit 0
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/check.py" <<'EOF'
import email, email.policy, sys

raw = open(sys.argv[1], 'rb').read()
subject, frm, to, text, html = open(sys.argv[2], 'rb').read().split(b'\0')
problems = []

def norm(s):
    return s.replace('\r\n', '\n')

try:
    m = email.message_from_bytes(raw, policy=email.policy.strict)
except Exception as e:
    print('# strict parse raised: %r' % e)
    sys.exit(1)
for part in m.walk():
    if part.defects:
        problems.append('defects %r' % part.defects)
    for name, value in part.items():
        if getattr(value, 'defects', None):
            problems.append('%s: defects %r' % (name, value.defects))
if m['subject'] != subject.decode():
    problems.append('subject %r != %r' % (str(m['subject']), subject.decode()))
# A display name is a phrase: runs of white space in it mean one space.
# (Python also keeps the folding space between two encoded-words of a
# phrase, which RFC 2047 drops; herald cuts them after a space.)
for name, want in (('from', frm), ('to', to)):
    got = ' '.join(m[name].addresses[0].display_name.split())
    if got != ' '.join(want.decode().split()):
        problems.append('%s display name %r != %r' % (name, got, want.decode()))
leaves = [p for p in m.walk() if not p.is_multipart()]
want = [text] + ([html] if m.is_multipart() else [])
if [p.get_content_type() for p in leaves] != ['text/plain', 'text/html'][:len(want)]:
    problems.append('parts %r' % [p.get_content_type() for p in leaves])
for p, w in zip(leaves, want):
    if norm(p.get_content()) != norm(w.decode('utf-8', 'replace')):
        problems.append('%s body differs: %r' % (p.get_content_type(), p.get_content()[:80]))
if raw.count(b'\n') != raw.count(b'\r\n') or raw.count(b'\r') != raw.count(b'\r\n'):
    problems.append('bare CR or LF')
head, _, body = raw.partition(b'\r\n\r\n')
for line in head.split(b'\r\n'):
    if len(line) > 78:
        problems.append('header line of %d: %r' % (len(line), line[:40]))
for line in body.split(b'\r\n'):
    if len(line) > 76:
        problems.append('body line of %d: %r' % (len(line), line[:40]))
for p in problems:
    print('# ' + p)
sys.exit(1 if problems else 0)
EOF

n=$("$t" --samples) || exit 1
i=0
fail=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	if "$t" --emit "$i" >"$tmp/msg" && "$t" --expect "$i" >"$tmp/expect" &&
	    "$py" "$tmp/check.py" "$tmp/msg" "$tmp/expect"; then
		echo "ok $i - sample $i: python strict parse, no defects, decodes as meant"
	else
		echo "not ok $i - sample $i: python strict parse, no defects, decodes as meant"
		fail=1
	fi
done
echo "1..$n"
exit $fail
