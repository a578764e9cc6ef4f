/* phoneauth: the account page drives Logto's Account API with fetch. A code to the current
 * phone or email address, or the password, proves it is you (a verified record, sent as
 * `logto-verification-id`); a code to the new number or address proves you own it. An error is
 * shown as the sentence for its `code` that messages.js sets (window.phoneauthMessages, from
 * web/human_messages), as on the other pages. */
(function () {
  "use strict";
  var card = document.querySelector("[data-account]");
  if (!card || !card.querySelector("[data-account-step]")) return;
  var api = card.getAttribute("data-api");
  var currentPhone = card.getAttribute("data-phone-e164");
  var currentEmail = card.getAttribute("data-email");
  var shownTarget = card.querySelector("[data-identity-target]");
  var phoneShown = (shownTarget && shownTarget.textContent) || currentPhone;
  var phoneField = window.phoneauthPhoneField ? window.phoneauthPhoneField(card, api) : null;
  var state = {
    identity: null, identityRecord: null, identityTarget: null,
    newPhone: null, newRecord: null, newEmail: null, newEmailRecord: null,
  };

  function $(selector) { return card.querySelector(selector); }

  var SENTENCES = window.phoneauthMessages || {};

  function sentenceFor(code) {
    if (code && Object.prototype.hasOwnProperty.call(SENTENCES, code)) return SENTENCES[code];
    if (code && code.indexOf("connector.") === 0 && SENTENCES["connector."]) return SENTENCES["connector."];
    return SENTENCES[""] || "Something went wrong. Please try again.";
  }

  function say(selector, text) {
    ["[data-error]", "[data-notice]"].forEach(function (s) { $(s).hidden = true; });
    if (!text) return;
    $(selector).textContent = text;
    $(selector).hidden = false;
  }

  function show(step) {
    Array.prototype.forEach.call(card.querySelectorAll("[data-account-step]"), function (element) {
      element.hidden = element.getAttribute("data-account-step") !== step;
    });
    var first = $('[data-account-step="' + step + '"] input');
    if (first) first.focus();
  }

  async function call(path, body, headers, method) {
    var init = {
      method: method || "POST",
      credentials: "same-origin",
      headers: Object.assign({ accept: "application/json" }, headers || {}),
    };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response;
    try { response = await fetch(api + path, init); } catch (error) {
      throw new Error("Could not reach the server. Check your connection and try again.");
    }
    var text = await response.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
    if (!response.ok) {
      throw new Error(sentenceFor(data && data.code));
    }
    return data;
  }

  /* A phone number (E.164) or an email address: the Account API's two kinds of code. */
  function identifier(value) {
    return { type: value.indexOf("@") >= 0 ? "email" : "phone", value: value };
  }

  async function sendCode(value) {
    var answer = await call("/verifications/verification-code", { identifier: identifier(value) });
    return answer.verificationRecordId;
  }

  async function verifyCode(value, record, code) {
    await call("/verifications/verification-code/verify",
      { identifier: identifier(value), verificationId: record, code: code.trim() });
  }

  function verified() { return { "logto-verification-id": state.identity }; }

  /* Run a handler on submit or click, one message box, no double submits. */
  function on(element, type, handler) {
    if (!element) return;
    element.addEventListener(type, async function (event) {
      event.preventDefault();
      say(null);
      var buttons = card.querySelectorAll("button");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      try { await handler(event); } catch (error) { say("[data-error]", error.message); }
      finally { Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; }); }
    });
  }

  async function proveBy(target, shown) {
    state.identityRecord = await sendCode(target);
    state.identityTarget = target;
    $("[data-identity-target]").textContent = shown;
    show("identity-code");
  }

  on($("[data-identity-send]"), "click", async function () {
    await proveBy(currentPhone, phoneShown);
  });

  on($("[data-identity-email]"), "click", async function () { await proveBy(currentEmail, currentEmail); });

  on($("[data-identity-password]"), "click", async function () { show("identity-password"); });

  on($('[data-account-step="identity-password"]'), "submit", async function () {
    var answer = await call("/verifications/password", { password: $("[data-identity-password-input]").value });
    $("[data-identity-password-input]").value = "";
    state.identity = answer.verificationRecordId;
    show("choose");
  });

  on($('[data-account-step="identity-code"]'), "submit", async function () {
    await verifyCode(state.identityTarget, state.identityRecord, $("[data-identity-code]").value);
    state.identity = state.identityRecord;
    show("choose");
  });

  Array.prototype.forEach.call(card.querySelectorAll("[data-choose]"), function (button) {
    button.addEventListener("click", function () { say(null); show(button.getAttribute("data-choose")); });
  });

  on($('[data-account-step="phone"]'), "submit", async function () {
    var typed = phoneField ? await phoneField.value() : { value: $("[data-phone]").value, display: "" };
    if (!typed.value) throw new Error("Enter your new phone number.");
    if (typed.value === currentPhone) throw new Error("This is already your phone number.");
    state.newRecord = await sendCode(typed.value);
    state.newPhone = typed.value;
    $("[data-new-phone]").textContent = typed.display || typed.value;
    show("phone-code");
  });

  on($('[data-account-step="phone-code"]'), "submit", async function () {
    await verifyCode(state.newPhone, state.newRecord, $("[data-phone-code]").value);
    await call("/my-account/primary-phone",
      { phone: state.newPhone, newIdentifierVerificationRecordId: state.newRecord }, verified());
    $("[data-account-phone]").textContent = $("[data-new-phone]").textContent;
    currentPhone = state.newPhone;
    show("choose");
    say("[data-notice]", "Your phone number is now " + $("[data-new-phone]").textContent + ".");
  });

  /* The email address: added or changed with a code to the new address, or removed. */
  function showEmail(email) {
    currentEmail = email;
    var fact = $("[data-account-email]");
    if (fact) fact.textContent = email || "None";
    var choose = $('[data-choose="email"]');
    if (choose) {
      choose.textContent = choose.getAttribute(email ? "data-change-email-label" : "data-add-email-label");
    }
    var remove = $("[data-remove-email]");
    if (remove) remove.hidden = !email;
    var byEmail = $("[data-identity-email]");
    if (byEmail) byEmail.hidden = !email;
  }

  on($('[data-account-step="email"]'), "submit", async function () {
    var typed = $("[data-new-email]").value.trim();
    if (!typed) throw new Error("Enter your new email address.");
    if (currentEmail && typed.toLowerCase() === currentEmail.toLowerCase()) {
      throw new Error("This is already your email address.");
    }
    state.newEmailRecord = await sendCode(typed);
    state.newEmail = typed;
    $("[data-new-email-shown]").textContent = typed;
    show("email-code");
  });

  on($('[data-account-step="email-code"]'), "submit", async function () {
    await verifyCode(state.newEmail, state.newEmailRecord, $("[data-email-code]").value);
    await call("/my-account/primary-email",
      { email: state.newEmail, newIdentifierVerificationRecordId: state.newEmailRecord }, verified());
    showEmail(state.newEmail);
    show("choose");
    say("[data-notice]", "Your email address is now " + state.newEmail + ".");
  });

  on($("[data-remove-email]"), "click", async function () {
    await call("/my-account/primary-email", undefined, verified(), "DELETE");
    showEmail("");
    show("choose");
    say("[data-notice]", "Your email address has been removed.");
  });

  on($('[data-account-step="password"]'), "submit", async function () {
    var password = $("[data-new-password]").value;
    if (password !== $("[data-confirm-password]").value) {
      throw new Error("The two passwords are not the same.");
    }
    await call("/my-account/password", { password: password }, verified());
    $("[data-account-password]").textContent = "Set";
    show("choose");
    say("[data-notice]", "Your password has been changed.");
  });
})();
