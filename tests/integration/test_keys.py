"""API keys created at run time (POST/GET/DELETE /v1/keys, simroute keys): hashed in the store,
usable over TCP with their scopes, revocable at once, kept across restarts, never shown twice."""
import hashlib
import json
import os
import signal
import subprocess

from conftest import SIMROUTE, TEST_KEY, wait_for

ADMIN_KEY = "boss-secret-key"
ADMIN_INI = "[api_key:boss]\nhash = sha256:%s\nscopes = admin\n" % hashlib.sha256(ADMIN_KEY.encode()).hexdigest()


def bearer(key):
    return {"Authorization": "Bearer " + key}


def cli(d, *args):
    return subprocess.run([SIMROUTE, "-s", d.sock, *args], capture_output=True, text=True, timeout=30)


def create(d, name, scopes, tcp=False, headers=None):
    return d.api.request("POST", "/v1/keys", {"name": name, "scopes": scopes}, tcp=tcp, headers=headers)


def assert_error(code, doc, status, field=None):
    assert code == status, (code, doc)
    assert doc["error"]["code"] and doc["error"]["message"]
    if field:
        assert doc["error"].get("field") == field, doc


def test_create_use_scopes_and_revoke(daemon_factory):
    d = daemon_factory([], extra_ini=ADMIN_INI)
    code, doc = create(d, "crm", ["read", "send"])
    assert code == 201, doc
    assert doc["id"].startswith("k_") and len(doc["id"]) == 10
    assert doc["name"] == "crm" and doc["scopes"] == ["send", "read"] and doc["created_at"].endswith("Z")
    key = doc["key"]
    assert key.startswith("sk_") and len(key) == 46

    # the key works on TCP with its scopes, and not beyond them
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(key))[0] == 200
    code, sent = d.api.request("POST", "/v1/messages", {"to": "+447700900123", "text": "hi"}, tcp=True,
                               headers=bearer(key))
    assert code == 202, sent
    assert_error(*d.api.request("GET", "/v1/keys", tcp=True, headers=bearer(key)), 403)
    code, ro = create(d, "reader", ["read"])
    assert code == 201
    assert_error(*d.api.request("POST", "/v1/messages", {"to": "+447700900123", "text": "x"}, tcp=True,
                                headers=bearer(ro["key"])), 403)
    # a wrong key next to a right one still fails
    assert_error(*d.api.request("GET", "/v1/status", tcp=True, headers=bearer(key + "x")), 401)

    # revoked: 401 at once; listed as revoked; a second revoke is a conflict
    code, rev = d.api.request("DELETE", "/v1/keys/" + doc["id"])
    assert code == 200 and rev["id"] == doc["id"] and rev["revoked_at"], rev
    assert_error(*d.api.request("GET", "/v1/status", tcp=True, headers=bearer(key)), 401)
    assert_error(*d.api.request("DELETE", "/v1/keys/" + doc["id"]), 409)
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(ro["key"]))[0] == 200


def test_admin_over_tcp_and_listing_has_no_secrets(daemon_factory):
    d = daemon_factory([], extra_ini=ADMIN_INI)
    # the config's send,read key may not manage keys; the admin one may
    assert_error(*create(d, "x", ["send"], tcp=True, headers=bearer(TEST_KEY)), 403)
    code, doc = create(d, "x", ["send"], tcp=True, headers=bearer(ADMIN_KEY))
    assert code == 201, doc
    code, ops = create(d, "ops", ["admin"], tcp=True, headers=bearer(ADMIN_KEY))
    assert code == 201
    # a store admin key manages keys too
    code, y = create(d, "y", ["read"], tcp=True, headers=bearer(ops["key"]))
    assert code == 201, y
    assert ops["scopes"] == ["send", "read", "admin"]
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(ops["key"]))[0] == 200

    code, listing = d.api.request("GET", "/v1/keys", tcp=True, headers=bearer(ADMIN_KEY))
    assert code == 200
    by_name = {k["name"]: k for k in listing["keys"]}
    assert by_name["test"]["source"] == "config" and by_name["test"]["scopes"] == ["send", "read"]
    assert by_name["boss"]["source"] == "config" and by_name["test"]["id"] is None
    assert by_name["x"]["source"] == "store" and by_name["x"]["id"] == doc["id"]
    assert by_name["x"]["created_by"] == "boss" and by_name["x"]["revoked_at"] is None
    assert by_name["y"]["created_by"] == "key:" + ops["id"]
    text = json.dumps(listing)
    for k in (doc["key"], ops["key"], y["key"]):
        assert k not in text
    assert hashlib.sha256(doc["key"].encode()).hexdigest() not in text
    assert all("key" not in k and "hash" not in k for k in listing["keys"])
    # the socket needs no key and has every scope
    assert d.api.request("GET", "/v1/keys")[0] == 200
    # the database holds the hash, never the key
    with open(os.path.join(d.tmp, "state", "simroute.db"), "rb") as f:
        db = f.read()
    wal = os.path.join(d.tmp, "state", "simroute.db-wal")
    if os.path.exists(wal):
        with open(wal, "rb") as f:
            db += f.read()
    assert doc["key"].encode() not in db
    assert hashlib.sha256(doc["key"].encode()).hexdigest().encode() in db


def test_validation_and_conflicts(daemon_factory):
    d = daemon_factory([])
    for body, field in [({"name": "", "scopes": ["send"]}, "name"),
                        ({"name": "has space", "scopes": ["send"]}, "name"),
                        ({"name": "a" * 65, "scopes": ["send"]}, "name"),
                        ({"name": 5, "scopes": ["send"]}, "name"),
                        ({"name": "ok", "scopes": []}, "scopes"),
                        ({"name": "ok", "scopes": ["write"]}, "scopes"),
                        ({"name": "ok", "scopes": "send"}, "scopes"),
                        ({"name": "ok", "scopes": [1]}, "scopes"),
                        ({"scopes": ["send"]}, "name"),
                        ({"name": "ok"}, "scopes"),
                        ({"name": "ok", "scopes": ["send"], "key": "mine"}, "key")]:
        assert_error(*d.api.request("POST", "/v1/keys", body), 400, field)
    assert_error(*d.api.request("POST", "/v1/keys", raw=b"{"), 400)
    assert_error(*d.api.request("POST", "/v1/keys", raw=b"[]"), 400)
    assert create(d, "a" * 64, ["send"])[0] == 201
    # names are unique across config and store keys, revoked ones included
    assert_error(*create(d, "test", ["send"]), 409, "name")
    code, doc = create(d, "crm", ["send"])
    assert code == 201
    assert_error(*create(d, "crm", ["read"]), 409, "name")
    assert d.api.request("DELETE", "/v1/keys/" + doc["id"])[0] == 200
    assert_error(*create(d, "crm", ["read"]), 409, "name")
    # config keys are not revoked through the API; unknown ids are 404
    assert_error(*d.api.request("DELETE", "/v1/keys/test"), 409)
    assert_error(*d.api.request("DELETE", "/v1/keys/k_00000000"), 404)
    assert_error(*d.api.request("PUT", "/v1/keys", {}), 405)
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(TEST_KEY))[0] == 200


def test_keys_survive_restart(daemon_factory):
    d = daemon_factory([])
    live = create(d, "live", ["read"])[1]
    gone = create(d, "gone", ["read"])[1]
    assert d.api.request("DELETE", "/v1/keys/" + gone["id"])[0] == 200
    d.stop()
    d.start()
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(live["key"]))[0] == 200
    assert_error(*d.api.request("GET", "/v1/status", tcp=True, headers=bearer(gone["key"])), 401)
    keys = {k["name"]: k for k in d.api.request("GET", "/v1/keys")[1]["keys"]}
    assert keys["live"]["revoked_at"] is None and keys["gone"]["revoked_at"]
    assert d.api.request("DELETE", "/v1/keys/" + live["id"])[0] == 200
    assert_error(*d.api.request("GET", "/v1/status", tcp=True, headers=bearer(live["key"])), 401)


def test_rate_limit_and_idempotency_per_store_key(daemon_factory):
    d = daemon_factory([], extra_ini="[api]\nrate_limit = 1\nrate_burst = 3\n")
    k = create(d, "busy", ["send", "read"])[1]["key"]
    codes = [d.api.request("GET", "/v1/status", tcp=True, headers=bearer(k))[0] for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[-1] == 429, codes
    # another key has its own bucket
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(TEST_KEY))[0] == 200

    # the same Idempotency-Key from two clients makes two messages
    d2_body = {"to": "+447700900123", "text": "once"}
    hdr = {"Idempotency-Key": "order-1"}
    c1, m1 = d.api.request("POST", "/v1/messages", d2_body, tcp=True, headers=dict(bearer(TEST_KEY), **hdr))
    k2 = create(d, "other", ["send"])[1]["key"]
    c2, m2 = d.api.request("POST", "/v1/messages", d2_body, tcp=True, headers=dict(bearer(k2), **hdr))
    assert c1 == 202 and c2 == 202 and m1["id"] != m2["id"], (m1, m2)
    c3, m3 = d.api.request("POST", "/v1/messages", d2_body, tcp=True, headers=dict(bearer(k2), **hdr))
    assert m3["id"] == m2["id"]


def test_cli_keys(daemon_factory):
    d = daemon_factory([])
    out = cli(d, "keys", "create", "crm", "--scope", "send,read")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    key = next(l for l in lines if l.startswith("sk_"))
    assert any("will not be shown again" in l for l in lines), out.stdout
    kid = lines[0].split("id ")[1].split(",")[0]
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(key))[0] == 200

    out = cli(d, "--json", "keys", "create", "ops", "--scope", "admin")
    doc = json.loads(out.stdout)
    # as in the config, admin implies send and read
    assert out.returncode == 0 and doc["key"].startswith("sk_") and doc["scopes"] == ["send", "read", "admin"]
    out = cli(d, "keys", "create", "dflt")
    assert out.returncode == 0 and "scopes send,read" in out.stdout

    out = cli(d, "keys", "list")
    assert out.returncode == 0 and out.stdout.splitlines()[0].split()[:3] == ["ID", "NAME", "SOURCE"]
    assert key not in out.stdout and doc["key"] not in out.stdout
    assert any(l.startswith(kid) and " crm " in l and " live" in l for l in out.stdout.splitlines())
    listing = json.loads(cli(d, "--json", "keys", "list").stdout)
    assert {k["name"] for k in listing["keys"]} == {"test", "crm", "ops", "dflt"}

    out = cli(d, "keys", "revoke", kid)
    assert out.returncode == 0 and "revoked" in out.stdout
    assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(key))[0] == 401
    assert json.loads(cli(d, "--json", "keys", "revoke", doc["id"]).stdout)["revoked_at"]

    # exit codes: 1 refused, 2 usage or invalid input, 3 daemon unreachable
    assert cli(d, "keys", "revoke", kid).returncode == 1
    assert cli(d, "keys", "revoke", "test").returncode == 1
    assert cli(d, "keys", "revoke", "k_00000000").returncode == 1
    assert cli(d, "keys", "create", "crm").returncode == 1
    assert cli(d, "keys", "create", "bad name").returncode == 2
    assert cli(d, "keys", "create", "x", "--scope", "write").returncode == 2
    assert cli(d, "keys", "create").returncode == 2
    assert cli(d, "keys").returncode == 2
    assert cli(d, "keys", "list", "extra").returncode == 2
    out = subprocess.run([SIMROUTE, "-s", d.sock + ".none", "keys", "list"], capture_output=True, text=True)
    assert out.returncode == 3


def test_config_key_added_later_with_a_store_keys_name(daemon_factory):
    """A config section may arrive (SIGHUP) with a store key's name: both keys work, apart."""
    d = daemon_factory([])
    store_key = create(d, "later", ["send", "read"])[1]["key"]
    cfg_key = "config-later-key"
    with open(d.ini, "a") as f:
        f.write("[api_key:later]\nhash = sha256:%s\nscopes = send,read\n" % hashlib.sha256(cfg_key.encode()).hexdigest())
    d.proc.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "like [api_key:later]" in d.proc.output(), timeout=5, what="the name clash warning")
    for k in (store_key, cfg_key):
        assert d.api.request("GET", "/v1/status", tcp=True, headers=bearer(k))[0] == 200
    # same name, same Idempotency-Key: still two clients, two messages
    body = {"to": "+447700900123", "text": "same key"}
    hdr = {"Idempotency-Key": "order-7"}
    c1, m1 = d.api.request("POST", "/v1/messages", body, tcp=True, headers=dict(bearer(cfg_key), **hdr))
    c2, m2 = d.api.request("POST", "/v1/messages", body, tcp=True, headers=dict(bearer(store_key), **hdr))
    assert c1 == 202 and c2 == 202 and m1["id"] != m2["id"], (m1, m2)
    names = [k["name"] for k in d.api.request("GET", "/v1/keys")[1]["keys"]]
    assert names.count("later") == 2


def test_key_actions_are_audited_with_who(daemon_factory):
    d = daemon_factory([], extra_ini=ADMIN_INI)
    code, doc = create(d, "portal", ["send"])                    # over the Unix socket
    assert code == 201, doc
    kid = doc["id"]
    code, doc = create(d, "crm", ["read"], tcp=True, headers=bearer(ADMIN_KEY))
    assert code == 201, doc
    code, _ = d.api.request("DELETE", "/v1/keys/" + kid, tcp=True, headers=bearer(ADMIN_KEY))
    assert code == 200
    code, doc = d.api.request("GET", "/v1/audit")
    assert code == 200, doc
    rows = [(a["actor"], a["action"], a["target"]) for a in doc["audit"] if a["action"].startswith("key.")]
    assert rows[0] == ("key:boss", "key.revoke", kid)             # newest first
    assert rows[1][0] == "key:boss" and rows[1][1] == "key.create"
    assert rows[2] == ("uid:%d" % os.getuid(), "key.create", kid)
    assert all("sk_" not in json.dumps(a) for a in doc["audit"]), "the key itself is never recorded"
