"""Parses a message with Python's email package under the strict policy and
checks what herald promises: no defects anywhere, the decoded subject, both
parts, every header, line lengths. Prints problems; exits 1 on any."""
import email
import email.policy
import sys

path, want_subject = sys.argv[1], sys.argv[2]
raw = open(path, 'rb').read()
problems = []

lines = raw.split(b'\r\n')
if any(b'\n' in l or b'\r' in l for l in lines):
    problems.append('bare CR or LF (line ends must be CRLF)')
head, _, body = raw.partition(b'\r\n\r\n')
for l in head.split(b'\r\n'):
    # RFC 5322 2.1.1: SHOULD 78, MUST 998. Over 78 only where one word
    # cannot be folded (the unsubscribe mailto, whose token is long).
    word = l.lstrip(b' \t')
    if b': ' in word and word[:1] not in (b' ', b'\t') and l[:1] not in (b' ', b'\t'):
        word = word.split(b': ', 1)[1]
    if len(l) > 78 and (b' ' in word or b'\t' in word):
        problems.append('header line over 78 columns that could be folded: %r' % l[:60])
for l in lines:
    if len(l) > 998:
        problems.append('line over 998 octets')
for l in body.split(b'\r\n'):
    if len(l) > 78:
        problems.append('body line over 78 columns: %r' % l[:60])

msg = email.message_from_bytes(raw, policy=email.policy.strict)
for part in msg.walk():
    for d in part.defects:
        problems.append('defect: %r' % d)
    for name, value in part.items():
        for d in getattr(value, 'defects', ()):
            problems.append('header %s defect: %r' % (name, d))

for h in ('From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'List-Id',
          'List-Unsubscribe', 'Precedence', 'Content-Type'):
    if msg[h] is None:
        problems.append('missing header ' + h)
if str(msg['Subject']) != want_subject:
    problems.append('subject decodes to %r' % str(msg['Subject']))
if msg.get_content_type() != 'multipart/alternative':
    problems.append('content type ' + msg.get_content_type())
parts = list(msg.iter_parts())
types = [p.get_content_type() for p in parts]
if types != ['text/plain', 'text/html']:
    problems.append('parts ' + repr(types))
for p in parts:
    if p.get_content_charset() != 'utf-8' or p['Content-Transfer-Encoding'] != 'quoted-printable':
        problems.append('part %s not utf-8 quoted-printable' % p.get_content_type())
    body = p.get_content()
    if want_subject not in body:
        problems.append('part %s lacks the title' % p.get_content_type())
if msg['Precedence'] != 'bulk':
    problems.append('Precedence is %r' % msg['Precedence'])
mid = str(msg['Message-ID']).strip()
if not (mid.startswith('<ogp-americas-2017.') and mid.endswith('@ogp.example>')):
    problems.append('Message-ID %r' % mid)
if 'mailto:unsubscribe+' not in str(msg['List-Unsubscribe']):
    problems.append('List-Unsubscribe %r' % str(msg['List-Unsubscribe']))

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
