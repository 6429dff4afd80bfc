"""The walking skeleton end to end: HTTP API -> sqlite queue -> modems (gsmsim ptys) -> sent.jsonl."""
import collections
import os
import signal
import socket
import subprocess
import time

from conftest import SIMROUTE, TEST_KEY, Gsmsim, wait_for


def test_twenty_messages_each_sent_once_spread_over_modems(sim, daemon_factory):
    d = daemon_factory([sim.port(i) for i in range(4)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 4, timeout=20, what="4 modems ready")
    sent = {}
    for i in range(20):
        to = "+4477009%05d" % i
        text = "Message %d: your appointment is at 10:%02d" % (i, i)
        code, doc = d.api.send(to, text)
        assert code == 202, doc
        assert doc["status"] == "queued" and isinstance(doc["id"], int)
        sent[doc["id"]] = (to, text)
    for mid in sent:
        doc = d.wait_status(mid, {"sent"})
        assert doc["parts_sent"] == 1 and doc["route"] and doc["sent_at"]
    lines = sim.sent()
    got = collections.Counter((l["to"], l["text"]) for l in lines)
    assert got == collections.Counter(sent.values()), "each message exactly once with its number and text"
    by_modem = collections.Counter(l["modem"] for l in lines)
    assert len(by_modem) == 4, "spread over every modem: %s" % by_modem

    # Restart: statuses are durable.
    assert d.stop() == 0
    d.start()
    for mid, (to, text) in sent.items():
        code, doc = d.api.message(mid)
        assert code == 200 and doc["status"] == "sent" and doc["to"] == to and doc["text"] == text
    assert len(sim.sent()) == 20, "nothing resent after a restart"


def test_bad_requests_get_400_and_the_daemon_keeps_serving(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    cases = [
        (b"{not json", None),
        (b"", None),
        (b"[1,2]", None),
        (b'{"text": "hi"}', "to"),
        (b'{"to": "+447700900123"}', "text"),
        (b'{"to": "07700 900123", "text": "hi"}', "to"),
        (b'{"to": "+44abc", "text": "hi"}', "to"),
        (b'{"to": 447700900123, "text": "hi"}', "to"),
        (b'{"to": "+447700900123", "text": ""}', "text"),
        (b'{"to": "+447700900123", "text": 5}', "text"),
        (b'{"to": "+447700900123", "text": "hi", "priority": "urgent"}', "priority"),
        (b'{"to": "+447700900123", "text": "hi", "ttl": "soon"}', "ttl"),
        (b'{"to": "+447700900123", "text": "hi", "ttl": 1e99}', "ttl"),
        (b'{"to": "+447700900123", "text": "hi", "colour": "red"}', "colour"),
        (b'{"to": "+447700900123", "to": "+447700900124", "text": "hi"}', None),
        (('{"to": "+447700900123", "text": "%s"}' % ("x" * 2000)).encode(), "text"),
    ]
    for raw, field in cases:
        code, doc = d.api.request("POST", "/v1/messages", raw=raw)
        assert code == 400, (raw, code, doc)
        assert doc["error"]["code"] and doc["error"]["message"], doc
        if field:
            assert doc["error"].get("field") == field, (raw, doc)
    # Oversize: refused from the Content-Length alone, before the body is read.
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(d.sock)
        s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n{" % (2 << 20))
        assert s.recv(4096).split(b"\r\n")[0].split(b" ")[1] == b"413"
    assert d.api.request("GET", "/v1/messages/999999")[0] == 404
    assert d.api.request("GET", "/v1/messages/abc")[0] == 404
    assert d.api.request("GET", "/v1/nothing")[0] == 404
    assert d.api.request("DELETE", "/v1/status")[0] == 405
    assert d.proc.alive()
    code, doc = d.api.send("+447700900123", "still serving")
    assert code == 202
    d.wait_status(doc["id"], {"sent"})


def test_tcp_requires_an_api_key(daemon_factory):
    d = daemon_factory([])
    body = {"to": "+447700900123", "text": "hi"}
    assert d.api.request("POST", "/v1/messages", body, tcp=True)[0] == 401
    code, _ = d.api.request("POST", "/v1/messages", body, tcp=True, headers={"Authorization": "Bearer wrong"})
    assert code == 401
    code, doc = d.api.request("POST", "/v1/messages", body, tcp=True,
                              headers={"Authorization": "Bearer " + TEST_KEY})
    assert code == 202 and doc["status"] == "queued"
    code, doc = d.api.request("GET", "/v1/messages/%d" % doc["id"], tcp=True,
                              headers={"Authorization": "Bearer " + TEST_KEY})
    assert code == 200 and doc["status"] == "queued", "no modems: it waits in the queue"


def test_cli_status_and_send(sim, daemon_factory):
    d = daemon_factory([sim.port(0), sim.port(1)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="modems ready")
    out = subprocess.run([SIMROUTE, "-s", d.sock, "send", "+447700900555", "from the CLI"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    mid = int(out.stdout.split("id ")[1].split()[0])
    d.wait_status(mid, {"sent"})
    assert any(l["to"] == "+447700900555" and l["text"] == "from the CLI" for l in sim.sent())
    out = subprocess.run([SIMROUTE, "-s", d.sock, "status"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert "2 of 2 ready" in out.stdout and "m0" in out.stdout and "m1" in out.stdout
    out = subprocess.run([SIMROUTE, "-s", d.sock, "--json", "status"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and '"by_state"' in out.stdout
    out = subprocess.run([SIMROUTE, "-s", d.sock, "send", "+44 bad", "x"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 2 and "E.164" in out.stderr
    out = subprocess.run([SIMROUTE, "-s", d.sock, "frobnicate"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2
    out = subprocess.run([SIMROUTE, "-s", os.path.join(d.tmp, "nope.sock"), "status"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 3 and "nope.sock" in out.stderr


def test_config_errors_exit_2_naming_file_and_line(tmp_path):
    from conftest import SIMROUTED
    ini = tmp_path / "bad.ini"
    ini.write_text("[daemon]\nstate_dir = /tmp/x\nbogus = 1\n")
    out = subprocess.run([SIMROUTED, "-c", str(ini)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2
    assert "%s:3:" % ini in out.stderr and "bogus" in out.stderr
    ini.write_text("[daemon]\nstate_dir = %s\n" % tmp_path)
    out = subprocess.run([SIMROUTED, "-t", "-c", str(ini)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "configuration OK" in out.stderr


def test_sigkill_mid_queue_loses_nothing_and_duplicates_nothing(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=4, latency=1.0)   # slow network: sends are in flight at the kill
    try:
        d = daemon_factory([sim.port(i) for i in range(4)])
        wait_for(lambda: d.api.status()["routes"]["ready"] == 4, timeout=20, what="4 modems ready")
        ids = []
        for i in range(12):
            code, doc = d.api.send("+4477009%05d" % (500 + i), "crash test %d" % i)
            assert code == 202
            ids.append(doc["id"])
        time.sleep(0.3)
        d.stop(signal.SIGKILL)
        d.start()
        final = {}
        for mid in ids:
            final[mid] = d.wait_status(mid, {"sent", "uncertain"})["status"]
        texts = collections.Counter(l["text"] for l in sim.sent())
        for n, mid in enumerate(ids):
            count = texts["crash test %d" % n]
            # Never twice; `sent` means exactly once; `uncertain` (the crash hit a send in flight) at most once.
            assert count <= 1, "message %d reached the network %d times" % (mid, count)
            if final[mid] == "sent":
                assert count == 1
        assert "uncertain" in final.values(), "the kill hit sends in flight: those must be uncertain, not resent"
    finally:
        sim.stop()
