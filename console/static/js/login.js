// The login screen: username and password; wrong credentials, lock-outs and expired sessions explained.
import { post } from "./api.js";
import { field, h, notice } from "./dom.js";

export function render(view, message, kind, onLoggedIn) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, maxlength: "64" });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    maxlength: "1024",
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Log in");
  const messages = h("div", { class: "messages-slot" });
  if (message) messages.append(notice(kind, message));

  const form = h(
    "form",
    { class: "login-form", novalidate: true },
    field("Username", username),
    field("Password", password),
    messages,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    messages.replaceChildren();
    if (!username.value.trim() || !password.value) {
      messages.append(notice("error", "Enter your username and password."));
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      const session = await post("/api/auth/login", { username: username.value.trim(), password: password.value });
      onLoggedIn(session);
    } catch (error) {
      password.value = "";
      const text =
        error.status === 429
          ? `${error.detail} If you have forgotten your password, ask an administrator to reset it.`
          : error.detail;
      messages.append(notice("error", text));
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  });

  view.append(
    h(
      "section",
      { class: "login card", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title", tabindex: "-1" }, "Staff console"),
      h("p", { class: "lead" }, "Log in to review conversations and answer patients waiting for a clinician."),
      form,
    ),
  );
  username.focus();
}
