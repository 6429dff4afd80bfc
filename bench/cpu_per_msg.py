#!/usr/bin/python3
"""Daemon CPU per delivered message, the figure to watch when changing the send path.

N gsmsim modems at latency L drain a queue filled with wrk; after a settling pause, simrouted's
utime + stime (/proc/PID/stat) over a window, divided by the messages that became `sent` in it.
Prints one line per run and the median. No pass/fail: see bench/README.md ("Where the CPU per
message goes"). Binaries from build/, or SIMROUTE_BUILD.

    /usr/bin/python3 bench/cpu_per_msg.py                 # 64 modems, L = 0.5 s, 5000 queued, 20 s, 3 runs
    /usr/bin/python3 bench/cpu_per_msg.py --runs 5 --window 60 --fill 12000
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from conftest import GSMSIM, Proc, wait_for  # noqa: E402


def one_run(modems, latency, fill, window):
    tmp = tempfile.mkdtemp(prefix="simroute-cpu-")
    sim = d = None
    try:
        sim = Proc([GSMSIM, "--modems", str(modems), "--dir", tmp + "/sim", "--latency", str(latency)],
                   tmp + "/gsmsim.log")
        wait_for(lambda: all(os.path.exists(tmp + "/sim/modem%d" % i) for i in range(modems)), what="ports")
        d = bench.Daemon(tmp, [tmp + "/sim/modem%d" % i for i in range(modems)], log_level="info")
        bench.wait_ready(d, modems)
        bench.fill(d, fill, "normal")
        time.sleep(2)
        pid = d.proc.p.pid
        s0, t0 = d.api.status()["queue"]["by_state"]["sent"], bench.proc_stat(pid)[0]
        time.sleep(window)
        s1, t1 = d.api.status()["queue"]["by_state"]["sent"], bench.proc_stat(pid)[0]
        return (t1 - t0) * 1000 / max(1, s1 - s0), (s1 - s0) / window
    finally:
        if d:
            d.proc.stop()
        if sim:
            sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modems", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.5, help="gsmsim send latency, s")
    ap.add_argument("--fill", type=int, default=5000, help="messages queued first")
    ap.add_argument("--window", type=int, default=20, help="seconds measured (fill > window * modems / latency)")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    ms, rate = [], []
    for i in range(a.runs):
        m, r = one_run(a.modems, a.latency, a.fill, a.window)
        ms.append(m)
        rate.append(r)
        print("run %d: %.3f ms/msg, %.1f msg/s" % (i + 1, m, r), flush=True)
    print("median: %.3f (%.3f-%.3f) ms of daemon CPU per delivered message, %.1f msg/s (ceiling %.1f)"
          % (statistics.median(ms), min(ms), max(ms), statistics.median(rate), a.modems / a.latency))


if __name__ == "__main__":
    main()
