"""Sends bytes as they are to an HTTP server and tells what came back.

rawhttp.py PORT < REQUEST

Writes standard input to 127.0.0.1:PORT unchanged (any number of requests,
well formed or not), then reads until the server closes the connection or
2 s pass in silence. Prints the status code of every response, one a line,
then "closed" or "open".
"""
import re
import socket
import sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.sendall(sys.stdin.buffer.read())
got = b""
state = "open"
try:
    while True:
        b = s.recv(65536)
        if not b:
            state = "closed"
            break
        got += b
except socket.timeout:
    pass
except ConnectionResetError:
    state = "closed"
for code in re.findall(rb"(?:^|\n)HTTP/1\.[01] (\d{3}) ", got):
    print(code.decode())
print(state)
