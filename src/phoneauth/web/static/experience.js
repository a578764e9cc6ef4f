/* phoneauth: the end-user pages drive the Experience API (Logto's paths and shapes) with fetch.
 * The card names the flow (data-flow) and the API (data-api); the interaction and session
 * cookies are HTTP-only and flow with every same-origin request. What the tenant allows (which
 * kinds of identifier, how each signs in) comes from the page's JSON block (#phoneauth-page,
 * web/page_options.py). Every error the API answers is shown in words: the sentence for its
 * `code` that messages.js, loaded before this script, sets (window.phoneauthMessages, from
 * web/human_messages), never the envelope's `message`, which is written for programs. */
(function () {
  "use strict";
  var RESEND_SECONDS = 59; // Logto's client-side resend timer: only if the answer names none
  var TOO_SOON = "verification_code.resend_too_soon";
  var EVENTS = { "sign-in": "SignIn", register: "Register", "forgot-password": "ForgotPassword" };
  var USERNAME = /^[A-Za-z_]\w*$/; // Logto's usernameRegEx
  var card = document.querySelector("[data-flow]");
  if (!card) return;
  var flow = card.getAttribute("data-flow");
  var api = card.getAttribute("data-api");
  var base = card.getAttribute("data-base");
  var firstStep = card.getAttribute("data-first-step") || "identifier";
  var words = window.phoneauthIdentifier;

  function json(id) {
    var block = document.getElementById(id);
    try { return block ? JSON.parse(block.textContent) : {}; } catch (error) { return {}; }
  }

  var config = json("phoneauth-page");
  var methods = config.methods || {};
  var state = {
    event: EVENTS[flow],
    method: card.getAttribute("data-password-first") === "true" ? "password" : "code",
    mode: "code", // "code": a code to the identifier; "mfa": the second factor
    passwordMode: null, // "register", "reset", "profile" or "new-identity"
    binding: false, // the code confirms a phone or an address the account must add
    addUsername: false, // the username step completes the account (not registration's first step)
    created: false, // a registration has created the account; what is missing goes to submit
    kind: null, // "phone", "email" or "username"
    value: "",
    display: "",
    verificationId: null,
  };
  var resendTimer = null;
  var resendAfter = null; // seconds the last send's answer gave (its Resend-After header)

  function $(selector) { return card.querySelector(selector); }
  function all(selector) { return Array.prototype.slice.call(card.querySelectorAll(selector)); }
  function flag(name) { return card.getAttribute("data-" + name) === "true"; }

  var mainField = words ? words.field($('[data-step="identifier"]'), api) : null;
  var bindField = words ? words.field($('[data-step="bind"]'), api) : null;
  if (mainField && config.kinds) mainField.accept(config.kinds, config.refusals);

  /* --- talking to the API -------------------------------------------------------------- */

  /* Code -> sentence; "" is the fallback, "connector." the one for a connector's unknown code;
   * "code@email" / "code@username" the sentence when the page sent that kind of identifier. */
  var SENTENCES = window.phoneauthMessages || {};
  var FALLBACK = SENTENCES[""] || "Something went wrong. Please try again.";

  function has(key) { return Object.prototype.hasOwnProperty.call(SENTENCES, key); }

  function sentenceFor(code, kind) {
    var connector = code.indexOf("connector.") === 0;
    if (kind && has(code + "@" + kind)) return SENTENCES[code + "@" + kind];
    if (kind && connector && has("connector.@" + kind)) return SENTENCES["connector.@" + kind];
    if (has(code)) return SENTENCES[code];
    if (connector && has("connector.")) return SENTENCES["connector."];
    return FALLBACK;
  }

  function ApiError(status, body, kind) {
    this.status = status;
    this.code = body.code || "unknown";
    this.details = body.details || {};
    this.message = this.code === "page" ? body.message : sentenceFor(this.code, kind);
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
    var wait = parseInt(response.headers.get("Resend-After"), 10);
    resendAfter = isNaN(wait) ? null : wait;
    var text = await response.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data || {}, state.kind);
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

  /* A missing or failing connector is the operator's to fix (the console says how); the table
   * tells the person at the page only that codes cannot be sent now. Next to a country picker
   * the page says what to do about a number in its own terms. */
  function pageMessage(error) {
    var field = state.binding ? bindField : mainField;
    var input = field && field.input;
    if (error.code === "phone_number.invalid" && input && input.hasAttribute("data-invalid-message")) {
      return input.getAttribute("data-invalid-message");
    }
    return error.message;
  }

  /* "42 seconds", "2 minutes": how long to wait, as a person says it. */
  function waitInWords(seconds) {
    if (seconds < 60) return seconds + (seconds === 1 ? " second" : " seconds");
    var minutes = Math.ceil(seconds / 60);
    return minutes + (minutes === 1 ? " minute" : " minutes");
  }

  function showError(error) {
    if (!(error instanceof ApiError)) {
      if (window.console) window.console.error(error);
      error = problem("Something went wrong. Please try again.");
    }
    if (error.code === "session.not_found") startOver();
    var wait = error.details.retry_after;
    if (error.code === TOO_SOON && typeof wait === "number" && wait > 0) {
      // The server's own count: the button waits exactly as long as the cooldown still runs.
      startResendTimer(wait);
      say("[data-error]", "A code was sent moments ago. You can ask for another in " + waitInWords(wait) + ".");
      return;
    }
    say("[data-error]", pageMessage(error));
  }

  function show(step) {
    all("[data-step]").forEach(function (element) {
      element.hidden = element.getAttribute("data-step") !== step;
    });
    var intro = $("[data-intro]");
    if (intro) intro.hidden = step !== firstStep;
    var footer = $("[data-footer-links]");
    if (footer) footer.hidden = step !== firstStep;
    all("[data-display]").forEach(function (element) { element.textContent = state.display; });
    var first = $('[data-step="' + step + '"] input:not([type=hidden])');
    if (first && !first.closest("[hidden]")) first.focus();
  }

  function startOver() {
    state.mode = "code";
    state.binding = false;
    state.addUsername = false;
    show(firstStep);
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

  /* Counted from the clock, not by ticks: browsers slow the timers of background tabs. The wait
   * is the answer's (the tenant's resend cooldown): `seconds`, else the last send's Resend-After
   * header, else Logto's fixed timer. */
  function startResendTimer(seconds) {
    var button = $("[data-resend]");
    if (!button) return;
    var label = button.getAttribute("data-label") || "Resend code";
    var wait = typeof seconds === "number" ? seconds : resendAfter === null ? RESEND_SECONDS : resendAfter;
    var ends = Date.now() + wait * 1000;
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

  function showCode(heading, lead, back) {
    $("[data-code-heading]").textContent = heading;
    var element = $("[data-code-lead]");
    element.textContent = lead + " ";
    var strong = document.createElement("strong");
    strong.textContent = state.display;
    element.appendChild(strong);
    all('[data-step="code"] [data-back]').forEach(function (b) { b.textContent = back; });
    $("[data-code]").value = "";
    show("code");
  }

  function another() { return "Use another " + words.noun(state.kind); }

  function remember(found) {
    state.kind = found.kind;
    state.value = found.value;
    state.display = found.display;
  }

  /* --- the Experience API steps -------------------------------------------------------- */

  async function start(event) {
    await call("PUT", "/experience", { interactionEvent: event, redirectTo: base + "/account" });
    state.event = event;
    state.created = false;
  }

  function identifier() { return { type: state.kind, value: state.value }; }

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

  var BIND_HEADINGS = {
    phone: "Add your phone number",
    email: "Add your email address",
  };

  /* The account must gain a phone number or an address: a code proves it first. */
  function askBind(kinds) {
    var usable = kinds.filter(function (kind) { return (config.sendable || []).indexOf(kind) >= 0; });
    if (!usable.length) throw problem(sentenceFor("connector.not_found", kinds.length === 1 ? kinds[0] : null));
    state.binding = true;
    bindField.accept(usable, {});
    bindField.clear();
    $("[data-bind-heading]").textContent = BIND_HEADINGS[usable.join(" ")] || "Add your phone number or email address";
    show("bind");
  }

  /* Logto's `user.missing_profile`: ask for each missing piece in turn, then go on. */
  function completeProfile(error) {
    var missing = (error.details && error.details.missingProfile) || [];
    for (var i = 0; i < missing.length; i += 1) {
      var item = missing[i];
      if (item === "password") return askPassword(state.event === "Register" && !state.created ? "register" : "profile");
      if (item === "username" && $('[data-step="username"]')) {
        state.addUsername = true;
        return show("username");
      }
      if (!bindField) continue;
      if (item === "email" || item === "phone") return askBind([item]);
      if (item === "emailOrPhone") return askBind(["phone", "email"]);
    }
    throw error;
  }

  /* After a piece of the profile: a registration tries to create the account again; otherwise
   * the interaction is submitted again. */
  async function resume() {
    if (state.event === "Register" && !state.created) return identifyRegistration(null);
    await finish();
  }

  /* Submit; a second factor or a missing piece of the account is asked for, then submitted again. */
  async function finish() {
    var done;
    try {
      done = await call("POST", "/experience/submit");
    } catch (error) {
      if (error.code === "session.mfa.require_mfa_verification") {
        state.mode = "mfa";
        state.binding = false;
        state.display = (error.details.maskedIdentifiers || {}).PhoneVerificationCode || "";
        await sendCode();
        showCode("Two-step verification", "For your security, enter the code we sent to", "Start over");
        return;
      }
      if (error.code === "user.missing_profile") return completeProfile(error);
      throw error;
    }
    if (done && done.redirectTo) {
      // Replace, as Logto does: Back from the app must not show a sign-in form already used.
      window.location.replace(done.redirectTo);
      return;
    }
    show("done"); // a password reset answers 204: nothing to sign in to yet
  }

  async function identifyRegistration(verificationId) {
    try {
      await call("POST", "/experience/identification", verificationId ? { verificationId: verificationId } : {});
    } catch (error) {
      if (error.code === "user.missing_profile") return completeProfile(error);
      var taken = error.code === "user.phone_already_in_use" || error.code === "user.email_already_in_use";
      if (taken && verificationId && !state.binding) {
        show("existing-account");
        return;
      }
      throw usernameProblem(error);
    }
    state.created = true;
    await finish();
  }

  /* A username refused (taken, or against the username policy) is typed again on its step. */
  function usernameProblem(error) {
    if (error.code && error.code.indexOf("user.username_") === 0 && $('[data-step="username"]')) {
      show("username");
    }
    return error;
  }

  async function identifySignIn() {
    try {
      await call("POST", "/experience/identification", { verificationId: state.verificationId });
    } catch (error) {
      var canRegister = (config.registerKinds || []).indexOf(state.kind) >= 0;
      if (error.code === "user.user_not_exist" && state.method === "code" && canRegister) {
        $("[data-create-lead]").firstChild.textContent = "No account uses ";
        $("[data-create-lead]").lastChild.textContent = ". Create one with this " +
          (state.kind === "phone" ? "number?" : "address?");
        show("create-account");
        return;
      }
      throw error;
    }
    await finish();
  }

  async function afterCode() {
    if (state.mode === "mfa") return finish();
    if (state.binding) {
      await call("POST", "/experience/profile", { type: state.kind, verificationId: state.verificationId });
      state.binding = false;
      return resume();
    }
    if (state.event === "Register") return identifyRegistration(state.verificationId);
    if (state.event === "SignIn") return identifySignIn();
    await call("POST", "/experience/identification", { verificationId: state.verificationId });
    askPassword("reset");
  }

  /* --- sign-in by password or by code --------------------------------------------------- */

  function setMethod(method) {
    state.method = method;
    var password = method === "password";
    var field = $("[data-password-field]");
    if (field) field.hidden = !password;
    $("[data-identifier-submit]").textContent = password ? "Sign in" : "Send code";
    var switcher = $("[data-switch-method]");
    if (switcher) switcher.textContent = password ? "Sign in with a code instead" : "Sign in with a password instead";
    var intro = config.intro || {};
    if (intro[method]) $("[data-intro]").textContent = intro[method];
  }

  async function signInWithPassword() {
    var password = $("[data-password]").value;
    if (!password) throw problem("Enter your password.");
    await start("SignIn");
    var answer = await call("POST", "/experience/verification/password",
      { identifier: identifier(), password: password });
    state.verificationId = answer.verificationId;
    await identifySignIn();
  }

  /* The typed kind may sign in only one way: the page switches to it and says so. */
  function methodFits() {
    var allowed = methods[state.kind] || {};
    var other = state.method === "password" ? "code" : "password";
    if (allowed[state.method] || !allowed[other] || !$("[data-switch-method]")) return true;
    setMethod(other);
    var noun = words.noun(state.kind);
    say("[data-notice]", other === "password"
      ? "Enter your password to sign in with your " + noun + "."
      : "Your " + noun + " signs in with a code here: send one with the button below.");
    if (other === "password") $("[data-password]").focus();
    return false;
  }

  /* --- wiring -------------------------------------------------------------------------- */

  on($('[data-step="identifier"]'), "submit", async function () {
    var found = mainField ? await mainField.read() : { refusal: "Enter your phone number." };
    if (found.refusal) throw problem(found.refusal);
    remember(found);
    state.mode = "code";
    state.binding = false;
    if (flow === "sign-in") {
      if (!methodFits()) return;
      if (state.method === "password") return signInWithPassword();
    }
    await start(EVENTS[flow]);
    await sendCode();
    showCode("Enter the code", "We sent a 6-digit code to", another());
  });

  on($('[data-step="bind"]'), "submit", async function () {
    var found = await bindField.read();
    if (found.refusal) throw problem(found.refusal);
    remember(found);
    state.mode = "code";
    await sendCode();
    showCode("Enter the code", "We sent a 6-digit code to", another());
  });

  on($('[data-step="code"]'), "submit", async function () {
    var input = $("[data-code]");
    var code = input.value.replace(/\s/g, "");
    if (!code) throw problem(state.kind === "email" ? "Enter the code from the email." : "Enter the code from the SMS.");
    try {
      await verifyCode(code);
    } catch (error) {
      input.value = "";
      input.focus();
      throw error;
    }
    await afterCode();
  });

  on($('[data-step="username"]'), "submit", async function () {
    var username = $("[data-username]").value.trim();
    if (!username) throw problem(sentenceFor("user.username_required"));
    if (!USERNAME.test(username)) throw problem(sentenceFor("user.username_invalid_charset_hard"));
    if (!state.addUsername) {
      // Registering with a username: its password comes next, then both are checked at once.
      await start("Register");
      remember({ kind: "username", value: username, display: username });
      askPassword("new-identity");
      return;
    }
    await call("POST", "/experience/profile", { type: "username", value: username });
    state.addUsername = false;
    await resume();
  });

  on($('[data-step="password"]'), "submit", async function () {
    var password = $("[data-new-password]").value;
    if (!password) throw problem("Enter a password.");
    if (password !== $("[data-confirm-password]").value) throw problem("The passwords do not match.");
    if (state.passwordMode === "new-identity") {
      var answer;
      try {
        answer = await call("POST", "/experience/verification/new-password-identity",
          { identifier: { type: "username", value: state.value }, password: password });
      } catch (error) {
        throw usernameProblem(error);
      }
      await identifyRegistration(answer.verificationId);
      return;
    }
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
    say("[data-notice]", state.kind === "email" ? "We sent the email again." : "We sent the text message again.");
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
      if (state.binding && state.mode === "code") {
        show("bind");
        return;
      }
      state.kind = null;
      startOver();
    });
  });

  var switcher = $("[data-switch-method]");
  if (switcher) {
    switcher.addEventListener("click", function () {
      clearMessages();
      setMethod(state.method === "password" ? "code" : "password");
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
