// The console's progressive enhancement: auto-submitting selects, live JSON checks, and
// "Send test" without reloading the page (so typed secrets stay in the form). No build step.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.body.classList.add("js");

  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });

  function checkJson(area) {
    var status = area.parentElement.querySelector("[data-json-status]");
    var text = area.value.trim();
    var problem = null;
    if (text) {
      try { JSON.parse(text); } catch (error) { problem = error.message; }
    }
    area.classList.toggle("json-invalid", problem !== null);
    area.setAttribute("aria-invalid", problem !== null ? "true" : "false");
    if (status) {
      status.textContent = problem !== null ? "Not valid JSON: " + problem : (text ? "Valid JSON." : "");
      status.className = "hint " + (problem !== null ? "bad" : "ok");
    }
    return problem === null;
  }
  document.querySelectorAll("textarea[data-json]").forEach(function (area) {
    area.addEventListener("input", function () { checkJson(area); });
    checkJson(area);
  });

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
