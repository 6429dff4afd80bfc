"""[api] max_connections and [api] timeout: a greedy or slow client cannot hold the API."""
import http.client
import json
import re
import socket
import time

from conftest import TEST_KEY, UnixHTTPConnection, wait_for

AUTH = {"Authorization": "Bearer " + TEST_KEY}


def open_conns(d):
    """The daemon's own count of open connections per listener, from /metrics over the socket."""
    conn = UnixHTTPConnection(d.sock)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    found = dict(re.findall(r'simroute_api_connections\{listener="(\w+)"\} (\d+)', text))
    refused = dict(re.findall(r'simroute_api_connections_refused_total\{listener="(\w+)"\} (\d+)', text))
    return int(found["tcp"]), int(refused["tcp"])


def tcp_get(d, path="/v1/status"):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    conn.request("GET", path, headers=AUTH)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def read_all(s, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_connection_limit_refuses_then_recovers(daemon_factory):
    d = daemon_factory([], extra_ini="[api]\nmax_connections = 4\n")
    idle = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(4)]
    wait_for(lambda: open_conns(d)[0] == 4, timeout=5, what="4 open connections")

    # over the limit: an immediate 503 in JSON, then the connection is closed
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", d.port))
        t0 = time.monotonic()
        answer = read_all(s)
        s.close()
        assert time.monotonic() - t0 < 2, "refused promptly"
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), answer
        assert json.loads(body)["error"]["code"] == "too_many_connections"
    # a client that sends its request at once is refused the same way
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test\r\n\r\n")
    assert read_all(s).startswith(b"HTTP/1.1 503")
    s.close()
    assert open_conns(d) == (4, 4)
    # the Unix socket is another listener with its own count: the CLI still gets in
    assert d.api.request("GET", "/v1/status")[0] == 200

    # slots free up as idle clients leave; new requests are served again
    for s in idle[:2]:
        s.close()
    wait_for(lambda: open_conns(d)[0] == 2, timeout=5, what="2 open connections")
    assert tcp_get(d)[0] == 200
    for s in idle[2:]:
        s.close()
    # many short connections: the count comes back to zero (every close is seen)
    for _ in range(30):
        assert tcp_get(d)[0] == 200
    wait_for(lambda: open_conns(d)[0] == 0, timeout=5, what="no open connections")
    # one log line for the burst of refusals, not one per connection
    assert len(re.findall(r"max_connections\): refused", d.proc.output())) == 1, d.proc.output()


def test_stalled_client_is_dropped_while_others_are_served(daemon_factory):
    d = daemon_factory([], extra_ini="[api]\ntimeout = 1\n")
    half_header = socket.create_connection(("127.0.0.1", d.port))
    half_header.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthor")
    half_body = socket.create_connection(("127.0.0.1", d.port))
    half_body.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"to\": ")
    unix_stall = socket.socket(socket.AF_UNIX)
    unix_stall.connect(d.sock)
    unix_stall.sendall(b"GET /v1/status HTTP/1.1\r\n")
    t0 = time.monotonic()
    # meanwhile the daemon answers everyone else at once
    for _ in range(5):
        t = time.monotonic()
        assert tcp_get(d)[0] == 200
        assert d.api.request("GET", "/v1/status")[0] == 200
        assert time.monotonic() - t < 0.5
    for s in (half_header, half_body, unix_stall):
        assert read_all(s, timeout=10) == b"", "dropped without an answer"
        s.close()
    elapsed = time.monotonic() - t0
    assert 0.5 <= elapsed < 5, elapsed

    # an idle keep-alive connection is closed after the timeout as well
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    conn.request("GET", "/v1/status", headers=AUTH)
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200 and resp.getheader("Connection", "").lower() != "close"
    t0 = time.monotonic()
    assert read_all(conn.sock, timeout=10) == b""
    assert 0.5 <= time.monotonic() - t0 < 5
    conn.close()
    wait_for(lambda: open_conns(d)[0] == 0, timeout=5, what="no open connections")


def test_unix_socket_has_its_own_limit(daemon_factory):
    d = daemon_factory([], extra_ini="[api]\nmax_connections = 2\n")
    idle = []
    for _ in range(2):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        idle.append(s)
    # the third connection on the socket is refused; TCP is another listener and still serves
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.sock)
    answer = read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 503") and b"too_many_connections" in answer, answer
    assert tcp_get(d)[0] == 200
    idle[0].close()

    def served():
        try:
            return d.api.request("GET", "/v1/status")[0] == 200
        except (ConnectionError, http.client.HTTPException):
            return False
    wait_for(served, timeout=20, what="the socket to serve again")
    idle[1].close()
