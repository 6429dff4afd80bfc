"""SIGHUP reloads [modem:*] sections without dropping in-flight sends: a new section starts its modem, a
removed one drains (its message in flight completes) and goes, a changed one drains and restarts."""
import collections
import os
import signal

from conftest import Gsmsim, wait_for
from test_modem_faults import ctl, modem_doc


def names(d):
    return sorted(m["name"] for m in d.api.status()["modems"])


def rewrite(d, old, new):
    with open(d.ini) as f:
        text = f.read()
    assert old in text
    with open(d.ini, "w") as f:
        f.write(text.replace(old, new))
    os.kill(d.proc.pid, signal.SIGHUP)


def test_sighup_adds_and_restarts_modems(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2)
    try:
        d = daemon_factory([sim.port(0)])
        wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=30, what="m0 ready")
        section = "[modem:m0]\nport = %s\n" % sim.port(0)
        rewrite(d, section, section + "[modem:m9]\nport = %s\n" % sim.port(1))
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=30, what="m9 started by SIGHUP")
        assert names(d) == ["m0", "m9"]
        assert "reload: [modem:m9] added: starting" in d.proc.output()

        # an identity added to m0: drained (idle: at once), then restarted with it; an admin's drain
        # of m0 survives the restart
        code, _ = d.api.request("POST", "/v1/modems/m0/drain")
        assert code == 200
        imei = ctl(sim, "list")["modems"][0]["imei"]
        rewrite(d, section, section + "imei = %s\n" % imei)
        wait_for(lambda: "modem m0: drained; restarting with the new configuration" in d.proc.output(), timeout=10,
                 what="m0 restarted")
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=30, what="m0 ready again")
        assert modem_doc(d, "m0")["drained"] and modem_doc(d, "m0")["imei"] == imei
        code, doc = d.api.send("+447700900001", "after reload")
        d.wait_status(doc["id"], {"sent"}, timeout=20)
        assert [l["modem"] for l in sim.sent()] == ["modem1"]
    finally:
        sim.stop()


def test_sighup_removing_a_modem_drains_its_send_first(tmp_path, daemon_factory):
    # a slow network keeps the submit in flight while the SIGHUP arrives
    sim = Gsmsim(str(tmp_path), modems=2, latency=3.0)
    try:
        d = daemon_factory([sim.port(0), sim.port(1)])
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=30, what="2 modems ready")
        code, doc = d.api.send("+447700900123", "in flight at reload")
        assert code == 202
        mid = doc["id"]
        busy = wait_for(lambda: [m["name"] for m in ctl(sim, "list")["modems"] if m["state"] == "submitting"],
                        timeout=20, what="a submit in flight")
        n = int(busy[0][len("modem"):])
        route = "m%d" % n
        rewrite(d, "[modem:%s]\nport = %s\n" % (route, sim.port(n)), "")
        wait_for(lambda: "reload: [modem:%s] removed: draining, then closing" % route in d.proc.output(), timeout=10,
                 what="the reload")
        # still there while its message is on the network
        assert route in names(d)
        doc = d.wait_status(mid, {"sent", "uncertain", "failed"}, timeout=20)
        assert doc["status"] == "sent", doc
        wait_for(lambda: route not in names(d), timeout=10, what="%s removed after draining" % route)
        assert "modem %s: drained; removed" % route in d.proc.output()
        assert collections.Counter(l["text"] for l in sim.sent())["in flight at reload"] == 1

        # the remaining modem carries on; the removed one's port is free (gsmsim sees no client commands)
        code, doc = d.api.send("+447700900124", "after removal")
        d.wait_status(doc["id"], {"sent"}, timeout=20)
        assert [l["modem"] for l in sim.sent() if l["text"] == "after removal"] == ["modem%d" % (1 - n)]
        assert d.proc.alive()
    finally:
        sim.stop()
