"""simroute backup FILE (tracker issue 10): the daemon copies its store with the sqlite online backup
while it keeps accepting messages, streams the copy over the API socket, and the CLI writes it
atomically. The CLI never opens the database itself."""
import os
import socket
import sqlite3
import subprocess
import threading
import time

from conftest import SIMROUTE, TEST_KEY, Daemon, wait_for


def backup(d, path, *extra):
    return subprocess.run([SIMROUTE, "-s", d.sock, *extra, "backup", path], capture_output=True, text=True,
                          timeout=120)


def fill(d, n, tag="fill"):
    for b in range(0, n, 1000):
        batch = [{"to": "+4477009%05d" % (i % 100000), "text": "%s message %d" % (tag, i)}
                 for i in range(b, min(n, b + 1000))]
        code, doc = d.api.request("POST", "/v1/messages", {"messages": batch})
        assert code == 202, doc


def check_copy(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        db.close()


def test_backup_while_messages_are_submitted(tmp_path):
    d = Daemon(str(tmp_path))   # no modem: every message stays queued, so counts are exact
    try:
        fill(d, 20000)
        stop = threading.Event()
        accepted = []

        def submit():
            i = 0
            while not stop.is_set():
                code, doc = d.api.send("+447700900%03d" % (i % 1000), "during backup %d" % i)
                assert code == 202, doc
                accepted.append(doc["id"])
                i += 1
        t = threading.Thread(target=submit)
        t.start()
        try:
            out = str(tmp_path / "copy.db")
            r = backup(d, out, "--json")
        finally:
            stop.set()
            t.join()
        assert r.returncode == 0, r.stderr
        assert '"file"' in r.stdout and os.path.getsize(out) > 0
        assert not os.path.exists(out + ".tmp")
        assert oct(os.stat(out).st_mode & 0o777) == "0o600"
        n = check_copy(out)
        # everything acknowledged before the backup began is in it; submissions went on meanwhile
        assert n >= 20000 and n <= 20000 + len(accepted), (n, len(accepted))
        assert accepted, "the API kept accepting messages during the backup"
        # the daemon's temporary copy is gone
        assert [f for f in os.listdir(os.path.join(str(tmp_path), "state")) if "backup" in f] == []
        # still serving, and a second backup works
        r = backup(d, str(tmp_path / "copy2.db"))
        assert r.returncode == 0 and "backup written to" in r.stdout, r.stderr
        assert check_copy(str(tmp_path / "copy2.db")) == 20000 + len(accepted)
        code, doc = d.api.request("GET", "/v1/audit")
        assert code == 200 and [a["action"] for a in doc["audit"]].count("store.backup") == 2, doc
    finally:
        d.stop()


def test_backup_errors(tmp_path):
    d = Daemon(str(tmp_path))
    try:
        r = backup(d, "/nonexistent-dir/simroute.db")
        assert r.returncode == 1 and "cannot write /nonexistent-dir/simroute.db.tmp" in r.stderr, r.stderr
        r = subprocess.run([SIMROUTE, "-s", d.sock, "backup"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "usage: simroute backup FILE" in r.stderr
        # daemon unreachable: exit 3, and no partial file left
        out = str(tmp_path / "x.db")
        r = subprocess.run([SIMROUTE, "-s", str(tmp_path / "nope.sock"), "backup", out], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 3 and not os.path.exists(out) and not os.path.exists(out + ".tmp")
        # admin scope on TCP: the test key has send,read only
        code, doc = d.api.request("POST", "/v1/backup", tcp=True, headers={"Authorization": "Bearer " + TEST_KEY})
        assert code == 403 and doc["error"]["code"] == "forbidden"
        code, doc = d.api.request("GET", "/v1/backup")
        assert code == 405
    finally:
        d.stop()


def raw_backup_request(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"POST /v1/backup HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    return s


def reply_of(s):
    """(status, body) of a raw request's reply, read to the end (Connection: close)."""
    s.settimeout(60)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_one_backup_at_a_time(tmp_path):
    d = Daemon(str(tmp_path))
    try:
        fill(d, 30000)   # several MiB: the copy takes several loop turns
        a = raw_backup_request(d.sock)
        b = raw_backup_request(d.sock)
        replies = sorted([reply_of(a), reply_of(b)])
        assert [st for st, _ in replies] == [200, 409]
        assert replies[0][1][:16] == b"SQLite format 3\x00"
        assert b'"backup_in_progress"' in replies[1][1]
        # a client that hangs up at once: the daemon goes on, leaves no temporary file, the next one works
        raw_backup_request(d.sock).close()
        # (until that one is finished or dropped, a new one is refused with 409)
        wait_for(lambda: backup(d, str(tmp_path / "after.db")).returncode == 0, timeout=30, step=0.2,
                 what="a backup after the hang-up")
        assert check_copy(str(tmp_path / "after.db")) == 30000
        assert d.proc.alive()
        assert [f for f in os.listdir(os.path.join(str(tmp_path), "state")) if "backup" in f] == []
    finally:
        d.stop()


def test_backups_give_their_connection_back(tmp_path):
    # a backup holds the connection's close callback for a while; the listener's count must still
    # come down, or every backup would use up one of [api] max_connections for good
    d = Daemon(str(tmp_path), extra_ini="[api]\nmax_connections = 3\n")
    try:
        for i in range(4):
            r = backup(d, str(tmp_path / ("b%d.db" % i)))
            assert r.returncode == 0, r.stderr
        # a client that hangs up during a backup gives its slot back too
        for _ in range(3):
            raw_backup_request(d.sock).close()
            time.sleep(0.2)

        def idle():
            s = socket.socket(socket.AF_UNIX)
            s.connect(d.sock)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status, body = reply_of(s)
            return status == 200 and b'simroute_api_connections{listener="unix"} 1\n' in body   # the one asking
        wait_for(idle, timeout=30, what="the connection count back to the request itself")
    finally:
        d.stop()


def test_backup_never_follows_a_planted_temporary_file(tmp_path):
    d = Daemon(str(tmp_path))
    try:
        victim = tmp_path / "victim"
        victim.write_text("keep me")
        out = tmp_path / "copy.db"
        os.symlink(str(victim), str(out) + ".tmp")
        r = backup(d, str(out))
        assert r.returncode == 0, r.stderr
        assert victim.read_text() == "keep me"
        assert out.read_bytes()[:16] == b"SQLite format 3\0" and oct(out.stat().st_mode & 0o777) == "0o600"
    finally:
        d.stop()
