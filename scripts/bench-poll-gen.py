#!/usr/bin/python3
"""bench-poll-gen.py - the mail scripts/bench-poll puts in the mailbox.

Tokens are computed as src/token.c makes them:

  base32(id) "-" base32(first 80 bits of HMAC-SHA256(secret,
                        purpose NUL id-in-decimal NUL lowercase-address))

lowercase RFC 4648 base32 without padding; the id is a plain base-32 number,
most significant digit first (0 is "a"); 80 bits are exactly 16 digits.
Purposes (src/render.c): "b" VERP bounces+TOKEN@, "u" unsubscribe+TOKEN@,
"m" the Message-ID <RELEASE.TOKEN@domain>.

  bench-poll-gen.py verify DB DUMPDIR --domain D --bounce ADDR --unsub ADDR
      every delivery row's message_id (the journal), and every message
      smtp-sink dumped (envelope sender, List-Unsubscribe), against tokens
      computed here; exit 1 on any difference.
  bench-poll-gen.py gen DB OUTDIR N --domain D --bounce ADDR --unsub ADDR --desk ADDR
      N messages, one file each (000001.eml ...), mixed: 30% RFC 3464
      bounces to a row's VERP address (half 5.1.1 user unknown, half 4.2.2
      mailbox full), 10% mail to unsubscribe+TOKEN@, 10% replies to our
      Message-ID whose first line is "unsubscribe", 20% auto-replies
      (Auto-Submitted: auto-replied; half to the desk, half, as RFC 3834
      says, to the Return-Path, i.e. the VERP address), 30% human replies
      to our Message-ID. Prints one "KIND FILE" line per message to
      OUTDIR/../manifest.tsv.

The secret is DB's directory's "secret" file (herald's state/secret).
"""
import argparse
import base64
import email.utils
import hashlib
import hmac
import os
import random
import re
import sqlite3
import sys

B32 = "abcdefghijklmnopqrstuvwxyz234567"


def b32_id(i):
    s = ""
    while True:
        s = B32[i & 31] + s
        i >>= 5
        if not i:
            return s


def token(secret, purpose, rowid, address):
    msg = purpose.encode() + b"\0" + str(rowid).encode() + b"\0" + address.lower().encode()
    mac = hmac.new(secret, msg, hashlib.sha256).digest()[:10]
    return b32_id(rowid) + "-" + base64.b32encode(mac).decode().lower()


def plus(address, tok):
    local, dom = address.rsplit("@", 1)
    return "%s+%s@%s" % (local, tok, dom)


def load(db_path):
    secret_path = os.path.join(os.path.dirname(db_path) or ".", "secret")
    with open(secret_path, "rb") as f:
        secret = f.read()
    if len(secret) != 32:
        sys.exit("%s: %d bytes, not 32" % (secret_path, len(secret)))
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
    rows = db.execute(
        "SELECT d.id, d.address, d.message_id, d.state, r.release_id, d.fields"
        " FROM deliveries d JOIN releases r ON r.id = d.release ORDER BY d.id").fetchall()
    return secret, rows


def header(raw, name):
    """The unfolded value of the first header NAME of raw (bytes), or None."""
    head = raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    m = re.search(rb"(?mi)^" + re.escape(name.encode()) + rb":[ \t]*(.*(?:\n[ \t].*)*)", head)
    return None if m is None else re.sub(rb"\n[ \t]+", b" ", m.group(1)).decode("utf-8", "replace").strip()


def verify(a):
    secret, rows = load(a.db)
    by_addr = {r[1]: r for r in rows}
    bad = 0
    sample = None
    for rowid, addr, mid, state, release, _ in rows:
        want = "%s.%s@%s" % (release, token(secret, "m", rowid, addr), a.domain)
        if mid != want:
            bad += 1
            if bad <= 5:
                print("row %d %s: message_id %s, computed %s" % (rowid, addr, mid, want))
        if sample is None or rowid > sample[0]:
            sample = (rowid, addr, mid)
    nmid = len(rows)
    ndump = nverp = nunsub = 0
    for name in sorted(os.listdir(a.dumpdir)):
        with open(os.path.join(a.dumpdir, name), "rb") as f:
            raw = f.read()
        rcpt = (header(raw, "X-Rcpt-Args") or "").split()[0].strip("<>").lower()
        row = by_addr.get(rcpt)
        if row is None:
            bad += 1
            print("%s: recipient %r is not in the journal" % (name, rcpt))
            continue
        ndump += 1
        rowid, addr = row[0], row[1]
        sender = (header(raw, "X-Mail-Args") or "").split()[0].strip("<>")
        want = plus(a.bounce, token(secret, "b", rowid, addr))
        if sender == want:
            nverp += 1
        else:
            bad += 1
            print("%s: envelope sender %s, computed %s" % (name, sender, want))
        lu = header(raw, "List-Unsubscribe") or ""
        want = plus(a.unsub, token(secret, "u", rowid, addr))
        if ("<mailto:%s?" % want) in lu:
            nunsub += 1
        else:
            bad += 1
            print("%s: List-Unsubscribe %s, computed %s" % (name, lu, want))
        msgid = (header(raw, "Message-ID") or "").strip("<>")
        if msgid != row[2]:
            bad += 1
            print("%s: Message-ID %s, journal %s" % (name, msgid, row[2]))
    print("tokens: %d/%d journal Message-IDs; %d dumped messages: %d/%d VERP senders, "
          "%d/%d List-Unsubscribe addresses reproduced exactly" %
          (nmid, nmid, ndump, nverp, ndump, nunsub, ndump)
          if bad == 0 else "tokens: %d differences" % bad)
    if sample and bad == 0:
        rowid, addr, mid = sample
        print("e.g. row %d %s: m %s, b %s, u %s (Message-ID %s)" % (
            rowid, addr, token(secret, "m", rowid, addr), token(secret, "b", rowid, addr),
            token(secret, "u", rowid, addr), mid))
    if ndump == 0:
        print("no dumped messages in %s" % a.dumpdir)
        bad += 1
    return 1 if bad else 0


TITLE = "OGP's Americas Regional Event announced for November 21-22 in Argentina"
MTAS = ["mx%d.example%d.org" % (i, i) for i in range(1, 6)]


def msg_id(rng, host):
    return "<%x.%x@%s>" % (rng.getrandbits(48), rng.getrandbits(32), host)


def dsn(rng, secret, a, row, hard, date):
    rowid, addr, mid, _, release, _ = row
    verp = plus(a.bounce, token(secret, "b", rowid, addr))
    mta = rng.choice(MTAS)
    boundary = "%x/%s" % (rng.getrandbits(40), mta)
    if hard:
        status, diag, why = "5.1.1", "smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr, \
            "User unknown"
    else:
        status, diag, why = "4.2.2", "smtp; 452 4.2.2 <%s>: Mailbox full" % addr, "mailbox full"
    return ("""Return-Path: <>
Received: from %(mta)s (%(mta)s [192.0.2.%(oct)d])
	by mail.bench.example with ESMTP id %(qid)X
	for <%(verp)s>; %(date)s
Date: %(date)s
From: MAILER-DAEMON@%(mta)s (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: %(verp)s
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="%(b)s"
Message-Id: %(own)s

This is a MIME-encapsulated message.

--%(b)s
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host %(mta)s.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<%(addr)s>: host %(mta)s said: %(why)s

--%(b)s
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; %(mta)s
X-Postfix-Queue-ID: %(qid)X
Arrival-Date: %(date)s

Final-Recipient: rfc822; %(addr)s
Original-Recipient: rfc822;%(addr)s
Action: failed
Status: %(status)s
Remote-MTA: dns; %(mta)s
Diagnostic-Code: %(diag)s

--%(b)s
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <%(verp)s>
From: Bench Desk <desk@bench.example>
To: <%(addr)s>
Subject: %(title)s
Date: %(date)s
Message-ID: <%(mid)s>
MIME-Version: 1.0

--%(b)s--
""" % dict(mta=mta, oct=rng.randrange(1, 254), qid=rng.getrandbits(40), verp=verp, date=date,
           b=boundary, own=msg_id(rng, mta), addr=addr, why=why, status=status, diag=diag,
           title=TITLE, mid=mid))


def person(addr):
    return "Reader %s" % addr.split("@")[0]


def unsub_mail(rng, secret, a, row, date):
    rowid, addr = row[0], row[1]
    to = plus(a.unsub, token(secret, "u", rowid, addr))
    return ("""From: %s <%s>
To: %s
Subject: unsubscribe
Date: %s
Message-ID: %s
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

""" % (person(addr), addr, to, date, msg_id(rng, addr.split("@")[1])))


def reply(rng, a, row, date, first_line, extra_headers="", to=None, subject=None):
    addr, mid = row[1], row[2]
    return ("""From: %(p)s <%(addr)s>
To: %(to)s
Subject: %(subj)s
Date: %(date)s
Message-ID: %(own)s
In-Reply-To: <%(mid)s>
References: <%(mid)s>
%(extra)sMIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

%(first)s

On %(date)s, Bench Desk <desk@bench.example> wrote:
> On November 21-22, 2017, Argentina will host the Open Government
> Partnership's Americas Regional Meeting in Buenos Aires, bringing
> together some 2,000 representatives from government agencies, civil
> society organizations, academia, and journalists from around the region.
""" % dict(p=person(addr), addr=addr, to=to or a.desk, subj=subject or "Re: " + TITLE, date=date,
           own=msg_id(rng, addr.split("@")[1]), mid=mid, extra=extra_headers, first=first_line))


QUESTIONS = [
    "Could you tell me who will speak for Argentina's government at the meeting?",
    "Is there a press accreditation deadline for the Buenos Aires event?",
    "Thanks. Will the side events of the Open Government Week be streamed?",
    "Can I get an interview with someone from the OGP Support Unit next week?",
    "How many of the 75 national governments have confirmed attendance?",
]


def gen(a):
    secret, rows = load(a.db)
    rows = [r for r in rows if r[3] == "sent"]
    if not rows:
        sys.exit("no sent rows in %s" % a.db)
    n = a.n
    counts = [("bounce-hard", n * 15 // 100), ("bounce-soft", n * 15 // 100),
              ("unsubscribe", n // 10), ("reply-unsubscribe", n // 10),
              ("autoreply", n // 5)]
    counts.append(("human", n - sum(c for _, c in counts)))
    kinds = [k for k, c in counts for _ in range(c)]
    rng = random.Random(a.seed)
    rng.shuffle(kinds)
    os.makedirs(a.outdir, exist_ok=True)
    man = open(os.path.join(os.path.dirname(os.path.abspath(a.outdir)), "manifest.tsv"), "w")
    for i, kind in enumerate(kinds, 1):
        row = rng.choice(rows)
        date = email.utils.formatdate(1800000000 + i * 7, localtime=False)
        if kind == "bounce-hard":
            text = dsn(rng, secret, a, row, True, date)
        elif kind == "bounce-soft":
            text = dsn(rng, secret, a, row, False, date)
        elif kind == "unsubscribe":
            text = unsub_mail(rng, secret, a, row, date)
        elif kind == "reply-unsubscribe":
            text = reply(rng, a, row, date, "unsubscribe")
        elif kind == "autoreply":
            to = a.desk if i % 2 else plus(a.bounce, token(secret, "b", row[0], row[1]))
            text = reply(rng, a, row, date,
                         "I am out of the office until Monday with limited access to email.",
                         "Auto-Submitted: auto-replied\nX-Autoreply: yes\n", to, "Out of office")
        else:
            text = reply(rng, a, row, date, rng.choice(QUESTIONS))
        name = "%06d.eml" % i
        with open(os.path.join(a.outdir, name), "w") as f:
            f.write(text)
        man.write("%s\t%s\t%d\n" % (kind, name, row[0]))
    man.close()
    print(" ".join("%s=%d" % kc for kc in counts))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=["verify", "gen"])
    ap.add_argument("db")
    ap.add_argument("dir")
    ap.add_argument("n", type=int, nargs="?", default=10000)
    ap.add_argument("--domain", default="bench.example")
    ap.add_argument("--bounce", default="bounces@bench.example")
    ap.add_argument("--unsub", default="unsubscribe@bench.example")
    ap.add_argument("--desk", default="desk@bench.example")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.cmd == "verify":
        a.dumpdir = a.dir
        return verify(a)
    a.outdir = a.dir
    return gen(a)


if __name__ == "__main__":
    sys.exit(main())
