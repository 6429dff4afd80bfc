"""Issue 7 end to end: lanes, quotas, CMS error classes, and failover to a loopback cloud carrier."""
import collections
import json
import subprocess

import pytest

from carrier_server import Carrier
from conftest import GSMSIM, Gsmsim, wait_for


@pytest.fixture
def carrier():
    c = Carrier()
    yield c
    c.stop()


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ready(d, n):
    wait_for(lambda: d.api.status()["routes"]["ready"] == n, timeout=20, what="%d modems ready" % n)


def test_otp_overtakes_five_thousand_bulk(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.3)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)])
        ready(d, 2)
        for b in range(5):
            batch = [{"to": "+4477009%05d" % (b * 1000 + i), "text": "bulk %d" % (b * 1000 + i),
                      "priority": "bulk"} for i in range(1000)]
            code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
            assert code == 202, doc
        wait_for(lambda: len(sim.sent()) >= 4, timeout=20, what="bulk flowing")
        before = len(sim.sent())
        code, doc = d.api.send("+447700900999", "Your code is 246810", priority="otp")
        assert code == 202
        d.wait_status(doc["id"], {"sent"}, timeout=20)
        texts = [l["text"] for l in sim.sent()]
        pos = texts.index("Your code is 246810")
        # At most the sends already in progress on the 2 modems (plus those that finished meanwhile).
        assert pos <= before + 2 + 1, "OTP at position %d, %d bulk already sent when it was posted" % (pos, before)
        assert d.api.status()["queue"]["queued"]["bulk"] > 4000
    finally:
        sim.stop()


def test_route_out_of_quota_is_skipped(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.05)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)])
        # m0 may send 2 segments a day; m1 has no limit.
        with open(d.ini) as f:
            ini = f.read().replace("[modem:m0]\nport = %s\n" % sim.port(0),
                                   "[modem:m0]\nport = %s\nquota_day = 2\n" % sim.port(0))
        d.stop()
        with open(d.ini, "w") as f:
            f.write(ini)
        d.start()
        ready(d, 2)
        ids = [d.api.send("+4477009000%02d" % i, "quota test %d" % i)[1]["id"] for i in range(8)]
        for mid in ids:
            d.wait_status(mid, {"sent"})
        by_modem = collections.Counter(l["modem"] for l in sim.sent())
        assert by_modem["modem0"] == 2 and by_modem["modem1"] == 6, by_modem
        # The counters survive a restart: m0 still has nothing left today.
        d.stop()
        d.start()
        ready(d, 2)
        more = [d.api.send("+4477009001%02d" % i, "after restart %d" % i)[1]["id"] for i in range(3)]
        for mid in more:
            assert d.wait_status(mid, {"sent"})["route"] == "m1"
    finally:
        sim.stop()


def test_all_sims_out_of_quota_go_to_the_carrier(tmp_path, daemon_factory, carrier):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.05)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)],
                           extra_ini="[quota]\nday = 1\n[router]\ncarrier_after = 1\n" + carrier.ini())
        ready(d, 2)
        ids = [d.api.send("+4477009002%02d" % i, "q%d" % i)[1]["id"] for i in range(4)]
        routes = [d.wait_status(mid, {"sent"})["route"] for mid in ids]
        assert sorted(routes) == ["cloud", "cloud", "m0", "m1"]
        assert len(sim.sent()) == 2 and len(carrier.bodies()) == 2
        assert carrier.requests[0]["headers"]["Authorization"] == "Bearer secret-token"
    finally:
        sim.stop()


def test_every_modem_unplugged_carrier_takes_over(tmp_path, daemon_factory, carrier):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.05)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)], extra_ini="[router]\ncarrier_after = 2\n" + carrier.ini())
        ready(d, 2)
        ctl(sim, "unplug", "0")
        ctl(sim, "unplug", "1")
        wait_for(lambda: d.api.status()["routes"]["ready"] == 0, timeout=10, what="modems gone")
        code, doc = d.api.send("+447700900301", "while the modems are out")
        assert code == 202
        msg = d.wait_status(doc["id"], {"sent"}, timeout=20)
        assert msg["route"] == "cloud"
        assert carrier.bodies() == [{"to": "+447700900301", "text": "while the modems are out"}]
        assert sim.sent() == []
    finally:
        sim.stop()


def test_otp_deadline_and_allow_carrier(daemon_factory, carrier):
    d = daemon_factory([], extra_ini="[otp]\nmodem_deadline = 1\n[router]\ncarrier_after = 0\n" + carrier.ini())
    _, otp = d.api.send("+447700900401", "code 1", priority="otp")
    _, normal = d.api.send("+447700900402", "no carrier for normal here")
    _, forbid = d.api.send("+447700900403", "code 2", priority="otp", allow_carrier=False)
    assert d.wait_status(otp["id"], {"sent"}, timeout=15)["route"] == "cloud"
    wait_for(lambda: len(carrier.bodies()) >= 1, what="carrier request")
    import time
    time.sleep(2.5)
    assert d.api.message(normal["id"])[1]["status"] == "queued"
    assert d.api.message(forbid["id"])[1]["status"] == "queued", "allow_carrier false is never carried"
    assert [b["to"] for b in carrier.bodies()] == ["+447700900401"]


def test_carrier_500_retried_then_failed_with_reason(daemon_factory):
    c = Carrier("500")
    try:
        d = daemon_factory([], extra_ini="[otp]\nmodem_deadline = 1\n[router]\nmax_attempts = 2\n" + c.ini())
        _, doc = d.api.send("+447700900501", "code 3", priority="otp")
        msg = d.wait_status(doc["id"], {"failed"}, timeout=30)
        assert "HTTP 500" in msg["error"] and "upstream down" in msg["error"]
        assert msg["attempts"] == 2 and len(c.requests) == 2
    finally:
        c.stop()


def test_carrier_400_fails_at_once(daemon_factory):
    c = Carrier("400")
    try:
        d = daemon_factory([], extra_ini="[otp]\nmodem_deadline = 1\n" + c.ini())
        _, doc = d.api.send("+447700900601", "code 4", priority="otp")
        msg = d.wait_status(doc["id"], {"failed"}, timeout=20)
        assert "invalid destination number" in msg["error"] and len(c.requests) == 1
    finally:
        c.stop()


def test_carrier_timeout_is_uncertain_never_resent(daemon_factory):
    c = Carrier("hang")
    try:
        d = daemon_factory([], extra_ini="[otp]\nmodem_deadline = 1\n" + c.ini(timeout_ms=500))
        _, doc = d.api.send("+447700900701", "code 5", priority="otp")
        msg = d.wait_status(doc["id"], {"uncertain"}, timeout=20)
        assert msg["error"]
        import time
        time.sleep(3)
        assert len(c.requests) == 1, "a request that may have been taken is not repeated"
    finally:
        c.stop()


def test_cms_classes(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.05)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)])
        ready(d, 2)
        # A permanent error (unassigned number) fails the message without another try.
        ctl(sim, "fault", "all", "cms", "1")
        _, doc = d.api.send("+447700900801", "to nobody")
        msg = d.wait_status(doc["id"], {"failed"})
        assert "+CMS ERROR 1" in msg["error"] and msg["attempts"] == 1
        # A cool-down error on one SIM: the message goes out on the other, exactly once.
        ctl(sim, "fault", "0", "cms", "38")
        ctl(sim, "fault", "1", "cms", "38")
        _, doc = d.api.send("+447700900802", "after a cool-down")
        msg = d.wait_status(doc["id"], {"sent", "queued", "failed"}, timeout=20)
        texts = [l["text"] for l in sim.sent()]
        assert texts.count("after a cool-down") <= 1
        # Both SIMs cooling down: the message waits (queued), it is neither failed nor resent in a loop.
        code, doc2 = d.api.message(doc["id"])
        assert doc2["status"] in ("queued", "sent")
        assert "to nobody" not in texts
    finally:
        sim.stop()


def test_explain_says_why(tmp_path, daemon_factory, carrier):
    from conftest import SIMROUTE
    d = daemon_factory([], extra_ini="[router]\ncarrier_after = 600\n" + carrier.ini())
    _, doc = d.api.send("+447700900901", "waiting", allow_carrier=True)
    code, ex = d.api.request("GET", "/v1/messages/%d/explain" % doc["id"])
    assert code == 200 and ex["status"] == "queued"
    text = "\n".join(ex["explanation"])
    assert "queued in the normal lane" in text
    assert "no modems are configured" in text
    assert "carrier: cloud takes it if no SIM has started it by" in text
    assert "expires at" in text
    _, doc2 = d.api.send("+447700900902", "not for the cloud", allow_carrier=False)
    ex2 = d.api.request("GET", "/v1/messages/%d/explain" % doc2["id"])[1]
    assert any("not allowed for this message" in l for l in ex2["explanation"])
    out = subprocess.run([SIMROUTE, "-s", d.sock, "explain", str(doc["id"])], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0 and "route" not in out.stderr and "queued" in out.stdout
    assert d.api.request("GET", "/v1/messages/999999/explain")[0] == 404
    assert d.api.request("GET", "/v1/messages/1/explain/more")[0] == 404
    assert d.api.request("DELETE", "/v1/messages/1/explain")[0] == 405
    d.api.request("DELETE", "/v1/messages/%d" % doc2["id"])
    ex3 = d.api.request("GET", "/v1/messages/%d/explain" % doc2["id"])[1]
    assert ex3["explanation"] == ["cancelled before it was sent"]
