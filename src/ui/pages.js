/* pages.js: one function per page, each (params) -> {load: async () => data, render: (data) -> nodes}.
 * app.js fetches with load() every 2 s and swaps the page's nodes with render()'s. */
"use strict";

const LANES = ["otp", "normal", "bulk"];
const WINDOWS = ["minute", "hour", "day", "month"];

function card(title, cls) {
  const c = el("div", { class: "card " + (cls || "") });
  if (title) c.appendChild(el("h2", null, title));
  for (let i = 2; i < arguments.length; i++) append(c, arguments[i]);
  return c;
}

function kv(rows) {
  return el("dl", { class: "kv" }, rows.filter(Boolean).map(function (r) {
    return [el("dt", null, r[0]), el("dd", r[2] ? { "data-field": r[2] } : null, r[1])];
  }));
}

function table(headers, rows, attrs) {
  return el("table", attrs || null,
    el("thead", null, el("tr", null, headers.map(function (h) { return el("th", null, h); }))),
    el("tbody", null, rows.length ? rows : el("tr", null, el("td", { colspan: headers.length, class: "empty" }, "nothing to show"))));
}

/* Problems first, in words, as `simroute status` prints them. */
function problems(status, stats) {
  const out = [];
  const routes = status.routes || {}, byState = (status.queue || {}).by_state || {};
  if (!routes.total) out.push("No modems are configured: messages wait in the queue.");
  else if (!routes.ready) out.push("No modem is ready (0 of " + routes.total + "): messages wait in the queue.");
  (status.modems || []).forEach(function (m) {
    if (["ready", "busy", "disabled"].indexOf(m.state) < 0)
      out.push("Modem " + m.name + " is " + m.state + (m.last_error ? ": " + m.last_error : "") + ".");
    const r = m.route || {};
    if (r.breaker === "open") out.push("Modem " + m.name + " is cooling down after failures until " + fmtTime(r.cooldown_until) + ".");
    WINDOWS.forEach(function (w) {
      const q = (r.quota || {})[w];
      if (q && q.limit !== null && q.left === 0) out.push("Modem " + m.name + " is out of its " + w + " quota (" + q.used + "/" + q.limit + ").");
    });
  });
  if (byState.uncertain)
    out.push(byState.uncertain + " message(s) uncertain: a send was cut after the PDU reached a modem; check with the recipient before resending.");
  const otpAge = stats && stats.oldest_queued_seconds ? stats.oldest_queued_seconds.otp : null;
  if (otpAge !== null && otpAge !== undefined && otpAge >= 60)
    out.push("The oldest OTP has waited " + fmtSeconds(otpAge) + " in the queue.");
  if (stats && stats.failed_total && stats.failed_total >= Math.max(5, stats.sent_total))
    out.push(stats.failed_total + " sends failed in the last hour against " + stats.sent_total + " sent.");
  return out;
}

const pages = {};

pages.overview = function () {
  return {
    load: async function () {
      const r = await Promise.all([api("/v1/status"), api("/v1/stats?minutes=60")]);
      return { status: r[0], stats: r[1] };
    },
    render: function (d) {
      const st = d.status, stats = d.stats, q = st.queue || {}, by = q.by_state || {};
      const probs = problems(st, stats);
      const probCard = card(probs.length ? "Problems" : "All well", probs.length ? "problems wide" : "well wide",
        probs.length ? el("ul", { id: "problems" }, probs.map(function (p) { return el("li", null, p); }))
          : el("p", { id: "problems" }, (st.routes || {}).ready + " of " + (st.routes || {}).total + " modems ready, nothing needs you."));
      const queue = card("Queue", null,
        table(["lane", "queued", "oldest"], LANES.map(function (l) {
          return el("tr", null, el("td", null, l), el("td", { class: "num", "data-lane": l }, String((q.queued || {})[l] || 0)),
            el("td", { class: "num" }, fmtSeconds((stats.oldest_queued_seconds || {})[l])));
        })),
        el("div", { class: "states" }, Object.keys(by).map(function (s) {
          return el("span", { class: "state" }, badge(s), " ", el("b", { "data-count": s }, String(by[s])));
        })));
      const lat = stats.otp_latency_ms || {};
      const latency = card("OTP accept → sent", null,
        el("div", { class: "big" }, el("span", { id: "otp-p50" }, fmtMs(lat.p50)), el("small", null, " p50")),
        el("div", { class: "big" }, el("span", { id: "otp-p99" }, fmtMs(lat.p99)), el("small", null, " p99")),
        el("p", { class: "muted" }, (lat.count || 0) + " OTP(s) sent in the last hour"));
      const chart = card("Messages per minute, last hour", "wide",
        el("p", { class: "legend" }, el("span", { class: "key sent" }), " sent ", el("b", { id: "sent-total" }, String(stats.sent_total)),
          "   ", el("span", { class: "key failed" }), " failed ", el("b", { id: "failed-total" }, String(stats.failed_total))),
        /* drawn at the page's width, so labels keep their size however wide the screen */
        barChart(stats.sent, stats.failed, { width: Math.max(480, Math.min(1600, document.getElementById("page").clientWidth - 70)) }));
      const modemNames = (st.modems || []).map(function (m) { return m.name; });
      const usage = card("Routes and carrier usage, last hour", null,
        table(["route", "kind", "sent", "failed"], (stats.routes || []).map(function (r) {
          return el("tr", null, el("td", null, r.route), el("td", null, modemNames.indexOf(r.route) >= 0 ? "SIM" : "carrier"),
            el("td", { class: "num" }, String(r.sent_total)), el("td", { class: "num" }, String(r.failed_total)));
        }), { id: "usage" }));
      const daemon = card("Daemon", null, kv([
        ["version", st.version], ["up", fmtSeconds(st.uptime_s)],
        ["store", (st.store || {}).path ? st.store.path + (st.store.size_bytes !== undefined ? " (" + Math.round(st.store.size_bytes / 1024) + " KiB)" : "")
          : (st.store || {}).backend + (st.store && st.store.node ? ", node " + st.store.node : "")],
        ["modems ready", (st.routes || {}).ready + " of " + (st.routes || {}).total]]));
      return el("div", { class: "grid", id: "overview" }, probCard, chart, queue, latency, usage, daemon);
    }
  };
};

function quotaBars(route) {
  const quota = (route || {}).quota || {};
  return el("div", { class: "quota" }, WINDOWS.map(function (w) {
    const q = quota[w];
    if (!q) return null;
    const limited = q.limit !== null && q.limit !== undefined;
    return el("div", { class: "qrow", "data-window": w },
      el("span", { class: "qname" }, w),
      limited ? el("meter", { min: 0, max: q.limit, value: q.used, low: q.limit * 0.7, high: q.limit * 0.9, optimum: 0 })
        : el("span", { class: "nolimit" }, "no limit"),
      el("span", { class: "qval" }, limited ? q.used + "/" + q.limit : String(q.used)));
  }));
}

pages.modems = function () {
  return {
    load: async function () {
      const r = await Promise.all([api("/v1/modems"), api("/v1/stats?minutes=60")]);
      return { modems: r[0], stats: r[1] };
    },
    render: function (d) {
      const byRoute = {};
      (d.stats.routes || []).forEach(function (r) { byRoute[r.route] = r; });
      const cards = (d.modems.modems || []).map(function (m) {
        const r = m.route || {}, s = byRoute[m.name];
        const spark = s ? s.sent : new Array(d.stats.minutes || 60).fill(0);
        const today = r.quota && r.quota.day ? r.quota.day.used : null;
        return el("div", { class: "card modem", "data-modem": m.name },
          el("div", { class: "modem-head" }, el("h2", null, m.name), badge(m.state), m.drained ? el("span", { class: "badge dim" }, "drained") : null),
          el("div", { class: "signal" }, signalBars(m.signal_dbm),
            el("span", { class: "dbm", "data-field": "signal" }, m.signal_dbm === null || m.signal_dbm === undefined ? "no signal" : m.signal_dbm + " dBm"),
            el("span", { class: "muted" }, m.operator || "no operator")),
          kv([["model", m.model || "–"], ["sent today", today === null ? "–" : String(today), "today"],
            ["failure rate", pct(r.failure_rate), "failure_rate"], ["breaker", r.breaker || "–"],
            r.cooldown_until ? ["cooling until", fmtTime(r.cooldown_until)] : null,
            ["last used", fmtTime(r.last_used)], ["last error", m.last_error || "none", "last_error"]]),
          quotaBars(r),
          el("div", { class: "sparkbox" }, sparkline(spark), el("small", { class: "muted" }, "sends per minute, last hour")));
      });
      if (!cards.length) cards.push(card("No modems", null, el("p", null, "No modems are configured.")));
      return el("div", { class: "cards", id: "modems" }, cards);
    }
  };
};

/* The search form keeps its values across refreshes: it is built once per visit of the page. */
pages.messages = function (params) {
  if (params.id) return messageDetail(params.id);
  const form = el("form", { class: "search", id: "search" },
    el("label", null, "number ends with ", el("input", { name: "to_suffix", inputmode: "numeric", pattern: "[0-9]{2,15}", size: 10, placeholder: "0123" })),
    el("label", null, "status ", el("select", { name: "status" }, el("option", { value: "" }, "any"),
      ["queued", "sending", "sent", "delivered", "undelivered", "failed", "expired", "cancelled", "uncertain"].map(function (s) {
        return el("option", { value: s }, s);
      }))),
    el("label", null, "since ", el("input", { name: "since", type: "datetime-local" })),
    el("button", { type: "submit" }, "Search"));
  let query = "";
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const f = new FormData(form), p = new URLSearchParams();
    if (f.get("to_suffix")) p.set("to_suffix", f.get("to_suffix"));
    if (f.get("status")) p.set("status", f.get("status"));
    if (f.get("since")) p.set("since", new Date(f.get("since")).toISOString());
    query = p.toString();
    refreshNow();
  });
  return {
    keep: form,
    /* a search may have the daemon scan many rows: refreshed every 15 s, the plain list every 2 s */
    every: function () { return query ? 15000 : 0; },
    load: function () { return api("/v1/messages?limit=100" + (query ? "&" + query : "")); },
    render: function (d) {
      const rows = (d.messages || []).map(function (m) {
        const link = el("a", { href: "#messages/" + m.id }, String(m.id));
        return el("tr", { "data-id": m.id }, el("td", null, link), el("td", { class: "number" }, m.to), el("td", null, badge(m.status)),
          el("td", null, m.priority), el("td", { class: "num" }, m.parts_sent + "/" + m.parts), el("td", null, m.route || "–"),
          el("td", null, fmtTime(m.created_at)), el("td", { class: "err" }, m.error || ""));
      });
      return [form, table(["id", "to", "status", "lane", "parts", "route", "accepted", "error"], rows, { id: "messages" })];
    }
  };
};

function messageDetail(id) {
  return {
    load: async function () {
      const r = await Promise.all([api("/v1/messages/" + encodeURIComponent(id)),
        api("/v1/messages/" + encodeURIComponent(id) + "/explain")]);
      return { m: r[0], explain: r[1] };
    },
    render: function (d) {
      const m = d.m;
      const head = card("Message " + m.id, "wide", el("p", null, el("a", { href: "#messages" }, "← all messages")),
        kv([["to", m.to, "to"], ["status", badge(m.status), "status"], ["lane", m.priority], ["parts", m.parts_sent + " of " + m.parts + " sent"],
          ["attempts", String(m.attempts)], ["route", m.route || "–"], ["reference", m.reference || "–"],
          ["accepted", fmtTime(m.created_at)], ["sent", fmtTime(m.sent_at)], ["expires", fmtTime(m.expires_at)],
          ["error", m.error || "none"], ["text", el("span", { class: "smstext" }, m.text)]]));
      const events = (m.events || []).map(function (e) {
        return el("li", null, el("time", null, fmtTime(e.at)), " ", badge(e.from), " → ", badge(e.to),
          e.route ? " via " + e.route : "", e.error ? el("span", { class: "err" }, " " + e.error) : null);
      });
      const timeline = card("Timeline", null, el("ol", { class: "timeline", id: "timeline" },
        el("li", null, el("time", null, fmtTime(m.created_at)), " accepted"), events));
      const parts = card("Parts and routes", null, table(["part", "route", "mr", "delivery", "reported"],
        (m.part_status || []).map(function (p) {
          return el("tr", null, el("td", null, String(p.part)), el("td", null, p.route), el("td", null, p.mr === null ? "–" : String(p.mr)),
            el("td", null, badge(p.delivery)), el("td", null, fmtTime(p.reported_at)));
        })));
      const explain = card("Explanation", "wide", el("ul", { class: "explain", id: "explain" },
        (d.explain.explanation || []).map(function (l) { return el("li", null, l); })));
      return el("div", { class: "grid", id: "message" }, head, timeline, parts, explain);
    }
  };
}

pages.inbound = function () {
  return {
    load: function () { return api("/v1/inbound?limit=100"); },
    render: function (d) {
      return table(["id", "from", "text", "parts", "route", "received"], (d.inbound || []).map(function (m) {
        return el("tr", null, el("td", null, String(m.id)), el("td", { class: "number" }, m.from),
          el("td", { class: "smstext" }, m.text), el("td", null, m.parts + (m.complete ? "" : " (incomplete)")),
          el("td", null, m.route), el("td", null, fmtTime(m.received_at)));
      }), { id: "inbound" });
    }
  };
};

pages.webhooks = function () {
  return {
    every: 10000,
    load: async function () {
      const r = await Promise.all([api("/v1/webhooks?limit=100"), api("/v1/webhooks?failed=1&limit=100")]);
      return { all: r[0], failed: r[1] };
    },
    render: function (d) {
      const rows = function (list) {
        return (list || []).map(function (w) {
          return el("tr", null, el("td", null, String(w.id)), el("td", null, w.event), el("td", null, badge(w.status)),
            el("td", null, w.message_id === null ? "–" : el("a", { href: "#messages/" + w.message_id }, String(w.message_id))),
            el("td", { class: "num" }, String(w.attempts)), el("td", null, fmtTime(w.next_at)),
            el("td", { class: "url" }, w.url), el("td", { class: "err" }, w.last_error || ""));
        });
      };
      const latest = d.all.webhooks || [];
      const pending = latest.filter(function (w) { return w.status === "pending"; });
      const delivered = latest.filter(function (w) { return w.status === "delivered"; });
      const heads = ["id", "event", "status", "message", "attempts", "next try", "url", "last error"];
      return el("div", { id: "webhooks" },
        card("Pending: " + pending.length + " of the latest " + latest.length + " events", "wide", table(heads, rows(pending))),
        card("Failed at least once, or given up", "wide", table(heads, rows(d.failed.webhooks))),
        card("Delivered (latest)", "wide", table(heads, rows(delivered))));
    }
  };
};
