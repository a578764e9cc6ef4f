// The console's progressive enhancement: auto-submitting selects, live JSON checks, and
// "Send test" without reloading the page (so typed secrets stay in the form). No build step.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.body.classList.add("js");

  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });

  // The templates' rules: the JSON Schema of the connector's `templates` field (pydantic's,
  // embedded by the page) and "one template per usage type and locale". Only the schema words
  // pydantic uses for templates are read: $ref, anyOf, enum, type, required, properties,
  // additionalProperties, items, minItems, minLength, maxLength. The server checks again.
  var TYPE_WORDS = { string: "text", integer: "a whole number", number: "a number", boolean: "true or false", object: "an object", array: "a list", "null": "null" };

  function typeOf(value) {
    if (value === null) { return "null"; }
    if (Array.isArray(value)) { return "array"; }
    if (typeof value === "number") { return Number.isInteger(value) ? "integer" : "number"; }
    return typeof value;
  }
  function fits(type, value) {
    var actual = typeOf(value);
    return type === actual || (type === "number" && actual === "integer");
  }
  function resolve(schema, root) {
    while (schema && schema.$ref) { schema = (root.$defs || {})[schema.$ref.split("/").pop()]; }
    return schema || {};
  }
  function describe(schema, root) {
    schema = resolve(schema, root);
    if (schema.enum) { return "one of " + schema.enum.join(", "); }
    if (schema.anyOf) { return schema.anyOf.map(function (b) { return describe(b, root); }).join(" or "); }
    if (schema.type === "object" && schema.properties) { return "an object with " + Object.keys(schema.properties).join(", "); }
    return TYPE_WORDS[schema.type] || "something else";
  }
  function say(where, path, text) { return where + ": " + (path ? path + " " : "") + text; }

  function check(value, schema, root, where, path, out) {
    schema = resolve(schema, root);
    if (schema.anyOf) {
      var candidates = schema.anyOf.filter(function (b) { var r = resolve(b, root); return !r.type || fits(r.type, value); });
      for (var i = 0; i < candidates.length; i++) {
        var found = [];
        check(value, candidates[i], root, where, path, found);
        if (!found.length) { return; }
      }
      if (candidates.length === 1) { check(value, candidates[0], root, where, path, out); }
      else { out.push(say(where, path, "must be " + describe(schema, root) + ".")); }
      return;
    }
    if (schema.enum) {
      if (schema.enum.indexOf(value) < 0) {
        out.push(say(where, path, JSON.stringify(value) + " is unknown; use one of " + schema.enum.join(", ") + "."));
      }
      return;
    }
    if (schema.type && !fits(schema.type, value)) {
      out.push(say(where, path, "must be " + TYPE_WORDS[schema.type] + (schema.type === "object" && schema.properties ? " with " + Object.keys(schema.properties).join(", ") : "") + "."));
      return;
    }
    if (typeof value === "string") {
      if (schema.minLength && value.length < schema.minLength) { out.push(say(where, path, "must not be empty.")); }
      if (schema.maxLength && value.length > schema.maxLength) { out.push(say(where, path, "has " + value.length + " characters; at most " + schema.maxLength + ".")); }
    }
    if (typeOf(value) === "object") {
      var properties = schema.properties || {};
      (schema.required || []).forEach(function (key) {
        if (!(key in value)) { out.push(say(where, path ? path + "." + key : key, "is missing.")); }
      });
      Object.keys(value).forEach(function (key) {
        var inner = path ? path + "." + key : key;
        if (key in properties) { check(value[key], properties[key], root, where, inner, out); }
        else if (schema.additionalProperties === false) {
          out.push(say(where, inner, "is not a field here; use " + Object.keys(properties).join(", ") + "."));
        }
      });
    }
    if (Array.isArray(value)) {
      if (schema.minItems && value.length < schema.minItems) { out.push(where + ": add at least " + schema.minItems + "."); }
      if (schema.items) {
        value.forEach(function (item, index) {
          var label = path ? where : "Template " + (index + 1) + (item && typeof item.usageType === "string" ? " (" + item.usageType + ")" : "");
          check(item, schema.items, root, label, path ? path + "[" + index + "]" : "", out);
        });
      }
    }
  }

  function templateProblems(templates, rules) {
    var out = [];
    if (!Array.isArray(templates)) {
      return ['The templates must be a list: [{"usageType": "Generic", ...}, ...].'];
    }
    check(templates, rules.schema, rules.schema, "Templates", "", out);
    if (rules.unique) {
      var seen = {};
      templates.forEach(function (t) {
        if (!t || typeof t.usageType !== "string") { return; }
        var locale = typeof t.locale === "string" ? t.locale.toLowerCase() : "";
        var key = t.usageType + "\u0000" + locale;
        if (seen[key]) {
          out.push("Two templates for usage type " + t.usageType + (locale ? " and locale " + t.locale : "") + ": keep one.");
        }
        seen[key] = true;
      });
    }
    return out;
  }

  function rulesFor(area) {
    var id = area.getAttribute("data-template-rules");
    var script = id && document.getElementById(id);
    if (!script) { return null; }
    try { return JSON.parse(script.textContent); } catch (error) { return null; }
  }

  function checkJson(area) {
    var status = area.parentElement.querySelector("[data-json-status]");
    var text = area.value.trim();
    var problem = null;
    var problems = [];
    var parsed;
    if (text && !area.disabled) {
      try { parsed = JSON.parse(text); } catch (error) { problem = error.message; }
      var rules = problem === null ? rulesFor(area) : null;
      if (rules) { problems = templateProblems(parsed, rules); }
    }
    var bad = problem !== null || problems.length > 0;
    area.classList.toggle("json-invalid", bad);
    area.setAttribute("aria-invalid", bad ? "true" : "false");
    if (status) {
      status.innerHTML = "";
      status.className = "hint " + (bad ? "bad" : "ok");
      if (problem !== null) {
        status.textContent = "Not valid JSON: " + problem;
      } else if (problems.length) {
        var list = document.createElement("ul");
        list.setAttribute("data-template-problems", "");
        problems.forEach(function (p) { var li = document.createElement("li"); li.textContent = p; list.appendChild(li); });
        status.appendChild(list);
      } else if (text && !area.disabled) {
        status.textContent = area.hasAttribute("data-template-rules")
          ? (parsed.length === 1 ? "1 template" : parsed.length + " templates") + ", as the connector expects them."
          : "Valid JSON.";
      }
    }
    showSizes(area);
    return problem === null;
  }
  // Each text template's SMS size as the admin types: a sample code, the tenant's autofill
  // lines (the attribute lists them), the rules of sms_segments.js; a warning past one part.
  function showSizes(area) {
    var out = area.parentElement.querySelector("[data-sms-sizes-out]");
    var sizes = window.phoneauthSmsSegments;
    if (!out || !sizes) { return; }
    out.innerHTML = "";
    var templates;
    try { templates = JSON.parse(area.value); } catch (error) { return; }
    if (!Array.isArray(templates) || area.disabled) { return; }
    var lines = JSON.parse(area.getAttribute("data-sms-sizes") || "[]");
    var list = document.createElement("ul");
    templates.forEach(function (t) {
      if (!t || typeof t.content !== "string") { return; }
      var text = t.content.replace(/{{\s*code\s*}}/g, "123456");
      if (lines.length) {
        text += (text.slice(-1) === "\n" ? "" : "\n") + lines.join("\n").replace(/{{code}}/g, "123456");
      }
      var words = sizes.describe(sizes.measure(text));
      var li = document.createElement("li");
      li.setAttribute("data-template-size", String(t.usageType) + (t.locale ? " (" + t.locale + ")" : ""));
      li.textContent = li.getAttribute("data-template-size") + ": " + words.summary;
      if (words.warning) {
        var warn = document.createElement("span");
        warn.className = "warn";
        warn.setAttribute("data-size-warning", "");
        warn.textContent = " " + words.warning;
        li.appendChild(warn);
      }
      list.appendChild(li);
    });
    if (list.children.length) {
      var lead = document.createElement("span");
      lead.textContent = "SMS size with a sample code" + (lines.length ? " and the autofill lines" : "") + ":";
      out.appendChild(lead);
      out.appendChild(list);
    }
  }
  document.querySelectorAll("textarea[data-json]").forEach(function (area) {
    area.addEventListener("input", function () { checkJson(area); });
    checkJson(area);
  });

  // The test-send number: the end-user pages' country picker and as-you-type format.
  var testPhone = document.querySelector("[data-test-phone]");
  if (testPhone && window.phoneauthPhoneField) window.phoneauthPhoneField(testPhone, "/api");

  // Changing connector: while the current templates are kept, the editor shows them, read-only
  // (the server saves the stored ones); unticked, it gives back what was there.
  var keep = document.querySelector("[data-keep-templates]");
  if (keep) {
    var editor = document.querySelector('textarea[name="cfg.templates"]');
    var keptNote = document.querySelector("[data-kept-note]");
    var keptScript = document.getElementById("kept-templates");
    var kept = keptScript ? JSON.stringify(JSON.parse(keptScript.textContent), null, 2) : null;
    var ownText = editor ? editor.value : "";
    var showKeep = function () {
      if (editor) {
        if (keep.checked && kept !== null) { ownText = editor.value; editor.value = kept; }
        else if (!keep.checked && editor.disabled) { editor.value = ownText; }
        editor.disabled = keep.checked;
        checkJson(editor);
      }
      if (keptNote) { keptNote.hidden = !keep.checked; }
    };
    keep.addEventListener("change", showKeep);
    showKeep();
  }

  // Migration: a preview is of one selection; once it changes, Apply waits for a new preview
  // (the server refuses a changed pair anyway, this only says so before the click).
  var migrate = document.querySelector("form[data-migrate-form]");
  if (migrate) {
    var apply = migrate.querySelector("[data-apply]");
    var staleNote = migrate.querySelector("[data-stale-note]");
    var previewed = {
      source: migrate.querySelector('input[name="previewed_source"]'),
      target: migrate.querySelector('input[name="previewed_target"]'),
      secrets: migrate.querySelector('input[name="previewed_secrets"]')
    };
    var markStale = function () {
      if (!apply || !previewed.source) { return; }
      var same = migrate.elements.source.value === previewed.source.value &&
        migrate.elements.target.value === previewed.target.value &&
        (migrate.elements.include_secrets.checked ? "on" : "") === previewed.secrets.value;
      apply.disabled = !same;
      staleNote.hidden = same;
      var diff = document.querySelector("[data-diff]");
      if (diff) { diff.classList.toggle("stale", !same); }
    };
    migrate.addEventListener("change", markStale);
    markStale();
  }

  var form = document.querySelector("form[data-connector-form]");
  if (form) {
    var testButton = form.querySelector("[data-test-button]");
    var result = form.querySelector("[data-test-result]");
    testButton.addEventListener("click", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("action", "test");
      testButton.disabled = true;
      testButton.textContent = "Sending…";
      result.innerHTML = "";
      // form.action would be the button named "action"; the attribute is the URL.
      fetch(form.getAttribute("action"), { method: "POST", body: data, headers: { "X-Console-Fetch": "1" }, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { result.innerHTML = html; })
        .catch(function () {
          result.innerHTML = '<div class="alert error" role="alert" data-test-error>The console could not be reached. Check your connection and try again.</div>';
        })
        .finally(function () { testButton.disabled = false; testButton.textContent = "Send test"; });
    });
    form.addEventListener("submit", function (event) {
      var bad = Array.prototype.filter.call(form.querySelectorAll("textarea[data-json]"), function (a) { return !checkJson(a); });
      if (bad.length && event.submitter && event.submitter.value === "save") {
        event.preventDefault();
        bad[0].focus();
      }
    });
  }
})();
