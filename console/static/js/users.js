// Staff accounts (admins): list, add with a role, change a role, deactivate / reactivate, set a new password.
import { get, patch, post } from "./api.js";
import { ROLE_LABELS, field, h, heading, notice, select, timeEl } from "./dom.js";

const ROLES = Object.entries(ROLE_LABELS);

export async function render(ctx) {
  ctx.title("Users");
  const status = h("div", { class: "status-slot", "aria-live": "polite" });
  const tableSlot = h("div", null, h("p", { class: "loading" }, "Loading…"));
  ctx.view.append(heading("Users"), status, tableSlot, addForm(ctx, status));
  await refresh(ctx, tableSlot, status);
}

async function refresh(ctx, slot, status) {
  const users = await get("/api/users");
  const rows = users.map((u) => row(ctx, u, () => refresh(ctx, slot, status), status));
  slot.replaceChildren(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "list" },
        h("caption", { class: "sr-only" }, "Staff accounts"),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Username", "Role", "State", "Last login", "Created", "Actions"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h("tbody", null, rows),
      ),
    ),
  );
}

function row(ctx, user, reload, status) {
  const self = user.username === ctx.me.username;
  const role = select("role", ROLES, user.role);
  role.setAttribute("aria-label", `Role of ${user.username}`);
  role.disabled = self;
  const saveRole = h("button", { type: "button", class: "btn btn-secondary btn-small", disabled: self }, "Change role");
  const toggle = h(
    "button",
    { type: "button", class: `btn btn-small ${user.active ? "btn-danger" : "btn-secondary"}`, disabled: self },
    user.active ? "Deactivate" : "Reactivate",
  );
  const password = h("button", { type: "button", class: "btn btn-quiet btn-small" }, "New password");
  // a lock after failed logins (the owner's own browsers still log in); a lost authenticator app
  const unlock = user.locked ? h("button", { type: "button", class: "btn btn-secondary btn-small" }, "Unlock") : null;
  const resetCode = user.two_factor
    ? h("button", { type: "button", class: "btn btn-quiet btn-small" }, "Reset two-factor")
    : null;
  const change = async (body, done) => {
    status.replaceChildren();
    try {
      await patch(`/api/users/${user.id}`, body);
      status.append(notice("ok", done));
      await reload();
    } catch (error) {
      status.append(notice("error", error.detail));
    }
  };
  saveRole.addEventListener("click", () =>
    change({ role: role.value }, `${user.username} is now ${ROLE_LABELS[role.value].toLowerCase()}.`),
  );
  toggle.addEventListener("click", () =>
    change(
      { active: !user.active },
      user.active ? `${user.username} is deactivated and logged out.` : `${user.username} can log in again.`,
    ),
  );
  if (unlock) unlock.addEventListener("click", () => change({ unlock: true }, `${user.username} can log in again.`));
  if (resetCode) {
    resetCode.addEventListener("click", () =>
      change({ reset_two_factor: true }, `${user.username} logs in without a code until they set up a new one.`),
    );
  }
  password.addEventListener("click", () => {
    const input = h("input", { type: "password", autocomplete: "new-password", minlength: "12" });
    input.setAttribute("aria-label", `New password for ${user.username}`);
    const save = h("button", { type: "submit", class: "btn btn-secondary btn-small" }, "Save password");
    const form = h("form", { class: "inline-form" }, input, save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      change({ password: input.value }, `${user.username} has a new password and was logged out everywhere.`);
    });
    password.replaceWith(form);
    input.focus();
  });
  return h(
    "tr",
    null,
    h("td", null, user.username, self ? " (you)" : ""),
    h("td", null, role),
    h(
      "td",
      null,
      [user.active ? "Active" : "Deactivated", user.locked ? "locked" : "", user.two_factor ? "two-factor" : ""]
        .filter(Boolean)
        .join(", "),
    ),
    h("td", null, user.last_login_at ? timeEl(user.last_login_at) : "never"),
    h("td", null, timeEl(user.created_at)),
    h("td", null, h("div", { class: "actions" }, saveRole, toggle, password, unlock, resetCode)),
  );
}

function addForm(ctx, status) {
  const username = h("input", { name: "username", maxlength: "64", autocomplete: "off", required: true });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: "12",
  });
  const role = select("role", ROLES, "clinician");
  const mine = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card add-user" },
    h("h2", null, "Add a staff member"),
    h(
      "div",
      { class: "grid" },
      field("Username", username, "Letters, digits, . _ -"),
      field("Password", password, "At least 12 characters"),
      field("Role", role),
    ),
    mine,
    h("button", { type: "submit", class: "btn btn-primary" }, "Add user"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    mine.replaceChildren();
    try {
      const body = { username: username.value.trim(), password: password.value, role: role.value };
      const user = await post("/api/users", body);
      username.value = "";
      password.value = "";
      ctx.flash("ok", `${user.username} was added as ${ROLE_LABELS[user.role].toLowerCase()}.`);
      ctx.go("#/users");
    } catch (error) {
      mine.append(notice("error", error.detail));
    }
  });
  return form;
}
