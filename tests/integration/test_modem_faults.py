"""Modem faults against real processes: a modem unplugged with a message in flight, then plugged back
(gsmsim ctl unplug/replug: the pty master closes, the link goes; a new pty comes back behind the link).

Asserts what happens, never how fast: waits are generous upper bounds.
"""
import collections
import json
import os
import subprocess
import time

from conftest import GSMSIM, Gsmsim, wait_for


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    doc = json.loads(r.stdout.decode())
    assert doc["ok"], (args, doc, r.stderr)
    return doc


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def modem_doc(d, name):
    return next(m for m in d.api.status()["modems"] if m["name"] == name)


def test_unplug_mid_send_then_replug(tmp_path, daemon_factory):
    # a slow network keeps the submit in flight long enough to pull the plug on it
    sim = Gsmsim(str(tmp_path), modems=2, latency=3.0)
    try:
        d = daemon_factory([sim.port(i) for i in range(2)])
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=30, what="2 modems ready")

        code, doc = d.api.send("+447700900123", "unplug test")
        assert code == 202, doc
        mid = doc["id"]
        # the PDU is with a modem, "in the network"
        busy = wait_for(lambda: [m["name"] for m in ctl(sim, "list")["modems"] if m["state"] == "submitting"],
                        timeout=20, what="a submit in flight")
        n = int(busy[0][len("modem"):])
        route = "m%d" % n
        ctl(sim, "unplug", str(n))

        # Reported from the hang-up, not from the 10 s send timeout: it may have gone out, so it is
        # `uncertain` (never resent blindly) -- or, if a policy resends it, sent exactly once.
        final = d.wait_status(mid, {"uncertain", "sent", "failed"}, timeout=8)["status"]
        assert final in ("uncertain", "sent"), final
        wait_for(lambda: modem_doc(d, route)["state"] in ("absent", "recovering", "opening"), timeout=20,
                 what="%s noticed the unplug" % route)

        # unplugged: the daemon waits on timers, not on a dead fd
        pid = d.proc.pid
        t0, c0 = time.monotonic(), cpu_seconds(pid)
        time.sleep(2.0)
        used = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        assert used < 0.10, "simrouted used %.0f%% of a core with a modem unplugged" % (used * 100)
        assert modem_doc(d, route)["state"] != "ready"
        assert modem_doc(d, route)["last_error"]

        ctl(sim, "replug", str(n))
        wait_for(lambda: modem_doc(d, route)["state"] == "ready", timeout=30, what="%s ready again" % route)
        assert d.api.status()["routes"]["ready"] == 2

        # the message reached the network at most once; `sent` means exactly once
        texts = collections.Counter(l["text"] for l in sim.sent())
        assert texts["unplug test"] <= 1
        if final == "sent":
            assert texts["unplug test"] == 1
        assert d.proc.alive()
    finally:
        sim.stop()
