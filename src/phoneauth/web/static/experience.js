/* phoneauth: the end-user pages drive the Experience API (Logto's paths and shapes) with fetch.
 * The card names the flow (data-flow) and the API (data-api); the interaction and session
 * cookies are HTTP-only and flow with every same-origin request. Every error the API answers
 * is shown in words: the sentence the page embeds for its `code` (#phoneauth-messages, from
 * web/human_messages), never the envelope's `message`, which is written for programs. */
(function () {
  "use strict";
  var RESEND_SECONDS = 59; // Logto's client-side resend timer
  var EVENTS = { "sign-in": "SignIn", register: "Register", "forgot-password": "ForgotPassword" };
  var card = document.querySelector("[data-flow]");
  if (!card) return;
  var flow = card.getAttribute("data-flow");
  var api = card.getAttribute("data-api");
  var base = card.getAttribute("data-base");
  var phoneField = window.phoneauthPhoneField ? window.phoneauthPhoneField(card, api) : null;
  var state = {
    event: EVENTS[flow],
    method: card.getAttribute("data-password-first") === "true" ? "password" : "code",
    mode: "code", // "code": the phone's own code; "mfa": the second factor
    passwordMode: null, // "register", "reset" or "profile"
    phone: "",
    display: "",
    verificationId: null,
  };
  var resendTimer = null;

  function $(selector) { return card.querySelector(selector); }
  function all(selector) { return Array.prototype.slice.call(card.querySelectorAll(selector)); }
  function flag(name) { return card.getAttribute("data-" + name) === "true"; }

  /* --- talking to the API -------------------------------------------------------------- */

  /* Code -> sentence; "" is the fallback, "connector." the one for a connector's unknown code. */
  var SENTENCES = (function () {
    var block = document.getElementById("phoneauth-messages");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (error) { return {}; }
  })();
  var FALLBACK = SENTENCES[""] || "Something went wrong. Please try again.";

  function sentenceFor(code) {
    if (Object.prototype.hasOwnProperty.call(SENTENCES, code)) return SENTENCES[code];
    if (code.indexOf("connector.") === 0 && SENTENCES["connector."]) return SENTENCES["connector."];
    return FALLBACK;
  }

  function ApiError(status, body) {
    this.status = status;
    this.code = body.code || "unknown";
    this.details = body.details || {};
    this.message = this.code === "page" ? body.message : sentenceFor(this.code);
  }

  function problem(message) { return new ApiError(0, { code: "page", message: message }); }

  async function call(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(api + path, init);
    } catch (error) {
      throw problem("Could not reach the server. Check your connection and try again.");
    }
    var text = await response.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data || {});
    return data;
  }

  /* --- the page ------------------------------------------------------------------------ */

  function clearMessages() {
    all("[data-error], [data-notice]").forEach(function (box) { box.hidden = true; box.textContent = ""; });
  }

  function say(selector, text) {
    var box = $(selector);
    box.textContent = text;
    box.hidden = false;
  }

  /* A missing or failing SMS connector is the operator's to fix (the console says how); the
   * table tells the person at the page only that codes cannot be sent now. Next to a country
   * picker the page says what to do about a number in its own terms. */
  function pageMessage(error) {
    var input = $("[data-phone]");
    if (error.code === "phone_number.invalid" && input && input.hasAttribute("data-invalid-message")) {
      return input.getAttribute("data-invalid-message");
    }
    return error.message;
  }

  function showError(error) {
    if (!(error instanceof ApiError)) {
      if (window.console) window.console.error(error);
      error = problem("Something went wrong. Please try again.");
    }
    if (error.code === "session.interaction_not_found") show("phone");
    say("[data-error]", pageMessage(error));
  }

  function show(step) {
    all("[data-step]").forEach(function (element) {
      element.hidden = element.getAttribute("data-step") !== step;
    });
    var intro = $("[data-intro]");
    if (intro) intro.hidden = step !== "phone";
    var footer = $("[data-footer-links]");
    if (footer) footer.hidden = step !== "phone";
    all("[data-phone-display]").forEach(function (element) { element.textContent = state.display; });
    var first = $('[data-step="' + step + '"] input:not([type=hidden])');
    if (first && !first.closest("[hidden]")) first.focus();
  }

  function busy(form, on) {
    all("button").forEach(function (button) {
      if (!button.hasAttribute("data-resend")) button.disabled = on;
    });
    card.setAttribute("aria-busy", on ? "true" : "false");
  }

  /* Run a step's handler on submit (or click), with one error box and no double submits. */
  function on(element, type, handler) {
    if (!element) return;
    element.addEventListener(type, async function (event) {
      event.preventDefault();
      clearMessages();
      busy(element, true);
      try { await handler(); } catch (error) { showError(error); } finally { busy(element, false); }
    });
  }

  /* Counted from the clock, not by ticks: browsers slow the timers of background tabs. */
  function startResendTimer() {
    var button = $("[data-resend]");
    if (!button) return;
    var label = button.getAttribute("data-label") || "Resend code";
    var ends = Date.now() + RESEND_SECONDS * 1000;
    function tick() {
      var left = Math.ceil((ends - Date.now()) / 1000);
      if (left > 0) {
        button.disabled = true;
        button.textContent = label + " in " + left + " s";
        return;
      }
      clearInterval(resendTimer);
      button.disabled = false;
      button.textContent = label;
    }
    clearInterval(resendTimer);
    tick();
    resendTimer = setInterval(tick, 1000);
  }

  function codeText(heading, lead) {
    $("[data-code-heading]").textContent = heading;
    var element = $("[data-code-lead]");
    element.textContent = lead + " ";
    var strong = document.createElement("strong");
    strong.textContent = state.display;
    element.appendChild(strong);
  }

  /* --- the Experience API steps -------------------------------------------------------- */

  async function start(event) {
    await call("PUT", "/experience", { interactionEvent: event, redirectTo: base + "/account" });
    state.event = event;
  }

  function identifier() { return { type: "phone", value: state.phone }; }

  async function sendCode() {
    var answer = state.mode === "mfa"
      ? await call("POST", "/experience/verification/mfa-verification-code", { identifierType: "phone" })
      : await call("POST", "/experience/verification/verification-code",
        { identifier: identifier(), interactionEvent: state.event });
    state.verificationId = answer.verificationId;
    startResendTimer();
  }

  async function verifyCode(code) {
    var answer = state.mode === "mfa"
      ? await call("POST", "/experience/verification/mfa-verification-code/verify",
        { verificationId: state.verificationId, code: code, identifierType: "phone" })
      : await call("POST", "/experience/verification/verification-code/verify",
        { identifier: identifier(), verificationId: state.verificationId, code: code });
    state.verificationId = answer.verificationId;
  }

  function askPassword(mode) {
    state.passwordMode = mode;
    $("[data-new-password]").value = "";
    $("[data-confirm-password]").value = "";
    show("password");
  }

  /* Submit; a second factor or a missing password is asked for, then submitted again. */
  async function finish() {
    var done;
    try {
      done = await call("POST", "/experience/submit");
    } catch (error) {
      var missing = (error.details && error.details.missingProfile) || [];
      if (error.code === "session.mfa.require_mfa_verification") {
        state.mode = "mfa";
        state.display = (error.details.maskedIdentifiers || {}).PhoneVerificationCode || "";
        await sendCode();
        codeText("Two-step verification", "For your security, enter the code we sent to");
        all('[data-step="code"] [data-back]').forEach(function (b) { b.textContent = "Start over"; });
        $("[data-code]").value = "";
        show("code");
        return;
      }
      if (error.code === "user.missing_profile" && missing.indexOf("password") >= 0) {
        askPassword(state.event === "Register" ? "register" : "profile");
        return;
      }
      throw error;
    }
    if (done && done.redirectTo) {
      window.location.assign(done.redirectTo);
      return;
    }
    show("done"); // a password reset answers 204: nothing to sign in to yet
  }

  async function identifyRegistration(verificationId) {
    try {
      await call("POST", "/experience/identification", verificationId ? { verificationId: verificationId } : {});
    } catch (error) {
      var missing = (error.details && error.details.missingProfile) || [];
      if (error.code === "user.missing_profile" && missing.indexOf("password") >= 0) {
        askPassword("register");
        return;
      }
      if (error.code === "user.phone_already_in_use") {
        show("existing-account");
        return;
      }
      throw error;
    }
    await finish();
  }

  async function identifySignIn() {
    try {
      await call("POST", "/experience/identification", { verificationId: state.verificationId });
    } catch (error) {
      if (error.code === "user.user_not_exist" && state.method === "code" && flag("register-open")) {
        show("create-account");
        return;
      }
      throw error;
    }
    await finish();
  }

  async function afterCode() {
    if (state.mode === "mfa") return finish();
    if (state.event === "Register") return identifyRegistration(state.verificationId);
    if (state.event === "SignIn") return identifySignIn();
    await call("POST", "/experience/identification", { verificationId: state.verificationId });
    askPassword("reset");
  }

  /* --- wiring -------------------------------------------------------------------------- */

  on($('[data-step="phone"]'), "submit", async function () {
    var phone = phoneField ? await phoneField.value() : { value: "" };
    if (!phone.value) throw problem("Enter your phone number.");
    state.phone = phone.value;
    state.display = phone.display;
    state.mode = "code";
    if (flow === "sign-in" && state.method === "password") {
      var password = $("[data-password]").value;
      if (!password) throw problem("Enter your password.");
      await start("SignIn");
      var answer = await call("POST", "/experience/verification/password",
        { identifier: identifier(), password: password });
      state.verificationId = answer.verificationId;
      await identifySignIn();
      return;
    }
    await start(EVENTS[flow]);
    await sendCode();
    codeText("Enter the code", "We sent a 6-digit code to");
    all('[data-step="code"] [data-back]').forEach(function (b) { b.textContent = "Use another phone number"; });
    $("[data-code]").value = "";
    show("code");
  });

  on($('[data-step="code"]'), "submit", async function () {
    var input = $("[data-code]");
    var code = input.value.replace(/\s/g, "");
    if (!code) throw problem("Enter the code from the SMS.");
    try {
      await verifyCode(code);
    } catch (error) {
      input.value = "";
      input.focus();
      throw error;
    }
    await afterCode();
  });

  on($('[data-step="password"]'), "submit", async function () {
    var password = $("[data-new-password]").value;
    if (!password) throw problem("Enter a password.");
    if (password !== $("[data-confirm-password]").value) throw problem("The passwords do not match.");
    if (state.passwordMode === "profile") {
      await call("POST", "/experience/profile", { type: "password", value: password });
      await finish();
      return;
    }
    await call("PUT", "/experience/profile/password", { password: password });
    if (state.passwordMode === "register") await identifyRegistration(null);
    else await finish();
  });

  on($("[data-resend]"), "click", async function () {
    if (flow === "invitation") await resendInvitationCode();
    else await sendCode();
    say("[data-notice]", "We sent a new code.");
  });

  on($("[data-create-account]"), "click", async function () {
    await call("PUT", "/experience/interaction-event", { interactionEvent: "Register" });
    state.event = "Register";
    await identifyRegistration(state.verificationId);
  });

  on($("[data-sign-in-instead]"), "click", async function () {
    await call("PUT", "/experience/interaction-event", { interactionEvent: "SignIn" });
    state.event = "SignIn";
    await identifySignIn();
  });

  all("[data-back]").forEach(function (button) {
    button.addEventListener("click", function () {
      clearMessages();
      clearInterval(resendTimer);
      state.mode = "code";
      show("phone");
    });
  });

  var switcher = $("[data-switch-method]");
  if (switcher) {
    switcher.addEventListener("click", function () {
      clearMessages();
      state.method = state.method === "password" ? "code" : "password";
      var password = state.method === "password";
      $("[data-password-field]").hidden = !password;
      $("[data-phone-submit]").textContent = password ? "Sign in" : "Send code";
      switcher.textContent = password ? "Sign in with a code instead" : "Sign in with a password instead";
      $("[data-intro]").textContent = password
        ? "Enter your phone number and password."
        : "We will text you a code to sign in.";
    });
  }

  function invitationPath(action) {
    return "/organization-invitations/" + encodeURIComponent(card.getAttribute("data-invitation")) + "/" + action;
  }

  /* The invitation's SMS may be days old and its code minutes-lived: the invitee asks again. */
  async function resendInvitationCode() {
    await call("POST", invitationPath("resend"));
    startResendTimer();
  }

  on($('[data-step="invitation-code"]'), "submit", async function () {
    var code = $("[data-code]").value.replace(/\s/g, "");
    if (!code) throw problem("Enter the code from the SMS.");
    var accepted = await call("POST", invitationPath("accept"), { code: code });
    window.location.assign(base + "/account?joined=" + encodeURIComponent(accepted.organizationId));
  });
})();
