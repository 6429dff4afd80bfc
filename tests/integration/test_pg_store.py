"""The postgresql store backend (tracker issue 12, docs/scale-out.md) with one node: a real server from
tests/pg_server.sh, simrouted on it, gsmsim modems. Several nodes on one queue are not built yet."""
import json
import signal
import subprocess
import time

from conftest import SIMROUTE, Daemon, Gsmsim, wait_for


def pg_ini(dsn):
    return "[store]\nbackend = postgresql\ndsn = %s\n" % dsn


def test_messages_sent_once_and_kept_across_restart(daemon_factory, sim, pg_dsn):
    d = daemon_factory([sim.port(i) for i in range(2)], pg_ini(pg_dsn))
    batch = [{"to": "+4477009%05d" % i, "text": "pg %d" % i, "reference": "r%d" % i} for i in range(6)]
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert code == 202, doc
    ids = [m["id"] for m in doc["messages"]]
    assert ids == list(range(ids[0], ids[0] + 6))
    for mid in ids:
        d.wait_status(mid, ("sent", "delivered"))
    texts = sorted(s["text"] for s in sim.sent())
    assert texts == sorted("pg %d" % i for i in range(6))   # each exactly once
    # the rows are in PostgreSQL, not in a file under state_dir
    out = subprocess.run(["psql", "-At", pg_dsn, "-c", "SELECT count(*), min(state), max(state) FROM messages"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "6|sent|sent", out
    d.stop()
    d.start()
    code, m = d.api.message(ids[3])
    assert code == 200 and m["status"] == "sent" and m["reference"] == "r3" and m["to"] == batch[3]["to"]
    code, lst = d.api.request("GET", "/v1/messages?limit=10")
    assert code == 200 and sorted(x["id"] for x in lst["messages"]) == ids


def test_idempotency_key_and_optout_on_postgresql(daemon_factory, pg_dsn):
    d = daemon_factory([], pg_ini(pg_dsn))
    body = {"to": "+447700900123", "text": "once"}
    hdr = {"Idempotency-Key": "k-1"}
    c1, d1 = d.api.request("POST", "/v1/messages", body, headers=hdr)
    c2, d2 = d.api.request("POST", "/v1/messages", body, headers=hdr)
    assert c1 == 202 and c2 in (200, 202) and d1["id"] == d2["id"], (d1, d2)
    code, doc = d.api.request("POST", "/v1/optout", {"number": "+447700900999"})
    assert code == 201 and doc["added"] is True, doc
    code, doc = d.api.request("POST", "/v1/messages", {"to": "+447700900999", "text": "stop"})
    assert code == 422 and doc["error"]["code"] == "opted_out", (code, doc)
    # the list is in the store: a restarted node still refuses the number
    d.stop()
    d.start()
    code, doc = d.api.request("POST", "/v1/messages", {"to": "+447700900999", "text": "stop"})
    assert code == 422 and doc["error"]["code"] == "opted_out", (code, doc)


def node(tmp_path, name, dsn, modems=2, latency=0.05, lease_s=30, modem_ini=""):
    """A simrouted node with its own gsmsim bank, in its own directory, on the shared queue. Its modems
    are <name>0, <name>1...: a route's name must be unique across the nodes (docs/scale-out.md)."""
    d = tmp_path / name
    d.mkdir()
    sim = Gsmsim(str(d), modems=modems, latency=latency)
    ini = pg_ini(dsn) + "node_id = %s\nlease_s = %d\n" % (name, lease_s)
    ini += "".join("[modem:%s%d]\nport = %s\n%s" % (name, i, sim.port(i), modem_ini) for i in range(modems))
    return sim, Daemon(str(d), [], ini)


def post(d, texts):
    ids = []
    for t in texts:
        code, doc = d.api.request("POST", "/v1/messages", {"to": "+447700900555", "text": t})
        assert code == 202, doc
        ids.append(doc["id"])
    return ids


def test_two_nodes_send_each_message_once(tmp_path, pg_dsn):
    sim_a, a = node(tmp_path, "a", pg_dsn)
    sim_b, b = node(tmp_path, "b", pg_dsn)
    try:
        texts = ["two nodes %d" % i for i in range(40)]
        ids = post(a, texts[0::2]) + post(b, texts[1::2])
        assert len(set(ids)) == 40
        for mid in ids:   # either node answers for any message: one queue
            b.wait_status(mid, ("sent", "delivered"), timeout=60)
        sent = [s["text"] for s in sim_a.sent() + sim_b.sent()]
        assert sorted(sent) == sorted(texts), "each message sent exactly once"
        code, doc = a.api.request("GET", "/v1/nodes")
        assert code == 200, doc
        nodes = {n["id"]: n for n in doc["nodes"]}
        assert set(nodes) == {"a", "b"} and doc["self"] == "a"
        st = a.api.status()["store"]
        assert st == {"path": "", "backend": "postgresql", "node": "a"}, st
        assert nodes["a"]["modems"] == ["a0", "a1"] and nodes["b"]["modems"] == ["b0", "b1"]
        assert all(n["claimed"] == 0 and n["last_heartbeat"] and n["alive"] for n in nodes.values())
        out = subprocess.run([SIMROUTE, "-s", b.sock, "nodes"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].split() == ["NODE", "ALIVE", "HEARTBEAT", "CLAIMED", "MODEMS"]
        assert lines[1].split()[0] == "a" and lines[1].split()[-1] == "a0,a1"
        assert lines[2].split()[:3] == ["b", "*", "yes"], out.stdout
        out = subprocess.run([SIMROUTE, "-s", b.sock, "--json", "nodes"], capture_output=True, text=True, timeout=30)
        assert json.loads(out.stdout)["self"] == "b"
    finally:
        for p in (a, b, sim_a, sim_b):
            p.stop()


def test_killed_node_backlog_taken_over(tmp_path, pg_dsn):
    # a is slow (its modems take a while per command) and has a short lease; b is idle at first
    sim_a, a = node(tmp_path, "a", pg_dsn, latency=0.4, lease_s=3)
    sim_b, b = None, None
    try:
        texts = ["takeover %d" % i for i in range(16)]
        ids = post(a, texts)
        wait_for(lambda: len(sim_a.sent()) >= 2, timeout=30, what="node a sending")
        a.stop(signal.SIGKILL)
        killed_at = time.monotonic()
        sim_b, b = node(tmp_path, "b", pg_dsn, lease_s=3)
        final = {}
        for mid in ids:
            final[mid] = b.wait_status(mid, ("sent", "delivered", "uncertain"), timeout=60)["status"]
        sent_a = [s["text"] for s in sim_a.sent()]
        sent_b = [s["text"] for s in sim_b.sent()]
        # nothing is sent twice: what a's modems got is never sent again by b
        assert not set(sent_a) & set(sent_b), (sent_a, sent_b)
        assert len(sent_b) == len(set(sent_b))
        # b took over the backlog a left queued
        assert sent_b and len(sent_a) + len(sent_b) >= 14
        # a's claims in flight (at most one per modem) became uncertain, only after the lease
        uncertain = [mid for mid, st in final.items() if st == "uncertain"]
        assert 1 <= len(uncertain) <= 2, final
        assert time.monotonic() - killed_at >= 2.5
        for mid in uncertain:
            code, m = b.api.message(mid)
            assert code == 200 and "node a lost its claim" in (m["error"] or ""), m
    finally:
        for p in (a, b, sim_a, sim_b):
            if p is not None:
                p.stop()


def test_nodes_on_sqlite_not_shared(daemon_factory):
    d = daemon_factory([])
    code, doc = d.api.request("GET", "/v1/nodes")
    assert code == 200 and doc == {"shared": False, "self": None, "nodes": []}, doc
    st = d.api.status()["store"]
    assert st["backend"] == "sqlite" and st["path"].endswith("simroute.db") and "node" not in st, st
    out = subprocess.run([SIMROUTE, "-s", d.sock, "nodes"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "not shared" in out.stdout, out
    out = subprocess.run([SIMROUTE, "-s", d.sock, "nodes", "extra"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "usage: simroute nodes" in out.stderr, out


def test_optout_and_keys_follow_other_nodes(tmp_path, pg_dsn):
    sim_a, a = node(tmp_path, "a", pg_dsn, modems=1)
    sim_b, b = node(tmp_path, "b", pg_dsn, modems=1)
    try:
        refused = lambda: b.api.request("POST", "/v1/messages", {"to": "+447700900777", "text": "x"})[0] == 422
        assert not refused()
        code, doc = a.api.request("POST", "/v1/optout", {"number": "+447700900777"})
        assert code == 201, doc
        wait_for(refused, timeout=5, what="b to refuse the number a put on the opt-out list")
        code, doc = a.api.request("DELETE", "/v1/optout/+447700900777")
        assert code == 200, doc
        wait_for(lambda: not refused(), timeout=5, what="b to take the number off again")
        # an API key made on a works on b's TCP listener; revoked on a, b refuses it
        code, doc = a.api.request("POST", "/v1/keys", {"name": "crm", "scopes": ["read"]})
        assert code == 201, doc
        auth = {"Authorization": "Bearer " + doc["key"]}
        status = lambda: b.api.request("GET", "/v1/status", tcp=True, headers=auth)[0]
        wait_for(lambda: status() == 200, timeout=5, what="b to accept a's new key")
        assert a.api.request("DELETE", "/v1/keys/" + doc["id"])[0] == 200
        wait_for(lambda: status() == 401, timeout=5, what="b to refuse the key a revoked")
    finally:
        for p in (a, b, sim_a, sim_b):
            p.stop()


def test_quotas_hold_across_nodes(tmp_path, pg_dsn):
    # each node's SIM may send 3 segments a day: 10 messages posted to both, 6 go out, 4 wait
    sim_a, a = node(tmp_path, "a", pg_dsn, modems=1, modem_ini="quota_day = 3\n")
    sim_b, b = node(tmp_path, "b", pg_dsn, modems=1, modem_ini="quota_day = 3\n")
    try:
        ids = post(a, ["quota %d" % i for i in range(5)]) + post(b, ["quota %d" % i for i in range(5, 10)])
        wait_for(lambda: len(sim_a.sent()) + len(sim_b.sent()) >= 6, timeout=30, what="6 sends")
        time.sleep(2.5)   # a few polls and heartbeats later, still no more
        assert len(sim_a.sent()) == 3 and len(sim_b.sent()) == 3, (sim_a.sent(), sim_b.sent())
        states = [a.api.message(mid)[1]["status"] for mid in ids]
        assert states.count("sent") == 6 and states.count("queued") == 4, states
        # a restarted node counts its SIM's sends from the shared store, not the other node's
        a.stop()
        a.start()
        time.sleep(2.5)
        assert len(sim_a.sent()) == 3 and len(sim_b.sent()) == 3
    finally:
        for p in (a, b, sim_a, sim_b):
            p.stop()


def test_same_modem_name_on_two_nodes_is_warned(tmp_path, pg_dsn):
    dirs = [tmp_path / n for n in ("a", "b")]
    sims, daemons = [], []
    try:
        for n, d in zip(("a", "b"), dirs):
            d.mkdir()
            sims.append(Gsmsim(str(d), modems=1))
            daemons.append(Daemon(str(d), [sims[-1].port(0)], pg_ini(pg_dsn) + "node_id = %s\n" % n))
        assert "node a also has a modem named m0" in daemons[1].proc.output()
        assert "also has a modem named" not in daemons[0].proc.output()
    finally:
        for p in daemons + sims:
            p.stop()


def test_idle_node_woken_by_notify(tmp_path, pg_dsn):
    # a has no modems: what it accepts is sent by b, woken by a's NOTIFY rather than its 1 s poll
    d = tmp_path / "a"
    d.mkdir()
    a = Daemon(str(d), [], pg_ini(pg_dsn) + "node_id = a\n")
    sim_b, b = node(tmp_path, "b", pg_dsn, modems=1)
    try:
        wait_for(lambda: b.api.status()["routes"]["ready"] == 1, timeout=20, what="b's modem ready")
        for i in range(3):
            time.sleep(0.3)
            mid = post(a, ["wake %d" % i])[0]
            b.wait_status(mid, ("sent", "delivered"), timeout=20)
        assert "woken by another node: new messages" in b.proc.output()
        assert len(sim_b.sent()) == 3
    finally:
        for p in (a, b, sim_b):
            p.stop()


def test_one_idempotency_key_on_two_nodes_at_once(tmp_path, pg_dsn):
    # the same request with the same key to both nodes at the same moment, 20 times: one set of
    # messages per key, whichever node wins; the other answers with the same id or 409 (retry)
    import threading
    d = tmp_path / "a"
    d.mkdir()
    a = Daemon(str(d), [], pg_ini(pg_dsn) + "node_id = a\n")
    d = tmp_path / "b"
    d.mkdir()
    b = Daemon(str(d), [], pg_ini(pg_dsn) + "node_id = b\n")
    try:
        for i in range(20):
            body = {"to": "+447700900%03d" % i, "text": "once %d" % i}
            answers = [None, None]

            def go(k, node):
                answers[k] = node.api.request("POST", "/v1/messages", body, headers={"Idempotency-Key": "key-%d" % i})
            ts = [threading.Thread(target=go, args=(k, n)) for k, n in enumerate((a, b))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            ok = [doc["id"] for code, doc in answers if code in (200, 202)]
            assert all(code in (200, 202, 409) for code, _ in answers), answers
            assert ok and len(set(ok)) == 1, answers
            for code, doc in answers:
                if code == 409:
                    assert doc["error"]["code"] == "idempotency_in_progress", doc
        code, doc = a.api.request("GET", "/v1/messages?limit=100")
        assert code == 200 and len(doc["messages"]) == 20, len(doc["messages"])
    finally:
        a.stop()
        b.stop()
