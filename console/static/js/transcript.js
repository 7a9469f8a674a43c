// One conversation: patient, assistant and staff messages with the assistant's reasons (kind,
// topics, passages, confidence, disclaimer); review tools for reviewers; reply and hand-back for
// clinicians while the patient waits; export and erasure for admins.
import { del, get, post, put, seg, withQuery } from "./api.js";
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
} from "./dom.js";
import { listHash } from "./conversations.js";
import { openDialog } from "./dialog.js";

const FLAGS = { emergency: "Emergency reply", handoff: "Handed to a clinician" };

export async function render(ctx) {
  const senderId = ctx.args[0];
  const fromQueue = ctx.params.get("from") === "handoffs";
  const back = fromQueue ? ["#/handoffs", "Back to the handoff queue"] : [listHash(), "Back to conversations"];
  ctx.title("Conversation");
  ctx.view.append(h("p", { class: "back" }, h("a", { href: back[0] }, `← ${back[1]}`)));
  if (!senderId) return;
  const data = await get(`/api/conversations/${seg(senderId)}`);
  const conv = data.conversation;
  const state = { conv, tags: [...conv.tags] };

  const badges = h("span", { class: "badges" });
  const banner = h("div", { class: "state-slot" });
  const refreshState = () => {
    badges.replaceChildren(...conversationBadges({ ...state.conv, tags: state.tags }));
    append(clear(banner), [stateBanner(state.conv)]);
  };
  refreshState();

  const messages = h("ol", { class: "messages", "aria-label": "Messages, oldest first" });
  for (const m of data.messages) messages.append(messageEl(m));
  if (!data.messages.length) messages.append(h("li", { class: "empty" }, "No messages."));

  const main = h(
    "section",
    { class: "transcript", "aria-labelledby": "transcript-title" },
    h("h2", { id: "transcript-title", class: "sr-only" }, "Transcript"),
    messages,
  );
  if (ctx.can("reply") && conv.handoff) main.append(replyPanel(ctx, state, messages, refreshState));
  else if (ctx.can("reply")) main.append(takeOverPanel(ctx, state));

  const side = h("aside", { class: "side", "aria-label": "Review" });
  append(side, [
    reviewPanel(ctx, state, refreshState), // reviewers and admins only: null for clinicians
    tagsPanel(ctx, state, refreshState),
    notesPanel(ctx, senderId),
    ctx.can("admin") ? adminPanel(ctx, senderId) : null,
  ]);

  ctx.view.append(
    h(
      "header",
      { class: "conv-head" },
      heading("Conversation"),
      h(
        "p",
        { class: "facts" },
        h("span", null, "Patient: ", h("code", null, conv.patient_ref)),
        h("span", null, `Channel: ${CHANNEL_LABELS[conv.channel] || conv.channel}`),
        h("span", null, "Started: ", timeEl(conv.started_at)),
        h("span", null, "Last message: ", timeEl(conv.last_at)),
        h("span", null, `Patient messages: ${conv.user_messages}`),
      ),
      badges,
      h(
        "p",
        { class: "reload" },
        h(
          "button",
          { type: "button", class: "btn btn-quiet btn-small", onclick: () => ctx.go(location.hash) },
          "Show new messages",
        ),
      ),
    ),
    banner,
    h("div", { class: "transcript-layout" }, main, side),
  );
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

// ---------------------------------------------------------------- messages

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

function metaEl(meta) {
  const topics = Array.isArray(meta.topics) ? meta.topics.map(String) : [];
  const passages = Array.isArray(meta.passage_ids) ? meta.passage_ids.map(String) : [];
  const item = (label, ...value) => [h("dt", null, label), h("dd", null, ...value)];
  return h(
    "dl",
    { class: "meta", "aria-label": "Why the assistant said this" },
    item("Kind", KIND_LABELS[meta.kind] || String(meta.kind || "–")),
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
    Array.isArray(meta.rules) && meta.rules.length ? item("Safety rules", meta.rules.map(String).join(", ")) : null,
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
function takeOverPanel(ctx, state) {
  const button = h("button", { type: "button", class: "btn btn-secondary" }, "Take over");
  const status = h("div", { "aria-live": "polite" });
  const panel = h(
    "section",
    { class: "card reply-panel", "aria-labelledby": "take-over-title" },
    h("h2", { id: "take-over-title" }, "Write to the patient"),
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
      ctx.go(location.hash); // shows the conversation again, now with the reply form
    } catch (error) {
      status.append(notice("error", error.detail));
      button.disabled = false;
    }
  });
  return panel;
}

function replyPanel(ctx, state, messages, refreshState) {
  const sid = state.conv.sender_id;
  const channel = CHANNEL_LABELS[state.conv.channel] || state.conv.channel;
  const text = h("textarea", { name: "reply", rows: "4", maxlength: "4000", required: true });
  const send = h("button", { type: "submit", class: "btn btn-primary" }, "Send reply");
  const status = h("div", { class: "reply-status", "aria-live": "polite" });
  const handBack = h("button", { type: "button", class: "btn btn-secondary" }, "Hand back to the assistant");
  const backStatus = h("div", { "aria-live": "polite" });

  const form = h(
    "form",
    { class: "reply-form" },
    field("Your reply", text, `The patient receives it on ${channel} as a message from the clinic team.`),
    h("div", { class: "row" }, send),
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
      const result = await post(`/api/handoffs/${seg(sid)}/reply`, { text: body });
      if (result && result.delivered) {
        const via = CHANNEL_LABELS[result.via] || result.via || channel;
        status.append(notice("ok", `Delivered via ${via} at ${clock()}.`));
        messages.append(
          messageEl({ role: "staff", author: ctx.me.username, text: body, at: new Date().toISOString(), buttons: [] }),
        );
        text.value = "";
      } else {
        status.append(notice("error", `Not delivered: ${(result && result.error) || "the channel refused it"}.`));
      }
    } catch (error) {
      const why = /not delivered/i.test(error.detail) ? error.detail : `Not delivered. ${error.detail}`;
      status.append(notice("error", why));
    } finally {
      send.disabled = false;
      send.textContent = "Send reply";
    }
  });

  const panel = h(
    "section",
    { class: "card reply-panel", "aria-labelledby": "reply-title" },
    h("h2", { id: "reply-title" }, "Reply to the patient"),
    form,
    h("h3", null, "Done?"),
    h("p", { class: "hint" }, "When the patient needs nothing more from a person, let the assistant answer again."),
    handBack,
    backStatus,
  );
  handBack.addEventListener("click", async () => {
    handBack.disabled = true;
    backStatus.replaceChildren();
    try {
      await post(`/api/handoffs/${seg(sid)}/hand-back`);
      state.conv = { ...state.conv, handoff: false };
      refreshState();
      const done = notice("ok", "Handed back to the assistant. It answers this patient's next message.");
      done.tabIndex = -1;
      panel.replaceWith(done);
      done.focus();
    } catch (error) {
      backStatus.append(notice("error", error.detail));
      handBack.disabled = false;
    }
  });
  return panel;
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
