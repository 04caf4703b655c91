"""A web server that cuts connections on purpose, for the HTTP fault
cases: it serves DIR like any web server (GET, Content-Length, 404), but
the first COUNT requests for each file named by --cut NAME=BYTES[:COUNT]
get the full headers and only BYTES bytes of the body, then the
connection is reset (RST, not a clean close).  Every request is logged
to stdout as "GET /path -> status, N bytes[, cut]".

    python3 -m lab.httpcut --bind IP --port 80 --cut demo/big.bin=1048576 DIR

Standard library only.
"""

import argparse
import http.server
import os
import socket
import struct
import sys
import threading
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "httpcut"

    def log_message(self, fmt, *args):
        pass  # our own line per request instead

    def do_GET(self):
        srv = self.server
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        rel = rel.lstrip("/")
        path = os.path.realpath(os.path.join(srv.root, rel))
        if (not path.startswith(srv.root + os.sep)
                or not os.path.isfile(path)):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            srv.say("GET /%s -> 404" % rel)
            return
        with open(path, "rb") as f:
            data = f.read()
        with srv.lock:
            cut = None
            if srv.cuts.get(rel, (0, 0))[1] > 0:
                nbytes, left = srv.cuts[rel]
                srv.cuts[rel] = (nbytes, left - 1)
                cut = nbytes
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if cut is None:
            self.wfile.write(data)
            srv.say("GET /%s -> 200, %d bytes" % (rel, len(data)))
            return
        self.wfile.write(data[:cut])
        self.wfile.flush()
        # SO_LINGER 0: close() sends RST, the cut a client sees.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        srv.say("GET /%s -> 200, %d of %d bytes, cut" % (rel, cut,
                                                          len(data)))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, root, cuts):
        super().__init__(addr, Handler)
        self.root = os.path.realpath(root)
        self.cuts = dict(cuts)
        self.lock = threading.Lock()

    def say(self, line):
        print(line, flush=True)


def parse_cut(text):
    """NAME=BYTES[:COUNT] -> (NAME, (BYTES, COUNT))."""
    name, _, rest = text.partition("=")
    nbytes, _, count = rest.partition(":")
    if not name or not nbytes.isdigit() or (count and not count.isdigit()):
        raise argparse.ArgumentTypeError("--cut NAME=BYTES[:COUNT]")
    return name.lstrip("/"), (int(nbytes), int(count or 1))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="httpcut", description=__doc__)
    ap.add_argument("root", metavar="DIR")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--cut", type=parse_cut, action="append", default=[])
    a = ap.parse_args(argv)
    srv = Server((a.bind, a.port), a.root, a.cut)
    print("httpcut: serving %s on %s:%d" % (a.root, a.bind, a.port),
          flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
