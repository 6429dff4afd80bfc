#!/usr/bin/python3
"""simroute benchmarks: print figures, append them to bench/results/<name>.jsonl. Never pass/fail on time.

Each figure is the median of --runs runs with its spread (min, max). Real processes on loopback:
simrouted and gsmsim from build/, wrk (Debian) as the HTTP load generator with bench/post.lua.
See bench/README.md for what each figure means.
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from conftest import (GSMSIM, SIMROUTED, TEST_KEY, TEST_KEY_HASH, Api, Proc,  # noqa: E402
                      free_port, wait_for)

RESULTS = os.path.join(ROOT, "bench", "results")
POST_LUA = os.path.join(ROOT, "bench", "post.lua")
NPROC = os.cpu_count() or 1


# ---------------------------------------------------------------- processes

class Daemon:
    """simrouted in a temp dir: TCP listener with the test key, Unix socket, optional modems."""

    def __init__(self, tmp, ports=(), log_level="info", extra_ini="", modem_prefix="m"):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "api.sock")
        self.port = free_port()
        self.ini = os.path.join(tmp, "simroute.ini")
        self.log = os.path.join(tmp, "simrouted.log")
        modems = extra_ini + "".join("[modem:%s%d]\nport = %s\n" % (modem_prefix, i, p) for i, p in enumerate(ports))
        for api_extra in ("rate_limit = 0\n", ""):   # no per-key rate limit, where the daemon has one
            with open(self.ini, "w") as f:
                f.write("[daemon]\nstate_dir = %s/state\nlog_level = %s\n"
                        "[api]\nlisten = 127.0.0.1:%d\nsocket = %s\n%s"
                        "%s[api_key:test]\nhash = sha256:%s\nscopes = send,read\n"
                        % (tmp, log_level, self.port, self.sock, api_extra, modems, TEST_KEY_HASH))
            if subprocess.run([SIMROUTED, "-t", "-c", self.ini], capture_output=True).returncode == 0:
                break
        self.api = Api(self.sock, self.port)
        self.start()

    def start(self):
        self.proc = Proc([SIMROUTED, "-c", self.ini], self.log)
        wait_for(lambda: self.connectable() or not self.proc.alive(), timeout=600, what="simrouted socket")
        if not self.proc.alive():
            raise RuntimeError("simrouted died:\n" + self.proc.output()[-2000:])

    def connectable(self):
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        return self.proc.stop()

    def store_bytes(self):
        d = os.path.join(self.tmp, "state")
        return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))


class Sim:
    def __init__(self, tmp, modems, latency):
        self.dir = os.path.join(tmp, "sim")
        os.makedirs(self.dir, exist_ok=True)
        self.n = modems
        self.proc = Proc([GSMSIM, "--modems", str(modems), "--dir", self.dir, "--latency", str(latency)],
                         os.path.join(tmp, "gsmsim.log"))
        wait_for(lambda: all(os.path.exists(self.port(i)) for i in range(modems)) or not self.proc.alive(),
                 timeout=30, what="gsmsim ports")
        if not self.proc.alive():
            raise RuntimeError("gsmsim died:\n" + self.proc.output()[-2000:])

    def port(self, i):
        return os.path.join(self.dir, "modem%d" % i)

    def ports(self):
        return [self.port(i) for i in range(self.n)]

    def sent_count(self):
        try:
            with open(os.path.join(self.dir, "sent.jsonl"), "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def sent(self):
        with open(os.path.join(self.dir, "sent.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        return self.proc.stop()


def proc_stat(pid):
    """(cpu seconds used so far, VmRSS kB, VmHWM kB) of a process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    mem = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                mem[k] = int(v.split()[0])
    return cpu, mem["VmRSS"], mem["VmHWM"]


def wait_ready(d, n, timeout=120):
    wait_for(lambda: d.api.status()["routes"]["ready"] == n, timeout=timeout, step=0.2,
             what="%d modems ready" % n)


def iso_to_epoch(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def wrk(port, conns, seconds, priority="normal", tag="bench", batch=1):
    """One wrk run of POST /v1/messages; returns the WRKJSON summary printed by post.lua."""
    env = dict(os.environ, BENCH_KEY=TEST_KEY, BENCH_PRIORITY=priority, BENCH_TAG=tag, BENCH_BATCH=str(batch))
    out = subprocess.run(["wrk", "-t", str(min(conns, NPROC)), "-c", str(conns), "-d", "%ds" % seconds,
                          "--timeout", "10s", "--latency", "-s", POST_LUA, "http://127.0.0.1:%d" % port],
                         env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"^WRKJSON (.*)$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no summary:\n" + out)
    return json.loads(m.group(1))


def fill(d, target, priority, conns=64, chunk=10, tag="fill"):
    """Queue at least `target` messages with wrk; returns (accepted, seconds)."""
    got, t0, i, rate = 0, time.monotonic(), 0, None
    while got < target:
        left = target - got
        secs = 1 if rate is None else max(1, min(chunk, int(left / rate)))
        r = wrk(d.port, conns, secs, priority=priority, tag="%s%d" % (tag, i))
        ok = r["codes"].get("202", 0)
        got += ok
        rate = max(ok / (r["duration_us"] / 1e6), 1.0)
        bad = {k: v for k, v in r["codes"].items() if k != "202"}
        if bad:
            print("  fill: non-202 answers %s" % bad)
        i += 1
    return got, time.monotonic() - t0


# ---------------------------------------------------------------- daemon log parsing

LOG_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) simrouted\[\w+\] (.*)$")


def log_events(path, day_epoch):
    """[(epoch seconds, message)] from a simrouted log; its stamps are UTC time of day, ms resolution."""
    out, prev = [], None
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_RE.match(line)
            if not m:
                continue
            h, mi, s, ms, msg = m.groups()
            t = day_epoch + int(h) * 3600 + int(mi) * 60 + int(s) + int(ms) / 1000
            if prev is not None and t < prev - 43200:   # crossed midnight
                day_epoch += 86400
                t += 86400
            prev = t
            out.append((t, msg))
    return out


def cmgs_times(events, ids):
    """For each message id: time simrouted wrote AT+CMGS for it (next AT+CMGS on the route it was given)."""
    pending, found = {}, {}
    via = re.compile(r"^message (\d+) to \S+: \d+ part\(s\) via (\S+)$")
    cmd = re.compile(r"^modem (\S+): > AT\+CMGS=")
    for t, msg in events:
        m = via.match(msg)
        if m:
            pending[m.group(2)] = int(m.group(1))
            continue
        m = cmd.match(msg)
        if m and m.group(1) in pending:
            mid = pending.pop(m.group(1))
            if mid in ids and mid not in found:
                found[mid] = t
    return found


def utc_day_epoch():
    now = datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime(now.year, now.month, now.day, tzinfo=datetime.timezone.utc).timestamp()


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ---------------------------------------------------------------- results

def git_commit():
    try:
        c = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                           text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return c + ("-dirty" if dirty else "")
    except OSError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def record(name, params, figures, notes=""):
    os.makedirs(RESULTS, exist_ok=True)
    doc = {"bench": name, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "commit": git_commit(), "machine": {"nproc": NPROC, "cpu": cpu_model(), "kernel": platform.release()},
           "params": params, "figures": figures}
    if notes:
        doc["notes"] = notes
    with open(os.path.join(RESULTS, name + ".jsonl"), "a") as f:
        f.write(json.dumps(doc) + "\n")


def show(label, s, unit, fmt="%.1f"):
    if s is None:
        print("  %-44s n/a" % label)
        return
    print(("  %-44s " + fmt + " %s  (min " + fmt + ", max " + fmt + ", %d runs)")
          % (label, s["median"], unit, s["min"], s["max"], len(s["runs"])))


# ---------------------------------------------------------------- benchmarks

def bench_ingest(args):
    """Acknowledged (202 = committed, fsync'd) POST /v1/messages per second over TCP, no modems."""
    print("== ingest: POST /v1/messages over TCP with an API key, no modems, wrk %d s per run" % args.ingest_secs)
    figures = {}
    for conns in (1, 16, 64):
        rates, p50, p99, other = [], [], [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
                d = Daemon(tmp)
                try:
                    r = wrk(d.port, conns, args.ingest_secs)
                finally:
                    d.stop()
            ok = r["codes"].get("202", 0)
            rates.append(ok / (r["duration_us"] / 1e6))
            p50.append(r["p50_us"] / 1000)
            p99.append(r["p99_us"] / 1000)
            other.append(r["requests"] - ok)
        f = {"acked_per_s": summary(rates), "p50_ms": summary(p50), "p99_ms": summary(p99),
             "non_202": summary(other)}
        figures["c%d" % conns] = f
        show("%d conn: acknowledged msg/s" % conns, f["acked_per_s"], "/s", "%.0f")
        show("%d conn: latency p50" % conns, f["p50_ms"], "ms", "%.2f")
        show("%d conn: latency p99" % conns, f["p99_ms"], "ms", "%.2f")
        if any(other):
            print("  %d conn: non-202 answers per run: %s" % (conns, other))
    # Batched: {"messages": [100 of them]} per request, 4 connections; a 202 acknowledges all 100.
    rates = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
            d = Daemon(tmp)
            try:
                r = wrk(d.port, 4, args.ingest_secs, batch=100)
            finally:
                d.stop()
        rates.append(r["codes"].get("202", 0) * 100 / (r["duration_us"] / 1e6))
    figures["batch100_c4"] = {"acked_per_s": summary(rates)}
    show("batches of 100, 4 conn: acknowledged msg/s", figures["batch100_c4"]["acked_per_s"], "/s", "%.0f")
    record("ingest", {"seconds": args.ingest_secs, "runs": args.runs, "connections": [1, 16, 64],
                      "batched": {"messages_per_request": 100, "connections": 4},
                      "wrk_threads": "min(connections, nproc)", "transport": "tcp+bearer key"}, figures,
           "wrk runs on the same machine and competes with simrouted for the CPUs")


def bench_delivery(args):
    """Delivered msg/s with N modems of latency L, as a fraction of the ceiling N/L."""
    L = args.latency
    k = args.per_modem
    print("== delivery: gsmsim latency %.1f s, %d messages per modem, fraction of the ceiling N/L" % (L, k))
    figures = {}
    for n in args.modems:
        steady, e2e, cpu_ms, rss, hwm = [], [], [], [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
                sim = Sim(tmp, n, L)
                d = None
                try:
                    d = Daemon(tmp, sim.ports())
                    wait_ready(d, n)
                    total = k * n
                    cpu0 = proc_stat(d.pid)[0]
                    t_first = None
                    for i in range(total):
                        code, doc = d.api.send("+4477009%05d" % (i % 100000), "delivery bench %d" % i)
                        if code != 202:
                            raise RuntimeError("POST %d: %s %s" % (i, code, doc))
                        if t_first is None:
                            t_first = time.time()
                    wait_for(lambda: sim.sent_count() >= total, timeout=k * L * 4 + 60, step=0.1,
                             what="%d messages sent" % total)
                    cpu1, r, h = proc_stat(d.pid)
                    lines = sim.sent()
                finally:
                    if d:
                        d.stop()
                    sim.stop()
            by_modem = {}
            for line in lines:
                by_modem.setdefault(line["modem"], []).append(iso_to_epoch(line["time"]))
            # Steady state: each modem's sends back to back, first to last +CMGS; ceiling 1/L per modem.
            agg = sum((len(ts) - 1) / (max(ts) - min(ts)) for ts in by_modem.values()
                      if len(ts) > 1 and max(ts) > min(ts))
            steady.append(agg / (n / L))
            last = max(t for ts in by_modem.values() for t in ts)
            e2e.append(len(lines) / (last - t_first) / (n / L))
            cpu_ms.append((cpu1 - cpu0) * 1000 / len(lines))
            rss.append(r / 1024)
            hwm.append(h / 1024)
        f = {"steady_fraction": summary(steady), "end_to_end_fraction": summary(e2e),
             "daemon_cpu_ms_per_msg": summary(cpu_ms), "rss_mib": summary(rss), "hwm_mib": summary(hwm)}
        figures["n%d" % n] = f
        show("N=%d: steady msg/s / ceiling %d/s" % (n, n / L), f["steady_fraction"], "", "%.4f")
        show("N=%d: first 202 -> last +CMGS / ceiling" % n, f["end_to_end_fraction"], "", "%.4f")
        show("N=%d: daemon CPU per message" % n, f["daemon_cpu_ms_per_msg"], "ms", "%.3f")
        show("N=%d: daemon VmRSS / VmHWM" % n, f["rss_mib"], "MiB", "%.1f")
    record("delivery", {"latency_s": L, "modems": args.modems, "per_modem": k, "runs": args.runs,
                        "log_level": "info"}, figures,
           "steady: per modem (sends-1)/(last-first +CMGS from sent.jsonl), summed; end to end: "
           "all sends / (last +CMGS - first 202); CPU = utime+stime of simrouted incl. accepting the POSTs")


def bench_latency(args):
    """accept -> AT+CMGS, idle and with a bulk backlog (the OTP case)."""
    print("== latency: client's 202 -> simrouted writes AT+CMGS (from its debug log, ms stamps)")
    figures = {}
    # Idle: 4 modems, one message at a time.
    idle_p50, idle_p99, post_p50, post_p99 = [], [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
            sim = Sim(tmp, 4, 0.1)
            d = None
            try:
                d = Daemon(tmp, sim.ports(), log_level="debug")
                wait_ready(d, 4)
                acks, posts = {}, {}
                for i in range(args.samples):
                    t_post = time.time()
                    code, doc = d.api.send("+44770090%04d" % i, "idle latency %d" % i)
                    acks[doc["id"]] = time.time()
                    posts[doc["id"]] = t_post
                    wait_for(lambda: sim.sent_count() >= i + 1, timeout=30, step=0.005, what="sent")
                    time.sleep(0.05)
                day = utc_day_epoch()
            finally:
                if d:
                    d.stop()
                sim.stop()
            found = cmgs_times(log_events(d.log, day), set(acks))
            lat = [(found[i] - acks[i]) * 1000 for i in acks if i in found]
            idle_p50.append(pct(lat, 50))
            idle_p99.append(pct(lat, 99))
            lat = [(found[i] - posts[i]) * 1000 for i in posts if i in found]
            post_p50.append(pct(lat, 50))
            post_p99.append(pct(lat, 99))
    figures["idle"] = {"p50_ms": summary(idle_p50), "p99_ms": summary(idle_p99),
                       "post_to_cmgs_p50_ms": summary(post_p50), "post_to_cmgs_p99_ms": summary(post_p99),
                       "samples": args.samples}
    show("idle: 202 -> AT+CMGS p50", figures["idle"]["p50_ms"], "ms", "%.1f")
    show("idle: 202 -> AT+CMGS p99", figures["idle"]["p99_ms"], "ms", "%.1f")
    show("idle: POST sent -> AT+CMGS p50", figures["idle"]["post_to_cmgs_p50_ms"], "ms", "%.1f")
    show("idle: POST sent -> AT+CMGS p99", figures["idle"]["post_to_cmgs_p99_ms"], "ms", "%.1f")

    # OTP behind a bulk backlog: 4 modems at latency Lb, --backlog bulk messages queued first.
    Lb = 0.5
    with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
        sim = Sim(tmp, 4, Lb)
        d = None
        otp_p50, otp_p99, otp_max = [], [], []
        try:
            d = Daemon(tmp, sim.ports(), log_level="debug")
            wait_ready(d, 4)
            got, secs = fill(d, args.backlog, "bulk")
            print("  queued %d bulk messages in %.1f s" % (got, secs))
            per_run = []
            rng = random.Random(11)
            for r in range(args.runs):
                acks = {}
                for i in range(args.otp_samples):
                    code, doc = d.api.send("+44770091%04d" % i, "Your code is %06d" % (r * 1000 + i), priority="otp")
                    if code != 202:
                        raise RuntimeError("OTP POST: %s %s" % (code, doc))
                    acks[doc["id"]] = time.time()
                    mid = doc["id"]
                    wait_for(lambda: d.api.message(mid)[1]["status"] != "queued", timeout=30, step=0.02,
                             what="OTP picked")
                    # Let it finish; the next one lands at a random phase of the bulk sends.
                    time.sleep(rng.uniform(Lb, 2 * Lb))
                per_run.append(acks)
            queued_after = d.api.status()["queue"]["queued"]
            day = utc_day_epoch()
        finally:
            if d:
                d.stop()
            sim.stop()
        events = log_events(d.log, day)
        for acks in per_run:
            found = cmgs_times(events, set(acks))
            lat = [(found[i] - acks[i]) * 1000 for i in acks if i in found]
            otp_p50.append(pct(lat, 50))
            otp_p99.append(pct(lat, 99))
            otp_max.append(max(lat) if lat else None)
    figures["otp_behind_bulk"] = {"p50_ms": summary(otp_p50), "p99_ms": summary(otp_p99),
                                  "max_ms": summary(otp_max), "backlog": got,
                                  "send_time_ms": Lb * 1000, "queued_at_end": queued_after}
    show("OTP behind %d bulk: 202 -> AT+CMGS p50" % got, figures["otp_behind_bulk"]["p50_ms"], "ms", "%.1f")
    show("OTP behind %d bulk: 202 -> AT+CMGS p99" % got, figures["otp_behind_bulk"]["p99_ms"], "ms", "%.1f")
    show("OTP behind bulk: max (target <= %d ms)" % (Lb * 1000), figures["otp_behind_bulk"]["max_ms"], "ms", "%.1f")
    record("latency", {"idle_modems": 4, "idle_latency_s": 0.1, "samples": args.samples, "runs": args.runs,
                       "otp_modems": 4, "otp_latency_s": Lb, "otp_samples": args.otp_samples,
                       "backlog": args.backlog}, figures,
           "client time.time() after the 202 is read vs the ms time stamp of simrouted's debug line "
           "'modem X: > AT+CMGS=' that follows 'message ID ... via X'; same host clock")


def bench_footprint(args):
    """RSS with a large queue, store bytes per message, start-up time with that queue."""
    n = args.large
    print("== footprint: RSS and store size with %d queued messages, then 64 modems sending from them" % n)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
        d = Daemon(tmp)
        try:
            _, rss0, _ = proc_stat(d.pid)
            got, secs = fill(d, n, "bulk", chunk=15)
            cpu, rss, hwm = proc_stat(d.pid)
            size = d.store_bytes()
            d.stop()
            t0 = time.monotonic()
            d.start()
            restart = time.monotonic() - t0
            _, rss2, hwm2 = proc_stat(d.pid)
            d.stop()
            # The same million, now with 64 modems at L = 1 s sending from it: memory while the
            # queue drains, and daemon CPU per delivered message with a deep queue behind.
            sim = Sim(tmp, 64, 1.0)
            d = Daemon(tmp, sim.ports())
            try:
                wait_ready(d, 64)
                time.sleep(2)
                cpu0, _, _ = proc_stat(d.pid)
                sent0 = sim.sent_count()
                time.sleep(20)
                cpu1, rss3, hwm3 = proc_stat(d.pid)
                sent1 = sim.sent_count()
            finally:
                sim.stop()
        finally:
            d.stop()
    delivered = sent1 - sent0
    figures = {"queued": got, "fill_s": secs, "fill_per_s": got / secs, "rss_empty_mib": rss0 / 1024,
               "rss_mib": rss / 1024, "hwm_mib": hwm / 1024, "store_bytes": size,
               "store_bytes_per_msg": size / got, "ingest_cpu_ms_per_msg": cpu * 1000 / got,
               "restart_s": restart, "rss_after_restart_mib": rss2 / 1024, "hwm_after_restart_mib": hwm2 / 1024,
               "m64_delivered_per_s": delivered / 20.0, "m64_rss_mib": rss3 / 1024, "m64_hwm_mib": hwm3 / 1024,
               "m64_cpu_ms_per_delivered": (cpu1 - cpu0) * 1000 / delivered if delivered else None}
    for k, v in figures.items():
        print("  %-44s %s" % (k, ("%.2f" % v) if isinstance(v, float) else v))
    record("footprint", {"large": n, "runs": 1, "m64_latency_s": 1.0, "m64_window_s": 20}, figures,
           "one run (a large fill is expensive); m64_*: the same queue drained by 64 modems for 20 s")


def gsmsim_ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("gsmsim ctl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return json.loads(r.stdout)


def sim_events(sim):
    path = os.path.join(sim.dir, "events.jsonl")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def bench_failover(args):
    """Time from a failed modem to its message's AT+CMGS on another SIM (target: within 2 s)."""
    lat = 0.3
    print("== failover: 2 modems (gsmsim latency %.1f s); from the failure (gsmsim events.jsonl) to the "
          "AT+CMGS on the other modem (its sent.jsonl time minus the latency)" % lat)
    cms_ms, unplug_ms = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
            sim = Sim(tmp, 2, lat)
            d = None
            try:
                d = Daemon(tmp, sim.ports())
                wait_ready(d, 2)
                # 1. the network refuses on modem0 with +CMS ERROR 500 (class: try another SIM)
                gsmsim_ctl(sim, "fault", "0", "cms", "500")
                text = "failover cms %d" % run
                d.api.send("+447700900001", text)
                wait_for(lambda: any(l["text"] == text for l in sim.sent()), timeout=30, what="re-sent")
                err = [e for e in sim_events(sim) if e["event"] == "cms_error"][-1]
                line = [l for l in sim.sent() if l["text"] == text][0]
                if err["modem"] == line["modem"]:
                    raise RuntimeError("the refused message was re-sent on the same modem")
                cms_ms.append((iso_to_epoch(line["time"]) - lat - iso_to_epoch(err["time"])) * 1000)
                # 2. modem0 swallows AT+CMGS (nothing reached it), then is unplugged mid-exchange;
                #    m1 is drained meanwhile so the message surely starts on m0
                wait_ready(d, 2)
                d.api.request("POST", "/v1/modems/m1/drain")
                gsmsim_ctl(sim, "fault", "0", "noanswer")
                text = "failover unplug %d" % run
                d.api.send("+447700900002", text)
                time.sleep(0.3)
                d.api.request("POST", "/v1/modems/m1/enable")
                gsmsim_ctl(sim, "unplug", "0")
                wait_for(lambda: any(l["text"] == text for l in sim.sent()), timeout=30, what="re-routed")
                unp = [e for e in sim_events(sim) if e["event"] == "unplug"][-1]
                line = [l for l in sim.sent() if l["text"] == text][0]
                unplug_ms.append((iso_to_epoch(line["time"]) - lat - iso_to_epoch(unp["time"])) * 1000)
            finally:
                if d:
                    d.stop()
                sim.stop()
    figures = {"cms_try_another_ms": summary(cms_ms), "unplug_before_pdu_ms": summary(unplug_ms)}
    show("+CMS ERROR 500 -> AT+CMGS elsewhere", figures["cms_try_another_ms"], "ms")
    show("unplug (before the PDU) -> AT+CMGS elsewhere", figures["unplug_before_pdu_ms"], "ms")
    record("failover", {"modems": 2, "latency_s": lat, "runs": args.runs}, figures,
           "an unplug after the PDU reached the modem makes the message `uncertain` (never resent): not timed")



class PgServer:
    """A throw-away PostgreSQL server (tests/pg_server.sh); a fresh database per run with db()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="simroute_pg.")   # in /tmp: the server's user must enter it
        out = subprocess.run([os.path.join(ROOT, "tests", "pg_server.sh"), "start", self.dir], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise RuntimeError("pg_server.sh: " + out.stderr.strip())
        self.dsn = out.stdout.strip()
        self.n = 0

    def db(self):
        self.n += 1
        name = "bench%d" % self.n
        subprocess.run(["psql", "-q", self.dsn, "-c", "CREATE DATABASE %s" % name], check=True, capture_output=True)
        return self.dsn.replace("dbname=simroute", "dbname=" + name)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "tests", "pg_server.sh"), "stop", self.dir], capture_output=True)


def pg_ini(dsn, node):
    return "[store]\nbackend = postgresql\ndsn = %s\nnode_id = %s\n" % (dsn, node)


def bench_scaleout(args):
    """The postgresql store (docs/scale-out.md): ingest and delivery with one node and with two."""
    print("== scaleout: postgresql store, one node vs two on one server (all on this machine)")
    if not os.path.exists("/usr/lib/postgresql"):
        print("  skipped: PostgreSQL is not installed (apt-get install postgresql)")
        return
    pg = PgServer()
    figures = {}
    try:
        # ingest: wrk with 16 connections per node, no modems; two nodes: two wrk at once
        for nodes in (1, 2):
            rates = []
            for _ in range(args.runs):
                dsn = pg.db()
                with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
                    ds = []
                    try:
                        for i in range(nodes):
                            os.makedirs(os.path.join(tmp, "n%d" % i))
                            ds.append(Daemon(os.path.join(tmp, "n%d" % i), extra_ini=pg_ini(dsn, "n%d" % i)))
                        outs = [None] * nodes
                        ts = [threading.Thread(target=lambda i=i: outs.__setitem__(i, wrk(ds[i].port, 16,
                                                                                           args.ingest_secs)))
                              for i in range(nodes)]
                        for t in ts:
                            t.start()
                        for t in ts:
                            t.join()
                    finally:
                        for d in ds:
                            d.stop()
                rates.append(sum(o["codes"].get("202", 0) / (o["duration_us"] / 1e6) for o in outs))
            figures["ingest_nodes%d" % nodes] = {"acked_per_s": summary(rates)}
            show("%d node(s), 16 conn each: acknowledged msg/s" % nodes, figures["ingest_nodes%d" % nodes]["acked_per_s"],
                 "/s", "%.0f")
        # delivery: N modems in total at latency L, on one node or split over two; messages posted to node 0
        n, L, k = args.scaleout_modems, args.latency, args.per_modem
        for nodes in (1, 2):
            fr = []
            for _ in range(args.runs):
                dsn = pg.db()
                with tempfile.TemporaryDirectory(prefix="simroute-bench-") as tmp:
                    sims, ds = [], []
                    try:
                        for i in range(nodes):
                            sub = os.path.join(tmp, "n%d" % i)
                            os.makedirs(sub)
                            sims.append(Sim(sub, n // nodes, L))
                            ds.append(Daemon(sub, sims[-1].ports(), extra_ini=pg_ini(dsn, "n%d" % i),
                                             modem_prefix="n%dm" % i))
                            wait_ready(ds[-1], n // nodes)
                        total = k * n
                        for i in range(total):
                            code, doc = ds[0].api.send("+4477009%05d" % (i % 100000), "scaleout %d" % i)
                            if code != 202:
                                raise RuntimeError("POST %d: %s %s" % (i, code, doc))
                        wait_for(lambda: sum(x.sent_count() for x in sims) >= total, timeout=k * L * 4 + 60,
                                 step=0.1, what="%d messages sent" % total)
                        by_modem = {}
                        for j, x in enumerate(sims):
                            for line in x.sent():
                                by_modem.setdefault((j, line["modem"]), []).append(iso_to_epoch(line["time"]))
                    finally:
                        for d in ds:
                            d.stop()
                        for x in sims:
                            x.stop()
                agg = sum((len(ts) - 1) / (max(ts) - min(ts)) for ts in by_modem.values()
                          if len(ts) > 1 and max(ts) > min(ts))
                fr.append(agg / (n / L))
            figures["delivery_nodes%d" % nodes] = {"steady_fraction": summary(fr)}
            show("%d modems on %d node(s): steady msg/s / ceiling %d/s" % (n, nodes, n / L),
                 figures["delivery_nodes%d" % nodes]["steady_fraction"], "", "%.4f")
    finally:
        pg.stop()
    record("scaleout", {"seconds": args.ingest_secs, "runs": args.runs, "ingest_connections_per_node": 16,
                        "modems": args.scaleout_modems, "latency_s": args.latency, "per_modem": args.per_modem},
           figures, "PostgreSQL, the nodes and wrk share this machine's CPUs: a lower bound for separate machines; "
           "delivery: every message posted to node 0, the other node finds them by NOTIFY")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="ingest,delivery,latency,footprint,failover")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ingest-secs", type=int, default=5)
    ap.add_argument("--latency", type=float, default=1.0, help="gsmsim latency for delivery (s)")
    ap.add_argument("--modems", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16, 64])
    ap.add_argument("--per-modem", type=int, default=12, help="messages per modem per delivery run")
    ap.add_argument("--scaleout-modems", type=int, default=8, help="modems in total for the scaleout delivery")
    ap.add_argument("--samples", type=int, default=20, help="idle latency samples per run")
    ap.add_argument("--otp-samples", type=int, default=10, help="OTPs per run behind the backlog")
    ap.add_argument("--backlog", type=int, default=100000, help="bulk messages queued for the OTP case")
    ap.add_argument("--large", type=int, default=int(os.environ.get("BENCH_LARGE", "1000000")),
                    help="queued messages for the footprint")
    args = ap.parse_args()
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so every started process is stopped by its PID.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not shutil.which("wrk"):
        sys.exit("bench: wrk not found (make bench-deps)")
    print("simroute bench: commit %s, %d CPUs (%s), %d runs per figure" % (git_commit(), NPROC, cpu_model(), args.runs))
    t0 = time.monotonic()
    for name in args.only.split(","):
        t = time.monotonic()
        globals()["bench_" + name.strip()](args)
        print("  (%s took %.0f s)" % (name, time.monotonic() - t))
    print("bench: done in %.0f s; results appended under %s" % (time.monotonic() - t0, os.path.relpath(RESULTS)))


if __name__ == "__main__":
    main()
