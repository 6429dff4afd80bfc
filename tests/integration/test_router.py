"""Issue 7 end to end: lanes, quotas, CMS error classes, and failover to a loopback cloud carrier."""
import collections
import json
import os
import signal
import subprocess
import time

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
        assert doc2["status"] in ("queued", "sending", "sent")   # sending: a probe after the cool-down
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


def with_ini(d, old, new):
    with open(d.ini) as f:
        text = f.read()
    assert old in text, old
    with open(d.ini, "w") as f:
        f.write(text.replace(old, new, 1))


def modem_doc(d, name):
    code, doc = d.api.request("GET", "/v1/modems")
    assert code == 200
    return next(m for m in doc["modems"] if m["name"] == name)


def action(d, name, what):
    code, doc = d.api.request("POST", "/v1/modems/%s/%s" % (name, what))
    assert code == 200, doc


def explain(d, mid):
    code, doc = d.api.request("GET", "/v1/messages/%d/explain" % mid)
    assert code == 200
    return "\n".join(doc["explanation"])


def recipients_of(sim, modem):
    return {l["to"] for l in sim.sent() if l["modem"] == modem}


def test_recipient_quota_new_numbers_elsewhere_repeats_stay_and_survive_restart(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.05)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)])
        d.stop()
        with_ini(d, "[modem:m0]\nport = %s\n" % sim.port(0),
                 "[modem:m0]\nport = %s\nquota_recipients_month = 2\n" % sim.port(0))
        d.start()
        ready(d, 2)
        nums = ["+4477009011%02d" % i for i in range(6)]
        for i, n in enumerate(nums):
            _, doc = d.api.send(n, "hello %d" % i)
            d.wait_status(doc["id"], {"sent"})
        # m0 wrote to exactly two numbers (its limit); m1 took every other new number.
        assert len(recipients_of(sim, "modem0")) == 2, sim.sent()
        assert len(sim.sent()) == 6
        known = sorted(recipients_of(sim, "modem0"))
        m0 = modem_doc(d, "m0")
        assert m0["recipients"]["month"] == {"used": 2, "limit": 2}
        assert m0["recipients"]["day"]["limit"] is None
        assert m0["latency_ms"] is None or m0["latency_ms"] > 0
        assert modem_doc(d, "m1")["recipients"]["month"]["limit"] is None
        from conftest import SIMROUTE
        out = subprocess.run([SIMROUTE, "-s", d.sock, "modem", "m0"], capture_output=True, text=True, timeout=10)
        assert "recipients   day no limit, month 2 of 2" in out.stdout, out.stdout

        # Only m0 can send: a repeat recipient still goes out on it, a new one waits for another SIM
        # and does not hold up the repeat behind it.
        action(d, "m1", "drain")
        _, new = d.api.send("+447700901199", "new number")
        _, rep = d.api.send(known[0], "repeat number")
        assert d.wait_status(rep["id"], {"sent"})["route"] == "m0"
        assert d.api.message(new["id"])[1]["status"] == "queued"
        assert "recipient quota used up" in explain(d, new["id"])
        action(d, "m1", "enable")
        assert d.wait_status(new["id"], {"sent"}, timeout=10)["route"] == "m1"

        # The count survives a restart: rebuilt from the parts the store saw go out.
        d.stop()
        d.start()
        ready(d, 2)
        assert modem_doc(d, "m0")["recipients"]["month"]["used"] == 2
        action(d, "m1", "drain")
        _, new2 = d.api.send("+447700901198", "after restart, new")
        _, rep2 = d.api.send(known[1], "after restart, repeat")
        assert d.wait_status(rep2["id"], {"sent"})["route"] == "m0"
        time.sleep(1)
        assert d.api.message(new2["id"])[1]["status"] == "queued"
        assert len(recipients_of(sim, "modem0")) == 2
        action(d, "m1", "enable")
        assert d.wait_status(new2["id"], {"sent"}, timeout=10)["route"] == "m1"
    finally:
        sim.stop()


def test_restrict_prefixes_and_affinity(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=0.05)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)])
        d.stop()
        with_ini(d, "[modem:m0]\nport = %s\n" % sim.port(0),
                 "[modem:m0]\nport = %s\nprefixes = +4478, 4479\nrestrict_prefixes = yes\n" % sim.port(0))
        d.start()
        ready(d, 2)
        m0 = modem_doc(d, "m0")
        assert m0["prefixes"] == ["+4478", "+4479"] and m0["restrict_prefixes"] is True
        assert modem_doc(d, "m1")["prefixes"] == [] and modem_doc(d, "m1")["restrict_prefixes"] is False
        # Sent one at a time, so both SIMs are free for each: +4477 never goes to m0, +4478/9 always
        # does (the affinity bonus beats least-recently-used).
        for i, n in enumerate(["+447700902001", "+447800902002", "+447700902003", "+447900902004",
                               "+447800902005", "+447700902006"]):
            _, doc = d.api.send(n, "p%d" % i)
            d.wait_status(doc["id"], {"sent"})
        by_modem = {l["to"]: l["modem"] for l in sim.sent()}
        assert all(m == "modem1" for n, m in by_modem.items() if n.startswith("+4477")), by_modem
        assert all(m == "modem0" for n, m in by_modem.items() if not n.startswith("+4477")), by_modem
        # Only the restricted SIM is free: a +4477 number waits aside, a +4478 one behind it goes.
        action(d, "m1", "drain")
        _, other = d.api.send("+447700902010", "not for m0")
        _, mine = d.api.send("+447800902011", "for m0")
        assert d.wait_status(mine["id"], {"sent"})["route"] == "m0"
        assert d.api.message(other["id"])[1]["status"] == "queued"
        text = explain(d, other["id"])
        assert "route m0: takes only destinations starting +4478, ... (restrict_prefixes)" in text, text
        assert "route m1: drained by an admin" in text
        action(d, "m1", "enable")
        assert d.wait_status(other["id"], {"sent"}, timeout=10)["route"] == "m1"
    finally:
        sim.stop()


def test_sighup_applies_lowered_quota_and_weights(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=1, latency=0.05)
    try:
        d = daemon_factory([sim.port(0)], extra_ini="[quota]\nrecipients_month = 0\n")
        ready(d, 1)
        for i in range(3):
            _, doc = d.api.send("+4477009030%02d" % i, "before %d" % i)
            d.wait_status(doc["id"], {"sent"})
        assert modem_doc(d, "m0")["recipients"]["month"] == {"used": 0, "limit": None}
        # Lower the limit below what was already sent this month, and change a weight.
        with_ini(d, "[quota]\nrecipients_month = 0\n", "[quota]\nrecipients_month = 2\n[router]\nweight_latency = 1.5\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: "reload: [quota] recipients_month: 0 -> 2" in d.proc.output(), timeout=10,
                 what="quota reload logged")
        assert "reload: [router] weight_latency: 0.25 -> 1.5" in d.proc.output()
        assert "needs a restart" not in d.proc.output()
        wait_for(lambda: modem_doc(d, "m0")["recipients"]["month"] == {"used": 3, "limit": 2},
                 what="recipient count rebuilt from the store")
        _, new = d.api.send("+447700903099", "after reload, new")
        _, rep = d.api.send("+447700903001", "after reload, repeat")
        assert d.wait_status(rep["id"], {"sent"})["route"] == "m0"
        time.sleep(1)
        assert d.api.message(new["id"])[1]["status"] == "queued"
        code, ex = d.api.request("GET", "/v1/messages/%d/explain" % new["id"])
        assert any("recipient quota used up (0/0 today, 3/2 this month)" in l for l in ex["explanation"]), ex
        # A per-modem override raised on SIGHUP lets it go, without a restart.
        with_ini(d, "[modem:m0]\nport = %s\n" % sim.port(0),
                 "[modem:m0]\nport = %s\nquota_recipients_month = 10\n" % sim.port(0))
        os.kill(d.proc.pid, signal.SIGHUP)
        assert d.wait_status(new["id"], {"sent"}, timeout=10)["route"] == "m0"
        assert "reload: [modem:m0] (the [quota] defaults, no prefixes) -> quota_recipients_month=10" \
            in d.proc.output()
        assert modem_doc(d, "m0")["recipients"]["month"] == {"used": 4, "limit": 10}
        # A segment quota lowered below today's sends (5 parts): even a known number waits now.
        with_ini(d, "[quota]\nrecipients_month = 2\n", "[quota]\nrecipients_month = 2\nday = 4\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: "reload: [quota] day: 0 -> 4" in d.proc.output(), timeout=10, what="day quota reload")
        _, late = d.api.send("+447700903001", "over the day quota")
        time.sleep(1)
        assert d.api.message(late["id"])[1]["status"] == "queued"
        assert "route m0: out of quota until" in explain(d, late["id"])
        assert len(sim.sent()) == 5
        assert d.proc.alive()
    finally:
        sim.stop()


def test_explain_shows_route_scores(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=1, latency=2.0)
    try:
        d = daemon_factory([sim.port(0)], extra_ini="[router]\nweight_affinity = 3\n")
        d.stop()
        with_ini(d, "[modem:m0]\nport = %s\n" % sim.port(0), "[modem:m0]\nport = %s\nprefixes = +4477\n" % sim.port(0))
        d.start()
        ready(d, 1)
        _, first = d.api.send("+447700904001", "keeps m0 busy")
        wait_for(lambda: d.api.message(first["id"])[1]["status"] == "sending", what="first message sending")
        _, second = d.api.send("+447700904002", "waits for m0")
        text = explain(d, second["id"])
        # busy with the first; the score as the router weighs it for this message (affinity 3 for +4477)
        assert "route m0: busy sending message %d; score " % first["id"] in text, text
        assert "+ affinity 3.00" in text and "signal " in text and "health 2.00" in text, text
        d.wait_status(second["id"], {"sent"}, timeout=20)
        assert modem_doc(d, "m0")["latency_ms"] >= 1000
    finally:
        sim.stop()


def test_kill9_with_a_carrier_request_out_is_uncertain_never_resent(daemon_factory):
    # The request is out (the carrier holds it 3 s) when the daemon dies: at start-up the message is
    # `uncertain` — the carrier may have taken it — and no second request is made.
    c = Carrier("hang")
    try:
        d = daemon_factory([], extra_ini="[otp]\nmodem_deadline = 1\n" + c.ini(timeout_ms=10000))
        _, doc = d.api.send("+447700900702", "code 6", priority="otp")
        wait_for(lambda: len(c.requests) == 1, timeout=20, what="the carrier request")
        d.stop(signal.SIGKILL)
        d.start()
        msg = d.wait_status(doc["id"], {"uncertain"}, timeout=20)
        assert msg["status"] == "uncertain"
        time.sleep(2)
        assert len(c.requests) == 1, "a request that may have been taken is not repeated"
    finally:
        c.stop()
