"""The postgresql store backend (tracker issue 12, docs/scale-out.md) with one node: a real server from
tests/pg_server.sh, simrouted on it, gsmsim modems. Several nodes on one queue are not built yet."""
import subprocess


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
