"""Crash safety: kill -9 simrouted at random moments while it accepts and sends, restart it, and check
the client's log of acknowledged messages against the store and against what gsmsim's network saw.

RELIABILITY_KILLS (default 20) sets the number of kills (`make soak` runs 200);
RELIABILITY_SEED replays one schedule (the seed is printed).
"""
import collections
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon, Gsmsim, wait_for  # noqa: E402

KILLS = int(os.environ.get("RELIABILITY_KILLS", "20"))
SEED = int(os.environ.get("RELIABILITY_SEED", str(random.randrange(1 << 30))))
POST_RATE = 15.0          # messages/s offered in all; 4 modems at 0.2 s drain about 20/s
CLIENTS = 3               # concurrent posters, so kills also land in group commits of several messages
FINAL_STATES = {"sent", "uncertain"}


class Client(threading.Thread):
    """Posts messages with a unique text each; keeps only what the daemon acknowledged (202)."""

    def __init__(self, daemon, tag):
        super().__init__(daemon=True)
        self.d = daemon
        self.tag = tag
        self.acked = {}          # id -> text: POST returned 202
        self.maybe = set()       # texts whose POST was cut (may or may not have been committed)
        self.refused = collections.Counter()
        self.stopping = threading.Event()

    def run(self):
        n = 0
        while not self.stopping.is_set():
            n += 1
            text = "%s msg %d" % (self.tag, n)
            t0 = time.monotonic()
            try:
                code, doc = self.d.api.send("+4477009%05d" % (n % 100000), text)
            except OSError:
                # Daemon down (refused) or killed mid-request: not acknowledged.
                self.maybe.add(text)
                time.sleep(0.02)
                continue
            if code == 202:
                self.acked[doc["id"]] = text
            else:
                self.refused[code] += 1
                self.maybe.add(text)
            time.sleep(max(0.0, CLIENTS / POST_RATE - (time.monotonic() - t0)))


def test_kill9_loses_nothing_acknowledged_and_sends_nothing_twice(tmp_path):
    rng = random.Random(SEED)
    print("\nreliability: %d kills, RELIABILITY_SEED=%d" % (KILLS, SEED))
    tmp = str(tmp_path)
    sim = Gsmsim(tmp, modems=4, latency=0.2)
    d = Daemon(tmp, [sim.port(i) for i in range(4)])
    clients = [Client(d, "seed%d c%d" % (SEED, c)) for c in range(CLIENTS)]
    try:
        wait_for(lambda: d.api.status()["routes"]["ready"] == 4, timeout=20, what="4 modems ready")
        for c in clients:
            c.start()
        for k in range(KILLS):
            # Random moments, sometimes right after start-up (recovery in progress), mostly mid-traffic.
            time.sleep(rng.choice([rng.uniform(0.0, 0.3), rng.uniform(0.3, 2.0), rng.uniform(0.3, 2.0)]))
            assert d.proc.alive(), "simrouted died on its own before kill %d:\n%s" % (k, d.proc.output()[-3000:])
            d.stop(signal.SIGKILL)
            d.start()
        time.sleep(1.0)
        for c in clients:
            c.stopping.set()
        for c in clients:
            c.join(timeout=15)
        assert d.proc.alive(), d.proc.output()[-3000:]
        acked = {mid: text for c in clients for mid, text in c.acked.items()}
        assert len(acked) == sum(len(c.acked) for c in clients), "one id acknowledged to two POSTs"
        maybe = set().union(*(c.maybe for c in clients))
        refused = sum((c.refused for c in clients), collections.Counter())
        assert len(acked) > KILLS, "too little traffic to mean anything: %d acknowledged" % len(acked)

        # 1. Every acknowledged message is in the store, with its text.
        for mid, text in acked.items():
            code, doc = d.api.message(mid)
            assert code == 200, "acknowledged message %d (%r) lost: %s %s" % (mid, text, code, doc)
            assert doc["text"] == text, (mid, text, doc)

        # 2. ... and each ends sent or uncertain.
        def settled():
            return all(d.api.message(mid)[1]["status"] in FINAL_STATES for mid in acked)
        try:
            wait_for(settled, timeout=60, step=0.5, what="every acknowledged message sent or uncertain")
        finally:
            final = {mid: d.api.message(mid)[1] for mid in acked}
        by_status = collections.Counter(doc["status"] for doc in final.values())
        print("reliability: %d acknowledged, %d cut POSTs, statuses %s, refused %s"
              % (len(acked), len(maybe), dict(by_status), dict(refused)))
        other = {mid: (doc["status"], doc.get("error")) for mid, doc in final.items()
                 if doc["status"] not in FINAL_STATES}
        assert not other, "acknowledged messages not sent/uncertain: %s" % other

        # 3. Nothing reached the network twice; a sent message exactly once; uncertain ones not resent.
        time.sleep(0.5)   # a +CMGS in flight lands in sent.jsonl
        on_air = collections.Counter(line["text"] for line in sim.sent())
        twice = {t: c for t, c in on_air.items() if c > 1}
        assert not twice, "sent more than once: %s" % twice
        known = set(acked.values()) | maybe
        phantom = [t for t in on_air if t not in known]
        assert not phantom, "on the air but never posted: %s" % phantom[:10]
        missing = [(mid, acked[mid]) for mid, doc in final.items()
                   if doc["status"] == "sent" and on_air[acked[mid]] != 1]
        assert not missing, "status sent but not on the air exactly once: %s" % missing
        uncertain = sorted(mid for mid, doc in final.items() if doc["status"] == "uncertain")
        if uncertain:
            aired = sum(1 for mid in uncertain if on_air[acked[mid]])
            print("reliability: %d uncertain (cut mid-send; %d of them did reach the network, none twice): %s"
                  % (len(uncertain), aired, " ".join(map(str, uncertain))))
    finally:
        for c in clients:
            c.stopping.set()
        d.stop()
        sim.stop()
