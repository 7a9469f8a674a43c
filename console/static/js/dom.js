// Building the page. Every piece of data goes into the DOM as text (textContent / text nodes),
// never as HTML: patients' messages are untrusted.

/**
 * h("button", {class: "btn", onclick: fn, type: "button"}, "Save") -> <button class="btn">Save</button>
 * Children: nodes, strings (added as text), arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  let value;
  for (const [key, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (key === "class") node.className = v;
    else if (key === "text") node.textContent = String(v);
    else if (key === "value") value = v;
    else if (key.startsWith("on") && typeof v === "function") node.addEventListener(key.slice(2), v);
    else node.setAttribute(key, v === true ? "" : String(v));
  }
  append(node, children);
  if (value !== undefined) node.value = String(value); // after the options of a <select> exist
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

let ids = 0;
export function uid(prefix = "f") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field: {label, input, hint} -> a wrapper with <label for>. */
export function field(label, input, hint) {
  if (!input.id) input.id = uid();
  const wrap = h("div", { class: "field" }, h("label", { for: input.id }, label));
  if (hint) {
    const hintEl = h("p", { class: "hint", id: uid("hint") }, hint);
    input.setAttribute("aria-describedby", hintEl.id);
    wrap.append(hintEl);
  }
  wrap.append(input);
  return wrap;
}

export function select(name, options, value) {
  // options: [[value, label], ...]
  return h("select", { name, value: value || "" }, options.map(([v, label]) => h("option", { value: v }, label)));
}

/** A polite message box: kind is "error", "ok" or "info". Errors are announced at once. */
export function notice(kind, text) {
  const box = h("p", { class: `notice notice-${kind}` }, text);
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  return box;
}

export function badge(kind, text) {
  return h("span", { class: `badge badge-${kind}` }, text);
}

export function heading(text, level = 1) {
  return h(`h${level}`, { tabindex: level === 1 ? "-1" : null }, text);
}

// ---------------------------------------------------------------- formatting

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE_TIME.format(date);
}

export function clock(date = new Date()) {
  return TIME.format(date);
}

/** A machine-readable <time> with a readable text. */
export function timeEl(iso) {
  return h("time", { datetime: iso }, when(iso));
}

/** Waiting time as staff say it: "under 1 min", "12 min", "2 h 5 min", "3 days". */
export function waited(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 1) return "under 1 min";
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

export function percent(value) {
  return typeof value === "number" ? `${Math.round(value * 100)} %` : "–";
}

/** "the password must be..." -> "The password must be...." (server messages are lower-case fragments). */
export function sentence(text) {
  const s = String(text || "").trim();
  if (!s) return "";
  const first = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

// Local calendar dates <-> the API's timestamps.
export function startOfDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y, m - 1, d).toISOString();
}

export function endOfDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y, m - 1, d, 23, 59, 59, 999).toISOString();
}

// ---------------------------------------------------------------- labels

export const KINDS = [
  ["handoff", "Handed to a clinician"],
  ["emergency", "Emergency"],
  ["clarify", "Clarifying question"],
  ["out_of_scope", "Out of scope"],
  ["low_confidence", "Low confidence"],
  ["answer", "Answered"],
  ["booking", "Booking request"],
];
export const KIND_LABELS = Object.fromEntries([
  ...KINDS,
  ["smalltalk", "Small talk"],
  ["clinic_info", "Clinic information"],
  ["consent", "Consent"],
]);
export const CHANNELS = [
  ["webchat", "Web chat"],
  ["telegram", "Telegram"],
  ["whatsapp", "WhatsApp"],
  ["rest", "REST API"],
];
export const CHANNEL_LABELS = Object.fromEntries(CHANNELS);
export const ROLE_LABELS = { clinician: "Clinician", reviewer: "Reviewer", admin: "Administrator" };

/** Conversation state badges, never colour alone: each has its text. */
export function conversationBadges(c) {
  const out = [];
  if (c.emergency) out.push(badge("emergency", "Emergency"));
  if (c.handoff) out.push(badge("waiting", "Waiting for a clinician"));
  else if ((c.kinds || []).includes("handoff")) out.push(badge("handoff", "Was handed off"));
  if (c.low_confidence) out.push(badge("low", "Low confidence"));
  if (c.reviewed) out.push(badge("reviewed", "Reviewed"));
  for (const tag of c.tags || []) out.push(badge("tag", `#${tag}`));
  return out;
}
