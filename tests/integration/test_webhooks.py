"""Webhooks end to end (tracker issue 8): a loopback receiver verifies each signature; events are
delivered once each and in order per message, late when the receiver was down, to a message's own
callback_url when it has one; inbound SMS produce inbound.received; replay sends a row again."""
import hashlib
import hmac
import http.server
import json
import subprocess
import threading

from conftest import GSMSIM, Daemon, Gsmsim, free_port, wait_for

SECRET = "whsec_integration"


class Receiver:
    """mode "ok" answers 204, "500" answers 500. Requests with a bad signature are recorded as such."""

    def __init__(self, port=0, mode="ok"):
        self.mode = mode
        self.events = []       # (path, event doc) of every request answered 2xx, in arrival order
        self.bad = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ts = self.headers.get("X-Simroute-Timestamp", "")
                want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                ok_sig = hmac.compare_digest(want, self.headers.get("X-Simroute-Signature", ""))
                doc = json.loads(body)
                status = 500 if outer.mode == "500" else 204
                with outer.lock:
                    if not ok_sig or doc.get("event") != self.headers.get("X-Simroute-Event") or \
                            self.headers.get("Content-Type") != "application/json":
                        outer.bad.append((self.path, dict(self.headers), body))
                    elif status == 204:
                        outer.events.append((self.path, doc))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def got(self, event=None, path=None):
        with self.lock:
            return [d for p, d in self.events if (event is None or d["event"] == event)
                    and (path is None or p == path)]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def ini(url):
    return "[webhook]\nurl = %s\nsecret = %s\ntimeout_ms = 2000\n" % (url, SECRET)


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def wait_ready(d, sim, n=1):
    wait_for(lambda: d.api.status()["routes"]["ready"] >= n, timeout=30, what="modems ready")
    ctl(sim, "set", "0", "report_delay=0.3")    # status reports come back


def message_events(rx, mid):
    return [e["event"] for e in rx.got() if "message" in e and e["message"]["id"] == mid]


def test_sent_and_delivered_once_in_order_signed(tmp_path):
    rx = Receiver()
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)], ini(rx.url()))
    try:
        wait_ready(d, sim)
        code, doc = d.api.send("+447700900201", "hook me", delivery_report=True, reference="ref-1")
        assert code == 202, doc
        mid = doc["id"]
        d.wait_status(mid, ("delivered",), timeout=30)
        wait_for(lambda: len(message_events(rx, mid)) >= 2, timeout=30, what="two events")
        assert message_events(rx, mid) == ["message.sent", "message.delivered"]
        sent = rx.got("message.sent")[0]
        assert sent["id"] == "msg_%d_sent" % mid and sent["created_at"]
        m = sent["message"]
        assert m["to"] == "+447700900201" and m["status"] == "sent" and m["reference"] == "ref-1"
        assert m["route"] == "m0" and m["parts"] == 1 and m["sent_at"] and m["priority"] == "normal"
        assert not rx.bad
        # the receiver has the event a moment before the daemon has recorded its answer
        def recorded():
            code, page = d.api.request("GET", "/v1/webhooks")
            assert code == 200 and len(page["webhooks"]) == 2
            return page if all(w["status"] == "delivered" for w in page["webhooks"]) else None
        page = wait_for(recorded, timeout=10, what="both deliveries recorded")
        assert all(w["attempts"] == 1 for w in page["webhooks"])
        # replay (admin: the socket) sends the same event again
        wid = page["webhooks"][-1]["id"]
        code, doc = d.api.request("POST", "/v1/webhooks/%d/replay" % wid)
        assert code == 202 and doc["status"] == "pending", doc
        wait_for(lambda: len(rx.got("message.sent")) == 2, timeout=30, what="the replayed event")
        assert rx.got("message.sent")[1]["id"] == sent["id"]
        assert d.api.request("POST", "/v1/webhooks/999999/replay")[0] == 404
        # scopes: the test key has read but not admin
        hdr = {"Authorization": "Bearer test"}
        assert d.api.request("GET", "/v1/webhooks", tcp=True, headers=hdr)[0] == 200
        assert d.api.request("POST", "/v1/webhooks/%d/replay" % wid, tcp=True, headers=hdr)[0] == 403
        assert d.api.request("GET", "/v1/webhooks?failed=2")[0] == 400
    finally:
        d.stop()
        sim.stop()
        rx.stop()


def test_receiver_down_then_up_delivers_late_once_in_order(tmp_path):
    port = free_port()               # nobody listens here yet
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)], ini("http://127.0.0.1:%d/hook" % port))
    rx = None
    try:
        wait_ready(d, sim)
        ids = []
        for i in range(3):
            code, doc = d.api.send("+44770090030%d" % i, "late %d" % i, delivery_report=True)
            assert code == 202
            ids.append(doc["id"])
        for mid in ids:
            d.wait_status(mid, ("delivered",), timeout=30)
        wait_for(lambda: d.api.request("GET", "/v1/webhooks?failed=1")[1]["webhooks"], timeout=30,
                 what="a failed attempt")
        rx = Receiver(port=port, mode="500")   # up, but failing
        wait_for(lambda: any("HTTP 500" == (w["last_error"] or "")
                             for w in d.api.request("GET", "/v1/webhooks")[1]["webhooks"]),
                 timeout=60, what="an HTTP 500 attempt")
        rx.mode = "ok"
        wait_for(lambda: all(len(message_events(rx, mid)) >= 2 for mid in ids), timeout=120,
                 what="every event delivered")
        for mid in ids:
            assert message_events(rx, mid) == ["message.sent", "message.delivered"], rx.got()
        code, page = d.api.request("GET", "/v1/webhooks")
        assert all(w["status"] == "delivered" for w in page["webhooks"])
        assert any(w["attempts"] > 1 for w in page["webhooks"])
        assert not rx.bad
    finally:
        d.stop()
        sim.stop()
        if rx:
            rx.stop()


def test_callback_url_overrides_and_inbound(tmp_path):
    rx = Receiver()
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)], ini(rx.url("/global")))
    try:
        wait_ready(d, sim)
        code, doc = d.api.send("+447700900401", "mine", callback_url=rx.url("/mine"))
        assert code == 202
        mine = doc["id"]
        code, doc = d.api.send("+447700900402", "global")
        glob = doc["id"]
        wait_for(lambda: rx.got("message.sent", "/mine") and len(rx.got("message.sent", "/global")) >= 1,
                 timeout=30, what="both sent events")
        assert [e["message"]["id"] for e in rx.got("message.sent", "/mine")] == [mine]
        assert [e["message"]["id"] for e in rx.got("message.sent", "/global")] == [glob]
        ctl(sim, "sms", "0", "+46701234567", "hello hook")
        wait_for(lambda: rx.got("inbound.received", "/global"), timeout=30, what="inbound.received")
        ev = rx.got("inbound.received")[0]
        assert ev["inbound"]["text"] == "hello hook" and ev["inbound"]["from"] == "+46701234567"
        assert ev["inbound"]["complete"] is True and ev["inbound"]["route"] == "m0"
        assert not rx.bad
    finally:
        d.stop()
        sim.stop()
        rx.stop()
