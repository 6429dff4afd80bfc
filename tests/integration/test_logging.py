"""[daemon] log = stderr | syslog | file:/path (tracker issue 10): a file is appended to and reopened on
SIGHUP (logrotate), and above debug no full phone number and no message text reaches the log."""
import json
import os
import signal
import subprocess

from carrier_server import Carrier
from conftest import GSMSIM, SIMROUTED, Daemon, Gsmsim, wait_for


def ctl(sim, *args):
    r = subprocess.run([GSMSIM, "ctl", sim.dir, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def test_log_file_appended_and_reopened_on_sighup(tmp_path):
    log = str(tmp_path / "simrouted-file.log")
    with open(log, "w") as f:
        f.write("an earlier line\n")
    d = Daemon(str(tmp_path), extra_ini="[daemon]\nlog = file:%s\nlog_level = info\n" % log)
    try:
        wait_for(lambda: "simrouted ready" in read(log), what="the ready line in the file")
        text = read(log)
        assert text.startswith("an earlier line\n"), "append, never truncate"
        assert "simrouted ready" not in d.proc.output(), "nothing on stderr"
        line = [l for l in text.splitlines() if "simrouted ready" in l][0]
        assert line[4] == "-" and line[10] == "T" and "simrouted[info]" in line, line   # dated
        # logrotate: move the file, SIGHUP; the daemon writes to a new file at the same path
        os.rename(log, log + ".1")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: os.path.exists(log) and "reloaded" in read(log), what="the new file")
        assert "SIGHUP: reloading" in read(log)
        assert "reloaded" not in read(log + ".1")
        assert oct(os.stat(log).st_mode & 0o777) == "0o640"
    finally:
        d.stop()
    assert "simrouted stopped" in read(log)


def check(tmp_path, log):
    ini = tmp_path / "t.ini"
    ini.write_text("[daemon]\nstate_dir = %s/state\nlog = %s\n[api]\nlisten =\nsocket = %s/s.sock\n"
                   % (tmp_path, log, tmp_path))
    return subprocess.run([SIMROUTED, "-t", "-c", str(ini)], capture_output=True, text=True, timeout=30), ini


def test_log_setting_errors(tmp_path):
    for bad in ("journald", "file:relative.log", "file:"):
        r, _ = check(tmp_path, bad)
        assert r.returncode == 2 and "[daemon] log: expected stderr, syslog or file:/absolute/path" in r.stderr, r.stderr
    r, _ = check(tmp_path, "syslog")
    assert r.returncode == 0, r.stderr
    # a file that cannot be opened stops the start with a clear message
    r, ini = check(tmp_path, "file:/nonexistent-dir/simrouted.log")
    assert r.returncode == 0, r.stderr   # -t checks the syntax only
    p = subprocess.run([SIMROUTED, "-c", str(ini)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "log file /nonexistent-dir/simrouted.log" in p.stderr, p.stderr


def test_syslog_target_leaves_stderr_quiet(tmp_path):
    d = Daemon(str(tmp_path), extra_ini="[daemon]\nlog = syslog\n")
    try:
        assert d.api.status()["version"]
        assert "simrouted ready" not in d.proc.output()
    finally:
        d.stop()


def test_no_full_number_or_text_above_debug(tmp_path):
    """Numbers are masked and texts never logged at info, including where the daemon quotes outside
    words: a carrier's error answer that names the number, an inbound SMS."""
    log = str(tmp_path / "info.log")
    carrier = Carrier("400echo")
    sim = Gsmsim(str(tmp_path), modems=1)
    d = Daemon(str(tmp_path), [sim.port(0)],
               "[daemon]\nlog = file:%s\nlog_level = info\n[otp]\nmodem_deadline = 1\n%s" % (log, carrier.ini()))
    try:
        wait_for(lambda: d.api.status()["routes"]["ready"] >= 1, timeout=30, what="modem ready")
        code, doc = d.api.send("+447700900123", "SECRETBODY one")
        assert code == 202
        d.wait_status(doc["id"], {"sent", "delivered"}, timeout=30)
        # the carrier refuses, quoting the number
        assert d.api.request("POST", "/v1/modems/m0/disable")[0] == 200
        code, doc = d.api.send("+447700900456", "SECRETBODY two", priority="otp")
        assert code == 202
        failed = d.wait_status(doc["id"], {"failed"}, timeout=30)
        assert "+447700900456" in failed["error"], "the API keeps the carrier's words"
        assert d.api.request("POST", "/v1/modems/m0/enable")[0] == 200
        ctl(sim, "sms", "0", "+46701234567", "SECRETBODY three")
        wait_for(lambda: "inbound" in read(log) and "SMS from" in read(log), timeout=30, what="inbound logged")
        text = read(log)
        for secret in ("447700900123", "447700900456", "46701234567", "SECRETBODY"):
            assert secret not in text, secret
        # the numbers are there, masked: the lines that would leak were exercised
        assert "+44770090****" in text and "+4670123****" in text, text[-3000:]
    finally:
        d.stop()
        sim.stop()
        carrier.stop()
