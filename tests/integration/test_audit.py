"""The audit log end to end: who (API key on TCP, peer uid on the Unix socket, signal) did what (modem
actions, message cancel, webhook replay, config reload), GET /v1/audit and `simroute audit`."""
import hashlib
import json
import os
import signal
import subprocess

from conftest import SIMROUTE, wait_for

OPS_KEY = "ops-secret"
OPS_INI = "[api_key:ops]\nhash = sha256:%s\nscopes = admin\n" % hashlib.sha256(OPS_KEY.encode()).hexdigest()
OPS = {"Authorization": "Bearer " + OPS_KEY}
TEST = {"Authorization": "Bearer test"}


def cli(d, *args):
    return subprocess.run([SIMROUTE, "-s", d.sock, *args], capture_output=True, text=True, timeout=30)


def audit(d, query="limit=500"):
    code, doc = d.api.request("GET", "/v1/audit?" + query)
    assert code == 200, doc
    return doc["audit"]


def test_modem_actions_by_key_and_by_uid(sim, daemon_factory):
    d = daemon_factory([sim.port(0)], extra_ini=OPS_INI)
    wait_for(lambda: d.api.status()["routes"]["ready"] >= 1, timeout=30, what="modem ready")
    code, doc = d.api.request("POST", "/v1/modems/m0/disable", tcp=True, headers=OPS)
    assert code == 200, doc
    code, doc = d.api.request("POST", "/v1/modems/m0/enable")      # the Unix socket: the peer's uid
    assert code == 200, doc
    assert d.api.request("POST", "/v1/modems/m0/drain", tcp=True, headers=TEST)[0] == 403
    assert d.api.request("POST", "/v1/modems/nope/reset")[0] == 404   # refused: not an action
    rows = audit(d)
    assert [(a["actor"], a["action"], a["target"]) for a in rows] == [
        ("uid:%d" % os.getuid(), "modem.enable", "m0"), ("key:ops", "modem.disable", "m0")], rows
    assert rows[0]["id"] > rows[1]["id"] and rows[0]["at"] and rows[1]["detail"].startswith("state ")
    # the listing needs the admin scope on TCP
    assert d.api.request("GET", "/v1/audit", tcp=True, headers=TEST)[0] == 403
    code, doc = d.api.request("GET", "/v1/audit", tcp=True, headers=OPS)
    assert code == 200 and len(doc["audit"]) == 2 and doc["next_cursor"] is None


def test_cancel_replay_reload_and_paging(sim, daemon_factory):
    d = daemon_factory([sim.port(0)], extra_ini=OPS_INI + "[webhook]\nurl = http://127.0.0.1:1/hook\n")
    wait_for(lambda: d.api.status()["routes"]["ready"] >= 1, timeout=30, what="modem ready")
    # a message that cannot go anywhere yet: the modem is drained
    assert d.api.request("POST", "/v1/modems/m0/drain")[0] == 200
    code, doc = d.api.send("+447700900555", "cancel me")
    assert code == 202, doc
    mid = doc["id"]
    code, doc = d.api.request("DELETE", "/v1/messages/%d" % mid, tcp=True, headers=TEST)
    assert code == 200 and doc["status"] == "cancelled", doc
    # a webhook row to replay: a sent message's event (its receiver is down)
    assert d.api.request("POST", "/v1/modems/m0/enable")[0] == 200
    code, doc = d.api.send("+447700900556", "hooked")
    d.wait_status(doc["id"], {"sent"})
    code, doc = wait_for(lambda: (lambda r: r if r[1]["webhooks"] else None)(d.api.request("GET", "/v1/webhooks")),
                         timeout=20, what="a webhook row")
    wid = doc["webhooks"][0]["id"]
    assert d.api.request("POST", "/v1/webhooks/%d/replay" % wid, tcp=True, headers=OPS)[0] == 202
    # SIGHUP: a reload is recorded with actor "signal", a refused one too
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_for(lambda: any(a["action"] == "config.reload" for a in audit(d)), what="the reload audited")
    with open(d.ini, "a") as f:
        f.write("[nonsense]\nkey = 1\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_for(lambda: len([a for a in audit(d) if a["action"] == "config.reload"]) == 2, what="refused reload")
    rows = audit(d)
    by_action = {}
    for a in rows:
        by_action.setdefault(a["action"], []).append(a)
    assert by_action["message.cancel"][0]["actor"] == "key:test"
    assert by_action["message.cancel"][0]["target"] == str(mid)
    assert by_action["webhook.replay"][0]["actor"] == "key:ops"
    assert by_action["webhook.replay"][0]["target"] == str(wid)
    reloads = by_action["config.reload"]
    assert all(a["actor"] == "signal" and a["target"] == d.ini for a in reloads)
    assert reloads[0]["detail"].startswith("refused: ") and "nonsense" in reloads[0]["detail"]
    assert reloads[1]["detail"].endswith("change(s) applied")
    assert [a["action"] for a in rows if a["action"].startswith("modem.")] == ["modem.enable", "modem.drain"]
    # paging: the cursor walks every row once, newest first
    seen, cursor = [], None
    while True:
        code, page = d.api.request("GET", "/v1/audit?limit=2" + ("&cursor=" + cursor if cursor else ""))
        assert code == 200 and len(page["audit"]) <= 2
        seen += [a["id"] for a in page["audit"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [a["id"] for a in rows] and seen == sorted(seen, reverse=True)
    assert audit(d, "since=2000-01-01T00:00:00Z") == rows
    assert audit(d, "since=4102444800000") == []           # 2100: nothing yet
    assert d.api.request("GET", "/v1/audit?limit=0")[0] == 400
    assert d.api.request("GET", "/v1/audit?actor=me")[0] == 400


def test_cli_audit(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    wait_for(lambda: d.api.status()["routes"]["ready"] >= 1, timeout=30, what="modem ready")
    assert cli(d, "modem", "m0", "disable").returncode == 0
    assert cli(d, "optout", "add", "+447700900123", "--note", "line one\nline two").returncode == 0
    out = cli(d, "audit")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "ACTOR", "ACTION", "TARGET", "DETAIL"]
    assert len(lines) == 3 and all(len(l) <= 80 for l in lines), lines
    uid = "uid:%d" % os.getuid()
    assert lines[1].split()[3:6] == [uid, "optout.add", "+447700900123"], lines[1]
    assert lines[2].split()[3:6] == [uid, "modem.disable", "m0"], lines[2]
    doc = json.loads(cli(d, "--json", "audit", "--limit", "1").stdout)
    assert [a["action"] for a in doc["audit"]] == ["optout.add"] and doc["next_cursor"]
    assert doc["audit"][0]["detail"] == "source cli: line one\nline two"
    assert "more: simroute audit --cursor" in cli(d, "audit", "--limit", "1").stdout
    doc = json.loads(cli(d, "--json", "audit", "--since", "2000-01-01T00:00:00Z").stdout)
    assert len(doc["audit"]) == 2
    assert cli(d, "audit", "--limit", "0").returncode == 2
    assert cli(d, "audit", "--colour", "red").returncode == 2
