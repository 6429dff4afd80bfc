"""The opt-out (STOP) list end to end: inbound keywords from gsmsim, 422 on send (single, batch, Kannel),
the OTP bypass, the API (list/add/remove and its errors) and `simroute optout`."""
import hashlib
import json
import subprocess
import urllib.parse

from conftest import GSMSIM, SIMROUTE, Daemon, Gsmsim, wait_for

SENDER = "+46701234567"
OPS_KEY = "ops-secret"
OPS_INI = "[api_key:ops]\nhash = sha256:%s\nscopes = admin\n" % hashlib.sha256(OPS_KEY.encode()).hexdigest()
OPS = {"Authorization": "Bearer " + OPS_KEY}
TEST = {"Authorization": "Bearer test"}


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def cli(d, *args):
    return subprocess.run([SIMROUTE, "-s", d.sock, *args], capture_output=True, text=True, timeout=30)


def listed(d):
    code, doc = d.api.request("GET", "/v1/optout?limit=500")
    assert code == 200, doc
    return {o["number"]: o for o in doc["optout"]}


def audit(d):
    code, doc = d.api.request("GET", "/v1/audit?limit=500")
    assert code == 200, doc
    return doc["audit"]


def test_inbound_stop_and_start(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)])
    try:
        wait_for(lambda: d.api.status()["routes"]["ready"] >= 1, timeout=30, what="modem ready")
        code, doc = d.api.send(SENDER, "before")
        assert code == 202, doc
        # a STOP from an alphanumeric sender and a sentence containing stop change nothing
        ctl(sim, "sms", "0", "MyBank", "STOP")
        ctl(sim, "sms", "0", SENDER, "please stop it")
        ctl(sim, "sms", "0", SENDER, "  Stop \n")
        wait_for(lambda: SENDER in listed(d), timeout=30, what="the sender on the list")
        row = listed(d)[SENDER]
        assert row["source"] == "inbound" and row["note"] == "Stop" and row["created_at"]
        assert list(listed(d)) == [SENDER]
        # sending to it is refused whole, naming the field
        code, doc = d.api.send(SENDER, "after")
        assert code == 422 and doc["error"]["code"] == "opted_out" and doc["error"]["field"] == "to", doc
        code, doc = d.api.request("POST", "/v1/messages", {"messages": [
            {"to": "+447700900100", "text": "fine"}, {"to": SENDER, "text": "not fine"}]})
        assert code == 422 and doc["error"]["field"] == "messages[1].to", doc
        code, doc = d.api.request("GET", "/v1/messages?to=%2B447700900100")
        assert code == 200 and doc["messages"] == [], "nothing of a refused batch is stored"
        # an OTP is transactional: it still goes (otp_bypass defaults to true)
        code, doc = d.api.send(SENDER, "code 123456", priority="otp")
        assert code == 202, doc
        d.wait_status(doc["id"], {"sent"})
        # Kannel's sendsms refuses it in Kannel's words
        q = urllib.parse.urlencode({"username": "test", "password": "test", "to": SENDER, "text": "hi"})
        code, _ = d.api.request("GET", "/cgi-bin/sendsms?" + q, tcp=True)
        assert code == 403
        # the change is audited, actor "inbound"
        rows = [a for a in audit(d) if a["action"] == "optout.add"]
        assert rows and rows[0]["actor"] == "inbound" and rows[0]["target"] == SENDER, rows
        # START takes it off again
        ctl(sim, "sms", "0", SENDER, "start")
        wait_for(lambda: SENDER not in listed(d), timeout=30, what="the sender off the list")
        code, doc = d.api.send(SENDER, "welcome back")
        assert code == 202, doc
        assert [a["actor"] for a in audit(d) if a["action"] == "optout.remove"] == ["inbound"]
        # the list survives a restart (store + reload into memory)
        ctl(sim, "sms", "0", SENDER, "UNSUBSCRIBE")
        wait_for(lambda: SENDER in listed(d), timeout=30, what="listed again")
        d.stop()
        d.start()
        assert d.api.send(SENDER, "after restart")[0] == 422
    finally:
        d.stop()
        sim.stop()


def test_api_add_list_remove_and_errors(daemon_factory):
    d = daemon_factory(extra_ini=OPS_INI)
    n1, n2 = "+447700900123", "+447700900124"
    code, doc = d.api.request("POST", "/v1/optout", {"number": n1, "note": "asked by phone"}, tcp=True, headers=OPS)
    assert code == 201 and doc == {"number": n1, "added": True}, doc
    code, doc = d.api.request("POST", "/v1/optout", {"number": n1}, tcp=True, headers=OPS)
    assert code == 200 and doc["added"] is False, "idempotent"
    assert d.api.request("POST", "/v1/optout", {"number": n2})[0] == 201   # the socket: no key needed
    # listing: read scope is enough; newest first; paged
    code, doc = d.api.request("GET", "/v1/optout", tcp=True, headers=TEST)
    assert code == 200 and [o["number"] for o in doc["optout"]] == [n2, n1], doc
    assert doc["optout"][1]["note"] == "asked by phone" and doc["optout"][1]["source"] == "api"
    assert doc["optout"][0]["note"] is None
    code, page = d.api.request("GET", "/v1/optout?limit=1")
    assert code == 200 and len(page["optout"]) == 1 and page["next_cursor"]
    code, page2 = d.api.request("GET", "/v1/optout?limit=1&cursor=" + page["next_cursor"])
    assert [o["number"] for o in page2["optout"]] == [n1] and page2["next_cursor"] is None
    # errors: bad numbers and fields (400), scopes (401/403), unknown number (404)
    for body, field in (({"number": "447700900123"}, "number"), ({"number": "+44 7700"}, "number"),
                        ({"number": 447700900123}, "number"), ({}, "number"),
                        ({"number": n1, "note": "x" * 257}, "note"), ({"number": n1, "note": "a\x01"}, "note"),
                        ({"number": n1, "colour": "red"}, "colour"), ({"number": n1, "source": "Bad Source"}, "source")):
        code, doc = d.api.request("POST", "/v1/optout", body)
        assert code == 400 and doc["error"]["field"] == field, (body, doc)
    assert d.api.request("POST", "/v1/optout", raw=b"not json")[0] == 400
    assert d.api.request("POST", "/v1/optout", {"number": n1}, tcp=True, headers=TEST)[0] == 403
    assert d.api.request("POST", "/v1/optout", {"number": n1}, tcp=True)[0] == 401
    assert d.api.request("DELETE", "/v1/optout/%2B447700900999", tcp=True, headers=TEST)[0] == 403
    code, doc = d.api.request("DELETE", "/v1/optout/%2B447700900999", tcp=True, headers=OPS)
    assert code == 404 and doc["error"]["code"] == "not_found"
    assert d.api.request("DELETE", "/v1/optout/12ab", tcp=True, headers=OPS)[0] == 400
    assert d.api.request("GET", "/v1/optout?limit=0")[0] == 400
    assert d.api.request("GET", "/v1/optout?bogus=1")[0] == 400
    assert d.api.request("PUT", "/v1/optout")[0] == 405
    # the suppression applies at once, and its removal too ('+' literal or %2B in the path)
    assert d.api.send(n1, "hello")[0] == 422
    code, doc = d.api.request("DELETE", "/v1/optout/" + n1, tcp=True, headers=OPS)
    assert code == 200 and doc == {"number": n1, "removed": True}, doc
    assert d.api.send(n1, "hello")[0] == 202
    assert d.api.request("DELETE", "/v1/optout/%2B447700900124")[0] == 200
    assert listed(d) == {}
    actions = [(a["actor"], a["action"], a["target"]) for a in audit(d)]
    assert ("key:ops", "optout.add", n1) in actions and ("key:ops", "optout.remove", n1) in actions
    assert len([a for a in actions if a[1] == "optout.add"]) == 2, "the idempotent repeat is not an action"


def test_otp_bypass_off(daemon_factory):
    d = daemon_factory(extra_ini="[optout]\notp_bypass = false\n")
    assert d.api.request("POST", "/v1/optout", {"number": SENDER})[0] == 201
    code, doc = d.api.send(SENDER, "code 123456", priority="otp")
    assert code == 422 and doc["error"]["code"] == "opted_out", doc
    assert d.api.send("+46701234568", "code 123456", priority="otp")[0] == 202


def test_cli_optout(daemon_factory, tmp_path):
    d = daemon_factory()
    out = cli(d, "optout", "add", "+447700900123", "--note", "by phone")
    assert out.returncode == 0 and "added" in out.stdout, out.stderr
    out = cli(d, "optout", "add", "--note", "again", "+447700900123")
    assert out.returncode == 0 and "already listed" in out.stdout
    out = cli(d, "--json", "optout", "add", "+447700900124")
    assert out.returncode == 0 and json.loads(out.stdout) == {"number": "+447700900124", "added": True}
    out = cli(d, "optout", "list")
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and lines[0].split() == ["NUMBER", "SOURCE", "ADDED", "NOTE"], out.stdout
    assert lines[1].startswith("+447700900124") and lines[2].split()[:2] == ["+447700900123", "cli"]
    assert lines[2].endswith("by phone") and all(len(l) <= 80 for l in lines)
    doc = json.loads(cli(d, "--json", "optout", "list", "--limit", "1").stdout)
    assert len(doc["optout"]) == 1 and doc["next_cursor"]
    assert "more: simroute optout list --cursor" in cli(d, "optout", "list", "--limit", "1").stdout
    # exit codes: 2 usage (and the API's 400), 1 failed, 3 unreachable
    assert cli(d, "optout", "add", "447700900123").returncode == 2
    assert cli(d, "optout", "add").returncode == 2
    assert cli(d, "optout", "remove", "not-a-number").returncode == 2
    assert cli(d, "optout", "frobnicate").returncode == 2
    assert cli(d, "optout").returncode == 2
    out = cli(d, "optout", "remove", "+447700900123")
    assert out.returncode == 0 and "removed" in out.stdout, out.stderr
    out = cli(d, "optout", "remove", "+447700900123")
    assert out.returncode == 1 and "not on the opt-out list" in out.stderr
    out = cli(d, "--json", "optout", "remove", "+447700900124")
    assert out.returncode == 0 and json.loads(out.stdout)["removed"] is True
    r = subprocess.run([SIMROUTE, "-s", str(tmp_path / "none.sock"), "optout", "list"], capture_output=True,
                       timeout=30)
    assert r.returncode == 3


def test_stop_after_accept_stops_queued_messages(sim, daemon_factory):
    # messages accepted before the STOP but still queued (here: the only SIM is disabled) fail with the
    # reason when they reach the head of their lane; an OTP still goes (otp_bypass)
    d = daemon_factory([sim.port(0)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=20, what="modem ready")
    assert d.api.request("POST", "/v1/modems/m0/disable")[0] == 200
    code, bulk = d.api.send("+447700900555", "campaign", priority="bulk")
    assert code == 202
    code, otp = d.api.send("+447700900555", "Your code is 1234", priority="otp")
    assert code == 202
    code, doc = d.api.request("POST", "/v1/optout", {"number": "+447700900555"})
    assert code == 201, doc
    assert d.api.request("POST", "/v1/modems/m0/enable")[0] == 200
    failed = d.wait_status(bulk["id"], ("failed",), timeout=30)
    assert "opted out" in failed["error"], failed
    d.wait_status(otp["id"], ("sent",), timeout=30)
    assert [l["text"] for l in sim.sent()] == ["Your code is 1234"]
