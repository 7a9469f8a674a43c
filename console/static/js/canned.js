// Canned replies: the texts staff insert into a reply with "/" or Ctrl+/ (canned_picker.js). Clinicians see
// them as a patient would read them (the clinic's facts filled in); admins add, change and delete them (each
// change is recorded in the audit log).
import { del, get, post, put, seg } from "./api.js";
import { field, h, heading, notice, timeEl, uid } from "./dom.js";
import { openDialog } from "./dialog.js";
import { reload } from "./canned_picker.js";

const PLACEHOLDERS = [
  "clinic_name",
  "phone",
  "address",
  "booking_url",
  "emergency_number",
  "privacy_url",
  "opening_hours",
  "reply_within_hours",
];

export async function render(ctx) {
  ctx.title("Canned replies");
  const admin = ctx.can("admin");
  const list = h("div", { class: "canned-slot" }, h("p", { class: "loading" }, "Loading…"));
  const status = h("div", { "aria-live": "polite" });
  ctx.view.append(
    heading("Canned replies"),
    h(
      "p",
      { class: "lead" },
      "Replies staff give again and again. In a reply box, type / or press Ctrl+/ to insert one; " +
        "its shortcut (such as /price) finds it at once.",
    ),
    status,
  );
  const refresh = async () => {
    reload();
    try {
      const replies = await get("/api/canned-replies");
      list.replaceChildren(table(replies, admin, { refresh, status }));
    } catch (error) {
      list.replaceChildren(notice("error", error.detail));
    }
  };
  if (admin) ctx.view.append(editor(null, { refresh, status }));
  ctx.view.append(list);
  await refresh();
}

function table(replies, admin, actions) {
  if (!replies.length) {
    return h(
      "p",
      { class: "empty-queue" },
      admin ? "No canned replies yet: add the first one above." : "No canned replies yet: an admin adds them here.",
    );
  }
  return h(
    "ol",
    { class: "canned-replies", "aria-label": "Canned replies, by title" },
    replies.map((reply) => {
      const item = h(
        "li",
        { class: "card canned-reply" },
        h(
          "div",
          { class: "canned-head" },
          h("h2", null, reply.title),
          reply.shortcut ? h("code", { class: "canned-shortcut" }, `/${reply.shortcut}`) : null,
        ),
        h("p", { class: "canned-filled" }, reply.filled),
        reply.filled !== reply.text ? h("p", { class: "hint" }, "As written: ", h("code", null, reply.text)) : null,
        h("p", { class: "hint" }, `Changed by ${reply.updated_by}, `, timeEl(reply.updated_at)),
      );
      if (admin) {
        const edit = h("button", { type: "button", class: "btn btn-secondary btn-small" }, "Edit");
        edit.setAttribute("aria-label", `Edit ${reply.title}`);
        edit.addEventListener("click", () => item.replaceWith(editor(reply, actions)));
        const remove = h("button", { type: "button", class: "btn btn-danger btn-small" }, "Delete");
        remove.setAttribute("aria-label", `Delete ${reply.title}`);
        remove.addEventListener("click", () => confirmDelete(reply, remove, actions));
        item.append(h("div", { class: "row" }, edit, remove));
      }
      return item;
    }),
  );
}

function editor(reply, actions) {
  const title = h("input", { name: "title", maxlength: "80", required: true, value: reply ? reply.title : "" });
  const shortcut = h("input", {
    name: "shortcut",
    maxlength: "32",
    autocomplete: "off",
    spellcheck: "false",
    value: reply && reply.shortcut ? `/${reply.shortcut}` : "",
  });
  const text = h("textarea", { name: "text", rows: "5", maxlength: "4000", required: true }, reply ? reply.text : "");
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, reply ? "Save changes" : "Add canned reply");
  const titleId = uid("canned-form");
  const form = h(
    "form",
    { class: "card canned-form", "aria-labelledby": titleId },
    h("h2", { id: titleId }, reply ? `Edit “${reply.title}”` : "Add a canned reply"),
    field("Title", title, "What staff pick it by, e.g. Prices."),
    field("Shortcut (optional)", shortcut, "Typed after / in a reply, e.g. /price: letters, digits, - and _."),
    field(
      "Text",
      text,
      `Placeholders filled in from clinic.yml: ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}.`,
    ),
    h(
      "div",
      { class: "row" },
      save,
      reply
        ? h("button", { type: "button", class: "btn btn-quiet", onclick: () => actions.refresh() }, "Cancel")
        : null,
    ),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = { title: title.value.trim(), text: text.value.trim(), shortcut: shortcut.value.trim() || null };
    if (!body.title || !body.text) {
      status.append(notice("error", "Give the reply a title and a text."));
      return;
    }
    save.disabled = true;
    try {
      if (reply) await put(`/api/canned-replies/${seg(reply.id)}`, body);
      else await post("/api/canned-replies", body);
      actions.status.replaceChildren(notice("ok", reply ? `Saved “${body.title}”.` : `Added “${body.title}”.`));
      if (!reply) {
        title.value = "";
        shortcut.value = "";
        text.value = "";
      }
      await actions.refresh();
    } catch (error) {
      status.append(notice("error", error.detail));
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function confirmDelete(reply, opener, actions) {
  const go = h("button", { type: "button", class: "btn btn-danger" }, "Delete");
  const status = h("div", { "aria-live": "polite" });
  const dialog = openDialog({
    title: `Delete “${reply.title}”?`,
    body: h("div", null, h("p", null, "Staff can no longer insert it. The deletion is recorded in the audit log."), status),
    opener,
    closeLabel: "Cancel",
    actions: [go],
  });
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      await del(`/api/canned-replies/${seg(reply.id)}`);
      dialog.close();
      actions.status.replaceChildren(notice("ok", `Deleted “${reply.title}”.`));
      await actions.refresh();
    } catch (error) {
      status.replaceChildren(notice("error", error.detail));
      go.disabled = false;
    }
  });
}
