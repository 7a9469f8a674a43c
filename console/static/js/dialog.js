// A modal dialog (<dialog>, so the browser handles Escape and keeps focus inside); focus goes back
// to what opened it.
import { h } from "./dom.js";

/** openDialog({title, body, opener, closeLabel, actions: [buttons]}) -> the <dialog>, already open. */
export function openDialog({ title, body, opener, closeLabel = "Close", actions = [] }) {
  const titleId = `dialog-title-${Date.now()}`;
  const close = h("button", { type: "button", class: "btn btn-quiet" }, closeLabel);
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId },
    h("h2", { id: titleId }, title),
    body,
    h("div", { class: "dialog-actions" }, close, ...actions),
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
