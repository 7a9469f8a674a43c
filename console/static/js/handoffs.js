// The handoff queue: patients waiting for a clinician, emergencies first, refreshed every 5 seconds.
import { get } from "./api.js";
import { CHANNEL_LABELS, badge, clock, h, heading, notice, waited } from "./dom.js";

const EVERY_MS = 5000;

export async function render(ctx) {
  ctx.title("Handoff queue");
  const list = h("div", { class: "queue-slot" }, h("p", { class: "loading" }, "Loading…"));
  const updated = h("p", { class: "hint updated" });
  const problem = h("div", { class: "problem-slot" });
  const count = h("p", { class: "summary", role: "status" });
  ctx.view.append(
    heading("Handoff queue"),
    h("p", { class: "lead" }, "Patients waiting for a clinician, emergencies first, then the longest wait."),
    count,
    problem,
    list,
    updated,
  );

  let timer = 0;
  let stopped = false;
  ctx.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
  });

  const refresh = async () => {
    try {
      const items = await get("/api/handoffs");
      if (stopped) return;
      problem.replaceChildren();
      draw(list, count, items);
      updated.textContent = `Updated at ${clock()}. This list refreshes itself every 5 seconds.`;
    } catch (error) {
      if (stopped || error.status === 401) return;
      problem.replaceChildren(notice("error", `The queue could not be refreshed: ${error.detail}`));
    }
    if (!stopped) timer = setTimeout(refresh, EVERY_MS);
  };
  await refresh();
}

function draw(slot, count, items) {
  const text = items.length === 1 ? "1 patient waiting" : `${items.length} patients waiting`;
  if (count.textContent !== text) count.textContent = text; // announced only when it changes
  if (!items.length) {
    const empty = "No one is waiting. New handoffs appear here by themselves.";
    slot.replaceChildren(h("p", { class: "empty-queue" }, empty));
    return;
  }
  // keep keyboard focus on the same patient across refreshes
  const active = document.activeElement;
  const focused = active && slot.contains(active) ? active.dataset.sender : null;
  const rows = items.map((item) => {
    const link = h(
      "a",
      { href: `#/conversation/${encodeURIComponent(item.sender_id)}?from=handoffs`, class: "queue-open" },
      `Open conversation ${item.patient_ref}`,
    );
    link.dataset.sender = item.sender_id;
    return h(
      "li",
      { class: `queue-item ${item.emergency ? "queue-emergency" : ""}` },
      h(
        "div",
        { class: "queue-head" },
        item.emergency ? badge("emergency", "Emergency") : badge("waiting", "Handoff"),
        h(
          "span",
          { class: "queue-wait" },
          item.awaiting_reply === false
            ? `Answered ${waited(item.waiting_seconds)} ago, not handed back yet`
            : `Waiting ${waited(item.waiting_seconds)}`,
        ),
        h("span", { class: "hint" }, CHANNEL_LABELS[item.channel] || item.channel),
      ),
      h(
        "p",
        { class: "queue-preview" },
        h("span", { class: "sr-only" }, "Latest message: "),
        item.preview || "(no text)",
      ),
      item.reason ? h("p", { class: "hint" }, `Reason: ${item.reason}`) : null,
      link,
    );
  });
  slot.replaceChildren(h("ol", { class: "queue", "aria-label": "Waiting patients" }, rows));
  if (focused) slot.querySelector(`a[data-sender="${CSS.escape(focused)}"]`)?.focus();
}
