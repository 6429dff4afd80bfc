"""A loopback HTTP server standing in for a cloud SMS carrier: records requests, answers as scripted."""
import http.server
import json
import random
import threading
import time


class Carrier:
    """mode: "ok" (200 {"id"}), "500", "429", "400", "400echo" (400 quoting the destination, as real
    carriers do), or "hang" (never answer within the client's timeout).
    fail_p: in "ok" mode, the share of requests answered 500 instead (drawn from a Random(seed)).
    Each recorded request gets the "status" it was answered with (None while unanswered or for "hang")."""

    def __init__(self, mode="ok", fail_p=0.0, seed=0):
        self.mode = mode
        self.fail_p = fail_p
        self.rng = random.Random(seed)
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                rec = {"path": self.path, "headers": dict(self.headers), "body": body, "status": None}
                with outer.lock:
                    outer.requests.append(rec)
                    count = len(outer.requests)
                    mode = outer.mode
                    if mode == "ok" and outer.fail_p and outer.rng.random() < outer.fail_p:
                        mode = "500"
                if mode == "hang":
                    time.sleep(3)
                    return
                status, doc = {"ok": (200, {"id": "cloud-%d" % count}), "500": (500, {"error": "upstream down"}),
                               "429": (429, {"error": "slow down"}),
                               "400": (400, {"error": "invalid destination number"}),
                               "400echo": (400, {"error": "invalid destination number %s"
                                                 % json.loads(body or b"{}").get("to")})}[mode]
                data = json.dumps(doc).encode()
                with outer.lock:
                    rec["status"] = status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/send" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self):
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def ini(self, name="cloud", timeout_ms=1000):
        return ("[carrier:%s]\ntype = http\nurl = %s\ntoken = secret-token\ntimeout_ms = %d\n"
                % (name, self.url, timeout_ms))
