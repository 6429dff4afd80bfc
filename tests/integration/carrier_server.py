"""A loopback HTTP server standing in for a cloud SMS carrier: records requests, answers as scripted;
and the signatures a carrier puts on its delivery callbacks."""
import base64
import hashlib
import hmac
import http.server
import json
import random
import threading
import time
import urllib.parse


class Carrier:
    """mode: "ok" (200 {"id"}), "500", "429", "400", "400echo" (400 quoting the destination, as real
    carriers do), "hang" (never answer within the client's timeout), or "slow" (answer "ok" after
    `delay` seconds).
    fail_p: in "ok" mode, the share of requests answered 500 instead (drawn from a Random(seed)).
    doc: in "ok" mode, a function of the request count giving the JSON answer (default {"id": "cloud-N"});
    a request to Twilio's path (.../Messages.json) is answered 201 {"sid": "SM<N>"} as Twilio does.
    Each recorded request gets the "status" it was answered with (None while unanswered or for "hang")."""

    def __init__(self, mode="ok", fail_p=0.0, seed=0, doc=None, delay=1.5):
        self.mode = mode
        self.doc = doc
        self.delay = delay
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
                if mode == "slow":
                    time.sleep(outer.delay)
                    mode = "ok"
                ok = (200, outer.doc(count) if outer.doc else {"id": "cloud-%d" % count})
                if self.path.endswith("/Messages.json"):
                    ok = (201, {"sid": "SM%032d" % count, "status": "queued"})
                if mode == "400echo":   # only this mode reads the body: a Twilio one is a form
                    status, doc = 400, {"error": "invalid destination number %s" % json.loads(body).get("to")}
                else:
                    status, doc = {"ok": ok, "500": (500, {"error": "upstream down"}),
                                   "429": (429, {"error": "slow down"}),
                                   "400": (400, {"error": "invalid destination number"})}[mode]
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

    def forms(self):
        """Form-encoded bodies (Twilio), each as a dict."""
        with self.lock:
            return [dict(urllib.parse.parse_qsl(r["body"].decode(), keep_blank_values=True))
                    for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def ini(self, name="cloud", timeout_ms=1000, extra=""):
        return ("[carrier:%s]\ntype = http\nurl = %s\ntoken = secret-token\ntimeout_ms = %d\n%s"
                % (name, self.url, timeout_ms, extra))

    def twilio_ini(self, name="tw", sid="AC0123", token="tw-auth-token", extra=""):
        return ("[carrier:%s]\ntype = twilio\nurl = http://127.0.0.1:%d\naccount_sid = %s\nauth_token = %s\n"
                "from = +15005550006\ntimeout_ms = 2000\n%s" % (name, self.port, sid, token, extra))


def twilio_signature(auth_token, url, params):
    """X-Twilio-Signature as Twilio computes it (www.twilio.com/docs/usage/security): base64 of
    HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by name)."""
    data = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def simroute_signature(secret, body, ts=None):
    """The generic carrier callback's headers: the webhook scheme, keyed with callback_secret."""
    ts = str(int(time.time())) if ts is None else str(ts)
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Simroute-Timestamp": ts, "X-Simroute-Signature": "sha256=" + mac}
