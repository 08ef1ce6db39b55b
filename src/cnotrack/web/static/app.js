// cnotrack: the one script of the pages besides htmx (no inline script: the CSP forbids it).
// Charting an imaging study:
// - a click on a zone of the skeleton, or Enter/Space on it, asks the server for the lesion form of
//   its bone, side and segment and moves focus into the form; Escape in the form returns to the zone;
// - the skeleton is one tab stop (a roving tabindex): the arrow keys move to the nearest zone in
//   their direction (positions from the zones' data-x/data-y), Home and End to the first and last;
// - in the bone list, Down moves from the search box to the matches, Up and Down between them;
// - decisions about previous lesions and newly charted lesions are announced in #charting-status.
(function () {
  "use strict";
  var lastZone = null;
  var STORE_KEY = "cnotrack-charting-announce";

  function zonesOf(svg) { return Array.prototype.slice.call(svg.querySelectorAll(".zone[data-x]")); }
  function nameOf(zone) { return (zone.getAttribute("aria-label") || "").split(", lesion")[0]; }

  function rove(zone) {
    var svg = zone.ownerSVGElement || zone.closest("svg");
    zonesOf(svg).forEach(function (z) { z.setAttribute("tabindex", z === zone ? "0" : "-1"); });
    zone.focus();
  }

  // the nearest zone in the arrow's direction: first within 45 degrees of it, else within 70
  function neighbour(zone, dx, dy) {
    var x0 = parseFloat(zone.getAttribute("data-x")), y0 = parseFloat(zone.getAttribute("data-y"));
    var all = zonesOf(zone.closest("svg"));
    for (var pass = 0; pass < 2; pass++) {
      var best = null, bestScore = Infinity, cone = pass === 0 ? 1 : 2.75;
      all.forEach(function (z) {
        if (z === zone) return;
        var vx = parseFloat(z.getAttribute("data-x")) - x0, vy = parseFloat(z.getAttribute("data-y")) - y0;
        var along = vx * dx + vy * dy, across = Math.abs(vx * dy - vy * dx);
        if (along < 1 || across > cone * along) return;
        var score = along + 2 * across;
        if (score < bestScore) { bestScore = score; best = z; }
      });
      if (best) return best;
    }
    return null;
  }

  function openForm(zone) {
    var wrap = zone.closest("[data-form-url]");
    if (!wrap) return;
    var bone = zone.closest("[data-bone]");
    if (!bone) return;
    lastZone = zone;
    var params = new URLSearchParams({
      bone: bone.getAttribute("data-bone"),
      side: bone.getAttribute("data-side") || "",
      segment: zone.getAttribute("data-segment") || ""
    });
    htmx.ajax("GET", wrap.getAttribute("data-form-url") + "?" + params.toString(),
              {target: "#lesion-panel", swap: "innerHTML"});
  }

  function announce(text) {
    var status = document.getElementById("charting-status");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 60);
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-form-url]")) return;
    var zone = event.target.closest(".zone");
    if (!zone) {  // a bone drawn in pieces: the group, or a digit's copy of a segment
      var bone = event.target.closest("[data-bone]");
      if (!bone) return;
      var segment = event.target.closest("[data-segment]");
      zone = bone.querySelector(segment ? ".zone[data-segment='" + segment.getAttribute("data-segment") + "']"
                                        : ".zone") || (bone.classList.contains("zone") ? bone : null);
      if (!zone) return;
    }
    zone.setAttribute("tabindex", "0");
    openForm(zone);
  });

  var KEYS = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var zone = target.closest && target.closest("#skeleton .zone");
    if (zone) {
      if (KEYS[event.key]) {
        event.preventDefault();
        var next = neighbour(zone, KEYS[event.key][0], KEYS[event.key][1]);
        if (next) rove(next);
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        var all = zonesOf(zone.closest("svg"));
        rove(event.key === "Home" ? all[0] : all[all.length - 1]);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openForm(zone);
      }
      return;
    }
    if (event.key === "Escape" && target.closest && target.closest("#lesion-panel") && lastZone
        && document.contains(lastZone)) {
      event.preventDefault();
      if (lastZone.classList.contains("zone")) rove(lastZone); else lastZone.focus();  // a bone-list match
      return;
    }
    if (target.id === "bone-query" && event.key === "ArrowDown") {
      var first = document.querySelector("#bone-results .bone-match");
      if (first) { event.preventDefault(); first.focus(); }
      return;
    }
    if (target.classList && target.classList.contains("bone-match")) {
      var matches = Array.prototype.slice.call(document.querySelectorAll("#bone-results .bone-match"));
      var i = matches.indexOf(target);
      if (event.key === "ArrowDown" && i < matches.length - 1) { event.preventDefault(); matches[i + 1].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); (i > 0 ? matches[i - 1] : document.getElementById("bone-query")).focus(); }
      else if (event.key === "Escape") { event.preventDefault(); document.getElementById("bone-query").focus(); }
      else if (event.key === " ") { event.preventDefault(); target.click(); }
    }
  });

  // a bone match remembers its link, so that Escape in the form comes back to the list; a
  // decision remembers its row and button, so that focus returns there when the row is new
  var lastDecision = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    if (source && source.classList && source.classList.contains("bone-match")) lastZone = source;
    var form = source && source.closest && source.closest("form.decision");
    if (form) {
      var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
      var row = form.closest("li");
      lastDecision = {row: row ? row.id : "", value: trigger && trigger.submitter ? trigger.submitter.value : ""};
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "lesion-panel") return;
    var fields = Array.prototype.slice.call(target.querySelectorAll("form.lesion-form input:not([type=hidden]), form.lesion-form select"));
    var bone = target.querySelector("form.lesion-form [name=bone]");
    var SITE = {bone: 1, side: 1, segment: 1};
    // the site is chosen: the first field to fill is the first after it (activity, grade...)
    var focus = (bone && bone.value ? fields.filter(function (f) { return !SITE[f.name]; })[0] : null)
      || fields.filter(function (f) { return !f.value; })[0] || fields[0];
    if (focus) focus.focus();
    var heading = target.querySelector("h2");
    if (heading) announce(heading.textContent.trim());
  });

  // new content (a decision's row, the marks): names follow the marks, focus returns to the row
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.id) return;
    if (elt.id === "skeleton-marks") refreshZones();
    if (lastDecision && elt.id === lastDecision.row) {
      var button = (lastDecision.value && elt.querySelector("button[value='" + lastDecision.value + "']"))
        || elt.querySelector("button");
      lastDecision = null;
      if (button) button.focus();
    }
  });

  // a zone's name says whether this study charts a lesion there (the marks are the truth)
  function refreshZones() {
    var skeleton = document.getElementById("skeleton");
    if (!skeleton) return;
    var state = {};
    skeleton.querySelectorAll("#skeleton-marks .marker[data-zone]").forEach(function (mark) {
      var id = mark.getAttribute("data-zone");
      if (mark.classList.contains("current")) state[id] = "charted";
      else if (!state[id]) state[id] = "previous";
    });
    skeleton.querySelectorAll(".zone[data-x]").forEach(function (zone) {
      var s = state[zone.id];
      zone.setAttribute("aria-label", nameOf(zone) + (s === "charted" ? ", lesion charted"
                                                      : s === "previous" ? ", lesion at the previous study" : ""));
      if (s) zone.setAttribute("data-state", s); else zone.removeAttribute("data-state");
    });
  }

  // a lesion charted through the form reloads the page: say so there, and return to its zone
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("lesion-form")) return;
    var value = function (name) { var f = form.querySelector("[name='" + name + "']"); return f ? f.value : ""; };
    var site = [value("side"), value("bone"), value("segment")].filter(Boolean).join(" ").replace(/_/g, " ");
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify({
        text: "lesion charted at " + site, zone: lastZone && lastZone.classList.contains("zone") ? lastZone.id : ""
      }));
    } catch (e) { /* storage refused: nothing to announce */ }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var saved = null;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      window.sessionStorage.removeItem(STORE_KEY);
    } catch (e) { saved = null; }
    if (!saved || !document.getElementById("charting-status")) return;
    if (document.querySelector("#lesion-panel .error")) return;  // not charted: the form shows why
    var zone = saved.zone && document.getElementById(saved.zone);
    if (zone) rove(zone);
    announce(saved.text);
  });
})();
