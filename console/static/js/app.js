// The console's shell: who is logged in, the header and navigation, and the hash routes
// (#/conversations?kind=handoff, #/conversation/<sender id>, #/handoffs, ...). Each screen lives in
// its own module and renders into a fresh container, so a slow screen never writes over the next one.
import { get, post, setCsrf, whenSessionEnds } from "./api.js";
import { clear, h, ROLE_LABELS } from "./dom.js";
import * as login from "./login.js";
import * as conversations from "./conversations.js";
import * as transcript from "./transcript.js";
import * as handoffs from "./handoffs.js";
import * as canned from "./canned.js";
import * as gaps from "./gaps.js";
import * as dashboard from "./dashboard.js";
import * as proposals from "./proposals.js";
import * as audit from "./audit.js";
import * as users from "./users.js";
import * as data from "./data.js";
import * as twoFactor from "./two_factor.js";
import * as alerts from "./alerts.js";

const PERMISSIONS = {
  read: ["reviewer", "clinician", "admin"],
  review: ["reviewer", "admin"],
  reply: ["clinician", "admin"],
  admin: ["admin"],
};

const ROUTES = {
  handoffs: { screen: handoffs, perm: "reply", nav: "Handoff queue" },
  conversations: { screen: conversations, perm: "read", nav: "Conversations" },
  conversation: { screen: transcript, perm: "read" },
  gaps: { screen: gaps, perm: "read", nav: "Knowledge gaps" },
  dashboard: { screen: dashboard, perm: "read", nav: "Dashboard" },
  canned: { screen: canned, perm: "reply", nav: "Canned replies" },
  proposals: { screen: proposals, perm: "review", nav: "Proposals" },
  audit: { screen: audit, perm: "admin", nav: "Audit log" },
  users: { screen: users, perm: "admin", nav: "Users" },
  data: { screen: data, perm: "admin", nav: "Data & privacy" },
  "two-factor": { screen: twoFactor, perm: "read", nav: "Two-factor" },
};

const main = document.getElementById("main");
const topbar = document.getElementById("topbar");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const flashBox = document.getElementById("flash");

let me = null; // {username, role, csrf_token, expires_at}
let leaving = []; // what the current screen asked to run when it is left (stop polling...)
let current = ""; // name of the screen on show
let expiryTimer = 0;
let keepFlash = false;

function can(perm) {
  return Boolean(me && (PERMISSIONS[perm] || []).includes(me.role));
}

function home() {
  return can("reply") && me.role === "clinician" ? "#/handoffs" : "#/conversations";
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { name: parts[0] || "", args: parts.slice(1), params: new URLSearchParams(query) };
}

function leave() {
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  for (const fn of leaving) {
    try {
      fn();
    } catch {
      /* a screen's clean-up must not stop the next screen */
    }
  }
  leaving = [];
}

function flash(kind, text) {
  clear(flashBox);
  if (text) {
    flashBox.append(h("p", { class: `notice notice-${kind}` }, text));
    keepFlash = true;
  }
}

/** The navigation item of the screen on show: a transcript opened from the queue belongs to the queue. */
function section(name, params) {
  if (name === "conversation") return params.get("from") === "handoffs" ? "handoffs" : "conversations";
  return name;
}

function renderHeader(params) {
  topbar.hidden = false;
  clear(nav);
  const list = h("ul");
  const here = section(current, params);
  for (const [name, route] of Object.entries(ROUTES)) {
    if (!route.nav || !can(route.perm)) continue;
    // the queue's link carries its counts (alerts.js), so staff see new handoffs from any screen
    const link = h("a", { href: `#/${name}` }, route.nav, name === "handoffs" ? h("span", { class: "nav-counts" }) : null);
    if (name === here) link.setAttribute("aria-current", "page");
    list.append(h("li", null, link));
  }
  nav.append(list);
  alerts.paintBadges();
  who.textContent = `${me.username} · ${ROLE_LABELS[me.role] || me.role}`;
}

async function route() {
  if (!me) return;
  const { name, args, params } = parseHash();
  const target = ROUTES[name];
  if (!target || (me.two_factor_setup_required && name !== "two-factor")) {
    // an admin who must set up an authenticator code reaches nothing else until it is on
    location.replace(me.two_factor_setup_required ? "#/two-factor" : home());
    return;
  }
  leave();
  if (!keepFlash) clear(flashBox);
  keepFlash = false;
  const sameScreen = name === current;
  current = name;
  renderHeader(params);
  const view = h("div", { class: `screen screen-${name}` });
  main.replaceChildren(view);
  if (!can(target.perm)) {
    view.append(
      h("h1", { tabindex: "-1" }, "Not available"),
      h("p", { class: "notice notice-info" }, "Your role does not include this screen."),
      h("p", null, h("a", { href: home() }, "Go to your start page")),
    );
    main.focus();
    return;
  }
  const ctx = {
    view,
    me,
    args,
    params,
    can,
    flash,
    go: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    title: (text) => {
      document.title = `${text} · Staff console`;
    },
    onLeave: (fn) => leaving.push(fn),
    live: () => view.isConnected,
  };
  try {
    await target.screen.render(ctx);
  } catch (error) {
    if (error && error.status === 401) return; // the login screen is already on show
    view.append(h("p", { class: "notice notice-error", role: "alert" }, (error && error.detail) || String(error)));
  }
  const focusLost = !document.activeElement || document.activeElement === document.body;
  if ((!sameScreen || focusLost) && view.isConnected) {
    const title = view.querySelector("h1");
    if (title && !view.contains(document.activeElement)) title.focus();
  }
}

function startSession(session) {
  me = session;
  setCsrf(session.csrf_token);
  if (can("reply") && !session.two_factor_setup_required) alerts.start();
  else alerts.stop();
  clearTimeout(expiryTimer);
  const left = new Date(session.expires_at).getTime() - Date.now();
  expiryTimer = setTimeout(
    () => showLogin("Your session has expired. Please log in again."),
    Math.min(Math.max(left, 0), 2 ** 31 - 1),
  );
}

function showLogin(message, kind = "error") {
  leave();
  alerts.stop();
  clearTimeout(expiryTimer);
  me = null;
  current = "login";
  setCsrf("");
  topbar.hidden = true;
  clear(flashBox);
  document.title = "Log in · Staff console";
  const view = h("div", { class: "screen screen-login" });
  main.replaceChildren(view);
  login.render(view, message, kind, (session) => {
    startSession(session);
    current = "";
    const { name } = parseHash();
    if (ROUTES[name] && name !== "login") route();
    else location.hash = home();
  });
}

async function logout() {
  try {
    await post("/api/auth/logout");
  } catch {
    /* already logged out: the login screen is what we want either way */
  }
  showLogin("You have logged out.", "info");
}

async function boot() {
  document.getElementById("logout").addEventListener("click", logout);
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault(); // "#main" is not a route
    main.focus();
  });
  whenSessionEnds((message) => {
    if (me) showLogin(message);
  });
  window.addEventListener("hashchange", route);
  try {
    startSession(await get("/api/auth/me"));
  } catch (error) {
    if (!me) showLogin(error.status === 401 ? "" : error.detail);
    return;
  }
  if (ROUTES[parseHash().name]) route();
  else location.replace(home()); // the hashchange routes
}

boot();
