"""gsmsim: the simulated modem bank, spoken to over its pseudo-terminals like simrouted does.

Expected answers come from the SIM800 Series AT Command Manual and 3GPP TS 27.005/27.007
(result code shapes, +CMS ERROR 304, the "> " prompt), not from gsmsim's own output.
"""
import json
import os
import re
import select
import signal
import subprocess
import termios
import time
import tty
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# GSMSIM=build/asan/gsmsim runs the same tests against a sanitizer build.
GSMSIM = Path(os.environ.get("GSMSIM", ROOT / "build" / "gsmsim"))

# TS 23.040 SMS-SUBMIT to +46708251358, GSM-7 "hellohello", no SMSC ("00"), TPDU 23 octets.
HELLO_PDU = b"0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
HELLO_LEN = 23

# A final result code ends a reply (V.250 5.7; TS 27.007 9.2; TS 27.005 3.2.5), "> " asks for the PDU.
FINAL = re.compile(rb"\r\n(OK|ERROR|\+CME ERROR: [^\r]*|\+CMS ERROR: [^\r]*)\r\n$|\r\n> $")


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        v = int(ch)
        if i % 2 == 1:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return total % 10 == 0


class Sim:
    """One gsmsim process in a temp dir; stopped by PID."""

    def __init__(self, rundir, modems=2, latency=0.05, extra=()):
        if not GSMSIM.exists():
            pytest.fail(f"{GSMSIM} is not built (make build/gsmsim)")
        self.dir = Path(rundir)
        self.modems = modems
        self.stderr = open(self.dir / "gsmsim.stderr", "wb")
        self.proc = subprocess.Popen(
            [str(GSMSIM), "--modems", str(modems), "--dir", str(self.dir), "--latency", str(latency), *extra],
            stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        if line.strip() != f"gsmsim: {modems} modems ready in {self.dir}":
            self.stop()
            pytest.fail(f"gsmsim did not report ready: {line!r}")

    def link(self, i):
        return self.dir / f"modem{i}"

    def sent(self):
        path = self.dir / "sent.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def terminate(self, timeout=5):
        os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc.stdout.close()
        self.stderr.close()


class Port:
    """The daemon's side of one modem: raw, non-blocking, like serial.c opens a pty."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)

    def close(self):
        os.close(self.fd)

    def write(self, data, timeout=5.0):
        # the port is non-blocking and a pty holds only a few KiB: write it all, waiting as needed
        end = time.monotonic() + timeout
        while data:
            try:
                data = data[os.write(self.fd, data):]
            except BlockingIOError:
                if not select.select([], [self.fd], [], max(0.0, end - time.monotonic()))[1]:
                    raise AssertionError("port not writable: is gsmsim reading?")

    def read_until(self, pattern=FINAL, timeout=10.0):
        buf = b""
        end = time.monotonic() + timeout
        while not pattern.search(buf):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timeout waiting for {pattern.pattern!r}; got {buf!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                buf += os.read(self.fd, 4096)
        return buf

    def read_for(self, seconds):
        buf = b""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                buf += os.read(self.fd, 4096)
        return buf

    def cmd(self, line, timeout=10.0):
        self.write(line + b"\r")
        return self.read_until(timeout=timeout)

    def value(self, line):
        """The single information line of a command run with echo off."""
        reply = self.cmd(line)
        m = re.fullmatch(rb"\r\n(.*)\r\n\r\nOK\r\n", reply)
        assert m, f"{line!r}: {reply!r}"
        return m.group(1).decode()


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path, modems=3)
    yield s
    s.stop()


@pytest.fixture
def port(sim):
    p = Port(sim.link(0))
    assert p.cmd(b"ATE0").endswith(b"\r\nOK\r\n")
    yield p
    p.close()


def test_ready_links_and_pidfile(sim):
    for i in range(3):
        target = os.readlink(sim.link(i))
        assert re.fullmatch(r"/dev/pts/\d+", target), target
    assert len({os.readlink(sim.link(i)) for i in range(3)}) == 3
    assert not sim.link(3).exists()
    assert int((sim.dir / "gsmsim.pid").read_text()) == sim.proc.pid


def test_echo_on_by_default_then_ate0(sim):
    p = Port(sim.link(1))
    try:
        assert p.cmd(b"AT") == b"AT\r\r\nOK\r\n"
        assert p.cmd(b"ATE0") == b"ATE0\r\r\nOK\r\n"
        assert p.cmd(b"AT") == b"\r\nOK\r\n"
        assert p.cmd(b"ATE1") == b"\r\nOK\r\n"
        assert p.cmd(b"AT") == b"AT\r\r\nOK\r\n"
    finally:
        p.close()


def test_identity(port):
    assert port.value(b"AT+CGMI") == "SIMCOM_Ltd"
    assert "SIM800" in port.value(b"AT+CGMM")
    assert port.value(b"AT+CGMR")
    assert "SIM800" in port.cmd(b"ATI").decode()
    imei = port.value(b"AT+CGSN")
    assert re.fullmatch(r"\d{15}", imei) and luhn_ok(imei), imei
    assert re.fullmatch(r"\d{15}", port.value(b"AT+CIMI"))
    iccid = port.value(b"AT+CCID")
    assert re.fullmatch(r"\d{19,20}", iccid) and luhn_ok(iccid), iccid
    assert port.value(b"AT+CPIN?") == "+CPIN: READY"
    assert port.value(b"AT+CSQ") == "+CSQ: 20,0"
    assert port.value(b"AT+CREG?") == "+CREG: 0,1"
    assert port.cmd(b"AT+CREG=1") == b"\r\nOK\r\n"
    assert port.value(b"AT+CREG?") == "+CREG: 1,1"
    assert port.value(b"AT+COPS?").startswith("+COPS: 0,0,")
    assert port.value(b"AT+CFUN?") == "+CFUN: 1"
    assert port.cmd(b"AT+CFUN=1") == b"\r\nOK\r\n"
    assert port.value(b"AT+CSCA?").startswith("+CSCA: \"+")
    assert port.value(b"AT+CPMS?").startswith("+CPMS: \"SM\",")
    for line in (b"AT+CSCS=\"GSM\"", b"AT+CNMI=2,1,0,0,0", b"AT+CSMP=17,167,0,0", b"ATZ"):
        assert port.cmd(line).endswith(b"\r\nOK\r\n"), line


def test_identities_distinct_and_deterministic(tmp_path):
    def identities(rundir):
        rundir.mkdir()
        s = Sim(rundir, modems=3)
        try:
            out = []
            for i in range(3):
                p = Port(s.link(i))
                p.cmd(b"ATE0")
                out.append((p.value(b"AT+CGSN"), p.value(b"AT+CCID"), p.value(b"AT+CIMI")))
                p.close()
            return out
        finally:
            s.stop()

    first = identities(tmp_path / "a")
    assert len({x[0] for x in first}) == 3 and len({x[1] for x in first}) == 3
    assert identities(tmp_path / "b") == first


def test_cmee_modes(port):
    assert port.cmd(b"AT+NOSUCH") == b"\r\nERROR\r\n"
    assert port.cmd(b"AT+CMEE=1") == b"\r\nOK\r\n"
    assert re.fullmatch(rb"\r\n\+CME ERROR: \d+\r\n", port.cmd(b"AT+NOSUCH"))
    assert port.value(b"AT+CMEE?") == "+CMEE: 1"
    assert port.cmd(b"AT+CMEE=2") == b"\r\nOK\r\n"
    reply = port.cmd(b"AT+NOSUCH")
    assert re.fullmatch(rb"\r\n\+CME ERROR: [A-Za-z][^\r]*\r\n", reply), reply
    assert port.cmd(b"AT+CMEE=0") == b"\r\nOK\r\n"
    assert port.cmd(b"AT+CMEE=7") == b"\r\nERROR\r\n"


def test_several_commands_on_one_line(port):
    assert port.cmd(b"AT+CMEE=1;+CMGF=0") == b"\r\nOK\r\n"
    assert port.value(b"AT+CMGF?") == "+CMGF: 0"
    assert port.value(b"AT+CMEE?") == "+CMEE: 1"
    reply = port.cmd(b"AT+CSQ;+CPIN?")
    assert reply == b"\r\n+CSQ: 20,0\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n"
    # the first failing command ends the line with its error (V.250 5.2.1)
    assert re.fullmatch(rb"\r\n\+CME ERROR: \d+\r\n", port.cmd(b"AT+NOSUCH;+CSQ"))
    assert port.cmd(b"at+cmgf=1") == b"\r\nOK\r\n"
    assert port.value(b"AT+CMGF?") == "+CMGF: 1"


def send_pdu(port, pdu=HELLO_PDU, length=HELLO_LEN, timeout=10.0):
    assert port.cmd(b"AT+CMGS=%d" % length) == b"\r\n> "
    port.write(pdu + b"\x1a")
    return port.read_until(timeout=timeout)


def test_cmgs_pdu_mode_writes_sent_jsonl(sim, port):
    assert port.cmd(b"AT+CMGF=0") == b"\r\nOK\r\n"
    m = re.fullmatch(rb"\r\n\+CMGS: (\d+)\r\n\r\nOK\r\n", send_pdu(port))
    assert m
    mr = int(m.group(1))
    [rec] = sim.sent()
    assert rec["modem"] == "modem0"
    assert rec["to"] == "+46708251358"
    assert rec["text"] == "hellohello"
    assert rec["pdu"] == HELLO_PDU.decode()
    assert rec["mr"] == mr
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["time"]), rec["time"]
    assert rec["imei"] == port.value(b"AT+CGSN")
    assert rec["concat"] is None

    # TP-MR goes up by one per submitted message on this modem
    m2 = re.fullmatch(rb"\r\n\+CMGS: (\d+)\r\n\r\nOK\r\n", send_pdu(port))
    assert m2 and int(m2.group(1)) == (mr + 1) % 256


def test_cmgs_wrong_length_and_garbage(sim, port):
    assert port.cmd(b"AT+CMEE=1") == b"\r\nOK\r\n"
    assert send_pdu(port, length=HELLO_LEN - 1) == b"\r\n+CMS ERROR: 304\r\n"
    assert send_pdu(port, length=HELLO_LEN + 1) == b"\r\n+CMS ERROR: 304\r\n"
    assert send_pdu(port, pdu=b"ZZZZ-not-hex", length=6) == b"\r\n+CMS ERROR: 304\r\n"
    assert send_pdu(port, pdu=HELLO_PDU[:-1], length=HELLO_LEN) == b"\r\n+CMS ERROR: 304\r\n"
    assert port.cmd(b"AT+CMEE=0") == b"\r\nOK\r\n"
    assert send_pdu(port, length=HELLO_LEN - 1) == b"\r\nERROR\r\n"
    assert sim.sent() == []
    assert port.cmd(b"AT") == b"\r\nOK\r\n"


def test_cmgs_esc_cancels(sim, port):
    assert port.cmd(b"AT+CMGS=%d" % HELLO_LEN) == b"\r\n> "
    port.write(HELLO_PDU[:10] + b"\x1b")
    assert port.read_until() == b"\r\nOK\r\n"
    assert port.cmd(b"AT") == b"\r\nOK\r\n"
    assert sim.sent() == []


def test_cmgs_text_mode(sim, port):
    # TS 27.005 3.5.1 text mode: AT+CMGS=<da>, "> ", the text, Ctrl-Z; a CR in the text prompts again
    assert port.cmd(b"AT+CMGF=1;+CMEE=1") == b"\r\nOK\r\n"
    assert port.cmd(b'AT+CMGS="+46708251358"') == b"\r\n> "
    port.write(b"hello\r")
    assert port.read_until(re.compile(rb"> $")) == b"\r\n> "
    port.write(b"text mode\x1a")
    assert re.fullmatch(rb"\r\n\+CMGS: \d+\r\n\r\nOK\r\n", port.read_until())
    # the UCS2 character set: number and text as hex of UTF-16
    assert port.cmd(b'AT+CSCS="UCS2"') == b"\r\nOK\r\n"
    da = "+46708251358".encode("utf-16-be").hex().upper().encode()
    assert port.cmd(b'AT+CMGS="' + da + b'"') == b"\r\n> "
    port.write("Привет".encode("utf-16-be").hex().encode() + b"\x1a")
    assert re.fullmatch(rb"\r\n\+CMGS: \d+\r\n\r\nOK\r\n", port.read_until())
    # more than one SMS worth of text is refused: text mode does not concatenate
    assert port.cmd(b'AT+CSCS="GSM"') == b"\r\nOK\r\n"
    assert port.cmd(b'AT+CMGS="+46708251358"') == b"\r\n> "
    port.write(b"x" * 161 + b"\x1a")
    assert port.read_until() == b"\r\n+CMS ERROR: 305\r\n"
    assert port.cmd(b'AT+CMGS="+46708251358"') == b"\r\n> "
    port.write(b"never sent\x1b")
    assert port.read_until() == b"\r\nOK\r\n"
    sent = sim.sent()
    assert [(r["to"], r["text"], r["encoding"]) for r in sent] == [
        ("+46708251358", "hello\ntext mode", "gsm7"), ("+46708251358", "Привет", "ucs2")]
    # the PDU a text-mode send produced is one a PDU-mode client could have given
    assert sent[0]["pdu"].startswith("00") and sent[0]["srr"] is False
    # +CSMP <fo> 49 = SUBMIT + relative VP + TP-SRR; <vp> 167 = 24 h (TS 23.040 9.2.3.12.1)
    assert port.cmd(b"AT+CSMP=49,167,0,0") == b"\r\nOK\r\n"
    assert port.cmd(b'AT+CMGS="+46708251358"') == b"\r\n> "
    port.write(b"report me\x1a")
    assert re.fullmatch(rb"\r\n\+CMGS: \d+\r\n\r\nOK\r\n", port.read_until())
    last = sim.sent()[-1]
    assert last["srr"] is True and last["validity_minutes"] == 1440 and last["text"] == "report me"


def test_input_split_byte_by_byte(sim, port):
    for b in b"AT+CMGS=23\r":
        port.write(bytes([b]))
    assert port.read_until() == b"\r\n> "
    for i in range(0, len(HELLO_PDU), 3):
        port.write(HELLO_PDU[i:i + 3])
        time.sleep(0.002)
    port.write(b"\x1a")
    assert re.fullmatch(rb"\r\n\+CMGS: \d+\r\n\r\nOK\r\n", port.read_until())
    assert sim.sent()[0]["text"] == "hellohello"


def test_busy_during_latency(tmp_path):
    s = Sim(tmp_path, modems=1, latency=0.5)
    p = Port(s.link(0))
    try:
        p.cmd(b"ATE0")
        assert p.cmd(b"AT+CMGS=%d" % HELLO_LEN) == b"\r\n> "
        t0 = time.monotonic()
        # the next command arrives while the SMS is on the network: it waits for +CMGS
        p.write(HELLO_PDU + b"\x1a" + b"AT+CSQ\r")
        reply = p.read_until(re.compile(rb"\+CSQ: 20,0\r\n\r\nOK\r\n$"))
        elapsed = time.monotonic() - t0
        assert re.fullmatch(rb"\r\n\+CMGS: \d+\r\n\r\nOK\r\n\r\n\+CSQ: 20,0\r\n\r\nOK\r\n", reply), reply
        assert 0.45 <= elapsed < 3, elapsed
    finally:
        p.close()
        s.stop()


def test_garbage_and_overlong_lines(sim, port):
    port.write(bytes(range(256)) * 4 + b"\r")
    port.read_for(0.3)
    port.write(b"AT" + b"X" * 10000 + b"\r")
    reply = port.read_until()
    assert reply.endswith(b"ERROR\r\n"), reply
    port.write(b"\x1b\x1a\r\n")
    port.read_for(0.2)
    assert port.cmd(b"AT") == b"\r\nOK\r\n"
    assert sim.proc.poll() is None


def test_reopen_port_and_modems_independent(sim):
    p = Port(sim.link(2))
    p.cmd(b"ATE0")
    p.close()
    p = Port(sim.link(2))
    try:
        # echo stays off across the close: the modem, not the port, holds the setting
        assert p.cmd(b"AT") == b"\r\nOK\r\n"
    finally:
        p.close()
    q = Port(sim.link(1))
    try:
        assert q.cmd(b"AT") == b"AT\r\r\nOK\r\n"
    finally:
        q.close()


def test_sigterm_exits_zero_and_removes_links(tmp_path):
    s = Sim(tmp_path, modems=2)
    links = [s.link(0), s.link(1)]
    assert all(os.path.islink(x) for x in links)
    try:
        assert s.terminate() == 0
        assert not any(os.path.lexists(x) for x in links)
    finally:
        s.stop()


def test_bad_arguments(tmp_path):
    for args in ([], ["--modems", "0", "--dir", str(tmp_path)], ["--modems", "2"],
                 ["--modems", "2", "--dir", str(tmp_path), "--latency", "x"],
                 ["--modems", "2", "--dir", str(tmp_path), "--dialect", "nokia"]):
        r = subprocess.run([str(GSMSIM), *args], capture_output=True, timeout=5)
        assert r.returncode != 0, args


def test_random_input_never_kills_a_modem(sim, port):
    import random
    rng = random.Random(2718)
    pieces = [b"AT", b"+CMGS=", b"23", b"\r", b"\n", b"\x1a", b"\x1b", b"\x08", b";", b"+CMEE=2", b"\"",
              b"=?", b"?", b"ATE1", HELLO_PDU[:17], HELLO_PDU, b"A/"]
    for _ in range(400):
        if rng.random() < 0.5:
            chunk = rng.choice(pieces)
        else:
            chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        port.write(chunk)
        if rng.random() < 0.05:
            port.read_for(0.01)
    # back to a known state the way simrouted does: ESC, then a fresh AT line (DESIGN.md "opening")
    port.read_for(0.3)
    port.write(b"\x1b\r")
    port.read_for(0.3)
    assert port.cmd(b"ATE0").endswith(b"OK\r\n")
    assert port.cmd(b"AT") == b"\r\nOK\r\n"
    assert sim.proc.poll() is None
    for rec in sim.sent():
        assert rec["to"] == "+46708251358"
