#!/usr/bin/python3
"""sink.py - a capturing SMTP sink on 127.0.0.1 for herald's tests and demo.

Every accepted message becomes DIR/NNNNNN.eml (the bytes as received, dot
unstuffed) beside DIR/NNNNNN.json, its envelope:
  {"mail_from": ..., "rcpt_tos": [...], "received_at": time.time(), "peer": [host, port],
   "tls": bool, "auth_user": str or null, "waiting": N}
where "waiting" counts the messages, this one included, whose final dot
had been received and not yet answered when this one arrived.
The .json is written before the .eml, each to a temporary name then
renamed, so a reader that sees NNNNNN.eml finds both complete. DIR/log.tsv
gets one line a message, "received_at<TAB>mail_from<TAB>rcpt[,rcpt...]",
flushed as written. DIR/sink.pid holds the PID once the port listens; it
is removed when SIGTERM (or SIGINT) stops the sink, which then exits 0.

Run it with /usr/bin/python3: aiosmtpd is only installed for that one.

  sink.py --port P --dir D
          [--reject-rcpt REGEX [--reject-code 550] [--reject-text '5.1.1 user unknown']]
          [--defer-rcpt REGEX [--defer-code 450] [--defer-text '4.2.0 try again later']]
          [--data-delay SECONDS]                      wait before the reply to the final dot,
                                                      as a relay that spools to disk does
          [--tls-cert C --tls-key K]                  offer STARTTLS (not require it)
          [--auth-user U --auth-password-file F]      AUTH PLAIN/LOGIN required before MAIL;
                                                      with TLS too, AUTH only after STARTTLS
Recipients are matched with re.search, case-insensitively.
"""
import argparse
import asyncio
import json
import os
import re
import signal
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def next_number(directory):
    numbers = [int(n[:-4]) for n in os.listdir(directory)
               if n.endswith(".eml") and n[:-4].isdigit()]
    return max(numbers, default=0) + 1


class Sink:
    def __init__(self, args):
        self.dir = args.dir
        self.rules = []  # (regex, reply) in order: rejections first
        if args.reject_rcpt:
            self.rules.append((re.compile(args.reject_rcpt, re.I),
                               f"{args.reject_code} {args.reject_text}"))
        if args.defer_rcpt:
            self.rules.append((re.compile(args.defer_rcpt, re.I),
                               f"{args.defer_code} {args.defer_text}"))
        self.number = next_number(self.dir)
        self.delay = args.data_delay
        self.waiting = 0
        self.log = open(os.path.join(self.dir, "log.tsv"), "a", encoding="utf-8")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for regex, reply in self.rules:
            if regex.search(address):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        base = os.path.join(self.dir, "%06d" % self.number)
        self.number += 1
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "received_at": now,
            "peer": list(session.peer) if session.peer else None,
            "tls": session.ssl is not None,
            "auth_user": session.auth_data if session.authenticated else None,
            "waiting": self.waiting + 1,
        }
        write_atomic(base + ".json", (json.dumps(meta) + "\n").encode())
        write_atomic(base + ".eml", envelope.original_content)
        self.log.write(f"{now:.6f}\t{envelope.mail_from}\t{','.join(envelope.rcpt_tos)}\n")
        self.log.flush()
        number = self.number - 1
        if self.delay > 0:
            self.waiting += 1
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.waiting -= 1
        return "250 2.0.0 OK queued as %06d" % number


class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        good = (isinstance(auth_data, LoginPassword)
                and auth_data.login == self.user and auth_data.password == self.password)
        return AuthResult(success=good, handled=False,
                          auth_data=self.user.decode() if good else None)


def smtp_factory(args, sink):
    options = {"hostname": "herald-sink", "enable_SMTPUTF8": True}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options["tls_context"] = context
    if args.auth_user:
        with open(args.auth_password_file, encoding="utf-8") as f:
            password = f.read().rstrip("\r\n")
        options["authenticator"] = Authenticator(args.auth_user, password)
        options["auth_required"] = True
        # AUTH in the clear only when there is no TLS to ask for (loopback tests)
        options["auth_require_tls"] = bool(args.tls_cert)
    return lambda: SMTP(sink, **options)


async def serve(args):
    sink = Sink(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(smtp_factory(args, sink), "127.0.0.1", args.port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pidfile = os.path.join(args.dir, "sink.pid")
    write_atomic(pidfile, b"%d\n" % os.getpid())
    await stop.wait()
    server.close()
    os.unlink(pidfile)
    sink.log.close()


def main():
    p = argparse.ArgumentParser(description="capturing SMTP sink on 127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--reject-rcpt")
    p.add_argument("--reject-code", type=int, default=550)
    p.add_argument("--reject-text", default="5.1.1 user unknown")
    p.add_argument("--defer-rcpt")
    p.add_argument("--defer-code", type=int, default=450)
    p.add_argument("--defer-text", default="4.2.0 try again later")
    p.add_argument("--data-delay", type=float, default=0.0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password-file")
    args = p.parse_args()
    # aiosmtpd 1.4 warns about its own use of Session.login_data on every AUTH
    warnings.filterwarnings("ignore", "Session.login_data", DeprecationWarning)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if bool(args.auth_user) != bool(args.auth_password_file):
        p.error("--auth-user and --auth-password-file go together")
    os.makedirs(args.dir, exist_ok=True)
    try:
        asyncio.run(serve(args))
    except OSError as e:
        print(f"sink.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
