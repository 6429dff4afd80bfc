"""Cloud carriers end to end (tracker issue 7): operator headers and a JSON body template reach the
carrier; delivery callbacks (generic HMAC, Twilio signature) move a sent message to delivered or
undelivered and the webhook outbox reports it; forged or unknown callbacks are refused; SIGHUP
switches the carrier while a request in flight finishes with the old settings."""
import json
import os
import signal
import urllib.parse

import pytest

from carrier_server import Carrier, simroute_signature, twilio_signature
from conftest import Daemon, wait_for
from test_webhooks import Receiver, ini as webhook_ini

OTP_NOW = "[otp]\nmodem_deadline = 1\n"     # no modems: an OTP goes to the carrier after 1 s
CB_SECRET = "cb-secret-1"


@pytest.fixture
def carrier():
    c = Carrier("ok")
    yield c
    c.stop()


def callback(d, name, body, headers):
    """POST a carrier callback on the TCP listener, without an API key (the signature is the auth)."""
    return d.api.request("POST", "/v1/carrier/%s/status" % name, raw=body, tcp=True, headers=headers)


def test_headers_and_template(daemon_factory):
    c = Carrier("ok", doc=lambda n: {"data": {"ref": "ref-%d" % n}, "id": "not-this-one"})
    try:
        tpl = '{"sms": {"dest": "{{to}}", "body": "{{text}}"}, "ref": "{{id}}", "client": "{{reference}}"}'
        d = daemon_factory([], extra_ini=OTP_NOW + c.ini(extra="header = X-Api-Key: k-77\nheader = X-Tenant: acme\n"
                                                           "template = %s\nresponse_id = /data/ref\n"
                                                           "callback_secret = %s\n" % (tpl, CB_SECRET)))
        text = 'code "42"\\ \nnext line, caf\u00e9 \U0001F600 {{to}}'
        _, doc = d.api.send("+447700900111", text, priority="otp", reference="order-9")
        d.wait_status(doc["id"], {"sent"})
        req = c.requests[0]
        assert req["headers"]["X-Api-Key"] == "k-77" and req["headers"]["X-Tenant"] == "acme"
        assert req["headers"]["Authorization"] == "Bearer secret-token"
        assert req["headers"]["Content-Type"] == "application/json"
        assert json.loads(req["body"]) == {"sms": {"dest": "+447700900111", "body": text}, "ref": str(doc["id"]),
                                           "client": "order-9"}
        # the id was taken from /data/ref: a callback naming it finds the message
        body = json.dumps({"id": "ref-1", "status": "delivered"}).encode()
        code, ans = callback(d, "cloud", body, simroute_signature(CB_SECRET, body))
        assert code == 200 and ans == {"message_id": doc["id"], "status": "delivered"}
    finally:
        c.stop()


def test_http_callback_delivered_undelivered_and_webhooks(tmp_path, carrier):
    rcv = Receiver()
    d = Daemon(str(tmp_path), extra_ini=OTP_NOW + webhook_ini(rcv.url()) +
               carrier.ini(extra="callback_secret = %s\n" % CB_SECRET))
    try:
        _, a = d.api.send("+447700900201", "first", priority="otp")
        d.wait_status(a["id"], {"sent"})
        _, b = d.api.send("+447700900202", "second", priority="otp")
        d.wait_status(b["id"], {"sent"})
        ids = {json.loads(r["body"])["to"]: "cloud-%d" % (i + 1) for i, r in enumerate(carrier.requests)}

        body = json.dumps({"id": ids["+447700900201"], "status": "delivered"}).encode()
        code, ans = callback(d, "cloud", body, simroute_signature(CB_SECRET, body))
        assert code == 200 and ans["status"] == "delivered" and ans["message_id"] == a["id"]
        assert d.api.message(a["id"])[1]["status"] == "delivered"
        # the same callback again (carriers retry): harmless
        code, ans = callback(d, "cloud", body, simroute_signature(CB_SECRET, body))
        assert code == 200 and ans["status"] == "delivered"
        # a late "undelivered" for a message already final changes nothing
        late = json.dumps({"id": ids["+447700900201"], "status": "undelivered"}).encode()
        code, ans = callback(d, "cloud", late, simroute_signature(CB_SECRET, late))
        assert code == 200 and ans["status"] == "delivered"

        body = json.dumps({"id": ids["+447700900202"], "status": "failed", "error": "handset off"}).encode()
        code, ans = callback(d, "cloud", body, simroute_signature(CB_SECRET, body))
        assert code == 200 and ans["status"] == "undelivered"
        msg = d.api.message(b["id"])[1]
        assert msg["status"] == "undelivered" and "handset off" in msg["error"]

        # the outbox reports both, once each, signed
        wait_for(lambda: rcv.got("message.delivered") and rcv.got("message.undelivered"), what="webhooks")
        assert [e["message"]["id"] for e in rcv.got("message.delivered")] == [a["id"]]
        assert [e["message"]["id"] for e in rcv.got("message.undelivered")] == [b["id"]]
        assert not rcv.bad
    finally:
        d.stop()
        rcv.stop()


def test_http_callback_refusals(daemon_factory, carrier):
    d = daemon_factory([], extra_ini=OTP_NOW + carrier.ini(extra="callback_secret = %s\n" % CB_SECRET))
    _, a = d.api.send("+447700900301", "x", priority="otp")
    d.wait_status(a["id"], {"sent"})
    good = json.dumps({"id": "cloud-1", "status": "delivered"}).encode()

    # forged: another secret, a body changed after signing, a stale timestamp, no signature at all
    code, ans = callback(d, "cloud", good, simroute_signature("guess", good))
    assert code == 403 and ans["error"]["code"] == "bad_signature"
    hdrs = simroute_signature(CB_SECRET, good)
    code, _ = callback(d, "cloud", good.replace(b"delivered", b"undelivered"), hdrs)
    assert code == 403
    import time
    code, _ = callback(d, "cloud", good, simroute_signature(CB_SECRET, good, ts=int(time.time()) - 3600))
    assert code == 403
    code, _ = callback(d, "cloud", good, {"Content-Type": "application/json"})
    assert code == 403
    assert d.api.message(a["id"])[1]["status"] == "sent", "nothing forged got through"

    # unknown id, unknown carrier, malformed body, unknown status word
    unknown = json.dumps({"id": "cloud-999", "status": "delivered"}).encode()
    code, ans = callback(d, "cloud", unknown, simroute_signature(CB_SECRET, unknown))
    assert code == 404 and ans["error"]["field"] == "id"
    code, _ = callback(d, "nosuch", good, simroute_signature(CB_SECRET, good))
    assert code == 404
    bad = b'{"status": "delivered"}'
    code, ans = callback(d, "cloud", bad, simroute_signature(CB_SECRET, bad))
    assert code == 400
    odd = json.dumps({"id": "cloud-1", "status": "teleported"}).encode()
    code, ans = callback(d, "cloud", odd, simroute_signature(CB_SECRET, odd))
    assert code == 400 and ans["error"]["field"] == "status"
    # "sent" is progress, not an outcome: 200, still sent
    sent = json.dumps({"id": "cloud-1", "status": "sent"}).encode()
    code, ans = callback(d, "cloud", sent, simroute_signature(CB_SECRET, sent))
    assert code == 200 and ans["status"] == "sent"
    # GET on the route is not allowed; the API key routes still want a key
    assert d.api.request("GET", "/v1/carrier/cloud/status", tcp=True)[0] == 405
    assert d.api.request("GET", "/v1/messages/%d" % a["id"], tcp=True)[0] == 401


def test_http_callback_without_secret_is_refused(daemon_factory, carrier):
    d = daemon_factory([], extra_ini=OTP_NOW + carrier.ini())
    _, a = d.api.send("+447700900351", "x", priority="otp")
    d.wait_status(a["id"], {"sent"})
    body = json.dumps({"id": "cloud-1", "status": "delivered"}).encode()
    code, ans = callback(d, "cloud", body, simroute_signature("", body))
    assert code == 403 and "callback_secret" in ans["error"]["message"]


def test_twilio_status_callback(daemon_factory, carrier):
    # The public URL Twilio is given (through the operator's reverse proxy): the signature covers it,
    # not the loopback address the request finally arrives on.
    public = "https://sms-gw.example.net/hooks/v1/carrier/tw/status"
    d = daemon_factory([], extra_ini=OTP_NOW + carrier.twilio_ini(extra="status_callback_url = %s\n" % public))
    _, a = d.api.send("+447700900401", "hello twilio", priority="otp")
    d.wait_status(a["id"], {"sent"})
    form = carrier.forms()[0]
    assert form["StatusCallback"] == public and form["Body"] == "hello twilio"
    assert carrier.requests[0]["path"] == "/2010-04-01/Accounts/AC0123/Messages.json"
    sid = "SM%032d" % 1

    def post(params, token="tw-auth-token", url=public):
        body = urllib.parse.urlencode(params).encode()
        return callback(d, "tw", body, {"Content-Type": "application/x-www-form-urlencoded",
                                        "X-Twilio-Signature": twilio_signature(token, url, params)})

    # progress first (Twilio sends queued, sent, then the outcome), each signed
    for st in ("queued", "sent"):
        code, ans = post({"MessageSid": sid, "MessageStatus": st, "AccountSid": "AC0123"})
        assert code == 200 and ans["status"] == "sent"
    # forged: another token, or signed over another URL
    code, _ = post({"MessageSid": sid, "MessageStatus": "delivered"}, token="guess")
    assert code == 403
    code, _ = post({"MessageSid": sid, "MessageStatus": "delivered"},
                   url="http://127.0.0.1:%d/v1/carrier/tw/status" % d.port)
    assert code == 403
    code, _ = post({"MessageSid": "SM-unknown", "MessageStatus": "delivered"})
    assert code == 404
    # the open route refuses, before any parsing: no or a malformed signature, a body too large
    body = urllib.parse.urlencode({"MessageSid": sid, "MessageStatus": "delivered"}).encode()
    code, _ = callback(d, "tw", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert code == 403
    code, _ = callback(d, "tw", b"a&" * 300000, {"Content-Type": "application/x-www-form-urlencoded",
                                                "X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="})
    assert code == 413
    assert d.api.request("GET", "/healthz")[0] == 200
    code, ans = post({"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003",
                      "AccountSid": "AC0123", "To": "+447700900401"})
    assert code == 200 and ans["status"] == "undelivered"
    msg = d.api.message(a["id"])[1]
    assert msg["status"] == "undelivered" and "30003" in msg["error"]


def test_sighup_switches_carrier_in_flight_finishes(daemon_factory):
    old, new = Carrier("slow", delay=2.0), Carrier("ok")
    try:
        section = old.ini(timeout_ms=5000, extra="header = X-Gen: 1\n")
        d = daemon_factory([], extra_ini=OTP_NOW + section)
        _, a = d.api.send("+447700900501", "before", priority="otp")
        wait_for(lambda: len(old.requests) == 1, what="request at the old carrier")
        with open(d.ini) as f:
            text = f.read()
        with open(d.ini, "w") as f:
            f.write(text.replace(old.url, new.url).replace("X-Gen: 1", "X-Gen: 2"))
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: "takes new messages" in d.proc.output(), what="reload")
        _, b = d.api.send("+447700900502", "after", priority="otp")
        d.wait_status(b["id"], {"sent"})
        assert [r["headers"]["X-Gen"] for r in new.requests] == ["2"]
        # the request in flight at the reload finished, with the old carrier's answer
        d.wait_status(a["id"], {"sent"})
        assert len(old.requests) == 1 and old.requests[0]["headers"]["X-Gen"] == "1"
        assert "[carrier:cloud] changed" in d.proc.output()

        # the carrier removed: new messages wait for a SIM
        assert section in text
        with open(d.ini, "w") as f:
            f.write(text.replace(section, ""))
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: "no [carrier:*] any more" in d.proc.output(), what="reload without carrier")
        _, c = d.api.send("+447700900503", "nobody", priority="otp")
        import time
        time.sleep(2.5)
        assert d.api.message(c["id"])[1]["status"] == "queued" and len(new.requests) == 1
    finally:
        old.stop()
        new.stop()


def test_bad_template_refused_at_start(tmp_path):
    import subprocess
    from conftest import SIMROUTED
    ini = tmp_path / "bad.ini"
    ini.write_text("[api]\nsocket = %s/s.sock\nlisten =\n[carrier:c]\ntype = http\nurl = http://127.0.0.1:1/\n"
                   "template = {\"to\": {{to}}}\n" % tmp_path)
    r = subprocess.run([SIMROUTED, "-t", "-c", str(ini)], capture_output=True, timeout=10)
    assert r.returncode == 2 and b"bad.ini:7: [carrier:c] template: not JSON" in r.stderr
