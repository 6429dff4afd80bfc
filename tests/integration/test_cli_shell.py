"""The CLI as an operator meets it in a shell: bash completion, the man page, and `watch` in a real
80x24 terminal (tmux)."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, SIMROUTE, wait_for

COMPLETION = os.path.join(ROOT, "conf", "simroute.bash-completion")
MAN1 = os.path.join(ROOT, "docs", "man", "simroute.1")


def help_commands():
    out = subprocess.run([SIMROUTE, "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    return [l.split()[0] for l in out.stdout.splitlines() if re.match(r"^  [a-z]", l)]


def complete(words, sock=None):
    """What bash completion offers for the command line `words` (the last word being completed)."""
    env = dict(os.environ, PATH=os.path.dirname(SIMROUTE) + ":" + os.environ.get("PATH", ""))
    if sock:
        env["SIMROUTE_SOCKET"] = sock
    script = ("source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_simroute\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n"
              % (COMPLETION, " ".join("'%s'" % w for w in words), len(words) - 1))
    out = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode == 0, out.stderr
    return sorted(w for w in out.stdout.split("\n") if w)


def test_help_lists_the_commands():
    cmds = help_commands()
    for c in ("status", "modems", "modem", "watch", "send", "messages", "show", "explain", "cancel", "pdu"):
        assert c in cmds


def test_completion_offers_every_command_and_sub_command():
    assert complete(["simroute", ""]) == sorted(help_commands())
    assert complete(["simroute", "mo"]) == ["modem", "modems"]
    assert complete(["simroute", "--js"]) == ["--json"]
    assert complete(["simroute", "--json", "se"]) == ["send"]
    assert "--otp" in complete(["simroute", "send", "--"])
    assert complete(["simroute", "messages", "--status", "deliv"]) == ["delivered"]
    assert complete(["simroute", "pdu", ""]) == ["decode", "encode"]
    assert complete(["simroute", "optout", ""]) == ["add", "list", "remove"]
    assert complete(["simroute", "keys", ""]) == ["create", "list", "revoke"]


def test_completion_of_modem_names_asks_the_daemon(sim, daemon_factory):
    d = daemon_factory([sim.port(0), sim.port(1)])
    assert complete(["simroute", "-s", d.sock, "modem", ""]) == ["m0", "m1"]
    assert complete(["simroute", "modem", "m"], sock=d.sock) == ["m0", "m1"]
    assert complete(["simroute", "-s", d.sock, "modem", "m0", "d"]) == ["disable", "drain"]


def test_completion_without_a_daemon_offers_nothing_and_says_nothing(tmp_path):
    assert complete(["simroute", "-s", str(tmp_path / "none.sock"), "modem", ""]) == []


def test_man_page_documents_every_command_and_lints_clean():
    with open(MAN1) as f:
        page = f.read()
    for c in help_commands():
        assert re.search(r"^\.B[IR]? \"?%s\b" % re.escape(c), page, re.M), "simroute(1) lacks %s" % c
    with open(os.path.join(ROOT, "docs", "cli.md")) as f:
        cli_md = f.read()
    for c in help_commands():
        assert "`%s" % c in cli_md, "docs/cli.md lacks %s" % c
    assert shutil.which("mandoc"), "make deps installs mandoc"
    for page in ("simroute.1", "simrouted.8", "simroute.ini.5"):
        out = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", os.path.join(ROOT, "docs", "man", page)],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stdout + out.stderr


class Tmux:
    """A private tmux server (its own socket) with one 80x24 window."""

    def __init__(self, tmp, command):
        self.sock = os.path.join(tmp, "tmux.sock")
        self.run("new-session", "-d", "-x", "80", "-y", "24", "-s", "w", command)

    def run(self, *args):
        return subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", *args], capture_output=True, text=True,
                              timeout=20, env=dict(os.environ, TERM="xterm-256color"))

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "w").stdout.splitlines()

    def kill(self):
        self.run("kill-server")


@pytest.mark.skipif(not shutil.which("tmux"), reason="make deps installs tmux")
def test_watch_in_an_80x24_terminal(sim, daemon_factory, tmp_path):
    d = daemon_factory([sim.port(0), sim.port(1)])
    wait_for(lambda: d.api.status()["routes"]["ready"] == 2, timeout=20, what="modems ready")
    # The shell reports watch's exit status once Ctrl-C has stopped it, and stays for us to read it.
    t = Tmux(str(tmp_path), "%s -s %s watch 1; echo watch-exited=$?; sleep 60" % (SIMROUTE, d.sock))
    try:
        def stamp():
            for line in t.screen():
                m = re.match(r"simroute watch .* (\d\d:\d\d:\d\d)", line)
                if m:
                    return m.group(1)
            return None
        first = wait_for(stamp, timeout=10, what="watch's first screen")
        screen = t.screen()
        assert len(screen) <= 24
        assert any(l.startswith("routes:") and "2 of 2 ready" in l for l in screen), screen
        assert any(l.startswith("MODEM") for l in screen), screen
        # Each modem on one row of the 80-column screen (nothing wrapped onto the next line).
        rows = [l for l in screen if re.match(r"^m[01] ", l)]
        assert len(rows) == 2 and all("ready" in l for l in rows), screen
        # Redrawn in place: the clock moves on, the screen is not scrolled full of old copies.
        wait_for(lambda: stamp() not in (None, first), timeout=10, what="a redraw")
        assert sum("simroute watch" in l for l in t.screen()) == 1
        # A message sent meanwhile shows up on the next refresh.
        code, doc = d.api.send("+447700900123", "seen by watch")
        assert code == 202, doc
        wait_for(lambda: any(re.search(r"\b1 sent\b", l) for l in t.screen()), timeout=20, what="sent count")
        t.run("send-keys", "-t", "w", "C-c")
        wait_for(lambda: any("watch-exited=0" in l for l in t.screen()), timeout=10, what="watch to exit 0")
    finally:
        t.kill()
