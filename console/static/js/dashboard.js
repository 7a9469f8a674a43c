// The dashboard: figures only, never a patient's words. Conversations per day by outcome, handoffs and
// the time to the first staff reply, emergencies, answered share, top topics, feedback per passage and
// knowledge gaps over time, for a range of days in the clinic's time zone, and a CSV of the same figures.
// The charts are drawn by uPlot (vendor/uplot, loaded when this screen first opens); every figure is in a
// table as well, so the screen works without the charts, and any odd value in the answer reads as zero
// (or "–") instead of breaking the screen.
import { get, withQuery } from "./api.js";
import { field, h, heading, notice, percent, waited } from "./dom.js";

const OUTCOMES = [
  ["answered", "Answered", "#1b7a3a"],
  ["clarify", "Clarifying question", "#b08900"],
  ["handoff", "Handed to a clinician", "#1a4f8b"],
  ["emergency", "Emergency", "#a3001a"],
  ["out_of_scope", "Out of scope", "#6b4c9a"],
  ["other", "Other", "#7a828a"],
];
const GAP_KINDS = [
  ["clarify", "Clarifying question", "#b08900"],
  ["out_of_scope", "Out of scope", "#6b4c9a"],
  ["low_confidence", "Low confidence", "#0b5c6b"],
  ["thumbs_down", "Thumbs down", "#a3001a"],
];
const CHART_HEIGHT = 220;
const INK = "#1b1f24";
const GRID = "#dde1e5";
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

// ---------------------------------------------------------------- reading the answer tolerantly

const MOST = 1e9; // a figure beyond this is no clinic's: an odd value, read as none
const count = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MOST ? Math.round(v) : 0);
const amount = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MOST ? v : null);
const share = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1 ? v : null);
const list = (v) => (Array.isArray(v) ? v : []);
const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
const text = (v) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const isDay = (v) => typeof v === "string" && DATE_RE.test(v);

function readDays(raw) {
  return list(raw)
    .map(obj)
    .filter((d) => isDay(d.day))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

const minutes = (seconds) => (amount(seconds) === null ? "–" : waited(seconds));

// ---------------------------------------------------------------- the chart library, loaded once

let library = null;
function chartLibrary() {
  if (!library) {
    if (!document.querySelector("link[data-uplot]")) {
      document.head.append(
        h("link", { rel: "stylesheet", href: "/static/vendor/uplot/uPlot.min.css", "data-uplot": "" }),
      );
    }
    library = import("../vendor/uplot/uPlot.esm.js").then(
      (module) => module.default,
      () => {
        library = null; // try again next time
        return null;
      },
    );
  }
  return library;
}

// "2025-03-09" -> seconds at that day's UTC midnight (the x axis shows calendar days, whatever the browser's zone)
function daySeconds(day) {
  const [y, m, d] = day.split("-").map(Number);
  return Date.UTC(y, m - 1, d) / 1000;
}

const DAY_LABEL = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const dayLabel = (seconds) => DAY_LABEL.format(new Date(seconds * 1000));
const COUNT_STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((power) => [1, 2, 5].map((m) => m * 10 ** power));

/** One tick per day, or every few days so that the labels never crowd (about 64 px each). */
function daySplits(xs) {
  return (u) => {
    const step = Math.max(1, Math.ceil(xs.length / Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 64))));
    return xs.filter((x, i) => i % step === 0);
  };
}

/**
 * A chart of one value per day. series: [{label, color, values}]; kind "bars" stacks them (the running
 * totals are drawn tallest first, so each bar shows its share and the legend reads top to bottom like
 * the stack), kind "lines" draws each as a line (null values leave a gap).
 */
function chart(uPlot, box, days, series, { kind = "bars", format = String, label = "", counts = kind === "bars" } = {}) {
  const xs = days.map((d) => daySeconds(d.day));
  let drawn = series.map((s) => ({ ...s, shown: s.values }));
  if (kind === "bars") {
    let running = xs.map(() => 0);
    drawn = series.map((s) => {
      running = running.map((v, i) => v + (s.values[i] || 0));
      return { ...s, shown: running };
    });
    drawn.reverse();
  }
  const bars = uPlot.paths.bars({ size: [0.7, 48], align: 0 });
  const options = {
    width: Math.max(280, box.clientWidth || 0),
    height: CHART_HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: (u, min, max) => [min - 43200, max + 43200] },
      y: { range: (u, min, max) => [0, Math.max(1, max || 0) * 1.1] },
    },
    axes: [
      {
        stroke: INK,
        grid: { stroke: GRID },
        ticks: { stroke: GRID },
        splits: daySplits(xs),
        values: (u, ticks) => ticks.map(dayLabel),
      },
      {
        stroke: INK,
        grid: { stroke: GRID },
        ticks: { stroke: GRID },
        label,
        size: 56,
        incrs: counts ? COUNT_STEPS : undefined,
        values: (u, ticks) => ticks.map((v) => format(v)),
      },
    ],
    series: [
      { label: "Day", value: (u, x) => (x == null ? "–" : dayLabel(x)) },
      ...drawn.map((s) => ({
        label: s.label,
        stroke: s.color,
        fill: kind === "bars" ? s.color : undefined,
        width: kind === "bars" ? 0 : 2,
        paths: kind === "bars" ? bars : undefined,
        points: { show: kind !== "bars", size: 6, fill: s.color },
        spanGaps: false,
        value: (u, v, seriesIndex, index) => {
          const raw = index == null ? null : s.values[index];
          return raw == null ? "–" : format(raw);
        },
      })),
    ],
  };
  return new uPlot(options, [xs, ...drawn.map((s) => s.shown)], box);
}

// ---------------------------------------------------------------- the screen

export async function render(ctx) {
  const { params } = ctx;
  ctx.title("Dashboard");
  const first = h("input", { type: "date", name: "from", value: params.get("from") || "" });
  const last = h("input", { type: "date", name: "to", value: params.get("to") || "" });
  const csv = h("a", { class: "btn btn-secondary", href: "/api/dashboard.csv", download: "" }, "Download CSV");
  const form = h(
    "form",
    { class: "filters", "aria-label": "Choose the days" },
    field("From", first),
    field("To", last),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Show"),
      h("a", { class: "btn btn-quiet", href: "#/dashboard" }, "Last 30 days"),
      csv,
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (first.value) next.set("from", first.value);
    if (last.value) next.set("to", last.value);
    const query = next.toString();
    ctx.go(query ? `#/dashboard?${query}` : "#/dashboard");
  });
  const results = h("div", { class: "dashboard" }, h("p", { class: "loading" }, "Loading…"));
  const lead = h(
    "p",
    { class: "lead" },
    "How the assistant and the team did, day by day. Figures only: no patient's words.",
  );
  ctx.view.append(heading("Dashboard"), lead, form, results);

  const query = {};
  if (DATE_RE.test(params.get("from") || "")) query.from = params.get("from");
  if (DATE_RE.test(params.get("to") || "")) query.to = params.get("to");
  csv.href = withQuery("/api/dashboard.csv", query);
  let data;
  try {
    data = obj(await get("/api/dashboard", query));
  } catch (error) {
    if (error && error.status === 401) throw error;
    results.replaceChildren(notice("error", (error && error.detail) || String(error)));
    return;
  }
  if (!ctx.live()) return;
  if (isDay(data.first_day) && !first.value) first.value = data.first_day;
  if (isDay(data.last_day) && !last.value) last.value = data.last_day;
  if (isDay(data.first_day) && isDay(data.last_day)) {
    csv.href = withQuery("/api/dashboard.csv", { from: data.first_day, to: data.last_day });
  }
  const zone = text(data.timezone);
  if (zone) lead.append(` Days in the clinic's time zone (${zone}).`);

  const days = readDays(data.days);
  const charts = [];
  const boxes = [];
  const sections = [
    () => summary(data),
    () => outcomesSection(days, boxes),
    () => handoffsSection(days, boxes),
    () => emergenciesSection(days, boxes),
    () => shareSection(days, boxes),
    () => topicsSection(list(data.topics)),
    () => passagesSection(list(data.passages)),
    () => gapsSection(days, boxes, data),
  ];
  const built = [];
  for (const build of sections) {
    try {
      built.push(build());
    } catch (error) {
      built.push(notice("error", `This part could not be shown (${String(error)}).`));
    }
  }
  const nothing =
    count(obj(data.conversations).total) === 0 &&
    count(obj(data.replies).handoffs) === 0 &&
    count(data.emergencies) === 0 &&
    count(obj(data.gaps).total) === 0 &&
    !list(data.topics).length &&
    !list(data.passages).length;
  if (nothing) {
    // nothing to draw: the figures (all zero) and what the period was
    results.replaceChildren(notice("info", "No conversations in this period."), built[0]);
    return;
  }
  results.replaceChildren(...built);

  // the charts, once the library is here and the boxes have their width
  const uPlot = days.length ? await chartLibrary() : null;
  if (!ctx.live()) return;
  for (const { box, draw } of boxes) {
    if (!uPlot) {
      box.replaceChildren(h("p", { class: "hint" }, "The chart could not be loaded: the table below has the figures."));
      continue;
    }
    try {
      charts.push({ box, plot: draw(uPlot, box) });
    } catch (error) {
      box.replaceChildren(h("p", { class: "hint" }, "The chart could not be drawn: the table below has the figures."));
    }
  }
  const resize = () => {
    for (const { box, plot } of charts) plot.setSize({ width: Math.max(280, box.clientWidth || 0), height: CHART_HEIGHT });
  };
  window.addEventListener("resize", resize);
  ctx.onLeave(() => {
    window.removeEventListener("resize", resize);
    for (const { plot } of charts) plot.destroy();
  });
}

// ---------------------------------------------------------------- the parts

function summary(data) {
  const conversations = obj(data.conversations);
  const replies = obj(data.replies);
  const gaps = obj(data.gaps);
  const figure = (name, value, detail) =>
    h("div", { class: "dash-figure" }, h("dt", null, name), h("dd", null, value), detail ? h("dd", { class: "hint" }, detail) : null);
  return h(
    "dl",
    { class: "dash-figures", "aria-label": "The period in figures" },
    figure("Conversations", String(count(conversations.total))),
    figure("Answered share", percent(share(conversations.answered_share)), "of conversations that asked something"),
    figure("Handoffs", String(count(replies.handoffs)), `${count(replies.replied)} with a staff reply`),
    amount(replies.p50_seconds) === null
      ? figure("First staff reply", "–", "no staff reply in this period")
      : figure("First staff reply", `${minutes(replies.p50_seconds)} (median)`, `90 % within ${minutes(replies.p90_seconds)}`),
    figure("Emergencies", String(count(data.emergencies))),
    figure("Knowledge gaps", String(count(gaps.total)), `${count(gaps.thumbs_down)} thumbs down`),
  );
}

function section(title, ...children) {
  return h("section", { class: "card dash-section", "aria-label": title }, h("h2", null, title), ...children);
}

function chartBox(boxes, description, draw) {
  const box = h("div", { class: "chart", role: "img", "aria-label": description });
  boxes.push({ box, draw });
  return box;
}

function table(caption, columns, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "list dash-table" },
      h("caption", { class: "sr-only" }, caption),
      h("thead", null, h("tr", null, columns.map(([label, numeric]) => h("th", { scope: "col", class: numeric ? "num" : null }, label)))),
      h(
        "tbody",
        null,
        rows.map((cells) =>
          h(
            "tr",
            null,
            cells.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", { class: columns[i][1] ? "num" : null }, cell))),
          ),
        ),
      ),
    ),
  );
}

function perDay(caption, columns, rows) {
  return h("details", { class: "dash-details" }, h("summary", null, "Figures per day"), table(caption, columns, rows));
}

function outcomesSection(days, boxes) {
  const series = OUTCOMES.map(([key, label, color]) => ({
    label,
    color,
    values: days.map((d) => count(obj(d.conversations)[key])),
  }));
  return section(
    "Conversations per day by outcome",
    h("p", { class: "hint" }, "Each conversation once, on the day it started, by its weightiest outcome."),
    chartBox(boxes, "Bar chart of conversations per day by outcome; the table below has the figures.", (uPlot, box) =>
      chart(uPlot, box, days, series),
    ),
    perDay(
      "Conversations per day by outcome",
      [["Day"], ...OUTCOMES.map(([, label]) => [label, true]), ["Total", true]],
      days.map((d) => {
        const c = obj(d.conversations);
        return [d.day, ...OUTCOMES.map(([key]) => String(count(c[key]))), String(count(c.total))];
      }),
    ),
  );
}

function handoffsSection(days, boxes) {
  const replies = days.map((d) => obj(d.replies));
  const handoffs = [{ label: "Handoffs", color: "#1a4f8b", values: replies.map((r) => count(r.handoffs)) }];
  const toMinutes = (v) => (amount(v) === null ? null : Math.round((v / 60) * 10) / 10);
  const waits = [
    { label: "Median", color: "#0b5c6b", values: replies.map((r) => toMinutes(r.p50_seconds)) },
    { label: "90th percentile", color: "#a3001a", values: replies.map((r) => toMinutes(r.p90_seconds)) },
  ];
  return section(
    "Handoffs and the time to the first staff reply",
    h("p", { class: "hint" }, "Handoffs by the day they started; the wait is until the first staff reply, however late."),
    chartBox(boxes, "Bar chart of handoffs per day; the table below has the figures.", (uPlot, box) =>
      chart(uPlot, box, days, handoffs),
    ),
    chartBox(boxes, "Line chart of the minutes to the first staff reply per day; the table below has the figures.", (uPlot, box) =>
      chart(uPlot, box, days, waits, { kind: "lines", label: "minutes", format: (v) => `${v}` }),
    ),
    perDay(
      "Handoffs and the time to the first staff reply per day",
      [["Day"], ["Handoffs", true], ["With a staff reply", true], ["First reply, median", true], ["First reply, 90 %", true]],
      days.map((d, i) => [
        d.day,
        String(count(replies[i].handoffs)),
        String(count(replies[i].replied)),
        minutes(replies[i].p50_seconds),
        minutes(replies[i].p90_seconds),
      ]),
    ),
  );
}

function emergenciesSection(days, boxes) {
  const series = [{ label: "Emergencies", color: "#a3001a", values: days.map((d) => count(d.emergencies)) }];
  return section(
    "Emergencies per day",
    h("p", { class: "hint" }, "Conversations with an emergency reply that day."),
    chartBox(boxes, "Bar chart of emergencies per day; the table below has the figures.", (uPlot, box) =>
      chart(uPlot, box, days, series),
    ),
    perDay(
      "Emergencies per day",
      [["Day"], ["Emergencies", true]],
      days.map((d) => [d.day, String(count(d.emergencies))]),
    ),
  );
}

function shareSection(days, boxes) {
  const values = days.map((d) => {
    const value = share(obj(d.conversations).answered_share);
    return value === null ? null : Math.round(value * 1000) / 10;
  });
  const series = [{ label: "Answered share", color: "#1b7a3a", values }];
  return section(
    "Answered share",
    h("p", { class: "hint" }, "Conversations the assistant answered itself, of those that asked something."),
    chartBox(boxes, "Line chart of the answered share per day; the table below has the figures.", (uPlot, box) =>
      chart(uPlot, box, days, series, { kind: "lines", label: "%", format: (v) => `${v} %` }),
    ),
    perDay(
      "Answered share per day",
      [["Day"], ["Answered share", true]],
      days.map((d, i) => [d.day, values[i] === null ? "–" : `${values[i]} %`]),
    ),
  );
}

function topicsSection(raw) {
  const topics = raw.map(obj).filter((t) => text(t.topic));
  if (!topics.length) return section("Top topics", notice("info", "No curated answers in this period."));
  const most = Math.max(1, ...topics.map((t) => count(t.answers)));
  return section(
    "Top topics",
    h("p", { class: "hint" }, "The best topic of each curated answer."),
    table(
      "Top topics, most answered first",
      [["Topic"], ["Answers", true], ["Conversations", true]],
      topics.map((t) => [
        text(t.title) || text(t.topic),
        h(
          "span",
          { class: "dash-bar" },
          h("meter", { min: "0", max: String(most), value: String(count(t.answers)), "aria-hidden": "true" }),
          String(count(t.answers)),
        ),
        String(count(t.conversations)),
      ]),
    ),
  );
}

function passagesSection(raw) {
  const passages = raw.map(obj).filter((p) => text(p.passage_id));
  if (!passages.length) return section("Feedback per passage", notice("info", "No ratings in this period."));
  return section(
    "Feedback per passage",
    h("p", { class: "hint" }, "Patients' thumbs on the answers built from each passage, most thumbs down first."),
    table(
      "Feedback per passage, most thumbs down first",
      [["Passage"], ["Title"], ["Thumbs up", true], ["Thumbs down", true], ["With a note", true]],
      passages.map((p) => [
        h("code", null, text(p.passage_id)),
        text(p.title) || "–",
        String(count(p.up)),
        String(count(p.down)),
        String(count(p.comments)),
      ]),
    ),
  );
}

function gapsSection(days, boxes, data) {
  const series = GAP_KINDS.map(([key, label, color]) => ({
    label,
    color,
    values: days.map((d) => count(obj(d.gaps)[key])),
  }));
  const link = {};
  if (isDay(data.first_day)) link.since = data.first_day;
  if (isDay(data.last_day)) link.until = data.last_day;
  const query = new URLSearchParams(link).toString();
  return section(
    "Knowledge gaps over time",
    h(
      "p",
      { class: "hint" },
      "Questions the assistant was unsure of, and answers rated thumbs down. ",
      h("a", { href: query ? `#/gaps?${query}` : "#/gaps" }, "Open the knowledge gaps of these days"),
    ),
    chartBox(boxes, "Bar chart of knowledge gaps per day by kind; the table below has the figures.", (uPlot, box) =>
      chart(uPlot, box, days, series),
    ),
    perDay(
      "Knowledge gaps per day by kind",
      [["Day"], ...GAP_KINDS.map(([, label]) => [label, true])],
      days.map((d) => [d.day, ...GAP_KINDS.map(([key]) => String(count(obj(d.gaps)[key])))]),
    ),
  );
}
