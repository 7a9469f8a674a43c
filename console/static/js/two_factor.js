// Two-factor login: setting up a code from an authenticator app (TOTP) for one's own account. The
// password is asked again, the secret is shown once (as text and as an otpauth:// link), and a first
// code from the app turns it on. Admins who must use one are sent here until it is on.
import { post } from "./api.js";
import { field, h, heading, notice } from "./dom.js";

export async function render(ctx) {
  ctx.title("Two-factor login");
  const { me } = ctx;
  ctx.view.append(heading("Two-factor login"));
  if (me.two_factor) {
    ctx.view.append(
      notice("ok", "Your logins need a code from your authenticator app as well as your password."),
      h("p", null, "Lost the phone with the app? Ask an administrator to reset it on the Users screen."),
    );
    return;
  }
  if (me.two_factor_setup_required) {
    ctx.view.append(
      notice("info", "Administrators log in with a code from an authenticator app here. Set it up to continue."),
    );
  }
  ctx.view.append(
    h(
      "p",
      { class: "lead" },
      "With an authenticator app (for example on your phone), a stolen password alone no longer opens your account.",
    ),
  );
  const slot = h("div");
  ctx.view.append(slot);
  slot.append(startForm(slot));
}

function startForm(slot) {
  const password = h("input", {
    type: "password",
    autocomplete: "current-password",
    required: true,
    maxlength: "1024",
  });
  const start = h("button", { type: "submit", class: "btn btn-primary" }, "Start");
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("Your password", password, "Asked again, so nobody can do this at a computer you left logged in."),
    status,
    start,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    if (!password.value) {
      status.append(notice("error", "Enter your password."));
      password.focus();
      return;
    }
    start.disabled = true;
    try {
      const setup = await post("/api/auth/two-factor/setup", { password: password.value });
      slot.replaceChildren(confirmForm(setup));
      slot.querySelector("input").focus();
    } catch (error) {
      status.append(notice("error", error.detail));
      password.value = "";
      password.focus();
    } finally {
      start.disabled = false;
    }
  });
  return form;
}

function confirmForm(setup) {
  const grouped = setup.secret.replace(/(.{4})/g, "$1 ").trim();
  const code = h("input", {
    autocomplete: "one-time-code",
    inputmode: "numeric",
    pattern: "[0-9 ]*",
    maxlength: "16",
    required: true,
  });
  const turnOn = h("button", { type: "submit", class: "btn btn-primary" }, "Turn on");
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", null, "1. Add the account to your app"),
    h("p", null, "In the app, add an account and type this key (it is shown only now):"),
    h("p", null, h("code", { class: "secret" }, grouped)),
    h(
      "p",
      { class: "hint" },
      "On a phone you can open it in the app instead: ",
      h("a", { href: setup.otpauth_uri }, "add to app"),
      ".",
    ),
    h("h2", null, "2. Type the code the app shows"),
    field("Code", code),
    status,
    turnOn,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    turnOn.disabled = true;
    try {
      await post("/api/auth/two-factor/confirm", { code: code.value.replace(/\s+/g, "") });
      form.replaceWith(
        h(
          "div",
          null,
          notice("ok", "Two-factor login is on. From now on, log in with your password and a code from the app."),
          h("p", null, h("a", { href: "#/", onclick: () => setTimeout(() => location.reload(), 0) }, "Continue")),
        ),
      );
    } catch (error) {
      status.append(notice("error", error.detail));
      code.value = "";
      code.focus();
    } finally {
      turnOn.disabled = false;
    }
  });
  return form;
}
