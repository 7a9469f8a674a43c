// Data & privacy (admins): exports of the conversation list's current filters, the privacy
// settings in force (read-only: they are set in the server's environment), and the retention purge.
import { get, post } from "./api.js";
import { h, heading, notice, when } from "./dom.js";
import { apiFilters, exportLinks, listHash } from "./conversations.js";

const SETTING_LABELS = {
  redact: "Identifiers redacted in the console and exports",
  keep_raw_text: "Patients' messages kept unredacted in storage",
  redact_stored_after_hours: "Stored messages redacted after (hours idle)",
  retention_days: "Conversations deleted after (days)",
  retention_interval_minutes: "Retention purge runs every (minutes)",
  session_minutes: "A login lasts (minutes)",
  secure_cookies: "Session cookie only over HTTPS",
  rasa_url: "Assistant (Rasa) address",
  staff_replies_enabled: "Staff replies and hand-backs possible (MESO_RASA_TOKEN set)",
};

function show(value) {
  if (typeof value === "boolean") return value ? "yes" : "no";
  return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
}

export async function render(ctx) {
  ctx.title("Data & privacy");
  const hash = listHash();
  const filters = apiFilters(new URLSearchParams(hash.split("?")[1] || ""));
  const described = Object.keys(filters).length
    ? "the filters last used on the conversation list"
    : "all conversations";
  const settingsSlot = h("div", null, h("p", { class: "loading" }, "Loading…"));
  const purgeStatus = h("div", { "aria-live": "polite" });
  const purge = h("button", { type: "button", class: "btn btn-danger" }, "Run the retention purge now");
  purge.addEventListener("click", async () => {
    purge.disabled = true;
    purgeStatus.replaceChildren(h("p", { class: "loading" }, "Purging…"));
    try {
      const r = await post("/api/retention/purge");
      const redacted = r.redacted ? ` Messages redacted at rest: ${r.redacted.events}.` : "";
      purgeStatus.replaceChildren(
        notice(
          "ok",
          `Purge done: ${r.expired} conversations older than ${when(r.cutoff)} deleted ` +
            `(${r.removed.events} stored events).${redacted}`,
        ),
      );
    } catch (error) {
      purgeStatus.replaceChildren(notice("error", error.detail));
    } finally {
      purge.disabled = false;
    }
  });

  ctx.view.append(
    heading("Data & privacy"),
    h(
      "section",
      { class: "card", "aria-labelledby": "export-title" },
      h("h2", { id: "export-title" }, "Export"),
      h("p", null, `Conversations matching ${described} (`, h("a", { href: hash }, "change the filters"), "):"),
      exportLinks(filters),
      h(
        "p",
        { class: "hint" },
        "Every export is recorded in the audit log. Keep exported files as safe as the console.",
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "settings-title" },
      h("h2", { id: "settings-title" }, "Privacy settings"),
      settingsSlot,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "purge-title" },
      h("h2", { id: "purge-title" }, "Retention"),
      h(
        "p",
        null,
        "Deletes conversations older than the retention period now, instead of waiting for the next scheduled run.",
      ),
      purge,
      purgeStatus,
    ),
  );

  try {
    const settings = await get("/api/settings");
    const rows = Object.entries(settings).map(([key, value]) => [
      h("dt", null, SETTING_LABELS[key] || key.replaceAll("_", " ")),
      h("dd", null, show(value)),
    ]);
    settingsSlot.replaceChildren(
      h("dl", { class: "settings" }, rows),
      h("p", { class: "hint" }, "These are set in the server's environment (MESO_* variables)."),
    );
  } catch (error) {
    settingsSlot.replaceChildren(notice("error", error.detail));
  }
}
