/* charts.js: the few drawings the dashboard needs, as inline SVG built node by node (no library). */
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const k of Object.keys(attrs || {})) e.setAttribute(k, String(attrs[k]));
  for (let i = 2; i < arguments.length; i++) {
    const c = arguments[i];
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

/* Sent (and failed, stacked on top) per minute, oldest left; a y axis with its maximum. */
function barChart(sent, failed, opts) {
  const w = (opts && opts.width) || 640, h = (opts && opts.height) || 160, padL = 36, padB = 18, padT = 8;
  const n = sent.length;
  let max = 1;
  for (let i = 0; i < n; i++) max = Math.max(max, sent[i] + (failed[i] || 0));
  const bw = (w - padL) / n, plotH = h - padB - padT;
  const root = svg("svg", { viewBox: "0 0 " + w + " " + h, class: "chart", role: "img",
    "aria-label": "messages per minute, last " + n + " minutes" });
  root.appendChild(svg("line", { x1: padL, y1: h - padB, x2: w, y2: h - padB, class: "axis" }));
  root.appendChild(svg("text", { x: padL - 4, y: padT + 8, class: "tick", "text-anchor": "end" }, String(max)));
  root.appendChild(svg("text", { x: padL - 4, y: h - padB, class: "tick", "text-anchor": "end" }, "0"));
  root.appendChild(svg("text", { x: padL, y: h - 4, class: "tick" }, "-" + n + " min"));
  root.appendChild(svg("text", { x: w, y: h - 4, class: "tick", "text-anchor": "end" }, "now"));
  for (let i = 0; i < n; i++) {
    const s = sent[i], f = failed[i] || 0;
    const x = padL + i * bw + 1, hs = plotH * s / max, hf = plotH * f / max;
    const g = svg("g", {}, svg("title", {}, (n - 1 - i) + " min ago: " + s + " sent, " + f + " failed"));
    if (s) g.appendChild(svg("rect", { x: x, y: h - padB - hs, width: Math.max(bw - 2, 1), height: hs, class: "bar-sent" }));
    if (f) g.appendChild(svg("rect", { x: x, y: h - padB - hs - hf, width: Math.max(bw - 2, 1), height: hf, class: "bar-failed" }));
    root.appendChild(g);
  }
  return root;
}

/* A small line of values, for a modem's sends per minute. */
function sparkline(values, opts) {
  const w = (opts && opts.width) || 180, h = (opts && opts.height) || 32;
  const n = values.length;
  let max = 1;
  values.forEach(function (v) { max = Math.max(max, v); });
  const pts = values.map(function (v, i) {
    return (n > 1 ? i * (w - 2) / (n - 1) + 1 : w / 2).toFixed(1) + "," + (h - 2 - (h - 4) * v / max).toFixed(1);
  });
  const total = values.reduce(function (a, b) { return a + b; }, 0);
  return svg("svg", { viewBox: "0 0 " + w + " " + h, class: "spark", role: "img",
    "aria-label": total + " sent in the last " + n + " minutes" },
    svg("title", {}, total + " sent in the last " + n + " minutes (peak " + max + "/min)"),
    svg("polyline", { points: pts.join(" "), class: "spark-line" }));
}

/* Four bars from the signal in dBm (TS 27.007 +CSQ: -113 .. -51); null: unknown. */
function signalBars(dbm) {
  const lit = dbm === null || dbm === undefined ? 0 : dbm >= -73 ? 4 : dbm >= -83 ? 3 : dbm >= -93 ? 2 : dbm >= -105 ? 1 : 0;
  const root = svg("svg", { viewBox: "0 0 28 20", class: "bars", role: "img", "data-bars": lit,
    "aria-label": lit + " of 4 bars" });
  for (let i = 0; i < 4; i++) {
    const bh = 5 + i * 5;
    root.appendChild(svg("rect", { x: i * 7, y: 20 - bh, width: 5, height: bh, class: i < lit ? "bar-on" : "bar-off" }));
  }
  return root;
}
