/* app.js: sign-in, the API client, the hash router and the 2 s refresh of the page on screen. */
"use strict";

const POLL_MS = 2000;
const KEY_STORE = "simroute.key";

const app = {
  key: sessionStorage.getItem(KEY_STORE) || "",
  page: null,       /* {load, render, keep?} of the page on screen */
  route: "",
  timer: null,
  busy: false,
  generation: 0     /* bumped on navigation: a late answer for the previous page is dropped */
};

class AuthError extends Error {}

/* GET an API path as the dashboard: view=dashboard makes the server mask numbers unless the key
 * may administer (a key with mask_numbers is masked whatever it asks). Over `simroute ui` no key is needed (the proxy reaches the Unix socket). */
async function api(path) {
  const headers = { Accept: "application/json" };
  if (app.key) headers.Authorization = "Bearer " + app.key;
  const url = path + (path.indexOf("?") >= 0 ? "&" : "?") + "view=dashboard";
  const res = await fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin", redirect: "error" });
  if (res.status === 401) throw new AuthError("the API key was refused");
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : "HTTP " + res.status;
    const scope = res.status === 403 && body && body.error && body.error.code === "forbidden";
    throw new Error(scope ? "this key lacks the read scope: " + msg : msg);
  }
  return body;
}

function setConn(text, cls) {
  const c = document.getElementById("conn");
  c.textContent = text;
  c.className = "conn " + (cls || "");
}

function showLogin(message) {
  stopPolling();
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  fill(document.getElementById("page"));
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
  setConn("");
  document.getElementById("key").focus();
}

function parseRoute() {
  const h = (location.hash || "#overview").slice(1).split("/");
  const name = pages[h[0]] ? h[0] : "overview";
  return { name: name, params: { id: h[1] && /^[0-9]{1,18}$/.test(h[1]) ? h[1] : null } };
}

function navigate() {
  const r = parseRoute();
  app.generation++;
  app.route = r.name;
  app.page = pages[r.name](r.params);
  document.querySelectorAll("#nav a").forEach(function (a) {
    a.classList.toggle("active", a.dataset.page === r.name);
  });
  fill(document.getElementById("page"), app.page.keep || null, el("p", { class: "muted" }, "loading…"));
  refreshNow();
}

/* A page may ask to be refreshed less often (page.every ms): listings that can make the daemon scan. */
async function refresh(forced) {
  if (app.busy || !app.page) return;
  const page = app.page, now = Date.now();
  const every = typeof page.every === "function" ? page.every() : page.every;
  if (!forced && every && page.lastAt && now - page.lastAt < every) return;
  page.lastAt = now;
  app.busy = true;
  const gen = app.generation;
  try {
    const data = await page.load();
    if (gen !== app.generation) return;
    const nodes = page.render(data);
    const root = document.getElementById("page");
    /* keep a form the operator is typing in; replace the rest */
    if (page.keep && root.contains(page.keep)) {
      Array.from(root.childNodes).forEach(function (n) { if (n !== page.keep) root.removeChild(n); });
      (Array.isArray(nodes) ? nodes : [nodes]).forEach(function (n) { if (n !== page.keep) root.appendChild(n); });
    } else {
      fill(root, nodes);
    }
    document.body.dataset.loaded = app.route;
    setConn("live · " + new Date().toLocaleTimeString(), "ok");
  } catch (e) {
    if (e instanceof AuthError) {
      sessionStorage.removeItem(KEY_STORE);
      app.key = "";
      showLogin("Sign-in needed: " + e.message + ".");
      return;
    }
    if (gen === app.generation) setConn("cannot refresh: " + e.message, "bad");
  } finally {
    app.busy = false;
  }
}

function refreshNow() {
  app.busy = false;
  refresh(true);
}

function startPolling() {
  stopPolling();
  /* a hidden tab costs the daemon nothing: polls resume when it is shown again */
  app.timer = setInterval(function () { if (!document.hidden) refresh(); }, POLL_MS);
}

function stopPolling() {
  if (app.timer) clearInterval(app.timer);
  app.timer = null;
}

function enter() {
  document.getElementById("login").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = !app.key;
  navigate();
  startPolling();
}

/* First contact: with the stored key, or none (the `simroute ui` proxy needs none). */
async function start() {
  try {
    await api("/v1/status");
    enter();
  } catch (e) {
    showLogin(e instanceof AuthError ? "" : "The daemon did not answer: " + e.message);
  }
}

document.getElementById("login-form").addEventListener("submit", async function (ev) {
  ev.preventDefault();
  const input = document.getElementById("key");
  app.key = input.value.trim();
  try {
    await api("/v1/status");
    sessionStorage.setItem(KEY_STORE, app.key);
    input.value = "";
    enter();
  } catch (e) {
    app.key = "";
    document.getElementById("login-error").textContent = e instanceof AuthError ? "That key was refused." : e.message;
  }
});

document.getElementById("logout").addEventListener("click", function () {
  sessionStorage.removeItem(KEY_STORE);
  app.key = "";
  showLogin("Signed out.");
});

document.addEventListener("visibilitychange", function () { if (!document.hidden && app.timer) refresh(); });
window.addEventListener("hashchange", function () { if (app.timer) navigate(); });
start();
