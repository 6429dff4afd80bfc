/* dom.js: building the page from data. Every value goes in as text (a text node or textContent),
 * never as HTML: SMS texts and sender names come from strangers. */
"use strict";

/* el("div", {class: "x", title: "y"}, "text", child, [more]) -> element. Strings become text nodes;
 * attributes are set with setAttribute (no on* handlers: use addEventListener). */
function el(tag, attrs) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) throw new Error("event handlers go through addEventListener");
      e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (let i = 2; i < arguments.length; i++) append(e, arguments[i]);
  return e;
}

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { child.forEach(function (c) { append(parent, c); }); return; }
  parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

/* Replace the children of node with the given ones. */
function fill(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  for (let i = 1; i < arguments.length; i++) append(node, arguments[i]);
  return node;
}

/* "2026-11-23T13:45:00.123Z" -> local "13:45:00" today, else "2026-11-23 13:45". */
function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const now = new Date();
  const pad = function (n) { return String(n).padStart(2, "0"); };
  const hms = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  if (d.toDateString() === now.toDateString()) return hms;
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hms.slice(0, 5);
}

/* 1234 ms -> "1.2 s", 95000 -> "1 min 35 s". */
function fmtMs(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + " s";
  const s = Math.round(ms / 1000);
  return Math.floor(s / 60) + " min " + (s % 60) + " s";
}

function fmtSeconds(s) {
  return s === null || s === undefined ? "–" : fmtMs(s * 1000);
}

function pct(x) {
  return (x === null || x === undefined) ? "–" : Math.round(x * 100) + " %";
}

/* A state name as a coloured badge (colour by class, text as text). */
function badge(state) {
  const cls = {
    ready: "ok", busy: "ok", sent: "ok", delivered: "ok", closed: "ok",
    queued: "wait", sending: "wait", pending: "wait", half_open: "wait", draining: "wait", registering: "wait",
    initialising: "wait", opening: "wait", sim_wait: "wait",
    failed: "bad", undelivered: "bad", expired: "bad", uncertain: "bad", open: "bad", recovering: "bad",
    absent: "bad", cancelled: "dim", disabled: "dim"
  }[state] || "dim";
  return el("span", { class: "badge " + cls, "data-state": state }, state || "–");
}
