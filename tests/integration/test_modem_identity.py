"""A modem is known by its IMEI and its route by its SIM's ICCID, never by its tty name ([modem:X] imei =
and iccid =): the wrong modem or the wrong SIM on a port is parked, and a modem that comes back under
another name (USB re-enumeration; here a gsmsim replug, which gives the modem a new pty) is found again
by probing [modems] scan_glob with AT+CGSN. A port that is not a modem is backed off, not hammered."""
import collections
import os
import time

from conftest import Gsmsim, wait_for
from test_modem_faults import cpu_seconds, ctl, modem_doc


def identities(sim):
    return [(m["imei"], m["iccid"]) for m in ctl(sim, "list")["modems"]]


def test_imei_and_iccid_mismatch_park(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=3)
    try:
        ids = identities(sim)
        wrong_iccid = "8946000000000000001"
        assert wrong_iccid != ids[1][1]
        ini = ("rescan_interval = 0\n"
               "[modem:m0]\nport = %s\nimei = %s\n"          # modem1's IMEI on modem0's port
               "[modem:m1]\nport = %s\niccid = %sF\n"        # another SIM than modem1's
               "[modem:m2]\nport = %s\nimei = %s\niccid = %s\n"
               % (sim.port(0), ids[1][0], sim.port(1), wrong_iccid, sim.port(2), ids[2][0], ids[2][1]))
        d = daemon_factory((), extra_ini=ini)
        wait_for(lambda: modem_doc(d, "m2")["state"] == "ready", timeout=30, what="m2 ready")
        m0 = wait_for(lambda: (lambda m: m if m["state"] == "parked" else None)(modem_doc(d, "m0")), timeout=30,
                      what="m0 parked")
        assert "wrong modem" in m0["last_error"] and ids[0][0] in m0["last_error"] and ids[1][0] in m0["last_error"]
        m1 = wait_for(lambda: (lambda m: m if m["state"] == "parked" else None)(modem_doc(d, "m1")), timeout=30,
                      what="m1 parked")
        assert "wrong SIM" in m1["last_error"] and wrong_iccid in m1["last_error"]
        out = d.proc.output()
        assert "modem m0: wrong modem: IMEI %s, expected %s (on %s): parked" % (ids[0][0], ids[1][0], sim.port(0)) in out
        assert "modem m1: wrong SIM: ICCID %s, expected %s: parked" % (ids[1][1], wrong_iccid) in out
        assert d.api.status()["routes"]["ready"] == 1

        # nothing goes out under the wrong identity: both messages leave through modem2
        mids = [d.api.send("+447700900%03d" % i, "identity %d" % i)[1]["id"] for i in range(2)]
        for mid in mids:
            d.wait_status(mid, {"sent"}, timeout=20)
        assert {l["modem"] for l in sim.sent()} == {"modem2"}
    finally:
        sim.stop()


def test_replug_under_a_new_name_is_found_by_imei(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2)
    try:
        ids = identities(sim)
        # m0 is configured by a device name that a re-enumeration changes (/dev/ttyUSB3 becoming
        # /dev/ttyUSB5: here RUNDIR/modem0 becoming RUNDIR/modem0-r1); m1 by IMEI alone, found by the scan
        old = sim.port(0)
        ini = ("scan_glob = %s/modem*\nrescan_interval = 1\nprobe_timeout_ms = 1000\n"
               "[modem:m0]\nport = %s\nimei = %s\n[modem:m1]\nimei = %s\n" % (sim.dir, old, ids[0][0], ids[1][0]))
        d = daemon_factory((), extra_ini=ini)
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=30, what="both modems ready")
        assert "modem m1: IMEI %s found on %s/modem1" % (ids[1][0], sim.dir) in d.proc.output()

        code, doc = d.api.send("+447700900001", "before the unplug")
        d.wait_status(doc["id"], {"sent"}, timeout=20)
        # only m0 can send from now on: drain m1 so the next message waits for m0
        code, _ = d.api.request("POST", "/v1/modems/m1/drain")
        assert code == 200

        ctl(sim, "unplug", "0")
        wait_for(lambda: modem_doc(d, "m0")["state"] != "ready", timeout=20, what="m0 noticed the unplug")
        code, doc = d.api.send("+447700900002", "after the replug")
        assert code == 202
        mid = doc["id"]
        time.sleep(1.0)
        assert d.api.message(mid)[1]["status"] == "queued"
        new = ctl(sim, "replug", "0", "rename")["modem"]["link"]
        assert new == old + "-r1" and os.path.exists(new) and not os.path.lexists(old)
        d.wait_status(mid, {"sent"}, timeout=30)
        assert "modem m0: IMEI %s found on %s (was %s)" % (ids[0][0], new, old) in d.proc.output()

        # nothing lost, nothing twice; the second went out through the same modem, by IMEI
        sent = sim.sent()
        texts = collections.Counter(l["text"] for l in sent)
        assert texts == {"before the unplug": 1, "after the replug": 1}, texts
        assert [l["imei"] for l in sent if l["text"] == "after the replug"] == [ids[0][0]]
    finally:
        sim.stop()


def test_a_port_that_is_no_modem_is_probed_and_backed_off(tmp_path, daemon_factory):
    scan = tmp_path / "scan"
    scan.mkdir()
    master, slave = os.openpty()   # nobody answers on it: a GPS, a console, anything but a modem
    try:
        os.symlink(os.ttyname(slave), str(scan / "ttyFAKE0"))
        ini = ("scan_glob = %s/*\nrescan_interval = 1\nprobe_timeout_ms = 300\n"
               "[modem:ghost]\nimei = 354510019999999\n" % scan)
        d = daemon_factory((), extra_ini=ini)
        path = str(scan / "ttyFAKE0")
        wait_for(lambda: "scan: %s: no answer to AT" % path in d.proc.output(), timeout=15, what="a failed probe")
        g = modem_doc(d, "ghost")
        assert g["state"] == "absent" and "looking for IMEI 354510019999999" in g["last_error"]

        pid = d.proc.pid
        t0, c0 = time.monotonic(), cpu_seconds(pid)
        time.sleep(9.0)
        used = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        assert used < 0.05, "simrouted used %.0f%% of a core probing a dead port" % (used * 100)
        # 1 s between looks, but the port backs off 2, 4, 8 s: a handful of probes, not ten
        probes = d.proc.output().count("scan: probing %s" % path)
        assert 2 <= probes <= 5, probes
        assert d.proc.alive()
    finally:
        os.close(master)
        os.close(slave)
