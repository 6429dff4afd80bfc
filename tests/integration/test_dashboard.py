"""The web dashboard (/ui/) in a real browser: headless Chromium through WebDriver against a running
simrouted + gsmsim. Screenshots land in the test's temp dir (printed with -s)."""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import urllib.request

import pytest

from conftest import GSMSIM, SIMROUTE, TEST_KEY, free_port, wait_for

webdriver = pytest.importorskip("selenium.webdriver", reason="python3-selenium is needed (make deps)")
from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
ADMIN_KEY = "admin-key-for-the-dashboard"
# modem0 and modem1 get these +CSQ values: TS 27.007 -113 + 2 * rssi dBm
SIGNALS = {0: (25, -63), 1: (9, -95)}


def ctl(sim, *args):
    subprocess.run([GSMSIM, "ctl", sim.dir, *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def bank(sim, daemon_factory):
    """Two modems with known signals, a read key ("test") and an admin key, modems polled every second."""
    # webhooks go to a closed loopback port: they stay pending, with an error to show
    ini = ("poll_interval_ms = 1000\n"
           "[webhook]\nurl = http://127.0.0.1:%d/hook?token=hook-secret\n"
           "[api_key:admin]\nhash = sha256:%s\nscopes = read,admin\n"
           % (free_port(), hashlib.sha256(ADMIN_KEY.encode()).hexdigest()))
    # extra_ini lands in [modems]; the [modem:*] sections follow it
    d = daemon_factory([sim.port(0), sim.port(1)], extra_ini=ini)
    for i, (rssi, _) in SIGNALS.items():
        ctl(sim, "set", str(i), "signal=%d" % rssi)

    def signals_seen():
        mods = {m["name"]: m for m in d.api.request("GET", "/v1/modems")[1]["modems"]}
        return all(mods["m%d" % i]["signal_dbm"] == dbm for i, (_, dbm) in SIGNALS.items())
    wait_for(signals_seen, timeout=20, what="the simulated signals to reach the daemon")
    return d


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("chromium and chromium-driver are needed (make deps)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
              "--user-data-dir=" + str(tmp_path / "chromium"), "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    service = ChromeService(executable_path=CHROMEDRIVER, log_path=str(tmp_path / "chromedriver.log"))
    drv = webdriver.Chrome(options=opts, service=service)
    drv.set_page_load_timeout(20)
    yield drv
    drv.quit()


def shot(drv, tmp_path, name):
    path = str(tmp_path / ("dashboard-%s.png" % name))
    drv.save_screenshot(path)
    print("screenshot:", path)
    assert os.path.getsize(path) > 5000
    return path


def loaded(drv, page, timeout=15):
    try:
        wait_for(lambda: drv.execute_script("return document.body.dataset.loaded") == page, timeout=timeout,
                 what="the %s page to render" % page)
    except AssertionError:
        logs = drv.get_log("browser")
        raise AssertionError("the %s page did not render; status line %r; console %r" % (
            page, drv.find_element(By.ID, "conn").text, logs))


def sign_in(drv, d, key):
    drv.get("http://127.0.0.1:%d/ui/" % d.port)
    wait_for(lambda: drv.find_element(By.ID, "login").is_displayed(), what="the sign-in form")
    drv.find_element(By.ID, "key").send_keys(key)
    drv.find_element(By.CSS_SELECTOR, "#login-form button").click()
    loaded(drv, "overview")


def text_of(drv, css):
    return drv.find_element(By.CSS_SELECTOR, css).text


def test_dashboard_in_a_browser(bank, sim, browser, tmp_path):
    d = bank
    code, doc = d.api.send("+447700900123", "Your code is 424242", priority="otp")
    assert code == 202
    mid = doc["id"]
    d.wait_status(mid, ("sent",))

    # a wrong key is refused on the page itself
    browser.get("http://127.0.0.1:%d/ui/" % d.port)
    wait_for(lambda: browser.find_element(By.ID, "login").is_displayed(), what="the sign-in form")
    browser.find_element(By.ID, "key").send_keys("not-a-key")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait_for(lambda: "refused" in text_of(browser, "#login-error"), what="the refusal")

    # overview: problems in words, the chart, OTP latency, the route's usage
    browser.find_element(By.ID, "key").clear()
    browser.find_element(By.ID, "key").send_keys(TEST_KEY)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    loaded(browser, "overview")
    wait_for(lambda: text_of(browser, "#sent-total") == "1", what="the sent count in the chart")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar-sent")
    assert text_of(browser, "#otp-p50").endswith("ms") or text_of(browser, "#otp-p50").endswith("s")
    assert "2 of 2 modems ready" in text_of(browser, "#problems")
    usage = text_of(browser, "#usage")
    assert "m0" in usage or "m1" in usage
    assert browser.execute_script("return sessionStorage.getItem('simroute.key')") == TEST_KEY
    shot(browser, tmp_path, "overview")

    # modems: a card per modem with its simulated signal
    browser.find_element(By.CSS_SELECTOR, "nav a[data-page=modems]").click()
    loaded(browser, "modems")
    for i, (_, dbm) in SIGNALS.items():
        card = browser.find_element(By.CSS_SELECTOR, ".modem[data-modem=m%d]" % i)
        assert card.find_element(By.CSS_SELECTOR, "[data-field=signal]").text == "%d dBm" % dbm
        assert card.find_elements(By.CSS_SELECTOR, ".quota [data-window=day]")
        assert card.find_elements(By.CSS_SELECTOR, "svg.spark polyline")
    bars = browser.find_element(By.CSS_SELECTOR, ".modem[data-modem=m0] svg.bars").get_attribute("data-bars")
    assert bars == "4"    # -63 dBm
    shot(browser, tmp_path, "modems")

    # messages: the message is listed (number masked for a read key), its timeline and explanation
    browser.find_element(By.CSS_SELECTOR, "nav a[data-page=messages]").click()
    loaded(browser, "messages")
    row = browser.find_element(By.CSS_SELECTOR, "#messages tr[data-id='%d']" % mid)
    assert "+44770090****" in row.text
    assert "+447700900123" not in browser.page_source
    # search by the number's end, then open it
    box = browser.find_element(By.NAME, "to_suffix")
    box.send_keys("0123")
    browser.find_element(By.CSS_SELECTOR, "#search button").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#messages tr[data-id='%d']" % mid), what="search result")
    browser.find_element(By.CSS_SELECTOR, "#messages tr[data-id='%d'] a" % mid).click()
    loaded(browser, "messages")
    wait_for(lambda: browser.find_elements(By.ID, "timeline"), what="the message's timeline")
    timeline = text_of(browser, "#timeline")
    assert "accepted" in timeline and "sending" in timeline and "sent" in timeline
    assert "m0" in timeline or "m1" in timeline
    assert text_of(browser, "[data-field=to]") == "+44770090****"
    assert "424242" not in browser.page_source      # an OTP's code is not shown to a read key
    assert text_of(browser, "#explain")
    shot(browser, tmp_path, "message")

    # inbound and webhooks render (inbound from a stranger is shown as text, masked)
    ctl(sim, "sms", "0", "+447700900555", "<img src=x onerror=alert(1)> hello")
    wait_for(lambda: d.api.request("GET", "/v1/inbound")[1]["inbound"], timeout=15, what="the inbound SMS")
    browser.find_element(By.CSS_SELECTOR, "nav a[data-page=inbound]").click()
    loaded(browser, "inbound")
    wait_for(lambda: "hello" in text_of(browser, "#inbound"), what="the inbound row")
    assert "<img src=x onerror=alert(1)> hello" in text_of(browser, "#inbound")
    assert not browser.find_elements(By.CSS_SELECTOR, "#inbound img")
    assert "+44770090****" in text_of(browser, "#inbound")
    browser.find_element(By.CSS_SELECTOR, "nav a[data-page=webhooks]").click()
    loaded(browser, "webhooks")
    wait_for(lambda: "message.sent" in text_of(browser, "#webhooks"), what="the webhook backlog")
    hooks = text_of(browser, "#webhooks")
    assert "pending" in hooks and "hook-secret" not in hooks and "/hook?…" in hooks
    shot(browser, tmp_path, "webhooks")

    # an admin key sees full numbers and the text
    browser.find_element(By.ID, "logout").click()
    wait_for(lambda: browser.find_element(By.ID, "login").is_displayed(), what="the sign-in form")
    browser.find_element(By.ID, "key").send_keys(ADMIN_KEY)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    loaded(browser, "webhooks")     # back where the operator was
    browser.get("http://127.0.0.1:%d/ui/#messages/%d" % (d.port, mid))
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-field=to]"), what="the message as admin")
    assert text_of(browser, "[data-field=to]") == "+447700900123"
    assert "424242" in browser.page_source
    shot(browser, tmp_path, "message-admin")


def test_static_files_headers_and_redaction_is_server_side(bank):
    d = bank
    req = urllib.request.Request("http://127.0.0.1:%d/ui/" % d.port)
    with urllib.request.urlopen(req, timeout=10) as r:
        html = r.read().decode()
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Content-Type"].startswith("text/html")
        etag = r.headers["ETag"]
    assert "<script>" not in html and "onclick" not in html    # no inline script
    # a revalidation costs nothing
    req = urllib.request.Request("http://127.0.0.1:%d/ui/app.js" % d.port)
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/javascript")
        etag = r.headers["ETag"]
    code, _ = d.api.request("GET", "/ui/app.js", headers={"If-None-Match": etag})
    assert code == 304
    assert d.api.request("GET", "/ui/../simroute.ini", tcp=True)[0] == 404
    assert d.api.request("GET", "/ui/nope.js", tcp=True)[0] == 404

    code, doc = d.api.send("+447700900123", "hello, call 02079460123 at 10:30",
                           callback_url="http://127.0.0.1:9/hook?token=secret")
    mid = doc["id"]
    read = {"Authorization": "Bearer " + TEST_KEY}
    admin = {"Authorization": "Bearer " + ADMIN_KEY}
    # the existing API is unchanged for a read key without the view
    code, doc = d.api.request("GET", "/v1/messages/%d" % mid, tcp=True, headers=read)
    assert doc["to"] == "+447700900123" and doc["callback_url"].endswith("token=secret")
    assert doc["text"] == "hello, call 02079460123 at 10:30"
    # the dashboard's view masks, decided by the server from the key's scopes
    code, doc = d.api.request("GET", "/v1/messages/%d?view=dashboard" % mid, tcp=True, headers=read)
    assert code == 200 and doc["to"] == "+44770090****" and "secret" not in doc["callback_url"]
    assert doc["text"] == "hello, call 0207946**** at 10:30"
    code, doc = d.api.request("GET", "/v1/messages?view=dashboard&to_suffix=0123", tcp=True, headers=read)
    assert [m["to"] for m in doc["messages"]] == ["+44770090****"]
    code, doc = d.api.request("GET", "/v1/messages/%d?view=dashboard" % mid, tcp=True, headers=admin)
    assert doc["to"] == "+447700900123"
    assert d.api.request("GET", "/v1/messages?view=other", tcp=True, headers=read)[0] == 400
    assert d.api.request("GET", "/v1/messages?to_suffix=12a", tcp=True, headers=read)[0] == 400
    # stats need a key on TCP, and check their parameter
    assert d.api.request("GET", "/v1/stats", tcp=True)[0] == 401
    assert d.api.request("GET", "/v1/stats?minutes=61", tcp=True, headers=read)[0] == 400
    code, doc = d.api.request("GET", "/v1/stats?minutes=10", tcp=True, headers=read)
    assert code == 200 and len(doc["sent"]) == 10 and len(doc["failed"]) == 10


def test_simroute_ui_proxy(bank, browser, tmp_path):
    """`simroute ui` prints a loopback URL with a token; the browser needs no key, others get nothing."""
    d = bank
    # usage errors and a daemon that is not there: the CLI's exit codes, and no URL handed out
    r = subprocess.run([SIMROUTE, "-s", d.sock, "ui", "stray"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "usage: simroute ui" in r.stderr
    r = subprocess.run([SIMROUTE, "-s", str(tmp_path / "none.sock"), "ui"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 3 and "dashboard:" not in r.stdout
    code, doc = d.api.send("+447700900123", "via the proxy")
    d.wait_status(doc["id"], ("sent",))
    proc = subprocess.Popen([SIMROUTE, "-s", d.sock, "ui"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"dashboard: (http://127\.0\.0\.1:(\d+)/ui/\?token=([0-9a-f]{32}))$", line.strip())
        assert m, line
        url, port, token = m.group(1), int(m.group(2)), m.group(3)

        def get(path, headers=None, method="GET"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            conn.close()
            return r, body
        # before sign-in: nothing, and a wrong token is refused
        assert get("/v1/status")[0].status == 403
        assert get("/ui/?token=" + "0" * 32)[0].status == 403

        # the browser: straight in with the printed URL, no sign-in form, full numbers (the operator's access)
        browser.get(url)
        loaded(browser, "overview")
        assert not browser.find_element(By.ID, "login").is_displayed()
        assert not browser.find_element(By.ID, "logout").is_displayed()
        assert "?token" not in browser.current_url
        browser.find_element(By.CSS_SELECTOR, "nav a[data-page=messages]").click()
        loaded(browser, "messages")
        wait_for(lambda: "+447700900123" in text_of(browser, "#messages"), what="the full number")
        shot(browser, tmp_path, "proxy-messages")

        # the URL was good for one sign-in; the session lives in an HttpOnly, SameSite=Strict cookie
        r, _ = get("/ui/?token=" + token)
        assert r.status == 403
        cookie = [c for c in browser.get_cookies() if c["name"] == "simroute_ui"][0]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] != token
        jar = {"Cookie": "simroute_ui=" + cookie["value"]}
        assert get("/v1/status", {"Cookie": "simroute_ui=" + token})[0].status == 403
        assert get("/v1/status", dict(jar, Host="evil.example:%d" % port))[0].status == 403
        assert get("/v1/messages", jar, method="POST")[0].status == 405
        r, body = get("/v1/status", jar)
        assert r.status == 200 and json.loads(body)["routes"]["total"] == 2
        r, _ = get("/ui/", jar)
        assert r.getheader("Content-Security-Policy") and r.getheader("X-Frame-Options") == "DENY"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def test_a_week_of_polling_grows_nothing(bank):
    """What an open dashboard asks every 2 s, thousands of times: the daemon's memory stays flat."""
    d = bank
    for i in range(5):
        d.api.send("+44770090%04d" % i, "load %d" % i)
    paths = ["/v1/status?view=dashboard", "/v1/stats?minutes=60&view=dashboard", "/v1/modems?view=dashboard",
             "/v1/messages?limit=100&view=dashboard", "/v1/inbound?limit=100&view=dashboard",
             "/v1/webhooks?limit=100&view=dashboard", "/ui/app.js"]

    def rounds(n):
        for _ in range(n):
            for p in paths:
                assert d.api.request("GET", p)[0] == 200
    rounds(100)
    before = rss_kib(d.proc.pid)
    rounds(1000)
    grown = rss_kib(d.proc.pid) - before
    assert grown < 512, "simrouted grew %d KiB over 7000 dashboard requests" % grown


def test_stats_count_sends_and_failures_per_route(bank, sim):
    """GET /v1/stats from the store: a send and a permanent failure (CMS 1), each on its route."""
    d = bank
    code, doc = d.api.send("+447700900123", "goes out", priority="otp")
    d.wait_status(doc["id"], ("sent",))
    for i in SIGNALS:
        ctl(sim, "fault", str(i), "cms", "1")      # TS 24.011 E.2 RP-cause 1: unassigned number, permanent
    code, doc = d.api.send("+447700900999", "fails")
    failed = d.wait_status(doc["id"], ("failed",))
    code, st = d.api.request("GET", "/v1/stats?minutes=5", tcp=True, headers={"Authorization": "Bearer " + TEST_KEY})
    assert code == 200
    assert (st["sent_total"], st["failed_total"]) == (1, 1)
    assert st["sent"][-1] + st["sent"][-2] == 1       # this minute, or the previous one at a boundary
    routes = {r["route"]: r for r in st["routes"]}
    assert routes[failed["route"]]["failed_total"] == 1
    assert sum(r["sent_total"] for r in routes.values()) == 1
    assert st["otp_latency_ms"]["count"] == 1 and 0 < st["otp_latency_ms"]["p50"] <= st["otp_latency_ms"]["p99"]
    assert st["oldest_queued_seconds"] == {"otp": None, "normal": None, "bulk": None}
    # /metrics counts the refusal on its route by class
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + TEST_KEY})
    text = conn.getresponse().read().decode()
    conn.close()
    assert 'simroute_route_failed_total{modem="%s",class="permanent"} 1' % failed["route"] in text, text


def test_overview_names_a_postgresql_store(daemon_factory, pg_dsn, browser):
    """On a shared store the Daemon card says which backend and node, as there is no file."""
    d = daemon_factory([], extra_ini="[store]\nbackend = postgresql\ndsn = %s\nnode_id = dash1\n" % pg_dsn)
    sign_in(browser, d, TEST_KEY)
    wait_for(lambda: "postgresql, node dash1" in text_of(browser, "#overview"), what="the store line")
