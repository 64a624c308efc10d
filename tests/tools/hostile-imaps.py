"""A hostile IMAPS server on 127.0.0.1 for the tests: it logs anyone in,
offers INBOX with a few messages, and then misbehaves as asked.

hostile-imaps.py --port P --cert CERT --key KEY MODE

MODE
  literal        UID FETCH: announces a 300 MiB literal and sends 300 MiB of junk, fast
  trickle        UID FETCH: announces a 300 MiB literal, then a byte a second
  hidden         UID FETCH: as literal, after a text line ending in "{30}", which is
                 no literal but would hide the "{3" of the real one from a guard
                 that took it for one
  search         UID SEARCH: answers with 5,000,000 UIDs (about 39 MB, one line)
  stall          SELECT: never answers (the connection stays open)

It writes its PID to P.pid beside CERT once it listens, and runs until killed.
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

LITERAL = 300 * 1024 * 1024
UIDS = 5_000_000


def send(c, data):
    c.sendall(data if isinstance(data, bytes) else data.encode())


def huge_literal(c, tag, trickle, hidden=False):
    if hidden:
        send(c, "* OK note {30}\r\n")
    send(c, "* 1 FETCH (UID 1 BODY[]<0> {%d}\r\n" % LITERAL)
    chunk = b"x" * 65536
    left = LITERAL
    while left > 0:
        if trickle:
            send(c, b"x")
            left -= 1
            time.sleep(1)
        else:
            n = min(left, len(chunk))
            send(c, chunk[:n])
            left -= n
    send(c, ")\r\n%s OK done\r\n" % tag)


def huge_search(c, tag):
    send(c, "* SEARCH")
    step = 100_000
    for lo in range(1, UIDS + 1, step):
        send(c, "".join(" %d" % u for u in range(lo, min(lo + step, UIDS + 1))))
    send(c, "\r\n%s OK SEARCH done\r\n" % tag)


def session(c, mode):
    send(c, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hostile ready\r\n")
    f = c.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            return
        words = line.decode("latin-1").rstrip("\r\n").split(" ")
        tag, cmd = words[0], " ".join(words[1:3]).upper()
        if cmd.startswith("CAPABILITY"):
            send(c, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n" % tag)
        elif cmd.startswith("LOGIN"):
            send(c, "%s OK logged in\r\n" % tag)
        elif cmd.startswith("SELECT"):
            if mode == "stall":
                while True:
                    time.sleep(3600)
            uidnext = UIDS + 1 if mode == "search" else 4
            send(c, "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n"
                 "%s OK [READ-WRITE] selected\r\n" % (uidnext, tag))
        elif cmd.startswith("LIST"):
            send(c, '* LIST () "/" INBOX\r\n%s OK done\r\n' % tag)
        elif cmd.startswith("UID SEARCH"):
            if mode == "search":
                huge_search(c, tag)
            else:
                send(c, "* SEARCH 1 2 3\r\n%s OK done\r\n" % tag)
        elif cmd.startswith("UID FETCH"):
            huge_literal(c, tag, mode == "trickle", mode == "hidden")
        elif cmd.startswith("LOGOUT"):
            send(c, "* BYE bye\r\n%s OK done\r\n" % tag)
            return
        else:
            send(c, "%s OK done\r\n" % tag)


def serve(conn, ctx, mode):
    try:
        with ctx.wrap_socket(conn, server_side=True) as c:
            session(c, mode)
    except (OSError, ssl.SSLError):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("mode", choices=["literal", "trickle", "hidden", "search", "stall"])
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.port))
    s.listen(16)
    with open(os.path.join(os.path.dirname(a.cert), "%d.pid" % a.port), "w") as f:
        f.write("%d\n" % os.getpid())
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, ctx, a.mode), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
