#!/usr/bin/env python3
"""How long does connection N+1 wait when N keep-alive connections are idle?

cpp-httplib 0.11 serves each connection on one pool thread until the
connection closes or stays idle for the keep-alive timeout. This opens IDLE
TLS connections, sends one review on each (so each is being served and then
idles in keep-alive), then times one review on a fresh connection.

  keepalive_probe.py PORT CA_PEM REVIEW_JSON IDLE [TIMEOUT_SECONDS]

Prints one JSON object: {"idle": N, "seconds": t} (t = null on timeout).
"""
import json
import socket
import ssl
import sys
import time


def main():
    port, ca, review, idle = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 45.0
    body = open(review, 'rb').read()
    request = (b'POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
               b'Content-Length: %d\r\n\r\n' % len(body)) + body
    ctx = ssl.create_default_context(cafile=ca)

    def connect():
        s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        return ctx.wrap_socket(s, server_hostname='127.0.0.1')

    def exchange(c):
        c.sendall(request)
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = c.recv(65536)
            if not chunk:
                raise ConnectionError('closed')
            data += chunk
        return data.split(b'\r\n', 1)[0]

    held = []
    for _ in range(idle):
        c = connect()
        exchange(c)
        held.append(c)
    start = time.monotonic()
    try:
        c = connect()
        status = exchange(c).decode()
        seconds = time.monotonic() - start
    except (socket.timeout, TimeoutError, ConnectionError, ssl.SSLError):
        status, seconds = None, None
    print(json.dumps({'idle': idle, 'seconds': seconds, 'status': status}))
    for c in held:
        c.close()


if __name__ == '__main__':
    main()
