// Canned replies in a reply box: typing "/" at the start of a word, or pressing Ctrl+/ (⌘/ on a Mac), opens
// a list of the clinic's canned replies under the box, filtered by what follows the slash ("/pri" finds
// "/price" and "Prices"). Arrow keys choose, Enter or Tab inserts the text with the clinic's facts filled in
// (the server fills {clinic_name}, {phone}... from clinic.yml), Escape closes. The box stays a textarea: the
// list is tied to it with aria-controls / aria-activedescendant, and the number of matches is announced.
import { get } from "./api.js";
import { h, uid } from "./dom.js";

const SHOWN = 8; // options in the list at once
const TOKEN = /(^|\s)\/([^\s/]{0,32})$/; // a slash starting a word, up to the caret

let cache = null; // the screen's canned replies, loaded when a list first opens

/** Forget the loaded replies (after an admin changed them). */
export function reload() {
  cache = null;
}

function load() {
  if (!cache) {
    cache = get("/api/canned-replies").catch((error) => {
      cache = null;
      throw error;
    });
  }
  return cache;
}

function matches(replies, query) {
  const q = query.toLowerCase();
  if (!q) return replies;
  const starts = [];
  const contains = [];
  for (const r of replies) {
    const shortcut = (r.shortcut || "").toLowerCase();
    const title = r.title.toLowerCase();
    if (shortcut.startsWith(q) || title.startsWith(q)) starts.push(r);
    else if (shortcut.includes(q) || title.includes(q) || r.filled.toLowerCase().includes(q)) contains.push(r);
  }
  return [...starts, ...contains];
}

/**
 * Adds the list to a textarea. Returns the element to place just before the textarea's field: the list opens
 * upwards from there (a reply box sits at the bottom of the screen), with its announcements.
 */
export const PICKER_HINT = "Type / or press Ctrl+/ for canned replies.";

export function attachCannedPicker(textarea) {
  const listId = uid("canned");
  const list = h("ul", { id: listId, class: "canned-list", role: "listbox", "aria-label": "Canned replies" });
  list.hidden = true;
  const status = h("p", { class: "sr-only", role: "status" });
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", listId);
  textarea.setAttribute("aria-expanded", "false");

  let shown = []; // the replies listed now
  let active = -1;
  let token = null; // {start, end}: the "/query" being typed
  let asked = 0;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    shown = [];
    active = -1;
    token = null;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  };

  const highlight = (index) => {
    active = index;
    for (const [i, item] of [...list.children].entries()) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
      item.classList.toggle("active", i === index);
    }
    const item = list.children[index];
    if (item && item.id) {
      textarea.setAttribute("aria-activedescendant", item.id);
      item.scrollIntoView({ block: "nearest" });
    } else textarea.removeAttribute("aria-activedescendant");
  };

  const insert = (reply) => {
    if (!token) return;
    const before = textarea.value.slice(0, token.start);
    const after = textarea.value.slice(token.end);
    textarea.value = before + reply.filled + after;
    const caret = before.length + reply.filled.length;
    close();
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    status.textContent = `Inserted “${reply.title}”.`;
  };

  const draw = (replies, query) => {
    shown = matches(replies, query).slice(0, SHOWN);
    list.replaceChildren();
    if (!replies.length) {
      list.append(
        h("li", { class: "canned-empty" }, "No canned replies yet: an admin adds them on the Canned replies screen."),
      );
    } else if (!shown.length) {
      list.append(h("li", { class: "canned-empty" }, `No canned reply matches “/${query}”.`));
    }
    for (const [i, reply] of shown.entries()) {
      const item = h(
        "li",
        { id: `${listId}-${i}`, role: "option", class: "canned-option", "aria-selected": "false" },
        h("span", { class: "canned-title" }, reply.title),
        reply.shortcut ? h("span", { class: "canned-shortcut" }, `/${reply.shortcut}`) : null,
        h("span", { class: "canned-text" }, reply.filled),
      );
      // mousedown, not click: the textarea keeps its focus and caret
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        insert(reply);
      });
      list.append(item);
    }
    list.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    highlight(shown.length ? 0 : -1);
    status.textContent = shown.length
      ? `${shown.length} canned ${shown.length === 1 ? "reply" : "replies"}: arrow keys to choose, Enter to insert.`
      : list.textContent;
  };

  const update = async () => {
    const caret = textarea.selectionStart;
    if (caret !== textarea.selectionEnd) return close();
    const found = TOKEN.exec(textarea.value.slice(0, caret));
    if (!found) return close();
    const query = found[2];
    token = { start: caret - query.length - 1, end: caret };
    const mine = ++asked;
    try {
      const replies = await load();
      if (mine === asked && token) draw(replies, query);
    } catch (error) {
      if (mine !== asked) return;
      list.replaceChildren(h("li", { class: "canned-empty" }, `Canned replies could not be loaded: ${error.detail}`));
      list.hidden = false;
    }
  };

  textarea.addEventListener("input", update);
  textarea.addEventListener("click", update);
  textarea.addEventListener("blur", () => setTimeout(close, 150));
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "/" && (event.ctrlKey || event.metaKey) && !event.altKey) {
      // the keystroke: a slash at the caret, starting a word, opens the list
      event.preventDefault();
      const start = textarea.selectionStart;
      const before = textarea.value.slice(0, start);
      const slash = before && !/\s$/.test(before) ? " /" : "/";
      textarea.setRangeText(slash, start, textarea.selectionEnd, "end");
      update();
      return;
    }
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + shown.length) % shown.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && active >= 0) {
      event.preventDefault();
      insert(shown[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // a dialog around the box stays open
      close();
    }
  });

  return h("div", { class: "canned-anchor" }, list, status);
}
