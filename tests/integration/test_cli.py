"""The simroute CLI against a real daemon: tables, --json, exit codes, --wait, watch."""
import json
import os
import signal
import subprocess
import time

from conftest import GSMSIM, SIMROUTE, wait_for


def run(d, *args, env=None):
    return subprocess.run([SIMROUTE, "-s", d.sock, *args], capture_output=True, text=True, timeout=30,
                          env=env)


def test_modems_and_modem(sim, daemon_factory):
    d = daemon_factory([sim.port(0), sim.port(1)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="modems ready")
    out = run(d, "modems")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["MODEM", "STATE", "SIGNAL"]
    assert any(l.startswith("m0 ") and " ready " in l and "dBm" in l for l in lines), out.stdout
    assert all(len(l) <= 80 for l in lines), "tables fit 80 columns"
    assert "\033[" not in out.stdout, "no colour when stdout is not a terminal"
    out = run(d, "--json", "modems")
    doc = json.loads(out.stdout)
    assert {m["name"] for m in doc} == {"m0", "m1"} and all(m["state"] == "ready" for m in doc)
    out = run(d, "modem", "m1")
    assert out.returncode == 0 and "imei" in out.stdout and "ready" in out.stdout
    assert "recipients   day no limit, month no limit" in out.stdout and "drained      no" in out.stdout
    assert "prefixes     -" in out.stdout
    out = run(d, "--json", "modem", "m1")
    assert json.loads(out.stdout)["imei"].isdigit()
    assert run(d, "modem", "nope").returncode == 1
    assert run(d, "modem").returncode == 2


def test_send_wait_follows_to_sent(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    out = run(d, "send", "--wait", "--otp", "+447700900777", "Your code is 111222")
    assert out.returncode == 0, out.stderr
    assert "queued: id" in out.stdout and "sent" in out.stderr
    mid = int(out.stdout.split("id ")[1].split()[0])
    out = run(d, "--json", "show", str(mid))
    doc = json.loads(out.stdout)
    assert doc["status"] == "sent" and doc["priority"] == "otp"
    out = run(d, "show", str(mid))
    assert out.returncode == 0 and "status" in out.stdout and "sent" in out.stdout
    assert run(d, "show", "abc").returncode == 2
    assert run(d, "show", "999999").returncode == 1


def test_status_names_problems_first(daemon_factory):
    d = daemon_factory([])
    run(d, "send", "+447700900123", "waits")
    out = run(d, "status")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].startswith("PROBLEM: no modems configured")
    assert "1 queued" in out.stdout
    assert "carrier: none configured" in out.stdout and "webhooks: 0 pending, 0 given up" in out.stdout
    doc = json.loads(run(d, "--json", "status").stdout)
    assert doc["carrier"] is None
    assert doc["webhooks"] == {"pending": 0, "given_up": 0, "oldest_pending_at": None}


def test_watch_redraws_until_interrupted(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    p = subprocess.Popen([SIMROUTE, "-s", d.sock, "watch", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(2.5)
    os.kill(p.pid, signal.SIGINT)
    out, _ = p.communicate(timeout=10)
    assert p.returncode == 0
    assert out.count("simroute watch") >= 2, "redrawn at least twice"
    assert "routes:" in out


def test_unreachable_daemon_exit_3(tmp_path):
    out = subprocess.run([SIMROUTE, "-s", str(tmp_path / "none.sock"), "modems"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 3
    assert "none.sock" in out.stderr and "simrouted" in out.stderr


def test_modem_admin_actions(sim, daemon_factory):
    d = daemon_factory([sim.port(0), sim.port(1)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="modems ready")
    out = run(d, "modem", "m0", "drain")
    assert out.returncode == 0 and "drained" in out.stdout, out.stderr
    ids = [json.loads(run(d, "--json", "send", "+4477009009%02d" % i, "drain %d" % i).stdout)["id"]
           for i in range(4)]
    for mid in ids:
        assert d.wait_status(mid, {"sent"})["route"] == "m1", "nothing new goes to a drained modem"
    assert run(d, "modem", "m0", "enable").returncode == 0
    assert run(d, "modem", "m1", "disable").returncode == 0
    wait_for(lambda: {m["name"]: m["state"] for m in d.api.status()["modems"]}["m1"] == "disabled",
             what="m1 disabled")
    mid = json.loads(run(d, "--json", "send", "+447700900950", "after disable").stdout)["id"]
    assert d.wait_status(mid, {"sent"})["route"] == "m0"
    assert run(d, "modem", "m1", "enable").returncode == 0
    wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="m1 back")
    out = run(d, "modem", "m1", "reset")
    assert out.returncode == 0, out.stderr
    wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=30, what="m1 back after reset")
    assert run(d, "modem", "nope", "reset").returncode == 1
    assert run(d, "modem", "m0", "explode").returncode == 2
    # TCP needs the admin scope: the test key has send,read only.
    code, doc = d.api.request("POST", "/v1/modems/m0/drain", tcp=True, headers={"Authorization": "Bearer test"})
    assert code == 403


def test_messages_and_inbound_listings(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    ids = [json.loads(run(d, "--json", "send", "+4477009007%02d" % i, "list %d" % i).stdout)["id"] for i in range(3)]
    for mid in ids:
        d.wait_status(mid, {"sent"})
    out = run(d, "messages", "--status", "sent", "--limit", "2")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:2] == ["ID", "STATUS"] and len([l for l in lines if " sent " in l]) == 2
    assert lines[-1].startswith("more: simroute messages --cursor")
    doc = json.loads(run(d, "--json", "messages", "--to", "+447700900701").stdout)
    assert [m["id"] for m in doc["messages"]] == [ids[1]]
    assert run(d, "messages", "--colour", "red").returncode == 2
    assert run(d, "messages", "--limit", "0").returncode == 2      # the API's 400
    # inbound: the simulated network delivers an SMS to modem0
    r = subprocess.run([GSMSIM, "ctl", sim.dir, "sms", "0", "+447700900999", "Hello\nback"], capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: json.loads(run(d, "--json", "inbound").stdout)["inbound"], timeout=20, what="inbound")
    out = run(d, "inbound")
    assert out.returncode == 0 and "+447700900999" in out.stdout and "Hello back" in out.stdout


def test_webhooks_listing_and_replay(sim, daemon_factory):
    # the receiver is down (nothing listens on port 1): the event stays in the outbox, failing
    d = daemon_factory([sim.port(0)], extra_ini="[webhook]\nurl = http://127.0.0.1:1/hook\nsecret = s3\n")
    mid = json.loads(run(d, "--json", "send", "+447700900811", "hooked").stdout)["id"]
    d.wait_status(mid, {"sent"})

    def failed_rows():
        return json.loads(run(d, "--json", "webhooks", "--failed").stdout)["webhooks"]
    rows = wait_for(failed_rows, timeout=20, what="a failed webhook")
    assert rows[0]["event"] == "message.sent" and rows[0]["message_id"] == mid and rows[0]["attempts"] >= 1
    out = run(d, "webhooks", "--failed")
    assert out.returncode == 0 and "message.sent" in out.stdout
    out = run(d, "webhooks", "replay", str(rows[0]["id"]))
    assert out.returncode == 0 and "again" in out.stdout, out.stderr
    assert run(d, "webhooks", "replay", "999999").returncode == 1
    assert run(d, "webhooks", "replay", "x").returncode == 2


def test_modems_show_quota_use_and_failure_rate(sim, daemon_factory):
    d = daemon_factory([sim.port(0)], "[quota]\nday = 50\n")
    wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=20, what="modem ready")
    code, doc = d.api.send("+447700900123", "counted")
    assert code == 202, doc
    d.wait_status(doc["id"], ("sent",))
    out = run(d, "--json", "modems")
    route = json.loads(out.stdout)[0]["route"]
    assert route["quota"]["day"] == {"used": 1, "limit": 50, "left": 49}
    assert route["quota"]["minute"] == {"used": 1, "limit": None, "left": None}
    assert route["failure_rate"] == 0 and route["breaker"] == "closed" and route["message_id"] is None
    lines = run(d, "modems").stdout.splitlines()
    assert lines[0].split() == ["MODEM", "STATE", "SIGNAL", "OPERATOR", "TODAY", "FAIL", "LAST", "ERROR"]
    row = [l for l in lines if l.startswith("m0 ")][0]
    assert " 1/50 " in row and " 0% " in row and "dBm" in row, row
    assert all(len(l) <= 80 for l in lines)
    out = run(d, "modem", "m0").stdout
    assert "minute 1, hour 1, day 1/50, month 1" in out and "breaker      closed" in out, out


def test_pdu_national_language_tables():
    # simroute pdu with the Hindi tables (TS 23.038 A.3.6): the SUBMIT packed by hand (UDH 03 25 01 06,
    # 3 fill bits, septets 2F 42 4C 5F 27 59), and the matching DELIVER decoded back
    namaste = "\u0928\u092e\u0938\u094d\u0924\u0947"
    lines = [
        {"op": "encode", "to": "+919812345678", "text": namaste, "languages": ["hi"]},
        {"op": "encode", "to": "+919812345678", "text": namaste},
        {"op": "decode", "pdu": "00440C91198921436587000062113231540040" "0B" "03250106780999DF5316"},
        {"op": "decode", "pdu": "00440C91198921436587000062113231540040" "08" "0324010BD87082"},
        {"op": "encode", "to": "+919812345678", "text": "x", "languages": ["xx"]},
    ]
    out = subprocess.run([SIMROUTE, "pdu"], input="".join(json.dumps(l) + "\n" for l in lines),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    docs = [json.loads(l) for l in out.stdout.splitlines()]
    assert len(docs) == len(lines)
    assert docs[0]["encoding"] == "gsm7" and docs[0]["locking_shift"] == "hi" and docs[0]["single_shift"] is None
    assert [p["pdu"] for p in docs[0]["parts"]] == ["0041000C9119892143658700000B03250106780999DF5316"]
    assert docs[1]["encoding"] == "ucs2" and docs[1]["locking_shift"] is None
    assert docs[2]["text"] == namaste and docs[2]["locking_shift"] == "hi"
    # Tamil single shift only: ESC 1C is TAMIL DIGIT ZERO (A.2.11), then 'A' from the default table
    assert docs[3]["text"] == "\u0be6A" and docs[3]["single_shift"] == "ta" and docs[3]["locking_shift"] is None
    assert "unknown language" in docs[4]["error"]


def test_modem_shows_recent_errors_newest_first(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=20, what="modem ready")
    assert json.loads(run(d, "--json", "modem", "m0").stdout)["recent_errors"] == []

    def send_after_refusal(code_, text):
        # the network refuses the next send once (try_another); the only SIM then sends it again
        subprocess.run([GSMSIM, "ctl", sim.dir, "fault", "0", "cms", code_], check=True, capture_output=True,
                       timeout=10)
        code, doc = d.api.send("+447700900123", text)
        assert code == 202
        d.wait_status(doc["id"], ("sent",), timeout=30)
    send_after_refusal("500", "second time lucky")
    send_after_refusal("69", "second time lucky again")
    send_after_refusal("69", "and again")
    errs = json.loads(run(d, "--json", "modem", "m0").stdout)["recent_errors"]
    assert [e["error"].split(":")[0] for e in errs] == ["+CMS ERROR 69", "+CMS ERROR 500"], errs
    assert [e["count"] for e in errs] == [2, 1]          # a repeat counts up, it does not push out
    assert all(e["at"].endswith("Z") for e in errs)
    out = run(d, "modem", "m0").stdout
    assert "errors       (newest first)" in out and "+CMS ERROR 69" in out and "(x2)" in out, out
    assert all(len(l) <= 80 for l in out.splitlines())
