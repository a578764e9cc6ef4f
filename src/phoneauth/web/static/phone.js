/* phoneauth: the phone field formatted as it is typed, by asking POST {api}/phone-format.
 * phonenumbers' AsYouTypeFormatter runs on the server, so this stays a few lines. The number
 * goes in the body, never in a URL: URLs end up in access logs. */
(function () {
  "use strict";
  var DELAY_MS = 150;

  /* `when(typed)` says whether what is typed is a phone number at all: a field that also takes
   * an email address or a username formats only what looks like a number. */
  function PhoneField(select, input, api, when) {
    this.select = select;
    this.input = input;
    this.api = api;
    this.when = when || function () { return true; };
    this.asked = 0;
    this.timer = null;
    var field = this;
    this.input.addEventListener("input", function () {
      clearTimeout(field.timer);
      if (!field.when(field.input.value)) return;
      field.timer = setTimeout(function () { field.refresh(); }, DELAY_MS);
    });
    this.select.addEventListener("change", function () {
      var option = field.select.options[field.select.selectedIndex];
      field.input.placeholder = option.getAttribute("data-example") || "";
      field.refresh();
    });
  }

  PhoneField.prototype.ask = function (typed) {
    return fetch(this.api + "/phone-format", {
      method: "POST",
      credentials: "same-origin",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ region: this.select.value, digits: typed }),
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; });
  };

  /* Reformat what was typed, unless the user typed on meanwhile or edits mid-number. */
  PhoneField.prototype.refresh = function () {
    var field = this, typed = this.input.value, ticket = ++this.asked;
    if (!typed.trim() || !this.when(typed)) return Promise.resolve(null);
    return this.ask(typed).then(function (answer) {
      if (!answer || ticket !== field.asked || field.input.value !== typed) return answer;
      var atEnd = field.input.selectionStart === null || field.input.selectionStart === typed.length;
      if (atEnd && answer.formatted) field.input.value = answer.formatted;
      if (answer.region && typed.trim().charAt(0) === "+" && answer.region !== field.select.value) {
        field.select.value = answer.region;
      }
      return answer;
    });
  };

  /* What to send: E.164 when the number is valid; otherwise the number as dialled abroad, so
   * the API answers in words why it is not a phone number. */
  PhoneField.prototype.value = function () {
    var typed = this.input.value.trim();
    if (!typed) return Promise.resolve({ value: "", display: "" });
    var option = this.select.options[this.select.selectedIndex];
    var digits = typed.replace(/[^0-9]/g, "");
    var dialled = typed.charAt(0) === "+" ? "+" + digits :
      "+" + option.getAttribute("data-calling-code") + digits;
    return this.ask(typed).then(function (answer) {
      if (answer && answer.e164) return { value: answer.e164, display: answer.international };
      return { value: dialled, display: dialled };
    });
  };

  window.phoneauthPhoneField = function (root, api) {
    var input = root.querySelector("[data-phone]");
    return input ? new PhoneField(root.querySelector("[data-country]"), input, api) : null;
  };
  window.phoneauthPhoneFieldOf = function (select, input, api, when) {
    return new PhoneField(select, input, api, when);
  };
})();
