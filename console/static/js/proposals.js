// The knowledge loop. Reviewers: "Propose a question for…" (from a knowledge gap or a thumbs-down) adds a
// patient's wording as a new question variant of a passage, or flags a passage with a note. Admins: the
// Proposals screen approves or rejects; an approved variant is live in the assistant within seconds,
// and "Download the patch" gives the approved variants as a patch to the YAML passages.
import { get, post, seg } from "./api.js";
import { openDialog } from "./dialog.js";
import { badge, field, h, heading, notice, select, timeEl, uid } from "./dom.js";

const ORIGIN_LABELS = { gap: "a knowledge gap", thumbs_down: "a thumbs-down" };
const STATUS_LABELS = { pending: "Waiting for an admin", approved: "Approved", rejected: "Rejected" };
const STATUSES = [
  ["pending", "Waiting for an admin"],
  ["approved", "Approved"],
  ["rejected", "Rejected"],
  ["", "All"],
];

/** Passages whose title holds the typed words, as radio buttons; calls onPick(passage) on a choice. */
function passagePicker(onPick) {
  const search = h("input", { type: "search", autocomplete: "off", maxlength: "200" });
  const name = uid("passage");
  const list = h("div", { class: "passage-picker", role: "radiogroup", "aria-label": "Passage" });
  const status = h("p", { class: "hint", role: "status" });
  let timer = 0;
  let asked = 0;
  const load = async () => {
    const mine = ++asked;
    let found;
    try {
      found = await get("/api/passages", { q: search.value.trim() });
    } catch (error) {
      if (mine === asked) status.textContent = error.detail;
      return;
    }
    if (mine !== asked) return; // a newer search is on its way
    status.textContent = found.length === 1 ? "1 passage" : `${found.length} passages`;
    list.replaceChildren(
      ...found.map((p) => {
        const radio = h("input", { type: "radio", name, value: p.id, id: uid("passage") });
        radio.addEventListener("change", () => onPick(p));
        return h(
          "label",
          { class: "passage-option", for: radio.id },
          radio,
          h("span", null, h("span", { class: "passage-title" }, p.title), h("span", { class: "hint" }, ` ${p.id}`)),
        );
      }),
    );
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  load();
  return h("div", null, field("Search passages by title", search), status, list);
}

/**
 * "Propose a question for…": opens the dialog. origin: "gap" or "thumbs_down"; question: the patient's
 * wording (redacted and cut as the list shows it: the reviewer edits it); senderId: the conversation.
 */
export function proposeDialog({ opener, question, origin, senderId, onDone }) {
  let passage = null;
  const mode = uid("mode");
  const asVariant = h("input", { type: "radio", name: mode, value: "variant", checked: true, id: uid("m") });
  const asFlag = h("input", { type: "radio", name: mode, value: "flag", id: uid("m") });
  const text = h("textarea", { rows: "2", maxlength: "300", value: question || "" });
  const note = h("textarea", { rows: "3", maxlength: "1000" });
  const chosen = h("p", { class: "chosen-passage", "aria-live": "polite" }, "No passage chosen yet.");
  const problem = h("div", { "aria-live": "assertive" });
  const variantField = field(
    "Question as a patient would ask it",
    text,
    "3 to 300 characters, no phone numbers, emails or names. It becomes one more way to ask for the passage.",
  );
  const noteField = field("What is wrong or missing in the passage", note);
  noteField.hidden = true;
  const submit = h("button", { type: "button", class: "btn btn-primary" }, "Propose question");
  const switchMode = () => {
    const flag = asFlag.checked;
    variantField.hidden = flag;
    noteField.hidden = !flag;
    submit.textContent = flag ? "Flag passage" : "Propose question";
  };
  asVariant.addEventListener("change", switchMode);
  asFlag.addEventListener("change", switchMode);
  const picker = passagePicker((p) => {
    passage = p;
    chosen.textContent = `Chosen: ${p.title} (${p.id})`;
  });
  const body = h(
    "div",
    { class: "propose" },
    h("p", { class: "hint" }, `From ${ORIGIN_LABELS[origin] || origin}.`),
    h(
      "fieldset",
      { class: "mode" },
      h("legend", null, "What to do"),
      h("label", { for: asVariant.id }, asVariant, " Add it as a question of a passage"),
      h("label", { for: asFlag.id }, asFlag, " Flag a passage as needing work"),
    ),
    variantField,
    noteField,
    picker,
    chosen,
    problem,
  );
  const dialog = openDialog({ title: "Propose a question for a passage", body, opener, closeLabel: "Cancel", actions: [submit] });
  submit.addEventListener("click", async () => {
    problem.replaceChildren();
    if (!passage) {
      problem.append(notice("error", "Choose the passage first."));
      return;
    }
    submit.disabled = true;
    try {
      const common = { passage_id: passage.id, origin, sender_id: senderId || null };
      const done = asFlag.checked
        ? await post("/api/knowledge/flags", { ...common, note: note.value })
        : await post("/api/knowledge/proposals", { ...common, text: text.value });
      dialog.close();
      if (onDone) onDone(done, passage);
    } catch (error) {
      problem.append(notice("error", error.detail));
    } finally {
      submit.disabled = false;
    }
  });
  text.focus();
  return dialog;
}

// ---------------------------------------------------------------- the Proposals screen

export async function render(ctx) {
  const { params } = ctx;
  ctx.title("Proposals");
  const admin = ctx.me.role === "admin";
  const wanted = params.has("status") ? params.get("status") : "pending";
  const status = select("status", STATUSES, wanted);
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter proposals" },
    field("Show", status),
    h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Apply")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.go(`#/proposals?status=${encodeURIComponent(status.value)}`);
  });
  const slot = h("div", { "aria-live": "polite" });
  const results = h("section", { class: "results", "aria-label": "Proposals" }, h("p", { class: "loading" }, "Loading…"));
  ctx.view.append(
    heading("Proposals"),
    h(
      "p",
      { class: "lead" },
      admin
        ? "New question variants and flags proposed by reviewers. An approved question is answered by the assistant " +
            "within seconds; download the patch to add the approved questions to the knowledge base files."
        : "Your proposals and their decisions. An administrator approves or rejects them.",
    ),
    admin
      ? h(
          "p",
          { class: "export-links" },
          h("a", { href: "/api/knowledge/patch", download: "", class: "btn btn-secondary" }, "Download the patch"),
        )
      : null,
    form,
    slot,
    results,
  );
  const rows = await get("/api/knowledge/proposals", wanted ? { status: wanted } : {});
  if (!ctx.live()) return;
  if (!rows.length) {
    results.replaceChildren(notice("info", wanted === "pending" ? "Nothing is waiting for a decision." : "No proposals."));
    return;
  }
  results.replaceChildren(
    h("p", { class: "summary", role: "status" }, rows.length === 1 ? "1 proposal" : `${rows.length} proposals`),
    h("ol", { class: "proposals" }, rows.map((row) => proposalEl(ctx, row, admin, slot))),
  );
}

function proposalEl(ctx, row, admin, slot) {
  const what =
    row.kind === "variant"
      ? h("p", { class: "proposal-text" }, h("span", { class: "sr-only" }, "Question: "), `“${row.text}”`)
      : h("p", { class: "proposal-text" }, h("span", { class: "sr-only" }, "Note: "), row.note);
  const badges = [
    badge(row.kind === "variant" ? "tag" : "waiting", row.kind === "variant" ? "New question" : "Flag"),
    badge(row.status === "approved" ? "reviewed" : row.status === "rejected" ? "handoff" : "low", STATUS_LABELS[row.status]),
    row.live ? badge("reviewed", "Live in the assistant") : null,
    row.in_yaml ? badge("tag", "In the knowledge base files") : null,
  ];
  const card = h(
    "li",
    { class: "card proposal" },
    h("div", { class: "badges" }, badges),
    what,
    h(
      "p",
      { class: "hint" },
      "For ",
      h("strong", null, row.passage_title || "a passage no longer in the knowledge base"),
      ` (${row.passage_id}) · from ${ORIGIN_LABELS[row.origin] || row.origin}`,
      row.origin_ref ? ` (${row.origin_ref})` : "",
      ` · proposed by ${row.proposed_by}, `,
      timeEl(row.proposed_at),
    ),
    row.decided_by
      ? h(
          "p",
          { class: "hint" },
          `${STATUS_LABELS[row.status]} by ${row.decided_by}, `,
          timeEl(row.decided_at),
          row.decision_note ? ` · “${row.decision_note}”` : "",
        )
      : null,
  );
  if (admin && row.status === "pending") card.append(decisionForm(ctx, row, slot));
  return card;
}

function decisionForm(ctx, row, slot) {
  const reason = h("input", { maxlength: "1000", autocomplete: "off" });
  reason.setAttribute("aria-label", `Reason for proposal ${row.id} (optional)`);
  const approve = h("button", { type: "button", class: "btn btn-primary btn-small" }, "Approve");
  const reject = h("button", { type: "button", class: "btn btn-danger btn-small" }, "Reject");
  const decide = async (verb) => {
    slot.replaceChildren();
    approve.disabled = reject.disabled = true;
    try {
      await post(`/api/knowledge/proposals/${seg(row.id)}/${verb}`, { note: reason.value });
      const what = row.kind === "variant" ? `“${row.text}”` : `the flag on ${row.passage_id}`;
      ctx.flash(
        "ok",
        verb === "approve"
          ? row.kind === "variant"
            ? `Approved ${what}: the assistant answers it with “${row.passage_title}” within a few seconds.`
            : `Approved ${what}.`
          : `Rejected ${what}.`,
      );
      ctx.go(location.hash || "#/proposals");
    } catch (error) {
      slot.append(notice("error", error.detail));
      approve.disabled = reject.disabled = false;
    }
  };
  approve.addEventListener("click", () => decide("approve"));
  reject.addEventListener("click", () => decide("reject"));
  return h("div", { class: "decision" }, field("Reason (optional)", reason), h("div", { class: "actions" }, approve, reject));
}
