/* phoneauth: WebOTP. The tenant set `webOtpDomain`, so every code SMS ends with the line
 * `@<domain> #<code>`; where the browser has the WebOTP API (Chrome on Android), a code field
 * that is shown asks it for the code, fills it in and submits its form. The browser only hands
 * over a code whose domain is this page's. Loaded only on the pages of such a tenant. */
(function () {
  "use strict";
  if (!("OTPCredential" in window) || !navigator.credentials) return;

  var waiting = null; // {input, controller}: the one request in flight

  function shown(input) { return !input.disabled && !input.closest("[hidden]"); }

  function stop() {
    if (waiting) { waiting.controller.abort(); waiting = null; }
  }

  function listen(input) {
    if (waiting && waiting.input === input) return; // still waiting: a resent SMS comes here too
    stop();
    var controller = new AbortController();
    var mine = { input: input, controller: controller };
    waiting = mine;
    navigator.credentials.get({ otp: { transport: ["sms"] }, signal: controller.signal })
      .then(function (otp) {
        if (waiting !== mine || !otp || !otp.code || !shown(input)) return;
        waiting = null;
        input.value = otp.code;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        if (input.form) input.form.requestSubmit();
      })
      .catch(function () { if (waiting === mine) waiting = null; }); // aborted or dismissed: typed by hand
  }

  function scan() {
    var fields = document.querySelectorAll('input[autocomplete="one-time-code"]');
    var field = Array.prototype.filter.call(fields, shown)[0];
    if (field) listen(field); else stop();
  }

  // The user typed the code and submitted: no prompt may outlive that. A step shown or hidden
  // (the code step, "Start over") is seen by the observer; leaving the page ends the request.
  document.addEventListener("submit", function (event) {
    if (waiting && event.target === waiting.input.form) stop();
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-resend]")) setTimeout(scan, 0);
  });
  window.addEventListener("pagehide", stop);
  new MutationObserver(scan).observe(document.body, { attributes: true, attributeFilter: ["hidden"], subtree: true });
  scan();
})();
