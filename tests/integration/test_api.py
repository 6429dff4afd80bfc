"""The full local API against a real simrouted: batches, options, idempotency, listing, cancel,
modems, health, metrics, rate limits and error shapes."""
import http.client
import json
import time

from conftest import TEST_KEY, wait_for

AUTH = {"Authorization": "Bearer " + TEST_KEY}


def count_messages(d):
    return sum(d.api.status()["queue"]["by_state"].values())


def assert_error(code, doc, status, field=None):
    assert code == status, (code, doc)
    assert set(doc) == {"error"}, doc
    assert doc["error"]["code"] and doc["error"]["message"], doc
    if field is not None:
        assert doc["error"].get("field") == field, doc


# ---- POST /v1/messages ----

def test_batch_accepted_in_one_go(daemon_factory):
    d = daemon_factory([])
    batch = [{"to": "+4477009%05d" % i, "text": "batch %d" % i, "reference": "ref-%d" % i} for i in range(5)]
    batch[2]["priority"] = "otp"
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert code == 202, doc
    ids = [m["id"] for m in doc["messages"]]
    assert len(ids) == 5 and ids == sorted(ids) and len(set(ids)) == 5
    assert doc["messages"][2]["priority"] == "otp" and doc["messages"][0]["priority"] == "normal"
    assert [m["reference"] for m in doc["messages"]] == ["ref-%d" % i for i in range(5)]
    assert all(m["status"] == "queued" and m["parts"] == 1 for m in doc["messages"])
    for i, mid in enumerate(ids):
        code, m = d.api.message(mid)
        assert code == 200 and m["to"] == batch[i]["to"] and m["reference"] == "ref-%d" % i


def test_batch_with_one_bad_message_stores_nothing(daemon_factory):
    d = daemon_factory([])
    batch = [{"to": "+447700900001", "text": "fine"} for _ in range(5)]
    batch[3] = {"to": "+447700900001", "text": "bad", "ttl": 1}
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert_error(code, doc, 400, "messages[3].ttl")
    batch[3] = {"to": "0770", "text": "bad"}
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert_error(code, doc, 400, "messages[3].to")
    batch[3] = {"text": "no number"}
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert_error(code, doc, 400, "messages[3].to")
    batch[3] = {"to": "+447700900001", "text": "x", "colour": "red"}
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert_error(code, doc, 400, "messages[3].colour")
    batch[3] = "not an object"
    code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
    assert_error(code, doc, 400, "messages[3]")
    code, doc = d.api.request("POST", "/v1/messages", {"messages": []})
    assert_error(code, doc, 400, "messages")
    code, doc = d.api.request("POST", "/v1/messages", {"messages": [batch[0]], "to": "+447700900001"})
    assert_error(code, doc, 400, "to")
    assert count_messages(d) == 0


def test_batch_size_limit(daemon_factory):
    d = daemon_factory([], extra_ini="[api]\nmax_batch = 3\n")
    one = {"to": "+447700900001", "text": "x"}
    code, doc = d.api.request("POST", "/v1/messages", {"messages": [one] * 4})
    assert_error(code, doc, 400, "messages")
    assert "3" in doc["error"]["message"]
    code, doc = d.api.request("POST", "/v1/messages", {"messages": [one] * 3})
    assert code == 202 and len(doc["messages"]) == 3


def test_message_options_stored_and_shown(daemon_factory):
    d = daemon_factory([])
    code, doc = d.api.send("+447700900123", "Şifreniz 1234 ğüşıöç", reference="order-42", languages=["tr"],
                           delivery_report=True, allow_carrier=False, callback_url="https://crm.example/sms?x=1")
    assert code == 202, doc
    assert doc["encoding"] == "gsm7", "the Turkish shift table keeps it GSM-7"
    code, m = d.api.message(doc["id"])
    assert code == 200
    assert m["reference"] == "order-42" and m["languages"] == ["tr"]
    assert m["delivery_report"] is True and m["allow_carrier"] is False
    assert m["callback_url"] == "https://crm.example/sms?x=1"
    assert m["events"] == [] and m["attempts"] == 0
    # without the table the same text needs UCS-2
    code, doc = d.api.send("+447700900123", "Şifreniz 1234 ğüşıöç")
    assert code == 202 and doc["encoding"] == "ucs2"
    code, m = d.api.message(doc["id"])
    assert m["reference"] is None and m["languages"] == [] and m["delivery_report"] is False
    assert m["allow_carrier"] is True and m["callback_url"] is None


def test_option_errors(daemon_factory):
    d = daemon_factory([])
    cases = [
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 129}, "reference"),
        ({"reference": 5}, "reference"),
        ({"reference": "a\u0001b"}, "reference"),
        ({"languages": "tr"}, "languages"),
        ({"languages": ["xx"]}, "languages"),
        ({"languages": [1]}, "languages"),
        ({"delivery_report": "yes"}, "delivery_report"),
        ({"allow_carrier": 1}, "allow_carrier"),
        ({"callback_url": "ftp://x.example/"}, "callback_url"),
        ({"callback_url": "https://"}, "callback_url"),
        ({"callback_url": "https://x.example/a b"}, "callback_url"),
        ({"callback_url": "https://x.example/" + "a" * 500}, "callback_url"),
        ({"text": "bell \u0007 here"}, "text"),
        ({"text": "del \u007f here"}, "text"),
    ]
    for extra, field in cases:
        body = {"to": "+447700900123", "text": "hi"}
        body.update(extra)
        code, doc = d.api.request("POST", "/v1/messages", body)
        assert_error(code, doc, 400, field)
    # tab, CR and LF are text, not control garbage
    code, doc = d.api.send("+447700900123", "line one\r\nline\ttwo")
    assert code == 202
    assert count_messages(d) == 1


# ---- Idempotency-Key ----

def test_idempotent_replay_and_conflict(daemon_factory):
    d = daemon_factory([])
    body = {"to": "+447700900123", "text": "pay 10 EUR"}
    hdr = {"Idempotency-Key": "pay-0001"}
    code1, doc1 = d.api.request("POST", "/v1/messages", body, headers=hdr)
    assert code1 == 202
    code2, doc2 = d.api.request("POST", "/v1/messages", body, headers=hdr)
    assert (code2, doc2) == (code1, doc1), "the same answer again"
    assert count_messages(d) == 1, "stored once"
    code, doc = d.api.request("POST", "/v1/messages", {"to": "+447700900123", "text": "pay 99 EUR"}, headers=hdr)
    assert_error(code, doc, 409, "Idempotency-Key")
    # keys are per client: the TCP key "test" has its own namespace
    code, doc = d.api.request("POST", "/v1/messages", body, tcp=True, headers=dict(AUTH, **hdr))
    assert code == 202 and doc["id"] != doc1["id"]
    # batches replay whole, and survive a restart (the key is in the store)
    batch = {"messages": [{"to": "+447700900001", "text": "a"}, {"to": "+447700900002", "text": "b"}]}
    code3, doc3 = d.api.request("POST", "/v1/messages", batch, headers={"Idempotency-Key": "batch-1"})
    assert code3 == 202
    assert d.stop() == 0
    d.start()
    assert d.api.request("POST", "/v1/messages", batch, headers={"Idempotency-Key": "batch-1"}) == (code3, doc3)
    assert d.api.request("POST", "/v1/messages", body, headers=hdr) == (code1, doc1)
    assert count_messages(d) == 4
    # a bad key is refused
    for bad in ["x" * 129, "tab\there"]:
        code, doc = d.api.request("POST", "/v1/messages", body, headers={"Idempotency-Key": bad})
        assert_error(code, doc, 400, "Idempotency-Key")


# ---- GET /v1/messages ----

def test_list_paged_newest_first(daemon_factory):
    d = daemon_factory([])
    ids = []
    for i in range(7):
        code, doc = d.api.send("+44770090%04d" % (i % 2), "list %d" % i)
        ids.append(doc["id"])
    code, doc = d.api.request("GET", "/v1/messages")
    assert code == 200 and [m["id"] for m in doc["messages"]] == ids[::-1] and doc["next_cursor"] is None
    seen, cursor = [], None
    while True:
        path = "/v1/messages?limit=3" + ("&cursor=" + cursor if cursor else "")
        code, doc = d.api.request("GET", path)
        assert code == 200 and len(doc["messages"]) <= 3
        seen += [m["id"] for m in doc["messages"]]
        cursor = doc["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert seen == ids[::-1]
    code, doc = d.api.request("GET", "/v1/messages?to=%2B447700900001")
    assert [m["id"] for m in doc["messages"]] == [ids[5], ids[3], ids[1]]
    assert d.api.request("DELETE", "/v1/messages/%d" % ids[0])[0] == 200
    code, doc = d.api.request("GET", "/v1/messages?status=cancelled")
    assert [m["id"] for m in doc["messages"]] == [ids[0]]
    assert doc["messages"][0]["status"] == "cancelled"
    code, doc = d.api.request("GET", "/v1/messages?status=queued&since=2000-01-01T00:00:00Z")
    assert [m["id"] for m in doc["messages"]] == ids[:0:-1]
    code, doc = d.api.request("GET", "/v1/messages?since=%d" % (int(time.time() * 1000) + 3600000))
    assert code == 200 and doc["messages"] == []
    code, doc = d.api.request("GET", "/v1/messages?since=2000-01-01T00:00:00.500%2B01:00&limit=500")
    assert code == 200 and len(doc["messages"]) == 7
    for query, field in [("status=lost", "status"), ("since=yesterday", "since"), ("since=2026-13-01T00:00:00Z", "since"),
                         ("to=0770", "to"), ("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"),
                         ("cursor=abc", "cursor"), ("colour=red", "colour")]:
        code, doc = d.api.request("GET", "/v1/messages?" + query)
        assert_error(code, doc, 400, field)


# ---- DELETE /v1/messages/<id> ----

def test_cancel_queued_never_sent(daemon_factory):
    d = daemon_factory([])
    code, doc = d.api.send("+447700900123", "cancel me")
    mid = doc["id"]
    code, doc = d.api.request("DELETE", "/v1/messages/%d" % mid)
    assert code == 200 and doc["id"] == mid and doc["status"] == "cancelled"
    code, doc = d.api.request("DELETE", "/v1/messages/%d" % mid)
    assert_error(code, doc, 409)
    assert doc["error"]["status"] == "cancelled"
    code, doc = d.api.message(mid)
    assert doc["status"] == "cancelled" and [e["to"] for e in doc["events"]] == ["cancelled"]
    assert doc["events"][0]["from"] == "queued" and doc["events"][0]["at"]
    assert d.api.request("DELETE", "/v1/messages/999999")[0] == 404
    assert d.api.request("DELETE", "/v1/messages/x")[0] == 404
    # send scope is needed on TCP; read alone is not enough (the test key has both)
    code, doc = d.api.request("DELETE", "/v1/messages/%d" % mid, tcp=True)
    assert code == 401


def test_cancel_after_sent_is_409_and_it_is_sent_once(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=20, what="modem ready")
    code, doc = d.api.send("+447700900777", "too late to cancel")
    m = d.wait_status(doc["id"], {"sent"})
    assert [e["to"] for e in m["events"]] == ["sending", "sent"]
    assert m["events"][0]["route"] == "m0"
    code, doc = d.api.request("DELETE", "/v1/messages/%d" % m["id"])
    assert_error(code, doc, 409)
    assert doc["error"]["status"] == "sent"
    assert sum(1 for l in sim.sent() if l["text"] == "too late to cancel") == 1


# ---- modems, health, metrics ----

def test_modems_health_and_metrics(sim, daemon_factory):
    d = daemon_factory([sim.port(0), sim.port(1)])
    wait_for(lambda: d.api.request("GET", "/readyz")[0] == 200, timeout=20, what="ready")
    code, doc = d.api.request("GET", "/v1/modems")
    assert code == 200 and doc["total"] == 2 and [m["name"] for m in doc["modems"]] == ["m0", "m1"]
    assert all({"state", "ready", "rssi", "sent", "failed", "last_error"} <= set(m) for m in doc["modems"])
    # the per-message options reach the encoder: status report asked, Spanish table allowed
    code, doc = d.api.send("+447700900123", "métrica ç", delivery_report=True, languages=["es"])
    assert code == 202 and doc["encoding"] == "gsm7"
    d.wait_status(doc["id"], {"sent", "delivered"})
    assert [l["text"] for l in sim.sent()] == ["métrica ç"]
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    conn.request("GET", "/metrics", headers=AUTH)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/plain; version=0.0.4"
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    values = dict(l.rsplit(" ", 1) for l in lines)
    assert int(values['simroute_messages{state="sent"}']) + int(values['simroute_messages{state="delivered"}']) == 1
    assert values['simroute_queue_depth{lane="otp"}'] == "0"
    assert int(values['simroute_modem_sent_total{modem="m0"}']) + int(values['simroute_modem_sent_total{modem="m1"}']) == 1
    assert values['simroute_modem_ready{modem="m1"}'] == "1"
    assert 'simroute_modem_failed_total{modem="m0"}' in values
    assert 'simroute_modem_signal_rssi{modem="m0"}' in values
    assert int(values["simroute_uptime_seconds"]) >= 0
    for fam in ["simroute_messages", "simroute_queue_depth", "simroute_modem_sent_total", "simroute_uptime_seconds"]:
        assert "# TYPE %s " % fam in text
    # per route: failures by class, the send latency histogram (cumulative buckets), the webhook backlog
    assert "# TYPE simroute_route_send_latency_seconds histogram" in text
    sent_on = "m0" if values['simroute_modem_sent_total{modem="m0"}'] == "1" else "m1"
    assert values['simroute_route_send_latency_seconds_count{modem="%s"}' % sent_on] == "1"
    assert values['simroute_route_send_latency_seconds_bucket{modem="%s",le="+Inf"}' % sent_on] == "1"
    assert float(values['simroute_route_send_latency_seconds_sum{modem="%s"}' % sent_on]) > 0
    buckets = [int(v) for k, v in values.items() if k.startswith('simroute_route_send_latency_seconds_bucket{modem="m0"')]
    assert buckets == sorted(buckets)
    for cls in ("retry_same", "try_another", "cool_down", "permanent", "uncertain"):
        assert values['simroute_route_failed_total{modem="m0",class="%s"}' % cls] == "0"
    assert values['simroute_webhook_backlog{state="pending"}'] == "0"
    assert values["simroute_webhook_oldest_pending_seconds"] == "0"
    # /metrics and /readyz need the read scope on TCP; /healthz is open
    assert d.api.request("GET", "/metrics", tcp=True)[0] == 401
    assert d.api.request("GET", "/readyz", tcp=True)[0] == 401
    assert d.api.request("GET", "/healthz", tcp=True) == (200, {"status": "ok"})


def test_indic_language_tables_end_to_end(sim, daemon_factory):
    # TS 23.038 A.3.6/A.2.6: Hindi text plus a Devanagari digit stays GSM-7 with the Hindi tables and
    # reaches the modem (gsmsim decodes the PDU with the shift IEs) as the same text
    d = daemon_factory([sim.port(0)])
    wait_for(lambda: d.api.request("GET", "/readyz")[0] == 200, timeout=20, what="ready")
    text = "\u0928\u092e\u0938\u094d\u0924\u0947 \u0967"
    code, doc = d.api.send("+919812345678", text, languages=["hi", "ta"])
    assert code == 202 and doc["encoding"] == "gsm7" and doc["parts"] == 1, doc
    d.wait_status(doc["id"], {"sent", "delivered"})
    assert [l["text"] for l in sim.sent()] == [text]
    code, m = d.api.message(doc["id"])
    assert m["languages"] == ["hi", "ta"]
    # 150 Devanagari letters: one part with the Hindi locking table, three in UCS-2
    long_text = "\u0915" * 150
    code, doc = d.api.send("+919812345678", long_text, languages=["hi"])
    assert code == 202 and doc["encoding"] == "gsm7" and doc["parts"] == 1, doc
    code, doc = d.api.send("+919812345678", long_text)
    assert code == 202 and doc["encoding"] == "ucs2" and doc["parts"] == 3, doc
    # a Tamil letter among Hindi ones: no enabled table holds both, UCS-2
    code, doc = d.api.send("+919812345678", long_text[:10] + "\u0b95", languages=["hi", "ta"])
    assert code == 202 and doc["encoding"] == "ucs2", doc


def test_readyz_503_without_modems(daemon_factory):
    d = daemon_factory([])
    code, doc = d.api.request("GET", "/readyz")
    assert code == 503 and doc["status"] == "not_ready" and any("modems" in r for r in doc["reasons"])
    assert d.api.request("GET", "/healthz") == (200, {"status": "ok"})
    code, doc = d.api.request("GET", "/v1/modems")
    assert code == 200 and doc["modems"] == [] and doc["total"] == 0


# ---- limits and errors ----

def test_rate_limit_per_key(daemon_factory):
    d = daemon_factory([], extra_ini="[api]\nrate_limit = 2\nrate_burst = 5\n")
    codes = [d.api.request("GET", "/v1/status", tcp=True, headers=AUTH) for _ in range(8)]
    assert [c for c, _ in codes[:5]] == [200] * 5
    code, doc = codes[-1]
    assert_error(code, doc, 429)
    assert doc["error"]["code"] == "rate_limited"
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    conn.request("GET", "/v1/status", headers=AUTH)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 429 and int(resp.getheader("Retry-After")) >= 1
    # the socket is not limited, and the bucket refills
    assert all(d.api.request("GET", "/v1/status")[0] == 200 for _ in range(10))
    time.sleep(1.1)
    assert d.api.request("GET", "/v1/status", tcp=True, headers=AUTH)[0] == 200


def test_every_error_is_json(daemon_factory):
    d = daemon_factory([])
    for method, path, body in [("GET", "/v1/nothing", None), ("DELETE", "/v1/status", None),
                               ("POST", "/v1/messages", b"{"), ("GET", "/v1/messages/0", None),
                               ("PUT", "/v1/messages", b"{}"), ("POST", "/v1/messages/5", b"{}")]:
        code, doc = d.api.request(method, path, raw=body)
        assert 400 <= code < 600, (method, path)
        assert doc and set(doc) == {"error"} and doc["error"]["code"], (method, path, code, doc)
    assert d.api.request("PUT", "/v1/messages", raw=b"{}")[0] == 405
    code, doc = d.api.request("GET", "/v1/status", tcp=True, headers={"Authorization": "Bearer nope"})
    assert_error(code, doc, 401)


def test_same_key_at_once_is_stored_once(daemon_factory):
    """Two requests with one key in the same loop turn: the second must not be stored as well."""
    import socket as so
    d = daemon_factory([])
    body = json.dumps({"to": "+447700900123", "text": "once"}).encode()
    req = (b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Idempotency-Key: race-1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    for _ in range(5):
        socks = [so.socket(so.AF_UNIX) for _ in range(2)]
        for s in socks:
            s.settimeout(10)
            s.connect(d.sock)
        for s in socks:
            s.sendall(req)
        statuses = []
        for s in socks:
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            statuses.append(int(data.split(b" ")[1]))
        assert statuses.count(202) >= 1 and set(statuses) <= {202, 409}, statuses
    assert count_messages(d) == 1


def test_router_national_languages_default_and_per_message_override(sim, daemon_factory):
    # [router] national_languages applies to messages (and Kannel sends) naming none; a message's
    # own list, even empty, replaces it
    d = daemon_factory([sim.port(0)], "[router]\nnational_languages = hi\n")
    long_text = "\u0915" * 150
    code, doc = d.api.send("+919812345678", long_text)
    assert code == 202 and doc["encoding"] == "gsm7" and doc["parts"] == 1, doc
    code, m = d.api.message(doc["id"])
    assert m["languages"] == ["hi"]
    code, doc = d.api.send("+919812345678", long_text, languages=[])
    assert code == 202 and doc["encoding"] == "ucs2" and doc["parts"] == 3, doc
    code, doc = d.api.send("+919812345678", long_text, languages=["ta"])
    assert code == 202 and doc["encoding"] == "ucs2", doc


def test_to_suffix_pages_through_bounded_windows(daemon_factory):
    # A suffix search cannot use an index: each page looks at most 100,000 messages below its cursor
    # and then hands on a cursor, so no request scans a whole big store on the loop.
    d = daemon_factory([], "[api]\nmax_batch = 1000\nrate_limit = 0\n")
    code, doc = d.api.send("+447700904242", "the needle")
    assert code == 202, doc
    needle = doc["id"]
    for b in range(101):
        batch = [{"to": "+4477009%05d" % (i % 4000), "text": "hay", "priority": "bulk"} for i in range(1000)]
        code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
        assert code == 202, doc
    code, page = d.api.request("GET", "/v1/messages?to_suffix=4242&limit=10")
    assert code == 200 and page["messages"] == [] and page["next_cursor"], page   # the newest window: none
    code, page = d.api.request("GET", "/v1/messages?to_suffix=4242&limit=10&cursor=" + page["next_cursor"])
    assert code == 200 and [m["id"] for m in page["messages"]] == [needle], page
    assert page["next_cursor"] is None
