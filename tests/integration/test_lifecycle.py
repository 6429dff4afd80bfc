"""Appliance lifecycle: sd_notify and the watchdog, privilege drop, SIGTERM drain and double SIGTERM,
SIGHUP reload, journald log format, the installed systemd unit and man pages."""
import grp
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, TEST_KEY, Daemon, Gsmsim, Proc, SIMROUTED, wait_for


# A group every Debian system has, standing in for the operators' group of [api] socket_group.
OPERATORS = "nogroup"


class EnvDaemon(Daemon):
    """A Daemon started with extra environment variables."""

    def __init__(self, tmp, env, ports=(), extra_ini=""):
        self.env = dict(os.environ)
        self.env.update(env)
        super().__init__(tmp, ports, extra_ini)

    def start(self):
        self.proc = Proc([SIMROUTED, "-c", self.ini], os.path.join(self.tmp, "simrouted.log"), env=self.env)
        wait_for(lambda: self.connectable() or not self.proc.alive(), what="simrouted socket")
        assert self.proc.alive(), self.proc.output()


def tcp_get(d, key, path="/v1/status"):
    return d.api.request("GET", path, tcp=True, headers={"Authorization": "Bearer " + key})[0]


def test_sd_notify_ready_status_watchdog_stopping(tmp_path):
    path = str(tmp_path / "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(0.2)
    msgs = []

    def drain():
        while True:
            try:
                msgs.append(ns.recv(4096).decode())
            except socket.timeout:
                return

    def seen(prefix):
        drain()
        return any(line.startswith(prefix) for m in msgs for line in m.split("\n"))

    # WATCHDOG_PID unset: sd_watchdog_enabled accepts any pid then.
    d = EnvDaemon(str(tmp_path), {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    try:
        wait_for(lambda: seen("READY=1"), timeout=10, what="READY=1")
        ready = next(m for m in msgs if "READY=1" in m)
        assert "STATUS=queue 0" in ready and "modem(s) ready" in ready, ready
        n = len([m for m in msgs if m == "WATCHDOG=1"])
        # Pings every second (half of 2 s): a few more within generous bounds.
        wait_for(lambda: seen("WATCHDOG=1") and len([m for m in msgs if m == "WATCHDOG=1"]) >= n + 2,
                 timeout=15, what="WATCHDOG=1 pings")
        d.api.send("+447700900123", "status test")
        wait_for(lambda: drain() or any(m.startswith("STATUS=queue 1") for m in msgs), timeout=20,
                 what="STATUS= refreshed with the queue depth")
        assert d.stop() == 0
        assert seen("STOPPING=1"), msgs
    finally:
        if d.proc.alive():
            d.stop()
        ns.close()


def test_without_notify_socket_nothing_is_sent(daemon_factory):
    d = daemon_factory()
    code, _ = d.api.send("+447700900123", "plain")
    assert code == 202
    assert d.stop() == 0
    assert "sd_notify" not in d.proc.output() and "watchdog" not in d.proc.output()


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root (tests run as root here and in CI)")
def test_privilege_drop_to_nobody_keeps_store_writable():
    tmp = tempfile.mkdtemp(prefix="simroute-privdrop-")
    os.chmod(tmp, 0o755)   # nobody must reach its state dir (pytest's tmp_path is 0700)
    d = Daemon(tmp, extra_ini="")
    d.stop()
    with open(d.ini) as f:
        ini = f.read().replace("[daemon]\n", "[daemon]\nuser = nobody\n", 1)
        ini = ini.replace("[api]\n", "[api]\nsocket_group = %s\n" % OPERATORS, 1)
    with open(d.ini, "w") as f:
        f.write(ini)
    try:
        d.start()
        with open("/proc/%d/status" % d.proc.pid) as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        uids = status["Uid"].split()
        gids = status["Gid"].split()
        assert "0" not in uids and "0" not in gids, (uids, gids)
        assert "running as uid %s (nobody)" % uids[0] in d.proc.output()
        # the socket belongs to the daemon's user and to the operators' group ([api] socket_group)
        st = os.stat(d.sock)
        assert st.st_uid == int(uids[0]) and st.st_gid == grp.getgrnam(OPERATORS).gr_gid
        assert oct(st.st_mode & 0o777) == "0o660"
        ids = []
        for i in range(3):
            code, doc = d.api.send("+44770090%04d" % i, "after the drop %d" % i)
            assert code == 202, doc
            ids.append(doc["id"])
        for mid in ids:
            code, doc = d.api.message(mid)
            assert code == 200 and doc["status"] == "queued"
        assert d.stop() == 0
        # Restarted (as root, dropping again): the store the unprivileged daemon wrote is all there.
        d.start()
        for mid in ids:
            assert d.api.message(mid)[0] == 200
    finally:
        if d.proc and d.proc.alive():
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_socket_group_unknown_refuses_to_start(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[daemon]\nstate_dir = %s/state\n[api]\nlisten =\nsocket = %s/api.sock\n"
                   "socket_group = no-such-group-simroute\n" % (tmp_path, tmp_path))
    out = subprocess.run([SIMROUTED, "-c", str(ini)], capture_output=True, text=True, timeout=20)
    assert out.returncode == 1
    assert "socket_group" in out.stderr and "no-such-group-simroute" in out.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_unknown_user_refuses_to_start(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[daemon]\nstate_dir = %s/state\nuser = no-such-user-simroute\n[api]\nlisten =\n"
                   "socket = %s/api.sock\n" % (tmp_path, tmp_path))
    out = subprocess.run([SIMROUTED, "-c", str(ini)], capture_output=True, text=True, timeout=20)
    assert out.returncode == 1
    assert 'no such user "no-such-user-simroute"' in out.stderr


def test_sigterm_waits_for_sends_in_flight(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=3.0)
    try:
        d = daemon_factory([sim.port(i) for i in range(2)])
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="2 modems ready")
        ids = [d.api.send("+4477009%05d" % i, "drain %d" % i)[1]["id"] for i in range(2)]
        wait_for(lambda: all(d.api.message(m)[1]["status"] == "sending" for m in ids), timeout=10,
                 what="both messages sending")
        assert d.stop() == 0
        out = d.proc.output()
        assert "SIGTERM: stopping (2 send(s) in flight)" in out
        assert "still in flight" not in out
        texts = [m["text"] for m in sim.sent()]
        assert sorted(texts) == ["drain 0", "drain 1"]
        d.start()
        for mid in ids:
            assert d.api.message(mid)[1]["status"] == "sent"
    finally:
        sim.stop()


def test_second_sigterm_exits_at_once_and_loses_nothing(tmp_path, daemon_factory):
    sim = Gsmsim(str(tmp_path), modems=2, latency=3.0)
    try:
        d = daemon_factory([sim.port(i) for i in range(2)])
        wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="2 modems ready")
        ids = []
        for i in range(6):
            code, doc = d.api.send("+4477009%05d" % (100 + i), "double %d" % i)
            assert code == 202
            ids.append(doc["id"])
        wait_for(lambda: any(d.api.message(m)[1]["status"] == "sending" for m in ids), timeout=10,
                 what="a send in flight")
        os.kill(d.proc.pid, signal.SIGTERM)
        wait_for(lambda: "SIGTERM: stopping" in d.proc.output(), timeout=5, what="first SIGTERM handled")
        t0 = time.monotonic()
        os.kill(d.proc.pid, signal.SIGTERM)
        rc = d.proc.p.wait(timeout=10)
        assert rc == 0
        assert time.monotonic() - t0 < 10   # generous: the send in flight alone takes 3 s per part
        assert "second signal: stopping now" in d.proc.output()
        d.proc.log.close()
        d.start()
        for mid in ids:
            doc = d.wait_status(mid, {"sent", "uncertain"}, timeout=40)
            assert doc["id"] == mid
    finally:
        sim.stop()


def test_sighup_adds_an_api_key_and_a_broken_file_changes_nothing(daemon_factory):
    d = daemon_factory()
    new_key = "second-key"
    assert tcp_get(d, TEST_KEY) == 200
    assert tcp_get(d, new_key) == 401
    with open(d.ini) as f:
        good = f.read()
    with open(d.ini, "w") as f:
        f.write(good + "[api_key:second]\nhash = sha256:%s\nscopes = read\n"
                % hashlib.sha256(new_key.encode()).hexdigest())
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_for(lambda: tcp_get(d, new_key) == 200, timeout=10, what="the new key to work")
    assert "reload: [api_key:second] added" in d.proc.output()
    assert tcp_get(d, TEST_KEY) == 200

    # A broken file: the error names file:line, the daemon keeps running with what it had.
    with open(d.ini) as f:
        text = f.read()
    lines = text.count("\n")
    with open(d.ini, "w") as f:
        f.write(text + "[api]\nno_such_key = 1\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_for(lambda: "keeping the running configuration" in d.proc.output(), timeout=10, what="reload error")
    assert "%s:%d: unknown key" % (d.ini, lines + 2) in d.proc.output()
    assert d.proc.alive()
    assert tcp_get(d, new_key) == 200 and tcp_get(d, TEST_KEY) == 200
    # A restart-only key is reported, not applied.
    with open(d.ini, "w") as f:
        f.write(text.replace("command_timeout_ms = 3000", "command_timeout_ms = 4000"))
    os.kill(d.proc.pid, signal.SIGHUP)
    wait_for(lambda: "command_timeout_ms: 3000 -> 4000 needs a restart" in d.proc.output(), timeout=10,
             what="restart-only change logged")
    assert d.stop() == 0


def test_journal_stream_gets_priority_prefixes_and_no_clock(tmp_path):
    log = tmp_path / "simrouted.log"
    log.write_bytes(b"")
    st = os.stat(str(log))
    d = EnvDaemon(str(tmp_path), {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
    d.api.send("+447700900123", "journal")
    assert d.stop() == 0
    lines = [l for l in d.proc.output().splitlines() if l]
    assert any(l.startswith("<6>simrouted ready") for l in lines), lines[:5]
    assert any(l.startswith("<7>") for l in lines)   # log_level = debug in the test config
    assert all(l[0] == "<" and l[2] == ">" for l in lines), [l for l in lines if not l.startswith("<")][:3]
    # A JOURNAL_STREAM that is not our stderr (output redirected): the usual clock format.
    other = tmp_path / "other"
    other.mkdir()
    d2 = EnvDaemon(str(other), {"JOURNAL_STREAM": "1:1"})
    assert d2.stop() == 0
    assert not d2.proc.output().startswith("<")


def test_installed_unit_verifies_and_man_pages_install(tmp_path):
    dest = str(tmp_path / "dest")
    out = subprocess.run(["make", "-s", "--no-print-directory", "install", "DESTDIR=" + dest],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    man = os.path.join(dest, "usr/local/share/man")
    assert os.path.exists(os.path.join(man, "man8/simrouted.8"))
    assert os.path.exists(os.path.join(man, "man5/simroute.ini.5"))
    assert os.path.exists(os.path.join(man, "man1/simroute.1"))
    assert os.path.exists(os.path.join(dest, "usr/local/share/bash-completion/completions/simroute"))
    if shutil.which("man"):
        for page in ("man8/simrouted.8", "man5/simroute.ini.5", "man1/simroute.1"):
            r = subprocess.run(["man", "--warnings", "-l", os.path.join(man, page)], capture_output=True,
                               text=True, timeout=60, env=dict(os.environ, MANWIDTH="80"))
            assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    with open(os.path.join(dest, "lib/systemd/system/simrouted.service")) as f:
        unit = f.read()
    assert "Type=notify" in unit and "WatchdogSec=30" in unit and "NotifyAccess=main" in unit
    udir = tmp_path / "unit"
    udir.mkdir()
    # Point ExecStart at the DESTDIR binary and man at the DESTDIR pages, so nothing is reported missing.
    (udir / "simrouted.service").write_text(unit.replace("/usr/local/", dest + "/usr/local/"))
    r = subprocess.run(["systemd-analyze", "verify", str(udir / "simrouted.service")], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, MANPATH=man))
    assert r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(), r.stdout + r.stderr
