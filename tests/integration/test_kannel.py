"""Kannel's /cgi-bin/sendsms: an integration written for Kannel works unchanged."""
import http.client
import urllib.parse

from conftest import TEST_KEY, UnixHTTPConnection, wait_for


def sendsms(d, params, method="GET", tcp=True):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10) if tcp else UnixHTTPConnection(d.sock)
    q = urllib.parse.urlencode(params)
    if method == "GET":
        conn.request("GET", "/cgi-bin/sendsms?" + q)
    else:
        conn.request("POST", "/cgi-bin/sendsms", body=q,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body


def test_kannel_sendsms(sim, daemon_factory):
    d = daemon_factory([sim.port(0)])
    auth = {"username": "test", "password": TEST_KEY}
    code, body = sendsms(d, dict(auth, to="+447700900111", text="Hello from Kannel"))
    assert (code, body) == (202, "0: Accepted for delivery")
    code, body = sendsms(d, dict(auth, to="00447700900112 +447700900113", text="Two at once €"), method="POST")
    assert (code, body) == (202, "0: Accepted for delivery")
    wait_for(lambda: len(sim.sent()) == 3, timeout=20, what="3 sent")
    got = sorted((l["to"], l["text"]) for l in sim.sent())
    assert got == [("+447700900111", "Hello from Kannel"), ("+447700900112", "Two at once €"),
                   ("+447700900113", "Two at once €")]
    # Kannel's own error answers
    assert sendsms(d, dict(auth, password="wrong", to="+447700900111", text="x")) == \
        (403, "Authorization failed for sendsms")
    assert sendsms(d, {"to": "+447700900111", "text": "x"}) == (403, "Authorization failed for sendsms")
    assert sendsms(d, dict(auth, text="x")) == (400, "Missing receiver number")
    assert sendsms(d, dict(auth, to="+447700900111")) == (400, "Missing text")
    assert sendsms(d, dict(auth, to="+44abc", text="x")) == (400, "Invalid receiver number")
    assert sendsms(d, dict(auth, to="+447700900111", text="x", charset="ISO-8859-1"))[0] == 400
    assert sendsms(d, dict(auth, to="+447700900111", text="bell\x07"))[0] == 400
    # the Unix socket needs no credentials
    assert sendsms(d, {"to": "+447700900114", "text": "local"}, tcp=False) == (202, "0: Accepted for delivery")
    wait_for(lambda: len(sim.sent()) == 4, timeout=20, what="4 sent")


def test_kannel_with_a_store_key(daemon_factory):
    """A key made with POST /v1/keys logs in as username = its name, password = the key, until revoked."""
    d = daemon_factory([])
    code, k = d.api.request("POST", "/v1/keys", {"name": "legacy", "scopes": ["send"]})
    assert code == 201, k
    _, ro = d.api.request("POST", "/v1/keys", {"name": "viewer", "scopes": ["read"]})
    msg = {"to": "+447700900111", "text": "via kannel"}
    assert sendsms(d, dict(msg, username="legacy", password=k["key"])) == (202, "0: Accepted for delivery")
    # the name must match the key, and the key needs the send scope
    assert sendsms(d, dict(msg, username="test", password=k["key"]))[0] == 403
    assert sendsms(d, dict(msg, username="viewer", password=ro["key"]))[0] == 403
    assert d.api.request("DELETE", "/v1/keys/" + k["id"])[0] == 200
    assert sendsms(d, dict(msg, username="legacy", password=k["key"]))[0] == 403


def test_kannel_never_cuts_the_receiver_list_and_keeps_the_rate_limit(daemon_factory):
    d = daemon_factory([], "[api]\nrate_limit = 1\nrate_burst = 2\n")
    # a list too long to hold is refused whole: cut, its last number could be someone else's
    to = "+447700900123" + " " * 3172 + "+447700900999888"
    status, body = sendsms(d, {"username": "test", "password": TEST_KEY, "to": to, "text": "hi"}, method="POST")
    assert status == 400 and body.startswith("Too many receivers"), body
    code, doc = d.api.request("GET", "/v1/messages")
    assert doc["messages"] == []
    # the key's token bucket holds here as on /v1/messages: burst 2 (the refused list took one), then
    # "not now" with Retry-After
    answers = [sendsms(d, {"username": "test", "password": TEST_KEY, "to": "+447700900123", "text": "hi"})
               for _ in range(3)]
    assert [a[0] for a in answers] == [202, 503, 503], answers
    assert answers[1][1].startswith("Temporal failure, try again later.")
