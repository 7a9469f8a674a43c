// The login screen: username and password, then the authenticator code for accounts that use one;
// wrong credentials, lock-outs (with the wait) and expired sessions explained.
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
  const code = h("input", {
    name: "code",
    autocomplete: "one-time-code",
    inputmode: "numeric",
    pattern: "[0-9 ]*",
    maxlength: "16",
  });
  const codeField = field("Authenticator code", code, "The 6-digit code your authenticator app shows now.");
  codeField.hidden = true;
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Log in");
  const messages = h("div", { class: "messages-slot" });
  if (message) messages.append(notice(kind, message));

  const askForCode = () => {
    codeField.hidden = false;
    code.required = true;
    code.value = "";
    code.focus();
  };

  const form = h(
    "form",
    { class: "login-form", novalidate: true },
    field("Username", username),
    field("Password", password),
    codeField,
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
    if (!codeField.hidden && !code.value.trim()) {
      messages.append(notice("error", "Enter the code from your authenticator app."));
      code.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Logging in…";
    const body = { username: username.value.trim(), password: password.value };
    if (!codeField.hidden) body.code = code.value.replace(/\s+/g, "");
    try {
      const session = await post("/api/auth/login", body);
      onLoggedIn(session);
    } catch (error) {
      if (error.status === 401 && error.body && error.body.need === "code") {
        // the password was right: keep it, and ask for the code
        messages.append(notice(codeField.hidden ? "info" : "error", error.detail));
        askForCode();
        return;
      }
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
  username.addEventListener("input", () => {
    codeField.hidden = true; // another account: its own password first
    code.required = false;
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
