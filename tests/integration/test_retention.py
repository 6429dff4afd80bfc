"""Retention (tracker issue 10): [store] body_retention_days erases the texts of finished messages
and inbound SMS but keeps their rows; retention_days deletes finished rows; queued messages are
never touched. Retention is given in seconds here ("2s"), which the duration keys accept."""
import json
import os
import signal
import sqlite3
import subprocess
import time

from conftest import GSMSIM, SIMROUTED, Daemon, Gsmsim, wait_for

TO = "+447700900123"


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def ready(d):
    wait_for(lambda: d.api.status()["routes"]["ready"] >= 1, timeout=30, what="modem ready")


def send_and_wait(d, text):
    code, doc = d.api.send(TO, text)
    assert code == 202, doc
    d.wait_status(doc["id"], {"sent", "delivered"}, timeout=30)
    return doc["id"]


def queue_one(d, text):
    """A message that stays queued: the only modem is disabled."""
    code, doc = d.api.request("POST", "/v1/modems/m0/disable")
    assert code == 200, doc
    code, doc = d.api.send(TO, text)
    assert code == 202, doc
    return doc["id"]


def test_body_retention_erases_texts_keeps_rows_and_queued(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)], "[store]\nbody_retention_days = 2s\nretention_days = 1h\n")
    try:
        ready(d)
        sent = send_and_wait(d, "secret code 1234")
        ctl(sim, "sms", "0", "+46701234567", "an inbound secret")
        wait_for(lambda: d.api.request("GET", "/v1/inbound")[1]["inbound"], timeout=30, what="inbound")
        queued = queue_one(d, "still waiting")
        code, before = d.api.message(sent)
        assert code == 200 and before["text"] == "secret code 1234" and before["purged"] is False

        def purged():
            doc = d.api.message(sent)[1]
            return doc if doc["purged"] else None
        after = wait_for(purged, timeout=20, what="the text erased")
        assert after["text"] is None
        # metadata stays for statistics
        for k in ("id", "to", "status", "parts", "route", "created_at", "sent_at", "priority"):
            assert after[k] == before[k], k
        assert d.api.message(sent)[1]["events"], "the timeline is kept"
        inb = wait_for(lambda: [m for m in d.api.request("GET", "/v1/inbound")[1]["inbound"] if m["purged"]],
                       timeout=20, what="the inbound text erased")
        assert inb[0]["text"] is None and inb[0]["from"] == "+46701234567"
        # the queued message is never touched, however old
        time.sleep(2.5)
        q = d.api.message(queued)[1]
        assert q["status"] == "queued" and q["text"] == "still waiting" and q["purged"] is False
        listed = d.api.request("GET", "/v1/messages")[1]["messages"]
        assert {m["id"]: m["purged"] for m in listed} == {sent: True, queued: False}
        # the erased text survives a restart as erased; in the file it is really gone
        d.stop()
        db = sqlite3.connect(os.path.join(str(tmp_path), "state", "simroute.db"))
        try:
            assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2   # incremental
            assert db.execute("SELECT text, body_purged FROM messages WHERE id = ?", (sent,)).fetchone() == ("", 1)
            assert db.execute("SELECT count(*) FROM inbound_parts").fetchone()[0] == 0
        finally:
            db.close()
        d.start()
        doc = d.api.message(sent)[1]
        assert doc["text"] is None and doc["purged"] is True
        assert "retention:" in d.proc.output()
    finally:
        d.stop()
        sim.stop()


def test_retention_deletes_finished_rows_only(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)], "[store]\nbody_retention_days = 1s\nretention_days = 3s\n")
    try:
        ready(d)
        sent = send_and_wait(d, "goes away")
        queued = queue_one(d, "stays")
        wait_for(lambda: d.api.message(sent)[0] == 404, timeout=20, what="the finished row deleted")
        assert d.api.request("GET", "/v1/messages/%d/explain" % sent)[0] == 404
        q = d.api.message(queued)[1]
        assert q["status"] == "queued" and q["text"] == "stays"
        by_state = d.api.status()["queue"]["by_state"]
        assert by_state["queued"] == 1 and by_state["sent"] + by_state["delivered"] == 0, by_state
    finally:
        d.stop()
        sim.stop()


def check_config(tmp_path, store):
    ini = tmp_path / "bad.ini"
    ini.write_text("[daemon]\nstate_dir = %s\n[api]\nsocket = %s/s.sock\nlisten =\n[store]\n%s"
                   % (tmp_path, tmp_path, store))
    return subprocess.run([SIMROUTED, "-t", "-c", str(ini)], capture_output=True, text=True, timeout=30)


def test_retention_config_checks(tmp_path):
    r = check_config(tmp_path, "body_retention_days = 30\nretention_days = 7\n")
    assert r.returncode == 2 and "retention_days must be >= body_retention_days" in r.stderr, r.stderr
    r = check_config(tmp_path, "body_retention_days = 2x\n")
    assert r.returncode == 2 and "body_retention_days: not a duration" in r.stderr, r.stderr
    r = check_config(tmp_path, "retention_days = -1\n")
    assert r.returncode == 2 and "retention_days" in r.stderr, r.stderr
    # 0 = forever needs no order; units are accepted and printed back
    r = check_config(tmp_path, "body_retention_days = 30\nretention_days = 0\n")
    assert r.returncode == 0, r.stderr
    r = check_config(tmp_path, "body_retention_days = 12h\nretention_days = 90\n")
    assert r.returncode == 0, r.stderr
    assert "body_retention_days = 43200s" in r.stdout and "retention_days = 90" in r.stdout, r.stdout


def test_old_database_switched_to_incremental_vacuum(tmp_path):
    """A database made without auto_vacuum (as before this release) is switched by one VACUUM at
    start-up when it is small."""
    os.makedirs(os.path.join(str(tmp_path), "state"))
    path = os.path.join(str(tmp_path), "state", "simroute.db")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE operator_notes (note TEXT)")
    db.executemany("INSERT INTO operator_notes VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    db.close()
    d = Daemon(str(tmp_path))
    try:
        assert "switched to incremental auto_vacuum" in d.proc.output()
    finally:
        d.stop()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM operator_notes").fetchone()[0] == 200
    finally:
        db.close()


def test_retention_reloaded_on_sighup(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)])   # defaults: 30 days, 365 days
    try:
        ready(d)
        sent = send_and_wait(d, "kept for now")
        time.sleep(1.5)
        assert d.api.message(sent)[1]["purged"] is False
        with open(d.ini, "a") as f:
            f.write("[store]\nbody_retention_days = 1s\nretention_days = 1h\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: d.api.message(sent)[1]["purged"], timeout=20, what="the text erased after the reload")
        assert "reload: [store] body_retention_days: 30 -> 1s" in d.proc.output()
    finally:
        d.stop()
        sim.stop()
