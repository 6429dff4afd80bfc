"""Disk full: when the store cannot write, POST /v1/messages answers 503 (never 202) and the daemon
keeps running; every message it did acknowledge is still there after a restart with space again.

"Full" is RLIMIT_FSIZE on the daemon (no root, no tmpfs, no loop device): with SIGXFSZ ignored, a write
past the limit fails with EFBIG, which sqlite reports like a full disk.
"""
import collections
import os
import resource
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import SIMROUTED, Daemon, Proc  # noqa: E402

LIMIT = 1024 * 1024  # bytes any one file of the daemon may reach


class LimitedProc(Proc):
    def __init__(self, args, log_path, limit):
        def preexec():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # stays ignored across exec
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # soft: raisable later
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=preexec)


class LimitedDaemon(Daemon):
    limit = LIMIT

    def start(self):
        if self.limit is None:  # space again
            return super().start()
        # Log at info: the log file is under the same limit.
        with open(self.ini) as f:
            ini = f.read().replace("log_level = debug", "log_level = info")
        with open(self.ini, "w") as f:
            f.write(ini)
        self.proc = LimitedProc([SIMROUTED, "-c", self.ini], os.path.join(self.tmp, "simrouted.log"), self.limit)
        from conftest import wait_for
        wait_for(lambda: self.connectable() or not self.proc.alive(), what="simrouted socket")
        assert self.proc.alive(), self.proc.output()


def test_full_store_answers_503_never_202_and_keeps_running(tmp_path):
    d = LimitedDaemon(str(tmp_path))
    acked = {}
    codes = collections.Counter()
    first_503 = None
    try:
        for i in range(20000):
            text = "disk full %d %s" % (i, "x" * 100)
            code, doc = d.api.send("+4477009%05d" % i, text)
            codes[code] += 1
            assert code in (202, 503), (i, code, doc)
            if code == 202:
                acked[doc["id"]] = text
            else:
                assert doc["error"]["code"] == "store_unavailable", doc
                if first_503 is None:
                    first_503 = i
            if first_503 is not None and i >= first_503 + 200:
                break
            assert d.proc.alive(), d.proc.output()[-3000:]
        print("\ndisk full: answers %s, first 503 after %d acknowledged" % (dict(codes), len(acked)))
        assert first_503 is not None, "the store never filled up: the limit did not bite"
        assert acked, "nothing accepted before the store filled up"
        assert d.proc.alive(), d.proc.output()[-3000:]
        # Still serving reads and status while full.
        assert d.api.request("GET", "/v1/status")[0] == 200
        for mid, text in list(acked.items())[-50:]:
            code, doc = d.api.message(mid)
            assert code == 200 and doc["text"] == text, (mid, code, doc)
        # Space again, without a restart: the daemon accepts again.
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # soft up to hard
        again = [d.api.send("+447700900124", "space again %d" % i) for i in range(20)]
        assert all(code in (202, 503) for code, _ in again), again
        assert again[-1][0] == 202, "still refusing once the disk has space again: %s" % again[-1][1]
        acked.update((doc["id"], "space again %d" % i) for i, (code, doc) in enumerate(again) if code == 202)
        # And after a restart everything acknowledged is there.
        d.stop()
        d.limit = None
        d.start()
        for mid, text in acked.items():
            code, doc = d.api.message(mid)
            assert code == 200 and doc["text"] == text, "acknowledged %d lost: %s %s" % (mid, code, doc)
        code, doc = d.api.send("+447700900123", "after the disk was freed")
        assert code == 202, doc
    finally:
        d.stop()


def test_store_full_while_sending_loses_nothing_and_sends_nothing_twice(tmp_path):
    """The disk fills while modems are sending: transitions cannot be written. Nothing acknowledged is
    lost, nothing goes out twice, and once there is space again every message settles."""
    import time
    from conftest import Gsmsim, wait_for
    tmp = str(tmp_path)
    sim = Gsmsim(tmp, modems=2, latency=0.2)
    d = LimitedDaemon.__new__(LimitedDaemon)
    d.limit = 1 << 40                       # soft limit lowered at run time with prlimit
    Daemon.__init__(d, tmp, [sim.port(0), sim.port(1)])
    acked, codes = {}, collections.Counter()
    try:
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="2 modems ready")

        def post(i):
            text = "full while sending %d" % i
            code, doc = d.api.send("+4477009%05d" % i, text)
            codes[code] += 1
            assert code in (202, 503), (i, code, doc)
            if code == 202:
                acked[doc["id"]] = text
        for i in range(20):
            post(i)
        time.sleep(0.3)
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        t_end = time.monotonic() + 2.0
        i = 20
        while time.monotonic() < t_end:
            post(i)
            i += 1
            time.sleep(0.02)
        assert d.proc.alive(), d.proc.output()[-3000:]
        full_codes = dict(codes)
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        for j in range(i, i + 10):
            post(j)
        print("\nstore full while sending: answers %s" % full_codes)
        assert codes[503] > 0, "the limit did not bite"

        def settled():
            return all(d.api.message(mid)[1]["status"] in ("sent", "uncertain") for mid in acked)
        try:
            wait_for(settled, timeout=20, step=0.5, what="every acknowledged message sent or uncertain")
        finally:
            final = {mid: d.api.message(mid) for mid in acked}
            print("statuses: %s" % collections.Counter(doc.get("status") for _, doc in final.values()))
        time.sleep(0.5)
        on_air = collections.Counter(line["text"] for line in sim.sent())
        assert not {t: c for t, c in on_air.items() if c > 1}, "sent more than once: %s" % on_air
        for mid, (code, doc) in final.items():
            assert code == 200
            if doc["status"] == "sent":
                assert on_air[acked[mid]] == 1, (mid, doc)
        assert d.proc.alive()
    finally:
        d.stop()
        sim.stop()
