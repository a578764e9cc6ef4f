// How an SMS text travels: GSM-7 or UCS-2, its length and its billed parts. The browser's copy of
// phoneauth/connectors/segments.py (same rules, same shared test cases); no build step.
(function (root) {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var SINGLE = { "GSM-7": 160, "UCS-2": 70 };
  var PART = { "GSM-7": 153, "UCS-2": 67 };

  function isGsm7(chars) {
    return chars.every(function (c) { return BASIC.indexOf(c) >= 0 || EXTENSION.indexOf(c) >= 0; });
  }

  // {encoding, characters, segments}; `characters` counts septets (GSM-7, an extension
  // character 2) or UTF-16 units (UCS-2, an emoji 2), as the SMS does.
  function measure(text) {
    var chars = Array.from(text); // code points: an emoji is one item of length 2
    var encoding = isGsm7(chars) ? "GSM-7" : "UCS-2";
    var units = chars.map(function (c) {
      return encoding === "GSM-7" ? (EXTENSION.indexOf(c) >= 0 ? 2 : 1) : c.length;
    });
    var total = units.reduce(function (a, b) { return a + b; }, 0);
    if (total <= SINGLE[encoding]) { return { encoding: encoding, characters: total, segments: 1 }; }
    var segments = 1, used = 0;
    units.forEach(function (size) {
      if (used + size > PART[encoding]) { segments += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, characters: total, segments: segments };
  }

  // The figures in words, and the warning past one part (null when it fits one SMS).
  function describe(size) {
    var alphabet = size.encoding === "GSM-7" ? "GSM-7 (plain alphabet)" : "UCS-2 (Unicode)";
    var parts = size.segments === 1 ? "1 SMS" : size.segments + " SMS parts";
    return {
      summary: size.characters + " characters, " + alphabet + ", " + parts,
      warning: size.segments > 1 ? "This message takes " + size.segments + " SMS parts; each is billed." : null
    };
  }

  var api = { measure: measure, describe: describe };
  if (typeof module === "object" && module.exports) { module.exports = api; }
  else { root.phoneauthSmsSegments = api; }
})(this);
