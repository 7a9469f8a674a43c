// Knowledge gaps: what patients asked that the assistant could not answer well (clarifications,
// out of scope, low confidence, handoffs), grouped by question, most frequent first.
import { get } from "./api.js";
import { KIND_LABELS, endOfDay, field, h, heading, notice, percent, startOfDay, timeEl } from "./dom.js";

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
      "Questions the assistant could not answer with confidence. Frequent ones may deserve a new passage in the " +
        "knowledge base.",
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
    h("ol", { class: "gaps" }, gaps.map(gapEl)),
  );
}

function gapEl(gap) {
  const kinds = (gap.kinds || []).map((k) => KIND_LABELS[k] || k).join(", ");
  const examples = (gap.examples || []).map((ex) =>
    h(
      "li",
      null,
      h("p", { class: "msg-text" }, ex.text),
      h(
        "p",
        { class: "hint" },
        timeEl(ex.at),
        ` · ${KIND_LABELS[ex.kind] || ex.kind || "–"} · confidence ${percent(ex.confidence)} · `,
        h("a", { href: `#/conversation/${encodeURIComponent(ex.sender_id)}` }, "Open the conversation"),
      ),
    ),
  );
  return h(
    "li",
    { class: "card gap" },
    h("p", { class: "gap-question" }, gap.question),
    h(
      "p",
      { class: "hint" },
      `Asked ${gap.count} ${gap.count === 1 ? "time" : "times"} · ${kinds || "–"} · last: `,
      timeEl(gap.last_at),
    ),
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
