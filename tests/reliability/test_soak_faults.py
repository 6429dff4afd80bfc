"""Fault soak: 16 gsmsim modems that refuse sends (+CMS ERROR), swallow commands, hang, reboot and drop
off the bus, plus a cloud carrier that answers 500 now and then, while clients post a mix of OTP,
normal and bulk messages. After the faults stop and the queue settles, every acknowledged message must
have an end — sent/delivered, failed with a reason, expired, or uncertain (reported) — nothing stays
queued or sending; nothing reached the air twice (gsmsim's sent.jsonl + the carrier's accepted
requests) unless the store marked it uncertain; OTPs kept flowing the whole time (each one ends within
OTP_BOUND_S of its acceptance); and the daemon's CPU goes back to idle.

RELIABILITY_SOAK_SECONDS sets the fault phase (default 30 s; `make soak` — RELIABILITY_KILLS >= 100 —
runs 300 s unless it is set); RELIABILITY_SEED replays one schedule (the seed is printed).
"""
import collections
import datetime
import json
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from carrier_server import Carrier  # noqa: E402
from conftest import Daemon, Gsmsim, wait_for  # noqa: E402

SEED = int(os.environ.get("RELIABILITY_SEED", str(random.randrange(1 << 30))))
_LONG = int(os.environ.get("RELIABILITY_KILLS", "0") or 0) >= 100
SOAK_SECONDS = float(os.environ.get("RELIABILITY_SOAK_SECONDS", "300" if _LONG else "30"))
MODEMS = 16
POST_RATE = 20.0              # messages/s offered in all (bulk counts each message of a batch)
CLIENTS = 3
OTP_BOUND_S = 30.0            # accept -> sent (or uncertain) for every OTP
SETTLE_TIMEOUT_S = 60.0
# Faults while the soak runs; the codes are the gsmsim defaults (retry / try another / cool down).
FAULTS = "cms_p=0.05 noanswer_p=0.01 hang_p=0.003 hang_s=4"
CARRIER_FAIL_P = 0.15
INI = ("[otp]\nmodem_deadline = 2\n"
       "[router]\ncarrier_after = 3\ncooldown = 3\nmax_attempts = 8\n")
SETTLED = {"sent", "delivered", "undelivered", "failed", "expired", "uncertain", "cancelled"}
OTP_OK = {"sent", "delivered", "uncertain"}


def ctl(rundir, *words):
    """One request on gsmsim's control socket; the answer's JSON."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(os.path.join(rundir, "ctl.sock"))
        s.sendall((json.dumps([str(w) for w in words]) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])    # utime + stime (fields 14, 15)


class Client(threading.Thread):
    """Posts unique texts (OTP 20%, normal 50%, bulk 30% in batches of 5); keeps what was acknowledged."""

    def __init__(self, daemon, tag, seed):
        super().__init__(daemon=True)
        self.d = daemon
        self.tag = tag
        self.rng = random.Random(seed)
        self.acked = {}          # id -> (lane, text, monotonic time of the 202)
        self.tried = set()       # every text posted, acknowledged or not
        self.refused = collections.Counter()
        self.errors = 0
        self.stopping = threading.Event()

    def run(self):
        n = 0
        while not self.stopping.is_set():
            t0 = time.monotonic()
            r = self.rng.random()
            lane = "otp" if r < 0.2 else "normal" if r < 0.7 else "bulk"
            count = 5 if lane == "bulk" else 1
            msgs = []
            for _ in range(count):
                n += 1
                text = "%s %s %d" % (self.tag, lane, n) + (" code %06d" % self.rng.randrange(10 ** 6)
                                                           if lane == "otp" else "")
                msgs.append({"to": "+4477009%05d" % (n % 100000), "text": text, "priority": lane})
                self.tried.add(text)
            try:
                if count == 1:
                    code, doc = self.d.api.request("POST", "/v1/messages", msgs[0])
                    docs = [doc] if code == 202 else []
                else:
                    code, doc = self.d.api.request("POST", "/v1/messages", {"messages": msgs})
                    docs = doc["messages"] if code == 202 else []
            except OSError:
                self.errors += 1
                time.sleep(0.05)
                continue
            if code == 202:
                now = time.monotonic()
                for m, doc in zip(msgs, docs):
                    self.acked[doc["id"]] = (lane, m["text"], now)
            else:
                self.refused[code] += 1
            time.sleep(max(0.0, CLIENTS * count / POST_RATE - (time.monotonic() - t0)))


class FaultDriver(threading.Thread):
    """Every 1.5..4 s: reboot a modem, unplug one for 1..3 s (gsmsim replugs it), unplug one and replug it
    ourselves a little later, arm a +CMS ERROR or line noise — or, every 12 s, an outage: the whole
    bank drops off the bus for 3..6 s, so the OTP deadline and carrier_after send traffic to the (flaky)
    carrier."""

    def __init__(self, rundir, rng):
        super().__init__(daemon=True)
        self.rundir = rundir
        self.rng = rng
        self.stopping = threading.Event()
        self.unplugged = {}      # modem -> monotonic time to replug it
        self.done = collections.Counter()
        self.next_outage = time.monotonic() + 6
        self.failed = []

    def run(self):
        while not self.stopping.wait(self.rng.uniform(1.5, 4.0)):
            now = time.monotonic()
            for m, at in list(self.unplugged.items()):
                if now >= at:
                    self._do("replug", m)
                    del self.unplugged[m]
            m = self.rng.randrange(MODEMS)
            if m in self.unplugged:
                continue
            kind = self.rng.choice(["reboot", "unplug_for", "unplug", "cms", "noise"])
            if now >= self.next_outage:   # one every 12 s, so that even the short run has some
                kind = "outage"
                self.next_outage = now + 12
            if kind == "outage":
                for k in range(MODEMS):
                    if k not in self.unplugged:
                        self._do("unplug", k, "%.1f" % self.rng.uniform(3, 6))
            elif kind == "noise":
                self._do("fault", m, "noise")
            elif kind == "reboot":
                self._do("reboot", m)
            elif kind == "unplug_for":
                self._do("unplug", m, "%.1f" % self.rng.uniform(1, 3))
            elif kind == "unplug":
                if self._do("unplug", m):
                    self.unplugged[m] = now + self.rng.uniform(0.5, 4)
            else:
                self._do("fault", m, "cms", self.rng.choice([42, 38, 500]))

    def _do(self, *words):
        try:
            ans = ctl(self.rundir, *words)
        except (OSError, ValueError) as e:
            self.failed.append((words, str(e)))
            return False
        # "already unplugged" (its own timer beat us) is not an error of the daemon
        self.done[words[0]] += 1 if ans.get("ok") else 0
        return bool(ans.get("ok"))

    def finish(self):
        self.stopping.set()
        self.join(timeout=10)
        for m in list(self.unplugged):
            self._do("replug", m)
        self.unplugged.clear()


def test_soak_faults_every_message_ends_otps_keep_flowing(tmp_path):
    rng = random.Random(SEED)
    print("\nsoak: %.0f s of faults, %d modems, RELIABILITY_SEED=%d" % (SOAK_SECONDS, MODEMS, SEED))
    tmp = str(tmp_path)
    carrier = Carrier(fail_p=CARRIER_FAIL_P, seed=SEED)
    sim = Gsmsim(tmp, modems=MODEMS, latency=0.2, extra=("--seed", str(SEED)))
    d = None
    clients = []
    driver = None
    try:
        d = Daemon(tmp, [sim.port(i) for i in range(MODEMS)], INI + carrier.ini(timeout_ms=3000))
        wait_for(lambda: d.api.status()["routes"]["ready"] == MODEMS, timeout=30, what="%d modems ready" % MODEMS)
        assert ctl(sim.dir, "set", "all", *FAULTS.split())["ok"]
        clients = [Client(d, "s%d c%d" % (SEED, c), SEED * 10 + c) for c in range(CLIENTS)]
        driver = FaultDriver(sim.dir, rng)
        for c in clients:
            c.start()
        driver.start()

        # OTPs must keep flowing during the faults, not only once they stop: sample them as we go.
        t_end = time.monotonic() + SOAK_SECONDS
        while time.monotonic() < t_end:
            time.sleep(1.0)
            assert d.proc.alive(), "simrouted died:\n" + d.proc.output()[-3000:]
        for c in clients:
            c.stopping.set()
        for c in clients:
            c.join(timeout=15)
        driver.finish()
        assert ctl(sim.dir, "set", "all", "cms_p=0", "noanswer_p=0", "hang_p=0")["ok"]
        carrier.fail_p = 0.0
        assert d.proc.alive(), d.proc.output()[-3000:]

        acked = {}
        for c in clients:
            acked.update(c.acked)
        assert len(acked) == sum(len(c.acked) for c in clients), "one id acknowledged twice"
        assert len(acked) >= SOAK_SECONDS * 3, "too little traffic to mean anything: %d" % len(acked)

        # 1. Every acknowledged message ends; none stays queued or sending.
        final = {}

        def settled():
            for mid in acked:
                if mid in final:
                    continue
                code, doc = d.api.message(mid)
                assert code == 200, "acknowledged message %d lost: %s %s" % (mid, code, doc)
                if doc["status"] in SETTLED:
                    final[mid] = doc
            return len(final) == len(acked)
        t_settle = time.monotonic()
        try:
            wait_for(settled, timeout=SETTLE_TIMEOUT_S, step=0.5, what="every acknowledged message to end")
        finally:
            stuck = {mid: d.api.message(mid)[1] for mid in acked if mid not in final}
            by_status = collections.Counter(doc["status"] for doc in final.values())
            by_status.update(doc["status"] + " (stuck)" for doc in stuck.values())
            print("soak: %d acknowledged, settled in %.1f s, statuses %s, refused %s, faults %s, carrier %s"
                  % (len(acked), time.monotonic() - t_settle, dict(by_status),
                     dict(sum((c.refused for c in clients), collections.Counter())), dict(driver.done),
                     dict(collections.Counter(r["status"] for r in carrier.requests))))
        assert not stuck, "never ended: %s" % {m: (doc["status"], doc["priority"], doc["error"])
                                               for m, doc in list(stuck.items())[:20]}
        failed = {mid: doc for mid, doc in final.items() if doc["status"] in ("failed", "undelivered")}
        assert all(doc["error"] for doc in failed.values()), \
            "failed without a reason: %s" % [m for m, doc in failed.items() if not doc["error"]]
        if failed:
            print("soak: %d failed: %s" % (len(failed), collections.Counter(doc["error"] for doc in failed.values())))

        # 2. Nothing on the air twice (modems + carrier's accepted requests) unless marked uncertain.
        time.sleep(0.5)
        text_of = {mid: acked[mid][1] for mid in acked}
        on_air = collections.Counter(line["text"] for line in sim.sent())
        with carrier.lock:
            accepted = [json.loads(r["body"]) for r in carrier.requests if r["status"] == 200]
        on_air.update(b["text"] for b in accepted)
        posted = set().union(*(c.tried for c in clients))
        uncertain = {mid for mid, doc in final.items() if doc["status"] == "uncertain"}
        twice = {text_of[mid]: on_air[text_of[mid]] for mid in acked
                 if on_air[text_of[mid]] > 1 and mid not in uncertain}
        assert not twice, "sent more than once: %s" % twice
        phantom = [t for t in on_air if t not in posted]
        assert not phantom, "on the air but never posted: %s" % phantom[:10]
        sent_not_aired = [(mid, text_of[mid], final[mid]["route"]) for mid in final
                          if final[mid]["status"] in ("sent", "delivered") and on_air[text_of[mid]] != 1]
        assert not sent_not_aired, "status sent but not on the air exactly once: %s" % sent_not_aired[:10]
        if uncertain:
            print("soak: %d uncertain (%d aired, %d aired twice): %s"
                  % (len(uncertain), sum(1 for m in uncertain if on_air[text_of[m]]),
                     sum(1 for m in uncertain if on_air[text_of[m]] > 1), " ".join(map(str, sorted(uncertain)))))

        # 3. No lane stalled: every OTP ended sent (or uncertain) within OTP_BOUND_S of its acceptance.
        otps = {mid: doc for mid, doc in final.items() if doc["priority"] == "otp"}
        assert otps, "no OTP was posted"
        bad = {mid: (doc["status"], doc["error"]) for mid, doc in otps.items() if doc["status"] not in OTP_OK}
        assert not bad, "OTPs that did not go out: %s" % bad
        lat = {}
        for mid, doc in otps.items():
            end = doc["sent_at"] if doc["status"] != "uncertain" and doc["sent_at"] else doc["updated_at"]
            lat[mid] = parse_time(end) - parse_time(doc["created_at"])
        ordered = sorted(lat.values())
        routes = collections.Counter("cloud" if doc["route"] == "cloud" else "modem" for doc in otps.values())
        print("soak: %d OTPs accept->sent p50 %.2f s, p99 %.2f s, max %.2f s; routes %s"
              % (len(ordered), ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
                 ordered[-1], dict(routes)))
        slow = {mid: round(t, 1) for mid, t in lat.items() if t > OTP_BOUND_S}
        assert not slow, "OTPs slower than %.0f s: %s" % (OTP_BOUND_S, slow)
        for lane in ("normal", "bulk"):
            done = sum(1 for doc in final.values() if doc["priority"] == lane and doc["status"] in ("sent", "delivered"))
            assert done, "lane %s sent nothing" % lane

        # 4. The modems come back, and the daemon goes back to idle.
        wait_for(lambda: d.api.status()["routes"]["ready"] == MODEMS, timeout=30, step=0.5,
                 what="all %d modems ready again after the faults" % MODEMS)
        time.sleep(1.0)
        hz = os.sysconf("SC_CLK_TCK")
        c0, t0 = cpu_ticks(d.proc.pid), time.monotonic()
        time.sleep(2.0)
        c1, t1 = cpu_ticks(d.proc.pid), time.monotonic()
        cpu = (c1 - c0) / hz / (t1 - t0)
        print("soak: idle CPU %.1f%% of a core" % (cpu * 100))
        assert cpu < 0.20, "simrouted busy after the soak: %.0f%% of a core" % (cpu * 100)
        assert d.proc.alive(), d.proc.output()[-3000:]
    finally:
        for c in clients:
            c.stopping.set()
        if driver:
            driver.stopping.set()
        if d:
            d.stop()
        sim.stop()
        carrier.stop()
