// The conversation list: filters (kept in the URL, so a reload or a shared link keeps them), newest
// first, pages, state badges; admins get CSV / JSONL downloads of exactly what the filters select.
import { get, withQuery } from "./api.js";
import {
  CHANNEL_LABELS,
  CHANNELS,
  KINDS,
  conversationBadges,
  endOfDay,
  field,
  h,
  heading,
  notice,
  select,
  startOfDay,
  timeEl,
} from "./dom.js";

const FILTERS = ["channel", "kind", "reviewed", "tag", "since", "until", "q"];
const PAGE_SIZES = ["25", "50", "100"];
let lastList = "#/conversations";

/** Where "Back to conversations" goes: the list as it was last shown. */
export function listHash() {
  return lastList;
}

/** The list's URL parameters -> the API's query parameters (dates become local day boundaries). */
export function apiFilters(params) {
  const out = {};
  for (const key of FILTERS) {
    const value = (params.get(key) || "").trim();
    if (!value) continue;
    if (key === "since") out.since = safeDate(value, startOfDay);
    else if (key === "until") out.until = safeDate(value, endOfDay);
    else if (key === "reviewed") out.reviewed = value === "yes" ? "true" : value === "no" ? "false" : undefined;
    else out[key] = value;
  }
  return out;
}

function safeDate(value, convert) {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? convert(value) : undefined;
}

export function exportLinks(filters) {
  return h(
    "p",
    { class: "export-links" },
    "Download: ",
    h("a", { href: withQuery("/api/export", { ...filters, format: "csv" }), download: "" }, "CSV"),
    " · ",
    h("a", { href: withQuery("/api/export", { ...filters, format: "jsonl" }), download: "" }, "JSONL"),
  );
}

export async function render(ctx) {
  const { params } = ctx;
  ctx.title("Conversations");
  lastList = location.hash || "#/conversations";
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const pageSize = PAGE_SIZES.includes(params.get("page_size")) ? params.get("page_size") : "25";

  const inputs = {
    channel: select("channel", [["", "Any channel"], ...CHANNELS], params.get("channel")),
    kind: select("kind", [["", "Any outcome"], ...KINDS], params.get("kind")),
    reviewed: select(
      "reviewed",
      [
        ["", "Reviewed or not"],
        ["yes", "Reviewed"],
        ["no", "Not reviewed yet"],
      ],
      params.get("reviewed"),
    ),
    tag: select("tag", [["", "Any tag"]], ""),
    since: h("input", { type: "date", name: "since", value: params.get("since") || "" }),
    until: h("input", { type: "date", name: "until", value: params.get("until") || "" }),
    q: h("input", { type: "search", name: "q", maxlength: "200", value: params.get("q") || "" }),
  };
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter conversations" },
    field("Channel", inputs.channel),
    field("Outcome", inputs.kind),
    field("Review", inputs.reviewed),
    field("Tag", inputs.tag),
    field("From", inputs.since),
    field("To", inputs.until),
    field("Search", inputs.q, "Words the patient wrote, or a sender id"),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters"),
      h("a", { class: "btn btn-quiet", href: "#/conversations" }, "Clear"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const key of FILTERS) {
      const value = inputs[key].value.trim();
      if (value) next.set(key, value);
    }
    if (pageSize !== "25") next.set("page_size", pageSize);
    const text = next.toString();
    ctx.go(text ? `#/conversations?${text}` : "#/conversations");
  });

  const results = h("section", { class: "results", "aria-label": "Results" }, h("p", { class: "loading" }, "Loading…"));
  ctx.view.append(heading("Conversations"), form, results);

  get("/api/tags")
    .then((tags) => {
      const wanted = params.get("tag") || "";
      for (const t of tags) inputs.tag.append(h("option", { value: t.tag }, `${t.tag} (${t.conversations})`));
      if (wanted && !tags.some((t) => t.tag === wanted)) inputs.tag.append(h("option", { value: wanted }, wanted));
      inputs.tag.value = wanted;
    })
    .catch(() => {
      /* the list still works without the tag names */
    });

  const filters = apiFilters(params);
  const data = await get("/api/conversations", { ...filters, page, page_size: pageSize });
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  const summary = h(
    "p",
    { class: "summary", role: "status" },
    data.total === 1 ? "1 conversation" : `${data.total} conversations`,
    data.total > data.items.length ? `, page ${data.page} of ${pages}` : "",
  );
  results.replaceChildren(summary);
  if (ctx.can("admin")) results.append(exportLinks(filters));
  if (!data.items.length) {
    results.append(notice("info", "No conversation matches these filters."));
    return;
  }
  results.append(table(data.items), pager(ctx, params, data.page, pages, pageSize));
}

function table(items) {
  const rows = items.map((c) =>
    h(
      "tr",
      { class: c.emergency ? "row-emergency" : c.handoff ? "row-waiting" : null },
      h("td", null, timeEl(c.last_at)),
      h("td", null, CHANNEL_LABELS[c.channel] || c.channel),
      h(
        "td",
        { class: "preview-cell" },
        h(
          "a",
          { href: `#/conversation/${encodeURIComponent(c.sender_id)}`, class: "preview" },
          c.preview || "(no text)",
        ),
        h("span", { class: "sender", title: "Patient reference" }, c.patient_ref),
      ),
      h("td", { class: "num" }, String(c.user_messages)),
      h("td", null, h("span", { class: "badges" }, conversationBadges(c))),
    ),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "list" },
      h("caption", { class: "sr-only" }, "Conversations, newest first"),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "col" }, "Last message"),
          h("th", { scope: "col" }, "Channel"),
          h("th", { scope: "col" }, "Patient's first message"),
          h("th", { scope: "col", class: "num" }, "Messages"),
          h("th", { scope: "col" }, "State"),
        ),
      ),
      h("tbody", null, rows),
    ),
  );
}

function pager(ctx, params, page, pages, pageSize) {
  const at = (n, size = pageSize) => {
    const next = new URLSearchParams(params);
    next.set("page", String(n));
    if (size === "25") next.delete("page_size");
    else next.set("page_size", size);
    if (n === 1) next.delete("page");
    const text = next.toString();
    return text ? `#/conversations?${text}` : "#/conversations";
  };
  const sizes = select(
    "page_size",
    PAGE_SIZES.map((s) => [s, `${s} per page`]),
    pageSize,
  );
  sizes.addEventListener("change", () => ctx.go(at(1, sizes.value)));
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    page > 1 ? h("a", { class: "btn btn-quiet", href: at(page - 1), rel: "prev" }, "Previous page") : null,
    h("span", null, `Page ${page} of ${pages}`),
    page < pages ? h("a", { class: "btn btn-quiet", href: at(page + 1), rel: "next" }, "Next page") : null,
    field("Rows", sizes),
  );
}
