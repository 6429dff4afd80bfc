#!/usr/bin/python3
"""Print the latest figures of bench/results/*.jsonl as a Markdown table (for bench/README.md)."""
import json
import os

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def last(name):
    try:
        with open(os.path.join(RESULTS, name + ".jsonl")) as f:
            lines = [line for line in f if line.strip()]
        return json.loads(lines[-1]) if lines else None
    except FileNotFoundError:
        return None


def spread(s, fmt):
    if not s:
        return "n/a"
    return (fmt + " (" + fmt + "–" + fmt + ")") % (s["median"], s["min"], s["max"])


def main():
    rows = []
    r = last("ingest")
    if r:
        for c in ("c1", "c16", "c64"):
            f = r["figures"][c]
            rows.append(("ingest, %s connection(s), TCP + key, no modems" % c[1:],
                         spread(f["acked_per_s"], "%.0f") + " msg/s",
                         "p50 " + spread(f["p50_ms"], "%.2f") + " ms; p99 " + spread(f["p99_ms"], "%.2f") + " ms"))
    r = last("delivery")
    if r:
        L = r["params"]["latency_s"]
        for n in r["params"]["modems"]:
            f = r["figures"]["n%d" % n]
            rows.append(("delivery, N=%d, L=%g s (ceiling %g/s)" % (n, L, n / L),
                         spread(f["steady_fraction"], "%.3f") + " of ceiling",
                         "end to end " + spread(f["end_to_end_fraction"], "%.3f") + "; CPU "
                         + spread(f["daemon_cpu_ms_per_msg"], "%.2f") + " ms/msg; RSS "
                         + spread(f["rss_mib"], "%.1f") + " MiB"))
    r = last("latency")
    if r:
        f = r["figures"]["idle"]
        rows.append(("latency idle, 202 → AT+CMGS", "p50 " + spread(f["p50_ms"], "%.1f") + " ms",
                     "p99 " + spread(f["p99_ms"], "%.1f") + " ms"))
        if "post_to_cmgs_p50_ms" in f:
            rows.append(("latency idle, POST sent → AT+CMGS", "p50 " + spread(f["post_to_cmgs_p50_ms"], "%.1f")
                         + " ms", "p99 " + spread(f["post_to_cmgs_p99_ms"], "%.1f") + " ms"))
        f = r["figures"]["otp_behind_bulk"]
        rows.append(("OTP behind %d bulk, 4 modems L=%g s: 202 → AT+CMGS" % (f["backlog"], f["send_time_ms"] / 1000),
                     "p50 " + spread(f["p50_ms"], "%.0f") + " ms",
                     "p99 " + spread(f["p99_ms"], "%.0f") + " ms; max " + spread(f["max_ms"], "%.0f") + " ms"))
    r = last("footprint")
    if r:
        f = r["figures"]
        rows.append(("footprint, %d queued, no modems (1 run)" % f["queued"],
                     "RSS %.1f MiB (empty %.1f), HWM %.1f MiB" % (f["rss_mib"], f["rss_empty_mib"], f["hwm_mib"]),
                     "store %.0f bytes/msg (%.0f MB); restart %.2f s, RSS after %.1f MiB; fill %.0f msg/s"
                     % (f["store_bytes_per_msg"], f["store_bytes"] / 1e6, f["restart_s"],
                        f["rss_after_restart_mib"], f["fill_per_s"])))
    print("| figure | median (min–max) | also |")
    print("|---|---|---|")
    for row in rows:
        print("| %s | %s | %s |" % row)


if __name__ == "__main__":
    main()
