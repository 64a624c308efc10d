"""Ports on 127.0.0.1 for the integration tests.

port.py free        print a port nothing listens on
port.py wait PORT   wait until something accepts on PORT (at most 5 s); exit 1 if not
"""
import socket
import sys
import time

if sys.argv[1] == "free":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
else:
    for _ in range(250):
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[2])), 0.2).close()
            sys.exit(0)
        except OSError:
            time.sleep(0.02)
    sys.exit(1)
