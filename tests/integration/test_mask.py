"""mask_numbers (tracker issue 13): a key with it sees phone numbers only masked, on every endpoint,
whatever view it asks; a key without it sees them as before. Checked on the raw bodies, so a number
cannot hide in a field the test did not think of."""
import hashlib
import http.client
import json
import subprocess
import urllib.parse

import pytest

from conftest import GSMSIM, SIMROUTE, TEST_KEY, free_port, wait_for

DASH_KEY = "dashboard-reader-key"      # [api_key:dash] scopes = read, mask_numbers = yes
BOSS_KEY = "unmasked-admin-key"        # [api_key:boss] scopes = admin
MBOSS_KEY = "masked-admin-key"         # [api_key:mboss] scopes = admin, mask_numbers = yes

# every number in play, in full, and as a masked answer must show it (phone_mask / phone_redact)
TO, TO_MASKED = "+447700900123", "+44770090****"
TEXT, TEXT_MASKED = "call 0612345678 now", "call 061234**** now"
REF, REF_MASKED = "crm-33698765432", "crm-3369876****"
FROM, FROM_MASKED = "+46701234567", "+4670123****"
IN_TEXT, IN_TEXT_MASKED = "ring 0498765432", "ring 049876****"
OPT, OPT_MASKED = "+15005550009", "+1500555****"
NOTE, NOTE_MASKED = "per +33612345678", "per +3361234****"
FULL_DIGITS = ["447700900123", "0612345678", "33698765432", "46701234567", "0498765432", "15005550009",
               "33612345678"]

READ_PATHS = ["/v1/messages", "/v1/messages/{id}", "/v1/messages/{id}/explain", "/v1/inbound", "/v1/webhooks",
              "/v1/stats", "/v1/optout", "/v1/status", "/v1/modems", "/metrics", "/readyz"]


def key_ini(name, key, scopes, mask=None):
    return "[api_key:%s]\nhash = sha256:%s\nscopes = %s\n%s" % (
        name, hashlib.sha256(key.encode()).hexdigest(), scopes, "mask_numbers = %s\n" % mask if mask else "")


def raw(d, method, path, key=None, body=None):
    """(status, body text) over TCP with a Bearer key, or over the Unix socket without one."""
    if key is None:
        code, doc = d.api.request(method, path, body)
        return code, json.dumps(doc)
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    hdrs = {"Authorization": "Bearer " + key}
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, text


def assert_no_full_number(text, where):
    for digits in FULL_DIGITS:
        assert digits not in text, "%s shows %s in full: %s" % (where, digits, text[:2000])


@pytest.fixture
def world(sim, daemon_factory):
    """A sent message (number in its text and reference), an inbound SMS, an opt-out entry (an audit
    target), a webhook outbox row; a masked read key, an unmasked and a masked admin key."""
    ini = ("poll_interval_ms = 1000\n[webhook]\nurl = http://127.0.0.1:%d/hook?token=hook-secret\n" % free_port()
           + key_ini("dash", DASH_KEY, "read", "yes") + key_ini("boss", BOSS_KEY, "admin")
           + key_ini("mboss", MBOSS_KEY, "admin", "yes"))
    d = daemon_factory([sim.port(0)], extra_ini=ini)
    code, doc = d.api.send(TO, TEXT, reference=REF)
    assert code == 202, doc
    mid = doc["id"]
    d.wait_status(mid, ("sent", "delivered"))
    subprocess.run([GSMSIM, "ctl", sim.dir, "sms", "0", FROM, IN_TEXT], check=True, capture_output=True, timeout=10)
    wait_for(lambda: d.api.request("GET", "/v1/inbound")[1]["inbound"], timeout=15, what="the inbound SMS")
    code, doc = d.api.request("POST", "/v1/optout", {"number": OPT, "note": NOTE})
    assert code == 201, doc
    wait_for(lambda: d.api.request("GET", "/v1/webhooks")[1]["webhooks"], timeout=15, what="a webhook row")
    return d, mid


def test_masked_key_never_sees_a_full_number(world):
    d, mid = world
    for path in READ_PATHS:
        p = path.format(id=mid)
        for suffix in ("", "?view=dashboard"):
            code, text = raw(d, "GET", p + suffix, DASH_KEY)
            assert code == 200, (p, code, text)
            assert_no_full_number(text, p + suffix)
    # ...and the masked forms are there: the data is shown, only the digits are hidden
    text = raw(d, "GET", "/v1/messages", DASH_KEY)[1]
    assert TO_MASKED in text and TEXT_MASKED in text and REF_MASKED in text, text
    one = json.loads(raw(d, "GET", "/v1/messages/%d" % mid, DASH_KEY)[1])
    assert one["to"] == TO_MASKED and one["text"] == TEXT_MASKED and one["reference"] == REF_MASKED
    inbound = json.loads(raw(d, "GET", "/v1/inbound", DASH_KEY)[1])["inbound"][0]
    assert inbound["from"] == FROM_MASKED and inbound["text"] == IN_TEXT_MASKED, inbound
    opt = json.loads(raw(d, "GET", "/v1/optout", DASH_KEY)[1])["optout"][0]
    assert opt["number"] == OPT_MASKED and opt["note"] == NOTE_MASKED, opt
    hooks = json.loads(raw(d, "GET", "/v1/webhooks", DASH_KEY)[1])["webhooks"]
    assert hooks and all("hook-secret" not in h["url"] and h["url"].endswith("?…") for h in hooks), hooks

    # a search by digits would reveal the masked ones: refused, naming the parameter
    for q in ("to_suffix=0123", "to=" + urllib.parse.quote(TO)):
        code, text = raw(d, "GET", "/v1/messages?" + q, DASH_KEY)
        err = json.loads(text)["error"]
        assert code == 403 and err["code"] == "masked_numbers" and err["field"] == q.split("=")[0], text
    # an error that quotes the path masks the number in it too
    code, text = raw(d, "DELETE", "/v1/optout/" + urllib.parse.quote(OPT), DASH_KEY)
    assert code == 403 and json.loads(text)["error"]["code"] == "forbidden", text
    assert_no_full_number(text, "the 403")


def test_unmasked_keys_see_numbers_as_before(world):
    """The contract of existing keys: full numbers without view=dashboard (and the admin key with it)."""
    d, mid = world
    one = json.loads(raw(d, "GET", "/v1/messages/%d" % mid, TEST_KEY)[1])
    assert one["to"] == TO and one["text"] == TEXT and one["reference"] == REF
    assert json.loads(raw(d, "GET", "/v1/inbound", TEST_KEY)[1])["inbound"][0]["from"] == FROM
    opt = json.loads(raw(d, "GET", "/v1/optout", TEST_KEY)[1])["optout"][0]
    assert opt["number"] == OPT and opt["note"] == NOTE
    code, text = raw(d, "GET", "/v1/messages?to_suffix=0123", TEST_KEY)
    assert code == 200 and TO in text
    assert "hook-secret" in raw(d, "GET", "/v1/webhooks", TEST_KEY)[1]
    # view=dashboard stays a courtesy: masked for a read key, full for an admin key
    assert json.loads(raw(d, "GET", "/v1/inbound?view=dashboard", TEST_KEY)[1])["inbound"][0]["from"] == FROM_MASKED
    assert json.loads(raw(d, "GET", "/v1/optout?view=dashboard", TEST_KEY)[1])["optout"][0]["number"] == OPT_MASKED
    assert json.loads(raw(d, "GET", "/v1/inbound?view=dashboard", BOSS_KEY)[1])["inbound"][0]["from"] == FROM
    audit = json.loads(raw(d, "GET", "/v1/audit", BOSS_KEY)[1])["audit"]
    add = next(a for a in audit if a["action"] == "optout.add")
    assert add["target"] == OPT and NOTE in add["detail"], add


def test_masked_admin_key(world):
    """admin + mask_numbers administers, with every answer masked, and cannot get the numbers another way."""
    d, mid = world
    for path in READ_PATHS + ["/v1/audit", "/v1/keys"]:
        code, text = raw(d, "GET", path.format(id=mid), MBOSS_KEY)
        assert code == 200, (path, text)
        assert_no_full_number(text, path)
    audit = json.loads(raw(d, "GET", "/v1/audit", MBOSS_KEY)[1])["audit"]
    add = next(a for a in audit if a["action"] == "optout.add")
    assert add["target"] == OPT_MASKED and NOTE_MASKED in add["detail"], add

    # its own actions answer masked: an opt-out added, a 404 naming a number, one removed
    code, text = raw(d, "POST", "/v1/optout", MBOSS_KEY, {"number": "+15005550001"})
    assert code == 201 and json.loads(text)["number"] == "+1500555****", text
    code, text = raw(d, "DELETE", "/v1/optout/" + urllib.parse.quote("+15005550002"), MBOSS_KEY)
    assert code == 404 and "15005550002" not in text and "+1500555****" in text, text
    code, text = raw(d, "DELETE", "/v1/optout/" + urllib.parse.quote(OPT), MBOSS_KEY)
    assert code == 200 and json.loads(text) == {"number": OPT_MASKED, "removed": True}, text
    # a cancelled message's answer is masked too
    code, doc = d.api.send("+447700900999", "later", ttl=3600)
    assert code == 202
    code, text = raw(d, "DELETE", "/v1/messages/%d" % doc["id"], MBOSS_KEY)
    assert code in (200, 409) and "447700900999" not in text, text

    # what would hand out the numbers in full: a backup, an unmasked key
    code, text = raw(d, "POST", "/v1/backup", MBOSS_KEY)
    assert code == 403 and json.loads(text)["error"]["code"] == "masked_numbers", text
    for body in ({"name": "escape", "scopes": ["read"]}, {"name": "escape", "scopes": ["read"], "mask_numbers": False}):
        code, text = raw(d, "POST", "/v1/keys", MBOSS_KEY, body)
        assert code == 403 and json.loads(text)["error"]["field"] == "mask_numbers", text
    code, text = raw(d, "POST", "/v1/keys", MBOSS_KEY, {"name": "ok", "scopes": ["read"], "mask_numbers": True})
    assert code == 201 and json.loads(text)["mask_numbers"] is True, text


def test_store_key_with_mask_numbers_survives_a_restart(world):
    d, mid = world
    code, doc = d.api.request("POST", "/v1/keys", {"name": "dash2", "scopes": ["read"], "mask_numbers": True})
    assert code == 201 and doc["mask_numbers"] is True, doc
    key = doc["key"]
    code, plain = d.api.request("POST", "/v1/keys", {"name": "plain", "scopes": ["read"]})
    assert code == 201 and plain["mask_numbers"] is False
    for bad in ("yes", 1, None):
        code, err = d.api.request("POST", "/v1/keys", {"name": "bad", "scopes": ["read"], "mask_numbers": bad})
        assert code == 400 and err["error"]["field"] == "mask_numbers", err

    def check():
        for path in READ_PATHS:
            code, text = raw(d, "GET", path.format(id=mid), key)
            assert code == 200, (path, text)
            assert_no_full_number(text, path)
        assert json.loads(raw(d, "GET", "/v1/messages/%d" % mid, key)[1])["to"] == TO_MASKED
        assert json.loads(raw(d, "GET", "/v1/messages/%d" % mid, plain["key"])[1])["to"] == TO
        listing = {k["name"]: k for k in d.api.request("GET", "/v1/keys")[1]["keys"]}
        assert listing["dash2"]["mask_numbers"] is True and listing["plain"]["mask_numbers"] is False
        assert listing["dash"]["mask_numbers"] is True and listing["dash"]["source"] == "config"
        assert listing["test"]["mask_numbers"] is False
    check()
    d.stop()
    d.start()
    wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=20, what="the modem after the restart")
    check()


def test_cli_keys_mask_numbers(world):
    d, _ = world

    def cli(*args):
        return subprocess.run([SIMROUTE, "-s", d.sock, *args], capture_output=True, text=True, timeout=30)
    out = cli("keys", "create", "screen", "--scope", "read", "--mask-numbers")
    assert out.returncode == 0 and "numbers masked" in out.stdout, out.stdout + out.stderr
    key = next(l for l in out.stdout.splitlines() if l.startswith("sk_"))
    assert json.loads(raw(d, "GET", "/v1/inbound", key)[1])["inbound"][0]["from"] == FROM_MASKED
    doc = json.loads(cli("--json", "keys", "create", "other", "--scope", "read").stdout)
    assert doc["mask_numbers"] is False
    out = cli("keys", "list")
    rows = {l.split()[1]: l for l in out.stdout.splitlines()[1:] if l.split()}
    assert out.stdout.splitlines()[0].split()[-1] == "NUMBERS"
    assert rows["screen"].endswith("masked") and rows["other"].endswith("full") and rows["dash"].endswith("masked")
    listing = {k["name"]: k for k in json.loads(cli("--json", "keys", "list").stdout)["keys"]}
    assert listing["screen"]["mask_numbers"] is True and listing["other"]["mask_numbers"] is False


def test_masked_key_sees_modem_errors_masked(sim, daemon_factory):
    # a modem parked for a wrong SIM: its error quotes the ICCIDs, in last_error and in recent_errors
    want = "8944200000000000001"
    ini = (key_ini("dash", DASH_KEY, "read", "yes") + key_ini("boss", BOSS_KEY, "admin")
           + "[modem:w]\nport = %s\niccid = %s\n" % (sim.port(1), want))
    d = daemon_factory([], extra_ini=ini)

    def parked():
        m = d.api.request("GET", "/v1/modems")[1]["modems"][0]
        return m["state"] == "parked" and m["recent_errors"]
    wait_for(parked, timeout=20, what="the modem parked")
    text = raw(d, "GET", "/v1/modems", BOSS_KEY)[1]
    assert want in text                                   # unmasked keys: as before
    for path in ("/v1/modems", "/v1/status"):
        text = raw(d, "GET", path, DASH_KEY)[1]
        assert want not in text and want[:-4] + "****" in text, text
        doc = json.loads(text)
        assert all("****" in e["error"] for e in doc["modems"][0]["recent_errors"]), doc
