// Live refresh for gpu-watchdog's dashboard. Every few seconds it fetches
// the page again and swaps in the new <main>, so numbers move without a
// reload; the page is complete without it. It waits while the tab is
// hidden or something in <main> has focus (a form being filled), and
// keeps what is shown when a fetch fails.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="gpuwd-refresh"]');
  var seconds = meta ? Number(meta.content) : 0;
  if (!(seconds > 0)) {
    return;
  }
  var busy = false;
  function tick() {
    var main = document.querySelector("main[data-live]");
    if (busy || document.hidden || !main || main.contains(document.activeElement)) {
      return;
    }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Gpuwd-Refresh": "1" } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main[data-live]");
        if (fresh && fresh.innerHTML !== main.innerHTML) {
          main.replaceWith(document.adoptNode(fresh));
        }
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* offline for now: the next tick tries again */ })
      .then(function () { busy = false; });
  }
  setInterval(tick, seconds * 1000);
})();
