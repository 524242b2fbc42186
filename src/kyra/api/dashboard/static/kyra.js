// Live updates for the Health Center: poll a cheap activity stamp and, when it changes,
// re-fetch the page and swap <main> (skipped while someone is typing in a form field).
(function () {
  "use strict";
  var main = document.getElementById("main");
  var indicator = document.querySelector("[data-live-indicator]");
  if (!main || !main.dataset.liveUrl || main.dataset.liveUrl === "/login") { return; }
  var last = null;
  var EVERY_MS = 3000;

  function busy() {
    var el = document.activeElement;
    return el && main.contains(el) && (el.tagName === "INPUT" || el.tagName === "TEXTAREA");
  }

  function refresh() {
    return fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        if (fresh) { main.innerHTML = fresh.innerHTML; }
      });
  }

  function tick() {
    fetch("/dashboard/live", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (indicator) { indicator.classList.toggle("stale", !data); }
        if (!data) { return; }
        if (last !== null && data.stamp !== last) { refresh(); }
        last = data.stamp;
      })
      .catch(function () { if (indicator) { indicator.classList.add("stale"); } })
      .then(function () { window.setTimeout(tick, EVERY_MS); });
  }
  tick();
})();
