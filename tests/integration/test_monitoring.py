"""The monitoring pack (docs/monitoring/): promtool validates and tests the alert rules, the Grafana
dashboard and the rules use only metric names the daemon serves, and /metrics passes promtool's lint."""
import json
import os
import re
import shutil
import subprocess
import urllib.request

import pytest

from conftest import ROOT, TEST_KEY, wait_for

MON = os.path.join(ROOT, "docs", "monitoring")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(not PROMTOOL, reason="promtool (Debian prometheus) is needed: make deps")


@needs_promtool
def test_promtool_checks_and_tests_the_rules():
    r = subprocess.run([PROMTOOL, "check", "rules", "simroute-alerts.yml"], cwd=MON, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout
    r = subprocess.run([PROMTOOL, "test", "rules", "simroute-alerts.test.yml"], cwd=MON, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def served_metric_names():
    src = open(os.path.join(ROOT, "src", "daemon", "api", "api_health.c")).read()
    return set(re.findall(r'"(simroute_[a-z_]+)', src))


def used_names(text):
    return set(re.findall(r"\b(simroute_[a-z_]+)", text))


def test_dashboard_and_rules_use_served_metrics():
    served = served_metric_names()
    assert {"simroute_route_quota_used", "simroute_oldest_queued_seconds", "simroute_store_write_errors_total"} <= served
    dash = json.load(open(os.path.join(MON, "grafana-dashboard.json")))
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    rules = open(os.path.join(MON, "simroute-alerts.yml")).read()
    for what, text in (("dashboard", exprs), ("rules", rules)):
        unknown = used_names(text) - served
        assert not unknown, "%s uses metrics /metrics does not serve: %s" % (what, unknown)
    assert len(dash["panels"]) >= 8 and len({p["id"] for p in dash["panels"]}) == len(dash["panels"])
    # every alert the issue asks for is there
    for alert in ("SimrouteSimDown", "SimrouteSimOutOfQuota", "SimrouteOtpWaiting", "SimrouteCarrierFailing",
                  "SimrouteStoreNotWritable"):
        assert "alert: " + alert in rules


@needs_promtool
def test_live_metrics_pass_promtool_and_carry_the_new_gauges(sim, daemon_factory):
    d = daemon_factory([sim.port(0)], extra_ini="[quota]\nday = 500\n")
    wait_for(lambda: d.api.status()["routes"]["ready"] == 1, timeout=20, what="the modem")
    code, doc = d.api.send("+447700900123", "quota use", priority="otp")
    d.wait_status(doc["id"], ("sent",))
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % d.port, headers={"Authorization": "Bearer " + TEST_KEY})
    body = urllib.request.urlopen(req, timeout=10).read().decode()
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'simroute_route_quota_used{modem="m0",window="day"} 1' in body
    assert 'simroute_route_quota_limit{modem="m0",window="day"} 500' in body
    assert 'simroute_route_quota_limit{modem="m0",window="minute"}' not in body   # no limit: no series
    assert 'simroute_oldest_queued_seconds{lane="otp"} 0' in body
    assert "simroute_store_write_errors_total 0" in body
    # with its only modem disabled an OTP waits, and the gauge shows its age
    assert d.api.request("POST", "/v1/modems/m0/disable")[0] == 200
    d.api.send("+447700900124", "waits", priority="otp")

    def otp_age():
        text = urllib.request.urlopen(req, timeout=10).read().decode()
        m = re.search(r'simroute_oldest_queued_seconds\{lane="otp"\} (\d+)', text)
        return m and int(m.group(1)) >= 1
    wait_for(otp_age, timeout=10, step=0.3, what="the OTP's age in /metrics")
