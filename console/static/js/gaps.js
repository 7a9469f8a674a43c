// Knowledge gaps: what patients asked that the assistant could not answer well (clarifications,
// out of scope, low confidence, handoffs), grouped by question, most frequent first.
import { get } from "./api.js";
import { KIND_LABELS, badge, endOfDay, field, h, heading, notice, percent, startOfDay, timeEl } from "./dom.js";
import { proposeDialog } from "./proposals.js";

export async function render(ctx) {
  const { params } = ctx;
  ctx.title("Knowledge gaps");
  const since = h("input", { type: "date", name: "since", value: params.get("since") || "" });
  const until = h("input", { type: "date", name: "until", value: params.get("until") || "" });
  const limit = h("input", { type: "number", name: "limit", min: "1", max: "500", value: params.get("limit") || "50" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter knowledge gaps" },
    field("From", since),
    field("To", until),
    field("Show at most", limit),
    h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Apply")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (since.value) next.set("since", since.value);
    if (until.value) next.set("until", until.value);
    if (limit.value && limit.value !== "50") next.set("limit", limit.value);
    const text = next.toString();
    ctx.go(text ? `#/gaps?${text}` : "#/gaps");
  });
  const loading = h("p", { class: "loading" }, "Loading…");
  const results = h("section", { class: "results", "aria-label": "Questions" }, loading);
  ctx.view.append(
    heading("Knowledge gaps"),
    h(
      "p",
      { class: "lead" },
      "Questions the assistant could not answer with confidence, and answers patients rated thumbs down. " +
        "Frequent ones may deserve a new passage in the knowledge base.",
    ),
    form,
    results,
  );

  const query = {};
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get("since") || "")) query.since = startOfDay(params.get("since"));
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get("until") || "")) query.until = endOfDay(params.get("until"));
  query.limit = params.get("limit") || "50";
  const gaps = await get("/api/gaps", query);
  if (!gaps.length) {
    results.replaceChildren(notice("info", "No unanswered questions in this period."));
    return;
  }
  results.replaceChildren(
    h("p", { class: "summary", role: "status" }, gaps.length === 1 ? "1 question" : `${gaps.length} questions`),
    h("ol", { class: "gaps" }, gaps.map((gap) => gapEl(gap, ctx))),
  );
}

/** "Propose a question for…" (reviewers and admins): the gap's wording as a new question of a passage. */
function proposeButton(gap, ctx) {
  const button = h("button", { type: "button", class: "btn btn-secondary btn-small" }, "Propose a question for…");
  const latest = (gap.examples || [])[0];
  button.addEventListener("click", () =>
    proposeDialog({
      opener: button,
      question: gap.question,
      origin: (gap.kinds || []).includes("thumbs_down") ? "thumbs_down" : "gap",
      senderId: latest ? latest.sender_id : null,
      onDone: (proposal, passage) => {
        const done =
          proposal.kind === "flag"
            ? `Flagged “${passage.title}”: an admin will look at it.`
            : `Proposed for “${passage.title}”: an admin will approve or reject it.`;
        const mark = badge("reviewed", proposal.kind === "flag" ? "Passage flagged" : "Question proposed");
        mark.tabIndex = -1;
        button.replaceWith(mark);
        mark.focus();
        ctx.flash("ok", done);
      },
    }),
  );
  return button;
}

// Answers patients rated thumbs down are gaps too: with the passages they were built from and the note.
const GAP_LABELS = { ...KIND_LABELS, thumbs_down: "Thumbs down" };
const NO_QUESTION = "(the question is no longer stored)";

function ratedDown(gap) {
  const passages = new Set();
  for (const ex of gap.examples || []) {
    if (ex.kind === "thumbs_down") for (const id of Array.isArray(ex.passage_ids) ? ex.passage_ids : []) passages.add(id);
  }
  if (!passages.size) return null;
  return h("p", { class: "hint gap-passages" }, `Rated thumbs down · passages: ${[...passages].join(", ")}`);
}

function gapEl(gap, ctx) {
  const kinds = (gap.kinds || []).map((k) => GAP_LABELS[k] || k).join(", ");
  const examples = (gap.examples || []).map((ex) =>
    h(
      "li",
      null,
      h("p", { class: "msg-text" }, ex.text || NO_QUESTION),
      ex.comment ? h("p", { class: "gap-comment" }, `What was missing: ${ex.comment}`) : null,
      h(
        "p",
        { class: "hint" },
        timeEl(ex.at),
        ` · ${GAP_LABELS[ex.kind] || ex.kind || "–"} · `,
        ex.kind === "thumbs_down"
          ? `passages ${(Array.isArray(ex.passage_ids) && ex.passage_ids.join(", ")) || "–"} · `
          : `confidence ${percent(ex.confidence)} · `,
        h("a", { href: `#/conversation/${encodeURIComponent(ex.sender_id)}` }, "Open the conversation"),
      ),
    ),
  );
  return h(
    "li",
    { class: "card gap" },
    h("p", { class: "gap-question" }, gap.question || NO_QUESTION),
    h(
      "p",
      { class: "hint" },
      `Asked ${gap.count} ${gap.count === 1 ? "time" : "times"} · ${kinds || "–"} · last: `,
      timeEl(gap.last_at),
    ),
    ratedDown(gap),
    ctx.can("review") ? h("div", { class: "gap-actions" }, proposeButton(gap, ctx)) : null,
    examples.length
      ? h(
          "details",
          null,
          h("summary", null, `Examples (${examples.length})`),
          h("ul", { class: "examples" }, examples),
        )
      : null,
  );
}
