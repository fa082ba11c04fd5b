// Samsa console: pages that change by themselves. Every element with
// data-live (and an id) is refreshed from a fresh copy of the page every
// few seconds — the charts, the group page and its timeline — unless the
// user is typing in a form inside it or the tab is hidden.
"use strict";

const liveEvery = 3000;

async function refreshLive() {
  const lives = document.querySelectorAll("[data-live][id]");
  if (lives.length === 0 || document.hidden) return;
  const focused = document.activeElement;
  let text;
  try {
    const resp = await fetch(location.href, { headers: { "Accept": "text/html" } });
    if (!resp.ok) return; // the page shows the error on the next full load
    text = await resp.text();
  } catch (e) {
    return; // the console itself is down: try again later
  }
  const fresh = new DOMParser().parseFromString(text, "text/html");
  for (const el of lives) {
    if (focused && el.contains(focused) && focused.matches("input, select, textarea")) continue;
    if (el.querySelector(".feedback:not(:empty)")) continue; // keep an action's answer on screen
    const next = fresh.getElementById(el.id);
    if (next) el.replaceWith(document.adoptNode(next));
  }
  // Search boxes filter rows as the user types: filter the fresh rows too.
  for (const input of document.querySelectorAll("input[data-filter]")) {
    if (input.value) input.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.querySelector("[data-live][id]")) setInterval(refreshLive, liveEvery);
});
