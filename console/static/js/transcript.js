// One conversation, to work in: patient, assistant and staff messages, following the conversation live
// while it is open (each opening is audited once; the polls name it); the assistant's reasons (kind, topics,
// passages, confidence, disclaimer) folded under each reply; who is replying, with the claim button; a
// call-back number the patient left, revealed only to the clinician treating them (audited); review tools
// for reviewers; a reply box that stays in view, with canned replies ("/" or Ctrl+/), and a hand-back with a
// confirmation and a last message to the patient, for clinicians while the patient waits; export and
// erasure for admins.
import { ApiError, del, get, post, put, seg, withQuery } from "./api.js";
import {
  CHANNEL_LABELS,
  KIND_LABELS,
  append,
  clear,
  clock,
  conversationBadges,
  field,
  h,
  heading,
  notice,
  percent,
  timeEl,
  uid,
  when,
} from "./dom.js";
import { listHash } from "./conversations.js";
import { openDialog } from "./dialog.js";
import { PICKER_HINT, attachCannedPicker } from "./canned_picker.js";
import * as alerts from "./alerts.js";

const FLAGS = { emergency: "Emergency reply", handoff: "Handed to a clinician" };
const LIVE_MS = 3000; // how often an open transcript asks for what is new
const LIVE_MAX_MS = 30000; // the longest wait after failures
const MIN_PANE_PX = 160; // the messages' pane never gets smaller, however short the window
const HAND_BACK_MESSAGE =
  "Thank you for your patience. I'm handing you back to our assistant now: it can answer general questions, " +
  "and if you need a person again, just ask here.";

export async function render(ctx) {
  const senderId = ctx.args[0];
  const fromQueue = ctx.params.get("from") === "handoffs";
  const back = fromQueue ? ["#/handoffs", "Back to the handoff queue"] : [listHash(), "Back to conversations"];
  ctx.title("Conversation");
  ctx.view.append(h("p", { class: "back" }, h("a", { href: back[0] }, `← ${back[1]}`)));
  if (!senderId) return;
  const data = await get(`/api/conversations/${seg(senderId)}`);
  const conv = data.conversation;
  const state = {
    conv,
    tags: [...conv.tags],
    claimedBy: data.claimed_by || null,
    claimedAt: data.claimed_at || null,
    contact: data.contact || null,
    cursor: data.cursor || 0,
    view: data.view,
    seen: new Set(),
  };

  const badges = h("span", { class: "badges" });
  const facts = h("p", { class: "facts" });
  const banner = h("div", { class: "state-slot" });
  const work = h("div", { class: "work-bar" });
  const contactSlot = h("div", { class: "contact-slot" });
  const live = h("span", { class: "live-state" }, "Updates live.");
  const messages = h("ol", {
    class: "messages",
    "aria-label": "Messages, oldest first",
    "aria-live": "polite",
    "aria-relevant": "additions",
    tabindex: "0",
  });
  const view = { ctx, state, messages, work, contactSlot, live, refresh: () => {}, poll: () => {} };
  let drawn = ""; // what the badges, banner and work bar show: redrawn only when it changes
  const refreshState = () => {
    const c = state.conv;
    const key = JSON.stringify([
      c.handoff,
      c.emergency,
      c.reviewed,
      c.kinds,
      c.low_confidence,
      c.last_at,
      c.user_messages,
      state.tags,
      state.claimedBy,
      state.claimedAt,
      state.contact,
    ]);
    if (key === drawn) return;
    drawn = key;
    facts.replaceChildren(
      h("span", null, "Patient: ", h("code", null, c.patient_ref)),
      h("span", null, `Channel: ${CHANNEL_LABELS[c.channel] || c.channel}`),
      h("span", null, "Started: ", timeEl(c.started_at)),
      h("span", null, "Last message: ", timeEl(c.last_at)),
      h("span", null, `Patient messages: ${c.user_messages}`),
      badges,
      live,
    );
    badges.replaceChildren(...conversationBadges({ ...state.conv, tags: state.tags }));
    append(clear(banner), [stateBanner(state.conv)]);
    drawWork(view);
  };
  view.refresh = refreshState;
  refreshState();

  for (const m of data.messages) addMessage(state, messages, m);
  if (!data.messages.length) messages.append(h("li", { class: "empty" }, "No messages."));

  const main = h(
    "section",
    { class: "transcript", "aria-labelledby": "transcript-title" },
    h("h2", { id: "transcript-title", class: "sr-only" }, "Transcript"),
    messages,
  );
  const panelSlot = h("div", { class: "panel-slot" });
  main.append(panelSlot);
  const drawPanel = () => {
    if (!ctx.can("reply")) return;
    // a reply being written when the handoff ends elsewhere is kept for the next reply box
    const typed = panelSlot.querySelector("textarea[name=reply]");
    if (typed && typed.value.trim()) state.draft = typed.value;
    panelSlot.replaceChildren(state.conv.handoff ? replyPanel(view) : takeOverPanel(view));
  };
  view.drawPanel = drawPanel;
  drawPanel();

  const side = h("aside", { class: "side", "aria-label": "Review" });
  append(side, [
    contactSlot,
    reviewPanel(ctx, state, refreshState), // reviewers and admins only: null for clinicians
    tagsPanel(ctx, state, refreshState),
    notesPanel(ctx, senderId),
    ctx.can("admin") ? adminPanel(ctx, senderId) : null,
  ]);

  const head = h("header", { class: "conv-head" }, heading("Conversation"), facts);
  ctx.view.append(head, banner, work, h("div", { class: "transcript-layout" }, main, side));
  fitMessages(ctx, messages, [panelSlot, work, banner, head]);
  scrollToLatest(messages);
  follow(view);
}

/** The messages scroll in their own pane, sized so that the reply box below them ends at the bottom of the
 * window (it also sticks there when the page scrolls): the reply box is always in view. */
function fitMessages(ctx, messages, around) {
  const fit = () => {
    if (!messages.isConnected) return;
    const following = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
    const top = messages.getBoundingClientRect().top + window.scrollY;
    const below = around[0].getBoundingClientRect().height;
    const room = window.innerHeight - top - below - 28;
    messages.style.maxHeight = `${Math.max(MIN_PANE_PX, Math.floor(room))}px`;
    if (following) scrollToLatest(messages); // a taller reply box must not hide the newest message
  };
  fit();
  const watcher = typeof ResizeObserver === "function" ? new ResizeObserver(fit) : null;
  for (const node of around) watcher?.observe(node);
  window.addEventListener("resize", fit);
  ctx.onLeave(() => {
    watcher?.disconnect();
    window.removeEventListener("resize", fit);
  });
}

function stateBanner(conv) {
  if (!conv.handoff) return null;
  const urgent = conv.emergency;
  return h(
    "div",
    { class: `state-banner ${urgent ? "state-emergency" : "state-waiting"}`, role: "status" },
    h("strong", null, urgent ? "Emergency: waiting for a clinician" : "Waiting for a clinician"),
    h(
      "span",
      null,
      "The assistant only tells this patient that a person will reply, until a clinician replies and hands the " +
        "conversation back.",
    ),
  );
}

// ---------------------------------------------------------------- live updates

/** Polls `/updates` while the transcript is on show: new messages, the state, the claim, the contact. */
function follow(view) {
  const { ctx, state, messages, live } = view;
  const sid = state.conv.sender_id;
  let timer = 0;
  let stopped = false;
  let wait = LIVE_MS;
  let running = false;
  let again = false; // asked for while a poll was on its way: one more right after it
  const poll = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = true;
    again = false;
    try {
      const update = await get(`/api/conversations/${seg(sid)}/updates`, { view: state.view, after: state.cursor });
      if (stopped || !ctx.live()) return;
      const nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
      let first = null;
      for (const m of update.messages) {
        const added = addMessage(state, messages, m);
        first = first || added;
      }
      if (first) {
        messages.querySelector(".empty")?.remove();
        if (nearBottom) showNew(messages, first);
      }
      state.cursor = Math.max(state.cursor, update.cursor);
      const handoffChanged = update.conversation.handoff !== state.conv.handoff;
      state.conv = { ...update.conversation };
      state.tags = [...update.conversation.tags];
      state.claimedBy = update.claimed_by || null;
      state.claimedAt = update.claimed_at || null;
      state.contact = mergeContact(state.contact, update.contact);
      view.refresh();
      if (handoffChanged && !view.busy) view.drawPanel();
      live.textContent = `Updates live · checked at ${clock()}.`;
      wait = LIVE_MS;
    } catch (error) {
      if (stopped || error.status === 401) return;
      if (error.status === 404) {
        stopped = true;
        live.replaceChildren(notice("error", "This conversation is no longer there: it may have been erased."));
        return;
      }
      if (error.status === 403) {
        // this opening no longer counts (logged in again elsewhere): opening it again is a new, audited view
        stopped = true;
        const reopen = h("button", { type: "button", class: "link", onclick: () => ctx.go(location.hash) }, "Open it again");
        live.replaceChildren("Live updates stopped: ", reopen, " to follow the conversation.");
        return;
      }
      wait = Math.min(wait * 2, LIVE_MAX_MS);
      live.textContent = `Live updates paused (${error.detail}) · trying again in ${Math.round(wait / 1000)} s.`;
    } finally {
      running = false;
      if (!stopped) timer = setTimeout(poll, again ? 0 : wait);
    }
  };
  view.poll = poll;
  timer = setTimeout(poll, LIVE_MS);
  const unsubscribe = alerts.subscribe((_counts, changed) => {
    if (changed) poll(); // a claim or a new message somewhere: look now
  });
  ctx.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
    unsubscribe();
  });
}

/** A revealed contact stays revealed on screen while it is the same one. */
function mergeContact(before, after) {
  if (!after) return null;
  if (before && before.revealed && before.consent_at === after.consent_at) {
    return { ...before, may_reveal: after.may_reveal };
  }
  return after;
}

function scrollToLatest(messages) {
  messages.scrollTop = messages.scrollHeight;
}

/** New messages for a reader who was following: the latest, but never past the start of the first new one. */
function showNew(messages, first) {
  scrollToLatest(messages);
  const above = first.getBoundingClientRect().top - messages.getBoundingClientRect().top;
  if (above < 0) messages.scrollTop += above - 8;
}

// ---------------------------------------------------------------- who is replying, call-back number

function drawWork(view) {
  const { state, work, contactSlot } = view;
  // keep a focused button across redraws
  const active = document.activeElement;
  const focused = work.contains(active) || contactSlot.contains(active) ? active.dataset.focus : null;
  work.replaceChildren(...(state.conv.handoff ? [claimLine(view)] : []));
  work.hidden = !state.conv.handoff;
  contactSlot.replaceChildren(...(state.contact ? [contactCard(view)] : []));
  if (focused) view.ctx.view.querySelector(`[data-focus="${focused}"]`)?.focus();
}

function claimLine(view) {
  const { ctx, state } = view;
  const me = ctx.me.username;
  const sid = seg(state.conv.sender_id);
  const status = h("span", { class: "work-status", "aria-live": "polite" });
  const line = h("div", { class: "claim-line" });
  if (state.claimedBy) {
    const name = state.claimedBy === me ? `${state.claimedBy} (you)` : state.claimedBy;
    line.append(h("strong", null, `${name} is replying`), h("span", null, ` since ${when(state.claimedAt)}`));
  } else line.append(h("span", { class: "claim-none" }, "Nobody is replying yet."));
  const act = async (button, path) => {
    button.disabled = true;
    status.replaceChildren();
    try {
      const item = await post(path);
      state.claimedBy = item.claimed_by || null;
      state.claimedAt = item.claimed_at || null;
      alerts.pollNow();
      view.refresh();
    } catch (error) {
      button.disabled = false;
      status.replaceChildren(notice("error", error.detail));
    }
  };
  if (ctx.can("reply")) {
    if (!state.claimedBy) {
      const claim = h("button", { type: "button", class: "btn btn-primary btn-small" }, "I'll reply");
      claim.dataset.focus = "claim";
      claim.addEventListener("click", () => act(claim, `/api/handoffs/${sid}/claim`));
      line.append(claim);
    } else if (state.claimedBy === me || ctx.me.role === "admin") {
      const label = state.claimedBy === me ? "Release" : `Release from ${state.claimedBy}`;
      const release = h("button", { type: "button", class: "btn btn-quiet btn-small" }, label);
      release.dataset.focus = "release";
      release.addEventListener("click", () => act(release, `/api/handoffs/${sid}/release`));
      line.append(release);
    }
  }
  line.append(status);
  return line;
}

function contactCard(view) {
  const { state } = view;
  const c = state.contact;
  const sid = seg(state.conv.sender_id);
  const status = h("div", { "aria-live": "polite" });
  const item = (label, ...value) => [h("dt", null, label), h("dd", null, ...value)];
  const phone = c.revealed
    ? h("a", { class: "contact-phone", href: c.tel }, c.phone)
    : h("span", { class: "contact-phone" }, c.phone);
  const card = h(
    "section",
    { class: "card contact-card", "aria-labelledby": "contact-title" },
    h("h2", { id: "contact-title" }, "Call-back"),
    h(
      "div",
      { role: "group", "aria-label": "Call-back number" },
      h("p", { class: "contact-ask" }, "The patient asked the clinic to call them."),
      h(
        "dl",
        { class: "contact-details" },
        item("Name", h("span", { class: "contact-name" }, c.name)),
        item("Phone", phone),
        item("Consent", when(c.consent_at)),
      ),
    ),
  );
  if (!c.revealed && c.may_reveal) {
    const show = h("button", { type: "button", class: "btn btn-secondary btn-small" }, "Show the number");
    show.dataset.focus = "reveal";
    show.addEventListener("click", async () => {
      show.disabled = true;
      try {
        state.contact = await post(`/api/conversations/${sid}/contact/reveal`);
        alerts.pollNow(); // revealing a waiting patient's number makes you the one replying
        view.refresh();
        view.contactSlot.querySelector(".contact-phone")?.focus();
        view.poll();
      } catch (error) {
        show.disabled = false;
        status.replaceChildren(notice("error", error.detail));
      }
    });
    card.append(show, h("p", { class: "hint" }, "Recorded in the audit log."));
  } else if (!c.revealed) {
    card.append(h("p", { class: "hint" }, "Only the clinician treating the patient sees the number."));
  }
  card.append(status);
  return card;
}

// ---------------------------------------------------------------- messages

/** Adds a message once (by its event id); its element when it was new, else null. */
function addMessage(state, list, m) {
  if (m.event_id != null) {
    if (state.seen.has(m.event_id)) return null;
    state.seen.add(m.event_id);
  }
  const node = messageEl(m);
  list.append(node);
  return node;
}

function messageEl(m) {
  const kind = m.meta && typeof m.meta.kind === "string" ? m.meta.kind : "";
  const classes = ["msg", `msg-${m.role}`];
  if (m.role === "bot" && FLAGS[kind]) classes.push(`kind-${kind}`);
  const who = m.role === "patient" ? "Patient" : m.role === "staff" ? `Staff: ${m.author || "unknown"}` : "Assistant";
  return h(
    "li",
    { class: classes.join(" ") },
    h("div", { class: "msg-head" }, h("span", { class: "msg-who" }, who), timeEl(m.at)),
    m.role === "bot" && FLAGS[kind] ? h("p", { class: "msg-flag" }, FLAGS[kind]) : null,
    h("p", { class: "msg-text" }, m.text || "(no text)"),
    m.buttons && m.buttons.length
      ? h("p", { class: "msg-buttons" }, `Options offered: ${m.buttons.join(" · ")}`)
      : null,
    m.role === "bot" && m.meta ? metaEl(m.meta) : null,
  );
}

/** The reply metadata, folded: one line saying what it was, the details on demand. */
function metaEl(meta) {
  const topics = Array.isArray(meta.topics) ? meta.topics.map(String) : [];
  const passages = Array.isArray(meta.passage_ids) ? meta.passage_ids.map(String) : [];
  const rules = Array.isArray(meta.rules) ? meta.rules.map(String) : [];
  const item = (label, ...value) => [h("dt", null, label), h("dd", null, ...value)];
  const kind = KIND_LABELS[meta.kind] || String(meta.kind || "–");
  const gist = [
    kind,
    typeof meta.confidence === "number" ? percent(meta.confidence) : null,
    passages.length ? `${passages.length} passage${passages.length === 1 ? "" : "s"}` : null,
    rules.length ? `rules: ${rules.join(", ")}` : null,
  ].filter(Boolean);
  return h(
    "details",
    { class: "meta-box" },
    h("summary", null, h("span", { class: "sr-only" }, "Why the assistant said this: "), gist.join(" · ")),
    h(
      "dl",
      { class: "meta", "aria-label": "Why the assistant said this" },
      item("Kind", kind),
      item("Topics", topics.length ? topics.join(", ") : "none"),
      item(
        "Passages",
        passages.length
          ? passages.flatMap((id, i) => [
              i ? ", " : "",
              h("button", { type: "button", class: "link", onclick: (e) => showPassage(id, e.currentTarget) }, id),
            ])
          : "none",
      ),
      item("Confidence", percent(meta.confidence)),
      item("Disclaimer", meta.disclaimer ? "shown" : "not shown"),
      meta.reason ? item("Reason", String(meta.reason)) : null,
      rules.length ? item("Safety rules", rules.join(", ")) : null,
    ),
  );
}

async function showPassage(id, opener) {
  const body = h("div", { class: "passage" }, h("p", { class: "loading" }, "Loading…"));
  openDialog({ title: `Passage ${id}`, body, opener, closeLabel: "Close" });
  try {
    const p = await get(`/api/passages/${seg(id)}`);
    const sources = (p.sources || []).map((s) => {
      const text = typeof s === "string" ? s : s.url || s.title || JSON.stringify(s);
      const link = /^https?:\/\//.test(text);
      return h("li", null, link ? h("a", { href: text, rel: "noopener noreferrer", target: "_blank" }, text) : text);
    });
    append(clear(body), [
      h("p", { class: "passage-title" }, h("strong", null, p.title || p.id)),
      h(
        "p",
        { class: "hint" },
        `Topic: ${p.topic || "–"}. Reviewed by ${p.reviewed_by || "–"} on ${p.reviewed_on || "–"}.`,
      ),
      h("p", { class: "passage-answer" }, p.answer || ""),
      sources.length ? h("div", null, h("h3", null, "Sources"), h("ul", null, sources)) : null,
    ]);
  } catch (error) {
    body.replaceChildren(notice("error", error.detail));
  }
}

// ---------------------------------------------------------------- reply and hand back

// Staff reply only to a patient waiting for a person; to write to anyone else, a clinician takes the
// conversation over first (a handoff started by staff, audited), and the reply form appears.
function takeOverPanel(view) {
  const { state } = view;
  const button = h("button", { type: "button", class: "btn btn-secondary" }, "Take over");
  const status = h("div", { "aria-live": "polite" });
  const panel = h(
    "section",
    { class: "card reply-panel", "aria-labelledby": "take-over-title" },
    h("h2", { id: "take-over-title" }, "Write to the patient"),
    state.draft
      ? notice("info", "The conversation was handed back before your reply was sent: it waits in the reply box if you take over.")
      : null,
    h(
      "p",
      { class: "hint" },
      "This patient is not waiting for a person. Taking over hands the conversation to staff (recorded in the " +
        "audit log): the assistant then only tells the patient that a person will reply, until you hand it back.",
    ),
    button,
    status,
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.replaceChildren();
    try {
      await post(`/api/handoffs/${seg(state.conv.sender_id)}/take-over`);
      state.conv = { ...state.conv, handoff: true };
      view.refresh();
      view.drawPanel();
      view.poll();
      document.getElementById("reply-title")?.closest("section")?.querySelector("textarea")?.focus();
    } catch (error) {
      status.append(notice("error", error.detail));
      button.disabled = false;
    }
  });
  return panel;
}

function replyPanel(view) {
  const { state } = view;
  const sid = state.conv.sender_id;
  const channel = CHANNEL_LABELS[state.conv.channel] || state.conv.channel;
  const text = h("textarea", { name: "reply", rows: "2", maxlength: "4000", required: true }, state.draft || "");
  state.draft = "";
  const send = h("button", { type: "submit", class: "btn btn-primary" }, "Send reply");
  const status = h("div", { class: "reply-status", "aria-live": "polite" });
  const handBack = h("button", { type: "button", class: "btn btn-secondary" }, "Hand back to the assistant");

  const form = h(
    "form",
    { class: "reply-form" },
    attachCannedPicker(text),
    field("Your reply", text, `Sent on ${channel} from the clinic team. ${PICKER_HINT} Ctrl+Enter sends.`),
    h("div", { class: "row" }, send, handBack),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = text.value.trim();
    status.replaceChildren();
    if (!body) {
      status.append(notice("error", "Write a reply first."));
      text.focus();
      return;
    }
    send.disabled = true;
    send.textContent = "Sending…";
    try {
      const result = await sendReply(sid, body);
      const via = CHANNEL_LABELS[result.via] || result.via || channel;
      status.append(notice("ok", `Delivered via ${via} at ${clock()}.`));
      text.value = "";
      view.poll(); // the stored reply comes back with its author and time
    } catch (error) {
      status.append(notice("error", error.detail));
    } finally {
      send.disabled = false;
      send.textContent = "Send reply";
    }
  });
  text.addEventListener("keydown", (event) => {
    // Ctrl+Enter sends (Enter alone is a new line: replies are often several paragraphs)
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const panel = h(
    "section",
    { class: "card reply-panel", "aria-labelledby": "reply-title" },
    h("h2", { id: "reply-title", class: "sr-only" }, "Reply to the patient"),
    form,
  );
  handBack.addEventListener("click", () => confirmHandBack(view, handBack, panel));
  return panel;
}

/** Sends a staff reply; resolves to {via}, or throws an ApiError saying it was not delivered. */
async function sendReply(sid, body) {
  let result;
  try {
    result = await post(`/api/handoffs/${seg(sid)}/reply`, { text: body });
  } catch (error) {
    const why = /not delivered/i.test(error.detail) ? error.detail : `Not delivered. ${error.detail}`;
    throw new ApiError(error.status, why);
  }
  if (!result || !result.delivered) {
    throw new ApiError(502, `Not delivered: ${(result && result.error) || "the channel refused it"}.`);
  }
  return result;
}

function confirmHandBack(view, opener, panel) {
  const { state } = view;
  const sid = state.conv.sender_id;
  const message = h("textarea", { name: "hand-back-message", rows: "4", maxlength: "4000" }, HAND_BACK_MESSAGE);
  const go = h("button", { type: "submit", class: "btn btn-primary" }, "Hand back");
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { id: uid("hand-back") },
    h(
      "p",
      null,
      "The assistant answers this patient's next message again. Before that, the patient receives this message " +
        "from you (leave it empty to send none):",
    ),
    field("Message to the patient", message),
    status,
  );
  const dialog = openDialog({
    title: "Hand back to the assistant?",
    body: form,
    opener,
    closeLabel: "Cancel",
    actions: [go],
  });
  go.setAttribute("form", form.id);
  message.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    go.disabled = true;
    status.replaceChildren();
    view.busy = true;
    try {
      const said = message.value.trim();
      if (said) await sendReply(sid, said);
      await post(`/api/handoffs/${seg(sid)}/hand-back`);
      dialog.close();
      state.conv = { ...state.conv, handoff: false };
      view.refresh();
      const done = notice(
        "ok",
        said
          ? "Handed back to the assistant. Your message was sent; the assistant answers this patient's next message."
          : "Handed back to the assistant. It answers this patient's next message.",
      );
      done.tabIndex = -1;
      panel.replaceWith(done);
      done.focus();
      view.poll();
    } catch (error) {
      status.append(notice("error", error.detail));
      go.disabled = false;
    } finally {
      view.busy = false;
    }
  });
}

// ---------------------------------------------------------------- review, tags, notes

function reviewPanel(ctx, state, refreshState) {
  if (!ctx.can("review")) return null;
  const sid = state.conv.sender_id;
  const line = h("p", { class: "review-state" });
  const button = h("button", { type: "button", class: "btn btn-secondary" });
  const status = h("div", { "aria-live": "polite" });
  const show = () => {
    line.textContent = state.conv.reviewed ? "Reviewed." : "Not reviewed yet.";
    button.textContent = state.conv.reviewed ? "Unmark reviewed" : "Mark reviewed";
  };
  show();
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.replaceChildren();
    try {
      if (state.conv.reviewed) await del(`/api/conversations/${seg(sid)}/review`);
      else await put(`/api/conversations/${seg(sid)}/review`);
      state.conv = { ...state.conv, reviewed: !state.conv.reviewed };
      show();
      refreshState();
    } catch (error) {
      status.append(notice("error", error.detail));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "review-title" },
    h("h2", { id: "review-title" }, "Review"),
    line,
    button,
    status,
  );
}

function tagsPanel(ctx, state, refreshState) {
  const sid = state.conv.sender_id;
  const editable = ctx.can("review");
  const list = h("ul", { class: "tag-list" });
  const status = h("div", { "aria-live": "polite" });
  const draw = () => {
    list.replaceChildren();
    if (!state.tags.length) list.append(h("li", { class: "hint" }, "No tags."));
    for (const tag of state.tags) {
      const remove = editable
        ? h("button", { type: "button", class: "btn-x", "aria-label": `Remove tag ${tag}`, title: "Remove" }, "×")
        : null;
      if (remove) {
        remove.addEventListener("click", async () => {
          status.replaceChildren();
          try {
            await del(`/api/conversations/${seg(sid)}/tags/${seg(tag)}`);
            state.tags = state.tags.filter((t) => t !== tag);
            draw();
            refreshState();
            input.focus();
          } catch (error) {
            status.append(notice("error", error.detail));
          }
        });
      }
      list.append(h("li", null, h("span", { class: "badge badge-tag" }, `#${tag}`), remove));
    }
  };
  const listId = uid("tags");
  const input = h("input", { name: "tag", maxlength: "64", list: listId, autocomplete: "off" });
  const known = h("datalist", { id: listId });
  const panel = h(
    "section",
    { class: "card", "aria-labelledby": "tags-title" },
    h("h2", { id: "tags-title" }, "Tags"),
    list,
  );
  draw();
  if (editable) {
    get("/api/tags")
      .then((tags) => known.replaceChildren(...tags.map((t) => h("option", { value: t.tag }))))
      .catch(() => {});
    const form = h(
      "form",
      { class: "inline-form" },
      field("New tag", input),
      known,
      h("button", { type: "submit", class: "btn btn-secondary" }, "Add tag"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.replaceChildren();
      const tag = input.value.trim().toLowerCase();
      if (!tag) return;
      try {
        await post(`/api/conversations/${seg(sid)}/tags`, { tag });
        if (!state.tags.includes(tag)) state.tags = [...state.tags, tag].sort();
        input.value = "";
        draw();
        refreshState();
      } catch (error) {
        const why = error.status === 422 ? "Tags are letters, digits, spaces, . : - and _." : error.detail;
        status.append(notice("error", why));
      }
    });
    panel.append(form);
  }
  panel.append(status);
  return panel;
}

function notesPanel(ctx, sid) {
  const list = h("ol", { class: "notes" }, h("li", { class: "loading" }, "Loading…"));
  const status = h("div", { "aria-live": "polite" });
  const noteEl = (n) =>
    h(
      "li",
      null,
      h("div", { class: "msg-head" }, h("span", { class: "msg-who" }, n.author), timeEl(n.created_at)),
      h("p", { class: "msg-text" }, n.text),
    );
  get(`/api/conversations/${seg(sid)}/notes`)
    .then((notes) => {
      list.replaceChildren(...notes.map(noteEl));
      if (!notes.length) list.append(h("li", { class: "hint empty-note" }, "No notes yet."));
    })
    .catch((error) => list.replaceChildren(h("li", null, notice("error", error.detail))));
  const panel = h(
    "section",
    { class: "card", "aria-labelledby": "notes-title" },
    h("h2", { id: "notes-title" }, "Notes"),
    list,
  );
  if (ctx.can("review")) {
    const text = h("textarea", { name: "note", rows: "3", maxlength: "5000" });
    const form = h(
      "form",
      { class: "note-form" },
      field("New note", text, "Only staff see notes."),
      h("button", { type: "submit", class: "btn btn-secondary" }, "Add note"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.replaceChildren();
      if (!text.value.trim()) {
        status.append(notice("error", "Write the note first."));
        return;
      }
      try {
        const note = await post(`/api/conversations/${seg(sid)}/notes`, { text: text.value.trim() });
        list.querySelector(".empty-note")?.remove();
        list.append(noteEl(note));
        text.value = "";
        status.append(notice("ok", "Note added."));
      } catch (error) {
        status.append(notice("error", error.detail));
      }
    });
    panel.append(form);
  }
  panel.append(status);
  return panel;
}

// ---------------------------------------------------------------- admin: export and erasure

function adminPanel(ctx, sid) {
  const erase = h("button", { type: "button", class: "btn btn-danger" }, "Erase this patient's data");
  erase.addEventListener("click", () => confirmErase(ctx, sid, erase));
  return h(
    "section",
    { class: "card", "aria-labelledby": "data-title" },
    h("h2", { id: "data-title" }, "Patient data"),
    h(
      "p",
      { class: "export-links" },
      "Export this conversation: ",
      h("a", { href: withQuery("/api/export", { format: "csv", q: sid }), download: "" }, "CSV"),
      " · ",
      h("a", { href: withQuery("/api/export", { format: "jsonl", q: sid }), download: "" }, "JSONL"),
    ),
    erase,
  );
}

function confirmErase(ctx, sid, opener) {
  const typed = h("input", { name: "confirm", autocomplete: "off", spellcheck: "false" });
  const go = h("button", { type: "submit", class: "btn btn-danger", disabled: true }, "Erase for good");
  const status = h("div", { "aria-live": "polite" });
  typed.addEventListener("input", () => {
    go.disabled = typed.value.trim() !== sid;
  });
  const form = h(
    "form",
    null,
    h(
      "p",
      null,
      "This deletes every message of this patient from the conversation store, and the console's reviews, tags " +
        "and notes about them. It cannot be undone. The erasure itself is recorded in the audit log.",
    ),
    field(`Type the sender id to confirm: ${sid}`, typed),
    status,
  );
  const dialog = openDialog({
    title: "Erase this patient's data?",
    body: form,
    opener,
    closeLabel: "Cancel",
    actions: [go],
  });
  form.id = uid("erase");
  go.setAttribute("form", form.id);
  typed.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (typed.value.trim() !== sid) return;
    go.disabled = true;
    status.replaceChildren();
    try {
      const result = await del(`/api/patients/${seg(sid)}`);
      dialog.close();
      const count = result && typeof result.events === "number" ? `${result.events} stored events deleted` : "done";
      ctx.flash("ok", `The data of ${sid} is erased (${count}).`);
      ctx.go(listHash());
    } catch (error) {
      status.append(notice("error", error.detail));
      go.disabled = false;
    }
  });
}
