// The handoff queue: patients waiting for staff, emergencies first, then the longest wait. Filters,
// search and pages are kept in the URL (#/handoffs?filter=mine&channel=telegram&q=...&page=2), so a
// reload or a shared link keeps them. Each card shows the message that caused the handoff, the
// patient's name where the channel gives one, the channel, the waiting time and who is replying;
// staff claim, release, assign and acknowledge emergencies from the card. The list refreshes every
// 5 seconds, and at once when the alerts' poll (alerts.js) hears of a change.
import { get, post, seg } from "./api.js";
import * as alerts from "./alerts.js";
import { CHANNEL_LABELS, CHANNELS, badge, clock, field, h, heading, notice, select, waited, when } from "./dom.js";

const EVERY_MS = 5000;
const FILTERS = [
  ["", "All"],
  ["emergency", "Emergencies"],
  ["waiting", "Waiting for a reply"],
  ["mine", "Mine"],
  ["unassigned", "Unassigned"],
];
const LIMITS = ["25", "50", "100"];

function wanted(params) {
  const filter = FILTERS.some(([value]) => value && value === params.get("filter")) ? params.get("filter") : "";
  const limit = LIMITS.includes(params.get("limit")) ? params.get("limit") : "25";
  const page = Math.min(100000, Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1));
  return {
    filter,
    channel: (params.get("channel") || "").slice(0, 32),
    q: (params.get("q") || "").trim().slice(0, 200),
    limit,
    page,
  };
}

function hashFor(state) {
  const next = new URLSearchParams();
  if (state.filter) next.set("filter", state.filter);
  if (state.channel) next.set("channel", state.channel);
  if (state.q) next.set("q", state.q);
  if (state.limit !== "25") next.set("limit", state.limit);
  if (state.page > 1) next.set("page", String(state.page));
  const text = next.toString();
  return text ? `#/handoffs?${text}` : "#/handoffs";
}

export async function render(ctx) {
  ctx.title("Handoff queue");
  const state = wanted(ctx.params);
  const go = (changes) => ctx.go(hashFor({ ...state, page: 1, ...changes }));

  const list = h("div", { class: "queue-slot" }, h("p", { class: "loading" }, "Loading…"));
  const updated = h("p", { class: "hint updated" });
  const problem = h("div", { class: "problem-slot" });
  const count = h("p", { class: "summary", role: "status" });
  const pages = h("div", { class: "pager-slot" });
  let staffNames = [];

  ctx.view.append(
    heading("Handoff queue"),
    h("p", { class: "lead" }, "Patients waiting for staff, emergencies first, then the longest wait."),
    alertSettings(),
    filterBar(state, go),
    count,
    problem,
    list,
    pages,
    updated,
  );

  let timer = 0;
  let stopped = false;
  let asked = 0; // a slow answer never overwrites a newer one
  const refresh = async () => {
    clearTimeout(timer);
    const mine = ++asked;
    // redrawing under an open menu or a half-typed choice would lose it: wait for the next round
    const active = document.activeElement;
    const busy = active && list.contains(active) && active.tagName === "SELECT";
    if (!busy) {
      try {
        const data = await get("/api/handoffs", {
          filter: state.filter,
          channel: state.channel,
          q: state.q,
          page: state.page,
          limit: state.limit,
        });
        if (stopped || mine !== asked) return;
        problem.replaceChildren();
        const actions = { ctx, refresh, problem, staff: () => staffNames };
        draw(list, count, data, state, actions);
        pages.replaceChildren(pager(state, data, go));
        updated.textContent = `Updated at ${clock()}. This list refreshes itself every 5 seconds.`;
      } catch (error) {
        if (stopped || mine !== asked || error.status === 401) return;
        problem.replaceChildren(notice("error", `The queue could not be refreshed: ${error.detail}`));
      }
    }
    if (!stopped) timer = setTimeout(refresh, EVERY_MS);
  };
  const unsubscribe = alerts.subscribe((_counts, changed) => {
    if (changed && !stopped) refresh();
  });
  ctx.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
    unsubscribe();
  });

  get("/api/handoffs/assignees")
    .then((people) => {
      staffNames = people.map((p) => p.username);
    })
    .catch(() => {
      /* the queue works without the names: only the assign menu needs them */
    });
  await refresh();
}

// ---------------------------------------------------------------- alert settings

function alertSettings() {
  const box = h("section", { class: "alert-settings", "aria-label": "Alerts" });
  const draw = () => {
    const state = alerts.notificationState();
    const sound = h("input", { type: "checkbox", id: "alert-sound", checked: alerts.soundOn() });
    sound.addEventListener("change", () => alerts.setSound(sound.checked));
    const repeat = select(
      "repeat",
      alerts.repeatChoices().map((s) => [String(s), `every ${s} seconds`]),
      String(alerts.repeatSeconds()),
    );
    repeat.addEventListener("change", () => alerts.setRepeatSeconds(Number(repeat.value)));
    let desktop;
    if (state === "granted") desktop = h("span", null, "Desktop notifications are on.");
    else if (state === "denied") desktop = h("span", null, "Desktop notifications are blocked in this browser's site settings.");
    else if (state === "unsupported") desktop = h("span", null, "This browser cannot show desktop notifications.");
    else
      desktop = h(
        "button",
        {
          type: "button",
          class: "btn btn-secondary btn-small",
          onclick: async () => {
            await alerts.askForNotifications();
            draw();
          },
        },
        "Turn on desktop notifications",
      );
    box.replaceChildren(
      h("label", { class: "check", for: "alert-sound" }, sound, " Sound for new handoffs"),
      field("Repeat an unacknowledged emergency", repeat),
      h("p", { class: "hint desktop-state" }, desktop),
    );
  };
  draw();
  return box;
}

// ---------------------------------------------------------------- filters

function filterBar(state, go) {
  const tabs = h(
    "div",
    { class: "queue-filters", role: "group", "aria-label": "Show" },
    FILTERS.map(([value, label]) =>
      h(
        "a",
        {
          class: `btn btn-small ${state.filter === value ? "btn-primary" : "btn-quiet"}`,
          href: hashFor({ ...state, filter: value, page: 1 }),
          "aria-current": state.filter === value ? "true" : null,
        },
        label,
      ),
    ),
  );
  const channel = select("channel", [["", "Any channel"], ...CHANNELS], state.channel);
  channel.addEventListener("change", () => go({ channel: channel.value }));
  const q = h("input", { type: "search", name: "q", maxlength: "200", value: state.q });
  const form = h(
    "form",
    { class: "queue-search", role: "search", "aria-label": "Search the queue" },
    field("Channel", channel),
    field("Search", q, "Patient reference, name, or words of the message"),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Search"),
      state.q || state.channel ? h("a", { class: "btn btn-quiet", href: hashFor({ ...state, q: "", channel: "", page: 1 }) }, "Clear") : null,
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go({ q: q.value.trim(), channel: channel.value });
  });
  return h("div", { class: "queue-tools" }, tabs, form);
}

function pager(state, data, go) {
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  if (data.total <= Number(LIMITS[0]) && state.page === 1) return "";
  const sizes = select(
    "limit",
    LIMITS.map((s) => [s, `${s} per page`]),
    state.limit,
  );
  sizes.addEventListener("change", () => go({ limit: sizes.value }));
  const at = (n) => hashFor({ ...state, page: n });
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    state.page > 1 ? h("a", { class: "btn btn-quiet", href: at(state.page - 1), rel: "prev" }, "Previous page") : null,
    h("span", null, `Page ${Math.min(state.page, pages)} of ${pages}`),
    state.page < pages ? h("a", { class: "btn btn-quiet", href: at(state.page + 1), rel: "next" }, "Next page") : null,
    field("Rows", sizes),
    state.page > pages ? h("a", { class: "btn btn-quiet", href: at(pages) }, "Last page") : null,
  );
}

// ---------------------------------------------------------------- the cards

function summary(data, state) {
  const n = data.total;
  const filtered = state.filter || state.channel || state.q;
  const people = n === 1 ? "1 patient" : `${n} patients`;
  if (!filtered) return `${people} waiting`;
  return `${people} waiting match${n === 1 ? "es" : ""} these filters`;
}

function draw(slot, count, data, state, actions) {
  const text = summary(data, state);
  if (count.textContent !== text) count.textContent = text; // announced only when it changes
  if (!data.items.length) {
    const filtered = state.filter || state.channel || state.q;
    const empty = filtered
      ? "No waiting patient matches these filters."
      : "No one is waiting. New handoffs appear here by themselves.";
    slot.replaceChildren(h("p", { class: "empty-queue" }, empty));
    return;
  }
  // keep keyboard focus on the same control across refreshes
  const active = document.activeElement;
  const focused = active && slot.contains(active) ? active.dataset.focus : null;
  const rows = data.items.map((item) => card(item, actions));
  slot.replaceChildren(h("ol", { class: "queue", "aria-label": "Waiting patients" }, rows));
  if (focused) slot.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
}

function who(item) {
  return item.display_name ? `${item.display_name} · ${item.patient_ref}` : item.patient_ref;
}

function card(item, actions) {
  const me = actions.ctx.me.username;
  const emergency = item.kind === "emergency";
  const open = h(
    "a",
    { href: `#/conversation/${encodeURIComponent(item.sender_id)}?from=handoffs`, class: "queue-open" },
    `Open conversation ${item.patient_ref}`,
  );
  open.dataset.focus = `open:${item.sender_id}`;
  const latestDiffers = item.preview && item.preview !== item.trigger;
  return h(
    "li",
    { class: `queue-item ${emergency ? "queue-emergency" : ""} ${item.claimed_by ? "queue-claimed" : ""}` },
    h(
      "div",
      { class: "queue-head" },
      emergency ? badge("emergency", "Emergency") : badge("waiting", "Handoff"),
      h("strong", { class: "queue-patient" }, who(item)),
      h("span", { class: "queue-channel" }, CHANNEL_LABELS[item.channel] || item.channel),
      h(
        "span",
        { class: "queue-wait" },
        item.awaiting_reply === false
          ? `Answered ${waited(item.waiting_seconds)} ago, not handed back yet`
          : `Waiting ${waited(item.waiting_seconds)}`,
      ),
      dueEl(item),
    ),
    h(
      "p",
      { class: "queue-trigger" },
      h("span", { class: "queue-label" }, emergency ? "Emergency message: " : "Handed off for: "),
      item.trigger || "(no text)",
    ),
    latestDiffers
      ? h("p", { class: "queue-preview" }, h("span", { class: "queue-label" }, "Latest message: "), item.preview)
      : null,
    h(
      "p",
      { class: "hint" },
      `Handed off ${when(item.handed_off_at)}`,
      item.reason ? ` · Reason: ${item.reason}` : "",
    ),
    claimLine(item, me),
    emergency ? ackLine(item) : null,
    h("div", { class: "queue-actions" }, open, claimButtons(item, me, actions), emergency ? ackButton(item, actions) : null),
  );
}

function dueEl(item) {
  if (!item.reply_due) return null;
  const left = Math.round((new Date(item.reply_due).getTime() - Date.now()) / 1000);
  if (Number.isNaN(left)) return null;
  return left >= 0
    ? h("span", { class: "queue-due" }, `Reply due in ${waited(left)}`)
    : h("span", { class: "queue-due queue-overdue" }, `Overdue by ${waited(-left)}`);
}

function claimLine(item, me) {
  if (!item.claimed_by) return h("p", { class: "queue-claim queue-unclaimed" }, "Nobody is replying yet.");
  const name = item.claimed_by === me ? `${item.claimed_by} (you)` : item.claimed_by;
  return h("p", { class: "queue-claim" }, h("strong", null, `${name} is replying`), ` since ${when(item.claimed_at)}`);
}

function ackLine(item) {
  if (!item.acknowledged_by) {
    return h("p", { class: "queue-ack queue-unacked" }, "Not acknowledged: alerts repeat until someone acknowledges.");
  }
  return h("p", { class: "queue-ack" }, `Acknowledged by ${item.acknowledged_by} at ${when(item.acknowledged_at)}`);
}

async function act(actions, button, path, body) {
  button.disabled = true;
  try {
    await post(path, body);
    actions.problem.replaceChildren();
    alerts.pollNow(); // the badges and the other alerts follow at once
  } catch (error) {
    if (error.status === 401) return;
    actions.problem.replaceChildren(notice("error", error.detail));
  }
  await actions.refresh();
}

function claimButtons(item, me, actions) {
  const sid = seg(item.sender_id);
  const isAdmin = actions.ctx.me.role === "admin";
  const out = [];
  if (!item.claimed_by) {
    const claim = h(
      "button",
      { type: "button", class: "btn btn-primary btn-small", onclick: () => act(actions, claim, `/api/handoffs/${sid}/claim`) },
      "I'll reply",
    );
    claim.dataset.focus = `claim:${item.sender_id}`;
    claim.setAttribute("aria-label", `I'll reply to ${item.patient_ref}`);
    out.push(claim);
  }
  if (item.claimed_by && (item.claimed_by === me || isAdmin)) {
    const release = h(
      "button",
      {
        type: "button",
        class: "btn btn-quiet btn-small",
        onclick: () => act(actions, release, `/api/handoffs/${sid}/release`),
      },
      item.claimed_by === me ? "Release" : `Release from ${item.claimed_by}`,
    );
    release.dataset.focus = `release:${item.sender_id}`;
    out.push(release);
  }
  const mayAssign = !item.claimed_by || item.claimed_by === me || isAdmin;
  const names = actions.staff().filter((name) => name !== item.claimed_by);
  if (mayAssign && names.length) {
    const choice = select(
      "assignee",
      [["", "Choose a colleague"], ...names.map((n) => [n, n === me ? `${n} (you)` : n])],
      "",
    );
    choice.dataset.focus = `assignee:${item.sender_id}`;
    const label = `Assign ${item.patient_ref} to`;
    choice.setAttribute("aria-label", label);
    const assign = h(
      "button",
      {
        type: "button",
        class: "btn btn-secondary btn-small",
        onclick: () => {
          if (!choice.value) {
            choice.focus();
            return;
          }
          act(actions, assign, `/api/handoffs/${sid}/assign`, { username: choice.value });
        },
      },
      "Assign",
    );
    assign.dataset.focus = `assign:${item.sender_id}`;
    out.push(h("span", { class: "queue-assign" }, choice, assign));
  }
  return out;
}

function ackButton(item, actions) {
  if (item.acknowledged_by) return null;
  const sid = seg(item.sender_id);
  const button = h(
    "button",
    {
      type: "button",
      class: "btn btn-danger solid btn-small",
      onclick: () => act(actions, button, `/api/handoffs/${sid}/acknowledge`),
    },
    "Acknowledge emergency",
  );
  button.dataset.focus = `ack:${item.sender_id}`;
  button.setAttribute("aria-label", `Acknowledge emergency ${item.patient_ref}`);
  return button;
}
