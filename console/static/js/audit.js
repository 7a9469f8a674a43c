// The audit log (admins): who logged in, viewed, exported, replied, erased..., newest first.
import { get } from "./api.js";
import { field, h, heading, notice, timeEl } from "./dom.js";

const PAGE_SIZE = 100;

export async function render(ctx) {
  const { params } = ctx;
  ctx.title("Audit log");
  const inputs = {
    actor: h("input", { name: "actor", maxlength: "64", value: params.get("actor") || "" }),
    action: h("input", { name: "action", maxlength: "32", value: params.get("action") || "" }),
    target: h("input", { name: "target", maxlength: "255", value: params.get("target") || "" }),
  };
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the audit log" },
    field("Staff member", inputs.actor),
    field("Action", inputs.action, "e.g. login, view_transcript, reply, export"),
    field("Target", inputs.target, "A sender id or a username"),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters"),
      h("a", { class: "btn btn-quiet", href: "#/audit" }, "Clear"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [key, input] of Object.entries(inputs)) if (input.value.trim()) next.set(key, input.value.trim());
    const text = next.toString();
    ctx.go(text ? `#/audit?${text}` : "#/audit");
  });
  const results = h("section", { class: "results", "aria-label": "Entries" }, h("p", { class: "loading" }, "Loading…"));
  ctx.view.append(heading("Audit log"), form, results);

  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const query = { page, page_size: PAGE_SIZE };
  for (const key of Object.keys(inputs)) if (params.get(key)) query[key] = params.get(key);
  const data = await get("/api/audit", query);
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  const summary = `${data.total} entries, page ${page} of ${pages}`;
  results.replaceChildren(h("p", { class: "summary", role: "status" }, summary));
  if (!data.items.length) {
    results.append(notice("info", "No entries match."));
    return;
  }
  const rows = data.items.map((e) =>
    h(
      "tr",
      null,
      h("td", null, timeEl(e.at)),
      h("td", null, e.actor || "–"),
      h("td", null, h("code", null, e.action)),
      h("td", { class: "wrap" }, e.target || ""),
      h("td", { class: "wrap detail" }, e.detail || ""),
      h("td", null, e.ip || ""),
    ),
  );
  const at = (n) => {
    const next = new URLSearchParams(params);
    next.set("page", String(n));
    return `#/audit?${next}`;
  };
  results.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "list" },
        h("caption", { class: "sr-only" }, "Audit log, newest first"),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["When", "Staff member", "Action", "Target", "Details", "IP address"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h("tbody", null, rows),
      ),
    ),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      page > 1 ? h("a", { class: "btn btn-quiet", href: at(page - 1) }, "Previous page") : null,
      h("span", null, `Page ${page} of ${pages}`),
      page < pages ? h("a", { class: "btn btn-quiet", href: at(page + 1) }, "Next page") : null,
    ),
  );
}
