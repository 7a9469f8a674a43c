// Alerts in the open console, for staff who work the handoff queue: the counts poll every few seconds
// (GET /api/handoffs/counts), the navigation's badges, and for each new handoff a short beep and a
// desktop notification; an emergency nobody has acknowledged repeats both every N seconds, in every
// open console, until someone acknowledges it. Notifications carry only the patient reference and the
// kind ("New handoff P-3F9K2A", "EMERGENCY P-3F9K2A"), never what the patient wrote.
import { get } from "./api.js";
import { h } from "./dom.js";

const POLL_MS = 5000;
const REPEAT_CHOICES = [10, 30, 60]; // seconds, offered on the queue screen
const KEYS = { sound: "meso.console.alertSound", repeat: "meso.console.emergencyRepeatSeconds" };

let timer = 0;
let running = false;
let generation = 0; // a poll answered after stop() or a new start() is ignored
let cursor = null; // the newest alert heard of; null until the first poll
let latest = null; // the last counts
let serverRepeat = 30;
const lastAlerted = new Map(); // sender id -> when its emergency alert last went off (ms)
const listeners = new Set();
let audio = null;

// ---------------------------------------------------------------- preferences (this browser only)

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* private mode: the choice lasts until the page is reloaded */
  }
}

export function soundOn() {
  return stored(KEYS.sound) !== "off";
}

export function setSound(on) {
  store(KEYS.sound, on ? "on" : "off");
  if (on) unlockAudio();
}

export function repeatSeconds() {
  const chosen = Number.parseInt(stored(KEYS.repeat) || "", 10);
  return REPEAT_CHOICES.includes(chosen) ? chosen : serverRepeat;
}

export function setRepeatSeconds(seconds) {
  if (REPEAT_CHOICES.includes(seconds)) store(KEYS.repeat, String(seconds));
}

export const repeatChoices = () => [...new Set([...REPEAT_CHOICES, serverRepeat])].sort((a, b) => a - b);

// ---------------------------------------------------------------- desktop notifications

export function notificationState() {
  if (!("Notification" in window)) return "unsupported";
  return Notification.permission; // "granted", "denied" or "default"
}

export async function askForNotifications() {
  if (notificationState() !== "default") return notificationState();
  try {
    return await Notification.requestPermission();
  } catch {
    return notificationState();
  }
}

function notify(kind, ref) {
  if (notificationState() !== "granted") return;
  const title = kind === "emergency" ? `EMERGENCY ${ref}` : `New handoff ${ref}`;
  try {
    const note = new Notification(title, { tag: `meso-${kind}-${ref}`, renotify: true, requireInteraction: kind === "emergency" });
    note.onclick = () => {
      window.focus();
      location.hash = "#/handoffs";
      if (typeof note.close === "function") note.close();
    };
  } catch {
    /* a browser that only notifies from a service worker: the sound and the badges remain */
  }
}

// ---------------------------------------------------------------- sound (WebAudio, no file)

function unlockAudio() {
  // browsers start audio only after the user has interacted with the page
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    audio = audio || new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

function beep(kind) {
  if (!soundOn()) return;
  unlockAudio();
  if (!audio) return;
  const tones = kind === "emergency" ? [880, 660, 880, 660] : [880];
  const start = audio.currentTime + 0.02;
  tones.forEach((frequency, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    const at = start + i * 0.2;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.18);
  });
}

function ring(kind, ref) {
  beep(kind);
  notify(kind, ref);
}

// ---------------------------------------------------------------- navigation badges

/** Draws the counts into the queue's navigation link (app.js gives it a `.nav-counts` slot). */
export function paintBadges() {
  const slot = document.querySelector("#nav .nav-counts");
  if (!slot) return;
  if (!latest) {
    slot.replaceChildren();
    return;
  }
  const parts = [];
  parts.push(h("span", { class: "nav-badge", title: "Patients waiting" }, String(latest.waiting)));
  if (latest.emergencies) {
    const text = latest.emergencies === 1 ? "1 emergency" : `${latest.emergencies} emergencies`;
    parts.push(h("span", { class: "nav-badge nav-badge-emergency" }, text));
  }
  if (latest.mine) parts.push(h("span", { class: "nav-badge nav-badge-mine" }, `${latest.mine} yours`));
  const label = [
    `${latest.waiting} waiting`,
    latest.emergencies ? `${latest.emergencies} unacknowledged emergency` : "",
    latest.mine ? `${latest.mine} yours` : "",
  ].filter(Boolean);
  slot.replaceChildren(h("span", { class: "sr-only" }, `: ${label.join(", ")}`), h("span", { "aria-hidden": "true", class: "nav-badges" }, parts));
}

// ---------------------------------------------------------------- the poll

/** The last counts ({waiting, emergencies, mine, unassigned, ...}) or null. */
export function current() {
  return latest;
}

/** Calls `fn(counts, changed)` after every poll; returns a function that stops it. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function heard(counts) {
  const now = Date.now();
  const repeatMs = repeatSeconds() * 1000;
  const first = cursor === null;
  if (!first && counts.cursor < cursor) cursor = null; // the queue was reset: start again quietly
  const alerted = new Set();
  if (cursor !== null) {
    for (const a of counts.new) {
      ring(a.kind, a.patient_ref);
      alerted.add(a.sender_id);
      if (a.kind === "emergency") lastAlerted.set(a.sender_id, now);
    }
  }
  cursor = counts.cursor;
  const open = new Set();
  for (const a of counts.unacknowledged) {
    open.add(a.sender_id);
    if (alerted.has(a.sender_id)) continue;
    const last = lastAlerted.get(a.sender_id);
    if (last === undefined || now - last >= repeatMs - 250) {
      ring("emergency", a.patient_ref);
      lastAlerted.set(a.sender_id, now);
    }
  }
  for (const sender of [...lastAlerted.keys()]) if (!open.has(sender)) lastAlerted.delete(sender);
}

let inFlight = false;
let again = false;

async function poll(gen) {
  if (inFlight) {
    again = true; // one poll at a time: two with the same cursor would ring twice
    return;
  }
  inFlight = true;
  let changed = false;
  try {
    const counts = await get("/api/handoffs/counts", cursor === null ? {} : { after: cursor });
    if (gen === generation) {
      serverRepeat = counts.repeat_seconds || serverRepeat;
      changed =
        !latest ||
        ["waiting", "emergencies", "mine", "unassigned", "cursor"].some((key) => latest[key] !== counts[key]) ||
        counts.new.length > 0;
      latest = counts;
      heard(counts);
      paintBadges();
    }
  } catch {
    /* a 401 shows the login screen (api.js), which stops the poll; anything else: try again later */
  } finally {
    inFlight = false;
  }
  if (gen === generation && latest) {
    for (const fn of listeners) {
      try {
        fn(latest, changed);
      } catch {
        /* one screen's trouble must not stop the alerts */
      }
    }
  }
  if (!running) return;
  clearTimeout(timer);
  const soon = again || gen !== generation;
  again = false;
  timer = setTimeout(() => poll(generation), soon ? 0 : POLL_MS);
}

/** Polls now and again when asked (after a claim or an acknowledgement), not waiting for the timer. */
export function pollNow() {
  if (!running) return;
  clearTimeout(timer);
  poll(generation);
}

export function start() {
  stop();
  running = true;
  generation += 1;
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });
  poll(generation);
}

export function stop() {
  running = false;
  generation += 1;
  clearTimeout(timer);
  cursor = null;
  latest = null;
  lastAlerted.clear();
  paintBadges();
}
