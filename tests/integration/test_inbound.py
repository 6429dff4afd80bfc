"""Inbound SMS and delivery reports end to end: gsmsim delivers texts and status reports, simrouted
stores them (GET /v1/inbound, message status) and empties the SIM."""
import json
import subprocess
import time

from conftest import GSMSIM, Daemon, Gsmsim, wait_for

SENDER = "+46701234567"
LONG_GSM7 = "".join("part%03d " % i for i in range(30)).strip()           # 239 chars: 2 parts
LONG_UCS2 = "Привет, мир! " * 8                                            # 104 chars, UCS-2: 2 parts


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def modem0(sim):
    return ctl(sim, "list")["modems"][0]


def inbound(d):
    code, doc = d.api.request("GET", "/v1/inbound?limit=500")
    assert code == 200, doc
    return doc["inbound"]


def wait_ready(d, n=1):
    wait_for(lambda: d.api.status()["routes"]["ready"] >= n, timeout=30, what="modems ready")


def test_inbound_single_and_multipart_once_and_deleted(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)])
    try:
        wait_ready(d)
        assert ctl(sim, "sms", "0", SENDER, "hello there")["parts"] == 1
        assert ctl(sim, "sms", "0", SENDER, LONG_GSM7)["parts"] == 2
        assert ctl(sim, "sms", "0", "+441234567890", LONG_UCS2)["parts"] == 2
        wait_for(lambda: len(inbound(d)) >= 3, timeout=30, what="three inbound messages")
        wait_for(lambda: modem0(sim)["stored"] == 0, timeout=30, what="the SIM emptied")
        time.sleep(1.5)   # nothing arrives twice
        got = inbound(d)
        assert len(got) == 3, got
        by_text = {m["text"]: m for m in got}
        assert set(by_text) == {"hello there", LONG_GSM7, LONG_UCS2}
        assert by_text["hello there"]["parts"] == 1 and by_text["hello there"]["from"] == SENDER
        assert by_text[LONG_GSM7]["parts"] == 2 and by_text[LONG_GSM7]["complete"] is True
        assert by_text[LONG_UCS2]["parts"] == 2 and by_text[LONG_UCS2]["from"] == "+441234567890"
        assert all(m["route"] == "m0" and m["received_at"] for m in got)
        assert [m["id"] for m in got] == sorted((m["id"] for m in got), reverse=True)   # newest first
        # paging: one per page, the cursor walks them all
        code, page = d.api.request("GET", "/v1/inbound?limit=1")
        assert code == 200 and len(page["inbound"]) == 1 and page["next_cursor"]
        code, page2 = d.api.request("GET", "/v1/inbound?limit=5&cursor=" + page["next_cursor"])
        assert code == 200 and len(page2["inbound"]) == 2 and page2["next_cursor"] is None
        assert d.api.request("GET", "/v1/inbound?limit=0")[0] == 400
        assert d.api.request("GET", "/v1/inbound?bogus=1")[0] == 400
    finally:
        d.stop()
        sim.stop()


def test_full_sim_is_swept_at_start(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    try:
        ctl(sim, "set", "0", "storage=3")
        for i in range(5):
            ctl(sim, "sms", "0", SENDER, "queued text %d" % i)
        wait_for(lambda: modem0(sim)["stored"] == 3, timeout=10, what="a full SIM")
        d = Daemon(str(tmp_path), [sim.port(0)])
        try:
            wait_for(lambda: len(inbound(d)) >= 5, timeout=40, what="five inbound messages")
            wait_for(lambda: modem0(sim)["stored"] == 0 and modem0(sim)["inbound_waiting"] == 0,
                     timeout=30, what="the SIM emptied")
            time.sleep(1)
            texts = sorted(m["text"] for m in inbound(d))
            assert texts == ["queued text %d" % i for i in range(5)]
        finally:
            d.stop()
    finally:
        sim.stop()


def test_delivery_reports_finish_messages(tmp_path):
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)])
    try:
        wait_ready(d)
        ctl(sim, "set", "0", "report_delay=0.3")
        code, doc = d.api.send("+447700900123", "report me", delivery_report=True)
        assert code == 202, doc
        done = d.wait_status(doc["id"], ("delivered", "undelivered"), timeout=30)
        assert done["status"] == "delivered", done
        parts = d.api.message(doc["id"])[1]["part_status"]
        assert [p["delivery"] for p in parts] == ["delivered"]

        # a two-part message is delivered when both parts are
        code, doc = d.api.send("+447700900124", LONG_GSM7, delivery_report=True)
        assert code == 202, doc
        assert d.wait_status(doc["id"], ("delivered", "undelivered"), timeout=30)["status"] == "delivered"

        ctl(sim, "set", "0", "report_fail_p=1")
        code, doc = d.api.send("+447700900125", "this one fails", delivery_report=True)
        assert code == 202, doc
        done = d.wait_status(doc["id"], ("delivered", "undelivered"), timeout=30)
        assert done["status"] == "undelivered", done
        assert "0x41" in done["error"], done

        # no report asked for: the message stays sent
        ctl(sim, "set", "0", "report_fail_p=0")
        code, doc = d.api.send("+447700900126", "no report")
        assert code == 202, doc
        d.wait_status(doc["id"], ("sent",), timeout=30)
        time.sleep(1)
        assert d.api.message(doc["id"])[1]["status"] == "sent"
    finally:
        d.stop()
        sim.stop()


def test_report_by_mr_and_unknown_mr(tmp_path):
    """A report is matched by the part's TP-MR on its modem; one for a reference nobody used is
    ignored without harm."""
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)])
    try:
        wait_ready(d)
        code, doc = d.api.send("+447700900127", "manual report", delivery_report=True)
        assert code == 202, doc
        d.wait_status(doc["id"], ("sent",), timeout=30)
        mr = [s["mr"] for s in sim.sent() if s["to"] == "+447700900127"][-1]
        ctl(sim, "report", "0", str((mr + 100) % 256), "delivered")   # nobody's
        time.sleep(0.5)
        assert d.api.message(doc["id"])[1]["status"] == "sent"
        ctl(sim, "report", "0", str(mr), "failed")
        done = d.wait_status(doc["id"], ("undelivered",), timeout=30)
        assert done["status"] == "undelivered"
        assert d.proc.alive()
    finally:
        d.stop()
        sim.stop()
