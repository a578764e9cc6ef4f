/* phoneauth: one field for a phone number, an email address or a username, as the tenant's
 * sign-in experience allows. What is typed decides the kind, as a person would read it: an "@"
 * makes an email address; only digits, spaces and + - ( ) . make a phone number, read with the
 * country picker (phone.js); anything else is a username (a username never starts with a digit).
 * A kind the field does not accept is refused in the page's words (`refusals`, written by the
 * server in web/page_options.py), never sent. */
(function () {
  "use strict";
  var EMAIL = /^\S+@\S+\.\S+$/; // Logto's emailRegEx
  var PHONE_LIKE = /^\+?[\d\s().\-]+$/; // Logto's phoneInputRegEx, dots allowed
  var ORDER = ["phone", "email", "username"];
  var NOUNS = { phone: "phone number", email: "email address", username: "username" };
  var LABELS = { phone: "phone number", email: "email", username: "username" };

  function ordered(kinds) {
    return ORDER.filter(function (kind) { return kinds.indexOf(kind) >= 0; });
  }

  function either(words) {
    if (words.length <= 1) return words.join("");
    return words.slice(0, -1).join(", ") + " or " + words[words.length - 1];
  }

  function nouns(kinds) { return either(ordered(kinds).map(function (k) { return NOUNS[k]; })); }

  function label(kinds) {
    var text = either(ordered(kinds).map(function (k) { return LABELS[k]; }));
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function detect(typed) {
    var text = typed.trim();
    if (text.indexOf("@") >= 0) return "email";
    if (PHONE_LIKE.test(text) && /\d/.test(text)) return "phone";
    return "username";
  }

  function IdentifierField(root, api) {
    this.input = root.querySelector("[data-identifier], [data-phone]");
    this.select = root.querySelector("[data-country]");
    this.row = root.querySelector("[data-country-row]");
    this.label = root.querySelector("[data-identifier-label]");
    this.kinds = this.input.hasAttribute("data-phone") ? ["phone"] : [];
    this.refusals = {};
    var field = this;
    this.phone = this.select && window.phoneauthPhoneFieldOf
      ? window.phoneauthPhoneFieldOf(this.select, this.input, api, function (typed) {
        return field.kindOf(typed) === "phone";
      })
      : null;
    this.input.addEventListener("input", function () { field.showPicker(); });
  }

  /* What the field takes from now on; the label and the keyboard follow. */
  IdentifierField.prototype.accept = function (kinds, refusals) {
    this.kinds = ordered(kinds);
    this.refusals = refusals || {};
    if (this.input.hasAttribute("data-identifier")) {
      if (this.label) this.label.textContent = label(this.kinds);
      var onlyEmail = this.kinds.length === 1 && this.kinds[0] === "email";
      this.input.type = onlyEmail ? "email" : "text";
    }
    this.showPicker();
  };

  /* A field for phone numbers only reads everything as one (the API then says why not). */
  IdentifierField.prototype.kindOf = function (typed) {
    if (this.kinds.length === 1 && this.kinds[0] === "phone") return "phone";
    return detect(typed);
  };

  IdentifierField.prototype.showPicker = function () {
    if (!this.row) return;
    this.row.hidden = !(this.kinds.indexOf("phone") >= 0 && this.kindOf(this.input.value) === "phone");
  };

  IdentifierField.prototype.clear = function () {
    this.input.value = "";
    this.showPicker();
  };

  /* A promise of {kind, value, display}, or of {refusal} when the page must say why not. */
  IdentifierField.prototype.read = function () {
    var typed = this.input.value.trim();
    if (!typed) return Promise.resolve({ refusal: "Enter your " + nouns(this.kinds) + "." });
    var kind = this.kindOf(typed);
    if (this.kinds.indexOf(kind) < 0) {
      return Promise.resolve({ refusal: this.refusals[kind] || "Enter your " + nouns(this.kinds) + "." });
    }
    if (kind === "email" && !EMAIL.test(typed)) {
      return Promise.resolve({ refusal: "Enter a valid email address, like name@example.com." });
    }
    if (kind !== "phone") return Promise.resolve({ kind: kind, value: typed, display: typed });
    return this.phone.value().then(function (phone) {
      return { kind: "phone", value: phone.value, display: phone.display };
    });
  };

  window.phoneauthIdentifier = {
    field: function (root, api) {
      return root && root.querySelector("[data-identifier], [data-phone]") ? new IdentifierField(root, api) : null;
    },
    nouns: nouns,
    noun: function (kind) { return NOUNS[kind] || ""; },
  };
})();
