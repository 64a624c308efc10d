#!/bin/sh
# Press kits, end to end into the capturing sink: a release's attachments
# (a small real PDF, a PNG, a file with a name in Spanish) arrive
# byte-identical in every message, typed as libmagic (file(1)) types them;
# every message parses under Python's email with policy=strict without a
# defect; the non-ASCII name is RFC 2231 and reads back right; the images
# the Markdown, the template and sender.logo name travel inline and the
# HTML names them by cid: only; DKIM (python3-dkim) verifies messages that
# carry files. A digest carries none: it names them and links to them
# under sender.archive_url. herald check refuses, at the YAML node, exit
# 65: a path out of the project, a symlink out, a missing file, a folder,
# a missing image, a total over limits.attachments; send refuses them too
# and sends nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd, dkim' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd and python3-dkim for $PY"
	exit 0
fi
if ! command -v file >/dev/null; then
	echo "1..0 # SKIP needs file(1) to say what libmagic makes of the files"
	exit 0
fi

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 2"
NAME="Año 2026 – informe ñandú.pdf"
mkdir -p "$P/files/kit"
# A real PDF (its xref offsets right) and PNGs, made here.
"$PY" - "$P/files" "$NAME" <<'PY'
import struct, sys, zlib
d, name = sys.argv[1], sys.argv[2]
def png(w, h, rgb):
    raw = b''.join(b'\0' + bytes(rgb) * w for _ in range(h))
    def chunk(t, b):
        return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
def pdf(text):
    stream = b'BT /F1 12 Tf 20 100 Td (' + text + b') Tj ET'
    objs = [b'<< /Type /Catalog /Pages 2 0 R >>',
            b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
            b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R'
            b' /Resources << /Font << /F1 5 0 R >> >> >>',
            b'<< /Length %d >>\nstream\n' % len(stream) + stream + b'\nendstream',
            b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']
    out, offs = b'%PDF-1.4\n', []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b'%d 0 obj\n' % (i + 1) + o + b'\nendobj\n'
    x = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
    out += b''.join(b'%010d 00000 n \n' % o for o in offs)
    out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objs) + 1, x)
    return out
open(d + '/report.pdf', 'wb').write(pdf(b'Annual report'))
open(d + '/' + name, 'wb').write(pdf(b'Informe anual'))
open(d + '/kit/photo.png', 'wb').write(png(32, 24, (10, 120, 200)))
open(d + '/logo.png', 'wb').write(png(8, 8, (200, 20, 20)))
open(d + '/chart.png', 'wb').write(png(16, 16, (20, 160, 20)))
open(d + '/banner.png', 'wb').write(png(40, 4, (90, 90, 90)))
PY
cat >>"$P/config/herald.yaml" <<'EOF'
dkim:
  domain: news.example
  selector: kit
  key_file: config/dkim.key
EOF
sed -i 's|^  unsubscribe_address: .*|&\n  logo: files/logo.png\n  archive_url: https://news.example/files/|' \
    "$P/config/herald.yaml"
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$P/config/dkim.key" 2>/dev/null
chmod 600 "$P/config/dkim.key"
# The template shows the logo (sender.logo) and a banner it names itself.
cat >"$P/templates/card.yaml" <<'EOF'
subject: "{{release.title}}"
text: |
  Dear {{subscriber.name}},
  {{release.body}}
  {{#release.attachments}}
  Attached: {{name}}
  {{/release.attachments}}
  {{> footer}}
html: |
  <p><img src="{{sender.logo}}" alt="{{sender.name}}"> Dear {{subscriber.name}}</p>
  {{{release.body_html}}}
  <img src="files/banner.png" alt="">
EOF
cat >"$P/releases/news.yaml" <<EOF
title: Quarterly news
lists: [a]
attachments:
  - files/report.pdf
  - files/kit/photo.png
  - "files/$NAME"
body: |
  Something happened.

  ![The chart](files/chart.png)
EOF
gen_list "$P/lists/a.yaml" 1 5
sed -i 's/^template: card$/&\ndigest: { template: digest }/' "$P/lists/a.yaml"
echo '  - { email: dg@example.org, name: Dee Gee, delivery: digest }' >>"$P/lists/a.yaml"
cp "$TOP/templates/digest.yaml" "$P/templates/"
cp "$TOP"/templates/partials/*.mustache "$P/templates/partials/"

"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1
ok $? "herald check accepts the press kit"
diag <"$SCRATCH/check.out"
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1; st=$?
ok "$st" "herald send exits 0"
[ "$st" -eq 0 ] || diag <"$SCRATCH/send.out"
ok "$(test "$(received "$S")" = 5; echo $?)" "five messages arrive"

# What libmagic (file(1)) calls each file: the Content-Type each must have.
for f in report.pdf kit/photo.png "$NAME" chart.png logo.png banner.png; do
	printf '%s\t%s\n' "$f" "$(file -b --mime-type "$P/files/$f")"
done >"$SCRATCH/types.tsv"

cat >"$SCRATCH/check.py" <<'PY'
import email, email.policy, glob, re, sys
files, name, types, sink = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
mime = dict(l.rstrip('\n').split('\t') for l in open(types, encoding='utf-8'))
attached = ['report.pdf', 'kit/photo.png', name]
inline = ['chart.png', 'logo.png', 'banner.png']
want = {p: open(files + '/' + p, 'rb').read() for p in attached + inline}
fails = {}
def check(what, cond, detail=''):
    fails.setdefault(what, [])
    if not cond:
        fails[what].append(detail)
msgs = sorted(glob.glob(sink + '/*.eml'))
for path in msgs:
    raw = open(path, 'rb').read()
    try:
        m = email.message_from_bytes(raw, policy=email.policy.strict)
    except Exception as e:
        check('every message parses under policy=strict', False, '%s: %r' % (path, e))
        continue
    defects = [d for p in m.walk() for d in p.defects]
    defects += [d for p in m.walk() for _, v in p.items() for d in getattr(v, 'defects', ())]
    check('no defect in any message, part or header', not defects, repr(defects))
    tree = [m.get_content_type()] + [p.get_content_type() for p in m.iter_parts()]
    check('multipart/mixed around the alternative part and the three files',
          tree == ['multipart/mixed', 'multipart/alternative', mime['report.pdf'],
                   mime['kit/photo.png'], mime[name]], repr(tree))
    alt = list(m.iter_parts())[0]
    alts = [p.get_content_type() for p in alt.iter_parts()]
    check('the alternative part: text/plain, then multipart/related', alts ==
          ['text/plain', 'multipart/related'], repr(alts))
    if alts != ['text/plain', 'multipart/related']:
        continue
    text, rel = list(alt.iter_parts())
    check('multipart/related names text/html as its root', rel.get_param('type') == 'text/html')
    rparts = list(rel.iter_parts())
    html = rparts[0].get_content()
    check('the root of multipart/related is the HTML', rparts[0].get_content_type() == 'text/html')
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    cids = {str(p['Content-ID']).strip('<> ') for p in rparts[1:]}
    check('every img src in the HTML is a cid:', srcs and all(s.startswith('cid:') for s in srcs),
          repr(srcs))
    check('each cid: names an image part of the message, and each image part is shown',
          {s[4:] for s in srcs} == cids and len(cids) == 3, '%r %r' % (srcs, cids))
    check('no path of the project in the HTML or the text', 'files/' not in html and
          'files/' not in text.get_content(), html[:200])
    for p in rparts[1:]:
        fn = p.get_filename()
        check('each inline image: Content-Disposition inline, its name, its bytes, its type',
              p.get_content_disposition() == 'inline' and fn in inline and
              p.get_content() == want[fn] and p.get_content_type() == mime[fn], repr(fn))
    for p, path in zip(list(m.iter_parts())[1:], attached):
        check('each attachment arrives byte-identical', p.get_content() == want[path], path)
        check('each attachment is Content-Disposition: attachment with its file name',
              p.get_content_disposition() == 'attachment' and
              p.get_filename() == path.split('/')[-1], repr(p.get_filename()))
        check('each attachment is typed as libmagic types it',
              p.get_content_type() == mime[path], '%s: %s' % (path, p.get_content_type()))
    check('the name that is not ASCII goes as RFC 2231 (filename*=utf-8\'\')',
          re.search(rb"filename\*(0\*)?=utf-8''A%C3%B1o", raw) is not None)
    b64 = [p for p in m.walk() if p['Content-Transfer-Encoding'] == 'base64']
    check('base64 parts, lines of 76 columns at most', len(b64) == 6 and
          all(len(l) <= 76 for p in b64 for l in p.get_payload().splitlines()))
    check('the text part names the attachments', 'Attached: report.pdf' in text.get_content())
check('the sink kept five messages', len(msgs) == 5, str(len(msgs)))
for what, bad in fails.items():
    print('%s\t%d' % (what, 1 if bad else 0))
    for b in bad[:3]:
        print('# ' + b, file=sys.stderr)
PY
"$PY" "$SCRATCH/check.py" "$P/files" "$NAME" "$SCRATCH/types.tsv" "$S" >"$SCRATCH/checks.tsv" \
    2>"$SCRATCH/checks.err"
ok_checks "$SCRATCH/checks.tsv" "the message checks ran"
diag <"$SCRATCH/checks.err"

# DKIM over messages that carry files, verified on their own.
"$HERALD" -C "$P" dkim-record >"$SCRATCH/kit.rec"
out=$("$PY" - "$SCRATCH/kit.rec" "$S"/*.eml <<'PY'
import re, sys, dkim
line = open(sys.argv[1]).read()
name = line.split()[0].encode()
txt = "".join(re.findall(r'"([^"]*)"', line)).encode()
good = sum(bool(dkim.verify(open(p, 'rb').read(), dnsfunc=lambda q, timeout=5:
                            txt if q == name else None)) for p in sys.argv[2:])
print("verified %d of %d" % (good, len(sys.argv) - 2))
PY
)
ok "$(test "$out" = "verified 5 of 5"; echo $?)" "python3-dkim verifies every message with files ($out)"
first=$(ls "$S"/*.eml | head -1)
sed 's/^JVBERi0xLjQK/JVBERi0xLjUK/' "$first" >"$SCRATCH/altered.eml"
out=$("$PY" - "$SCRATCH/kit.rec" "$SCRATCH/altered.eml" <<'PY'
import re, sys, dkim
line = open(sys.argv[1]).read()
name = line.split()[0].encode()
txt = "".join(re.findall(r'"([^"]*)"', line)).encode()
print(bool(dkim.verify(open(sys.argv[2], 'rb').read(), dnsfunc=lambda q, timeout=5:
                       txt if q == name else None)))
PY
)
ok "$(! cmp -s "$first" "$SCRATCH/altered.eml" && test "$out" = False; echo $?)" \
	"one byte of the PDF changed: the signature fails"

# ---- the digest: no files, their names and links ----
"$HERALD" -C "$P" digest a >"$SCRATCH/digest.out" 2>&1; st=$?
D=$(grep -l '^To: .*dg@example.org' "$S"/*.eml | head -1)
ok "$(test $st = 0 && test -n "$D"; echo $?)" "herald digest sends the digest (exit $st)"
[ -n "$D" ] || diag <"$SCRATCH/digest.out"
"$PY" - "$D" "$NAME" >"$SCRATCH/digest.tsv" 2>&1 <<'PY'
import email, email.policy, re, sys, urllib.parse
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.strict)
name = sys.argv[2]
leaves = [p for p in m.walk() if not p.is_multipart()]
types = [p.get_content_type() for p in leaves]
text = [p for p in leaves if p.get_content_type() == 'text/plain'][0].get_content()
html = [p for p in leaves if p.get_content_type() == 'text/html'][0].get_content()
url = 'https://news.example/files/news/' + urllib.parse.quote(name, safe='')
print('the digest carries no attachment\t%d' % (m.get_content_type() == 'multipart/mixed' or
      any(p.get_content_disposition() == 'attachment' for p in leaves)))
print('the digest names each attachment in its text\t%d' % (not ('report.pdf' in text and
      name in text)))
print('the digest links to it under archive_url + release id + name\t%d' % (not (
      'https://news.example/files/news/report.pdf' in html and url in html)))
srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
print('the digest shows its images by cid: only\t%d' % (not (srcs and
      all(s.startswith('cid:') for s in srcs) and not re.search(r'="files/', html))))
PY
ok_checks "$SCRATCH/digest.tsv" "the digest checks ran"

# ---- refusals: each at its node, exit 65, nothing sent ----
before=$(received "$S")
echo outside >"$SCRATCH/outside.pdf"
ln -s "$SCRATCH/outside.pdf" "$P/files/link.pdf"
ln -s ../../../outside.pdf "$P/files/kit/rel-link.pdf"
mkdir "$P/files/folder.pdf"
# refuse NAME WANT YAML...: the release bad.yaml (lines of YAML) is refused by
# check, send and schedule with WANT (a grep -F pattern), exit 65, nothing
# sent, nothing scheduled.
refuse() {
	_name=$1 _want=$2; shift 2
	printf '%s\n' "$@" >"$P/releases/bad.yaml"
	"$HERALD" -C "$P" check >"$SCRATCH/bad-check.out" 2>&1; _c=$?
	"$HERALD" -C "$P" send bad >"$SCRATCH/bad-send.out" 2>&1; _s=$?
	"$HERALD" -C "$P" schedule bad --at 2099-01-01T00:00:00Z >"$SCRATCH/bad-sched.out" 2>&1
	ok "$(test $? = 65 && grep -qF "$_want" "$SCRATCH/bad-sched.out" &&
	    test -z "$(sql "$P/state/herald.db" "select id from releases where release_id = 'bad'")"
	    echo $?)" "$_name: herald schedule exits 65, nothing scheduled"
	ok "$(test $_c = 65 && grep -qF "$_want" "$SCRATCH/bad-check.out"; echo $?)" \
	    "$_name: herald check exits 65 and says where (got $_c)"
	grep -F "bad.yaml" "$SCRATCH/bad-check.out" | diag
	ok "$(test $_s = 65 && grep -qF "$_want" "$SCRATCH/bad-send.out" &&
	    test "$(received "$S")" = "$before"; echo $?)" \
	    "$_name: herald send exits 65, nothing sent (got $_s)"
	rm -f "$P/releases/bad.yaml"
}
refuse "a path out of the project" \
	"releases/bad.yaml:3:33: attachment '../outside.pdf': outside the project" \
	"title: Bad" "lists: [a]" "attachments: [files/report.pdf, ../outside.pdf]"
refuse "an absolute path" \
	"releases/bad.yaml:3:15: attachment '/etc/hostname': an absolute path" \
	"title: Bad" "lists: [a]" "attachments: [/etc/hostname]"
refuse "a symlink to a file outside" \
	"releases/bad.yaml:4:5: attachment 'files/link.pdf': outside the project" \
	"title: Bad" "lists: [a]" "attachments:" "  - files/link.pdf"
refuse "a relative symlink that climbs out" \
	"releases/bad.yaml:4:5: attachment 'files/kit/rel-link.pdf': outside the project" \
	"title: Bad" "lists: [a]" "attachments:" "  - files/kit/rel-link.pdf"
refuse "a missing file" \
	"releases/bad.yaml:3:15: attachment 'files/nothere.pdf': no such file in the project" \
	"title: Bad" "lists: [a]" "attachments: [files/nothere.pdf]"
refuse "a folder" \
	"releases/bad.yaml:3:15: attachment 'files/folder.pdf': not a regular file" \
	"title: Bad" "lists: [a]" "attachments: [files/folder.pdf]"
refuse "an image the Markdown names that is missing" \
	"releases/bad.yaml:5:7: image 'files/missing.png': no such file in the project" \
	"title: Bad" "lists: [a]" "body: |" "  Look:" "  See ![x](files/missing.png) here."
refuse "an image the Markdown names out of the project" \
	"releases/bad.yaml:4:7: image '../outside.pdf': outside the project" \
	"title: Bad" "lists: [a]" "body: |" "  See ![x](../outside.pdf)"
# Over the limit: 3 KB of files against a limit of 2 KB, said at the file that crosses it.
head -c 1500 /dev/zero >"$P/files/a.bin"
head -c 1500 /dev/zero >"$P/files/b.bin"
cp "$P/config/herald.yaml" "$SCRATCH/herald.yaml.keep"
printf 'limits:\n  attachments: 2KB\n' >>"$P/config/herald.yaml"
refuse "a total over limits.attachments" \
	"releases/bad.yaml:5:5: with attachment 'files/b.bin' the release carries 2.9 KB, over limits.attachments (2.0 KB)" \
	"title: Bad" "lists: [a]" "attachments:" "  - files/a.bin" "  - files/b.bin"
cp "$SCRATCH/herald.yaml.keep" "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/again.out" 2>&1
ok $? "with the bad release gone, herald check passes again"

# A template's image that is missing: an error at the template's line.
cp "$P/templates/card.yaml" "$SCRATCH/card.keep"
sed -i 's|files/banner.png|files/gone.png|' "$P/templates/card.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/tmpl.out" 2>&1; st=$?
ok "$(test $st = 65 && grep -qF "templates/card.yaml:12:13: image 'files/gone.png': no such file" \
    "$SCRATCH/tmpl.out"; echo $?)" "a template's missing image: check exits 65 at its line (got $st)"
diag <"$SCRATCH/tmpl.out"
cp "$SCRATCH/card.keep" "$P/templates/card.yaml"

# A release's files may go under limits.attachments by name in the config: an unknown key is said.
printf 'limits:\n  attachment: 2KB\n' >>"$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/key.out" 2>&1; st=$?
ok "$(test $st = 78 && grep -q "attachment" "$SCRATCH/key.out"; echo $?)" \
	"limits with an unknown key: check exits 78 (got $st)"
cp "$SCRATCH/herald.yaml.keep" "$P/config/herald.yaml"

done_testing
