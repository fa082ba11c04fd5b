// Samsa console: pages that change by themselves. Every element with
// data-live (and an id) is refreshed from a fresh copy of the page every
// few seconds — counts, charts, groups, the timeline — except one the user
// is working in: it holds the focus, a field differs from what the page
// drew, or it shows an action's answer. Nothing refreshes while the tab is
// hidden, and a refresh starts only after the previous one ended.
"use strict";

const liveEvery = 3000;
const liveTimeout = 10000;

// changed says whether the user changed a field of el from what the page
// drew (a changed select or input must not be redrawn under them).
function changed(el) {
  for (const c of el.querySelectorAll("input, select, textarea")) {
    if (c.type === "checkbox" || c.type === "radio") {
      if (c.checked !== c.defaultChecked) return true;
    } else if (c.tagName === "SELECT") {
      let def = [...c.options].findIndex(o => o.defaultSelected);
      if (def < 0) def = 0;
      if (c.selectedIndex !== def) return true;
    } else if (c.value !== c.defaultValue) {
      return true;
    }
  }
  return false;
}

// busy says whether the user is working in el.
function busy(el) {
  const f = document.activeElement;
  if (f && f !== document.body && el.contains(f)) return true;
  return changed(el) || el.querySelector(".feedback:not(:empty)") !== null;
}

// stale shows (or hides) a notice that the page's data may be old: the
// console (or, with text, the cluster) does not answer.
function stale(on, text) {
  let note = document.getElementById("stale");
  if (!on) { if (note) note.remove(); return; }
  if (!note) {
    note = document.createElement("div");
    note.id = "stale";
    note.className = "banner error";
    note.setAttribute("role", "status");
    document.querySelector("main").prepend(note);
  }
  note.textContent = text || "The console does not answer: what you see may be out of date. Retrying…";
}

async function refreshLive() {
  if (document.hidden) return;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), liveTimeout);
  let text;
  try {
    const resp = await fetch(location.href, { headers: { "Accept": "text/html" }, signal: ctl.signal });
    stale(false); // the console answers
    if (resp.status === 503) {
      // The cluster stopped answering: reload into the page that says so
      // (and reloads itself when it is back) — unless the user is in the
      // middle of something on this page: then only say so.
      if (busy(document.querySelector("main"))) {
        stale(true, "The cluster does not answer: what you see may be out of date. Retrying…");
      } else {
        location.reload();
      }
      return;
    }
    if (!resp.ok) return; // the page shows the error on the next full load
    text = await resp.text();
  } catch (e) {
    stale(true); // the console itself is down or slow: say so, try again later
    return;
  } finally {
    clearTimeout(timer);
  }
  const fresh = new DOMParser().parseFromString(text, "text/html");
  // Checked after the fetch: the user may have started meanwhile.
  for (const el of document.querySelectorAll("[data-live][id]")) {
    if (busy(el)) continue;
    const next = fresh.getElementById(el.id);
    if (next) el.replaceWith(document.adoptNode(next));
  }
  // Search boxes filter rows as the user types: filter the fresh rows too.
  for (const input of document.querySelectorAll("input[data-filter]")) {
    if (input.value) input.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

async function liveLoop() {
  await refreshLive();
  setTimeout(liveLoop, liveEvery);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.querySelector("[data-live][id]")) setTimeout(liveLoop, liveEvery);
});
