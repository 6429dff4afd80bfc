"""Fixtures: real gsmsim and simrouted processes in a temp dir, on free ports, stopped by PID."""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SIMROUTE_BUILD", os.path.join(ROOT, "build"))
GSMSIM = os.path.join(BUILD, "gsmsim")
SIMROUTED = os.path.join(BUILD, "simrouted")
SIMROUTE = os.path.join(BUILD, "simroute")
# API key used by the tests on the TCP listener ("test"), stored as its SHA-256 only.
TEST_KEY = "test"
TEST_KEY_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Api:
    """A tiny client for the daemon's API, over the Unix socket or TCP."""

    def __init__(self, sock_path, port):
        self.sock_path = sock_path
        self.port = port

    def request(self, method, path, body=None, raw=None, tcp=False, headers=None):
        conn = (http.client.HTTPConnection("127.0.0.1", self.port, timeout=10) if tcp
                else UnixHTTPConnection(self.sock_path))
        hdrs = dict(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        return resp.status, doc

    def send(self, to, text, **extra):
        body = {"to": to, "text": text}
        body.update(extra)
        return self.request("POST", "/v1/messages", body)

    def message(self, mid):
        return self.request("GET", "/v1/messages/%d" % mid)

    def status(self):
        return self.request("GET", "/v1/status")[1]


class Proc:
    def __init__(self, args, log_path, env=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            os.kill(self.p.pid, sig)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class Gsmsim:
    def __init__(self, tmp, modems=4, latency=0.05, extra=()):
        self.dir = os.path.join(tmp, "sim")
        os.makedirs(self.dir, exist_ok=True)
        self.modems = modems
        self.proc = Proc([GSMSIM, "--modems", str(modems), "--dir", self.dir, "--latency", str(latency),
                          *extra], os.path.join(tmp, "gsmsim.log"))
        wait_for(lambda: all(os.path.exists(os.path.join(self.dir, "modem%d" % i)) for i in range(modems))
                 or not self.proc.alive(), what="gsmsim ports")
        assert self.proc.alive(), self.proc.output()

    def port(self, i):
        return os.path.join(self.dir, "modem%d" % i)

    def sent(self):
        path = os.path.join(self.dir, "sent.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        return self.proc.stop()


class Daemon:
    def __init__(self, tmp, ports=(), extra_ini=""):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "api.sock")
        self.port = free_port()
        self.ini = os.path.join(tmp, "simroute.ini")
        modems = "".join("[modem:m%d]\nport = %s\n" % (i, p) for i, p in enumerate(ports))
        with open(self.ini, "w") as f:
            f.write("[daemon]\nstate_dir = %s/state\nlog_level = debug\n"
                    "[api]\nlisten = 127.0.0.1:%d\nsocket = %s\n"
                    "[modems]\ncommand_timeout_ms = 3000\nsend_timeout_ms = 10000\n"
                    "%s%s[api_key:test]\nhash = sha256:%s\nscopes = send,read\n"
                    % (tmp, self.port, self.sock, extra_ini, modems, TEST_KEY_HASH))
        self.api = Api(self.sock, self.port)
        self.proc = None
        self.start()

    def start(self):
        self.proc = Proc([SIMROUTED, "-c", self.ini], os.path.join(self.tmp, "simrouted.log"))
        wait_for(lambda: self.connectable() or not self.proc.alive(), what="simrouted socket")
        assert self.proc.alive(), self.proc.output()

    def connectable(self):
        # A SIGKILLed daemon leaves its socket file behind: wait for one that answers.
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False

    def stop(self, sig=signal.SIGTERM):
        return self.proc.stop(sig)

    def wait_status(self, mid, statuses, timeout=20):
        def check():
            code, doc = self.api.message(mid)
            return doc if code == 200 and doc["status"] in statuses else None
        return wait_for(check, timeout=timeout, what="message %d to reach %s" % (mid, statuses))


@pytest.fixture
def sim(tmp_path):
    g = Gsmsim(str(tmp_path))
    yield g
    g.stop()


@pytest.fixture
def daemon_factory(tmp_path):
    started = []

    def make(ports=(), extra_ini=""):
        d = Daemon(str(tmp_path), ports, extra_ini)
        started.append(d)
        return d
    yield make
    for d in started:
        d.stop()


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server (tests/pg_server.sh) for the postgresql store backend; its dsn.
    Its directory is directly in /tmp: run as root, the server's user (postgres) cannot enter pytest's."""
    script = os.path.join(ROOT, "tests", "pg_server.sh")
    d = tempfile.mkdtemp(prefix="simroute_pg.")
    r = subprocess.run([script, "start", d], capture_output=True, text=True)
    if r.returncode == 77:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql): " + r.stderr.strip())
    assert r.returncode == 0, r.stderr
    yield r.stdout.strip()
    subprocess.run([script, "stop", d], check=False)


@pytest.fixture
def pg_dsn(pg_server, request):
    """A fresh, empty database on the test server for one test: the dsn that names it."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    for sql in ("DROP DATABASE IF EXISTS %s" % name, "CREATE DATABASE %s" % name):
        subprocess.run(["psql", "-q", pg_server, "-c", sql], check=True, capture_output=True)
    return pg_server.replace("dbname=simroute", "dbname=" + name)
