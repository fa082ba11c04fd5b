// Samsa console: the little JavaScript the pages need. Forms and buttons
// with data-api send JSON to the console's API and show its answer; a page
// whose cluster is unreachable reloads itself when the cluster is back.
"use strict";

// formBody turns a form's fields into the JSON body of its API call.
// Empty fields are left out (the server then uses its default); number
// inputs become numbers; textareas with data-kind="map" or "list" hold
// key=value lines.
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    const v = el.value;
    if (el.dataset.kind === "map" || el.dataset.kind === "list") {
      const pairs = v.split("\n").map(l => l.trim()).filter(l => l !== "").map(l => {
        const i = l.indexOf("=");
        return i < 0 ? [l, ""] : [l.slice(0, i).trim(), l.slice(i + 1)];
      });
      if (pairs.length === 0) continue;
      body[el.name] = el.dataset.kind === "map"
        ? Object.fromEntries(pairs)
        : pairs.map(([key, value]) => ({ key, value }));
    } else if (el.type === "number") {
      if (v !== "") body[el.name] = Number(v);
    } else if (el.name !== "key" || v !== "") {
      body[el.name] = v;
    }
  }
  return body;
}

// call sends one API request and returns its parsed answer; a failed call
// throws an Error with the server's message.
async function call(method, url, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, opts);
  } catch (e) {
    throw new Error("the console did not answer: " + e.message);
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error || resp.status + " " + resp.statusText);
  return data;
}

function show(feedback, cls, text, code) {
  // A new answer replaces the banner of the previous action.
  const flash = document.getElementById("flash");
  if (flash && cls !== "") flash.hidden = true;
  if (!feedback) { if (cls === "error") alert(text); return; }
  feedback.className = "feedback " + cls;
  feedback.textContent = text;
  if (code) {
    const pre = document.createElement("pre");
    pre.textContent = code;
    feedback.appendChild(pre);
  }
}

// done reports a successful action: after a reload or redirect the
// message shows at the top of the next page.
function done(el, feedback, message, go) {
  if (go || el.dataset.redirect !== undefined || el.dataset.reload !== undefined) {
    sessionStorage.setItem("flash", message || "Done.");
    go = go || el.dataset.redirect;
    if (go) location.href = go; else location.reload();
    return;
  }
  show(feedback, "ok", message || "Done.");
}

// showCommands shows the commands equivalent to an action, each in its
// own block (data-cli-kind="samsa" or "kafka") with a Copy button: the
// samsa command, and the same with Apache Kafka's kafka-*.sh tools when
// they can express it (res.kafka_cli).
function showCommands(feedback, res, copied) {
  if (!feedback) { alert(res.cli); return; }
  feedback.className = "feedback ok";
  feedback.textContent = copied ? "Copied the samsa command to the clipboard." : "The same from a terminal:";
  const block = (kind, label, cmd) => {
    const div = document.createElement("div");
    div.dataset.cliKind = kind;
    const head = document.createElement("div");
    const name = document.createElement("span");
    name.className = "muted small";
    name.textContent = label;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "link small";
    copy.dataset.copy = "";
    copy.textContent = "Copy";
    head.append(name, " ", copy);
    const pre = document.createElement("pre");
    pre.textContent = cmd;
    div.append(head, pre);
    feedback.appendChild(div);
  };
  block("samsa", "samsa", res.cli);
  if (res.kafka_cli) block("kafka", "Apache Kafka tools", res.kafka_cli);
}

// copyText puts the text of pre on the clipboard; where the page may not
// (no navigator.clipboard outside a secure context) it selects the text
// for the user to copy, and returns false.
async function copyText(pre) {
  try {
    await navigator.clipboard.writeText(pre.textContent);
    return true;
  } catch (e) {
    window.getSelection().selectAllChildren(pre);
    return false;
  }
}

// configBody is the body of an action on a row of the Configs tab:
// "save" (or "add", on the new-config row) sets the row's key to its
// value; "reset" deletes the override, back to the default.
function configBody(el) {
  const row = el.closest("tr");
  if (el.dataset.configAction === "add") {
    const key = row.querySelector("[data-config-new-key]").value.trim();
    return { set: { [key]: row.querySelector("[data-config-new-value]").value } };
  }
  const key = row.dataset.configKey;
  if (el.dataset.configAction === "reset") return { delete: [key] };
  return { set: { [key]: row.querySelector("[data-config-value]").value } };
}

document.addEventListener("submit", async ev => {
  const form = ev.target;
  if (form.matches("form.configs")) { ev.preventDefault(); return; }
  if (!form.matches("form.action[data-api]")) return;
  ev.preventDefault();
  const feedback = form.querySelector(".feedback");
  const button = form.querySelector("button[type=submit]");
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  button.disabled = true;
  show(feedback, "", "Working…");
  try {
    const res = await call(form.dataset.method || "POST", form.dataset.api, formBody(form));
    done(form, feedback, res.message, res.redirect);
  } catch (e) {
    show(feedback, "error", e.message);
  } finally {
    button.disabled = false;
  }
});

document.addEventListener("click", async ev => {
  const el = ev.target.closest("button");
  if (!el) return;
  if (el.hasAttribute("data-cli")) {
    const form = el.closest("form");
    const feedback = form.querySelector(".feedback");
    const body = el.dataset.configAction ? configBody(el) : formBody(form);
    try {
      const res = await call(form.dataset.method || "POST", form.dataset.api + "?cli=1", body);
      let copied = false;
      try { await navigator.clipboard.writeText(res.cli); copied = true; } catch (e) { /* not allowed: show it only */ }
      showCommands(feedback, res, copied);
    } catch (e) {
      show(feedback, "error", e.message);
    }
    if (el.dataset.configAction) feedback.scrollIntoView({ block: "nearest" });
    return;
  }
  if (el.dataset.copy !== undefined) {
    const pre = el.closest("[data-cli-kind]").querySelector("pre");
    el.textContent = await copyText(pre) ? "Copied" : "Selected: press Ctrl+C to copy";
    return;
  }
  if (el.dataset.configAction) {
    const form = el.closest("form");
    const feedback = form.querySelector(".feedback");
    if (el.dataset.confirm && !confirm(el.dataset.confirm)) return;
    el.disabled = true;
    try {
      const res = await call(form.dataset.method || "POST", form.dataset.api, configBody(el));
      done(form, feedback, res.message);
    } catch (e) {
      show(feedback, "error", e.message);
      feedback.scrollIntoView({ block: "nearest" });
    } finally {
      el.disabled = false;
    }
    return;
  }
  if (el.dataset.validate !== undefined) {
    const form = el.closest("form");
    const feedback = form.querySelector(".feedback");
    el.disabled = true;
    show(feedback, "", "Connecting…");
    try {
      const res = await call("POST", el.dataset.validate, formBody(form));
      show(feedback, "ok", res.message);
    } catch (e) {
      show(feedback, "error", e.message);
    } finally {
      el.disabled = false;
    }
    return;
  }
  // A submit button of a form is the submit handler's; any other button with data-api is ours.
  if (el.dataset.api && !(el.type === "submit" && el.form)) {
    ev.preventDefault();
    if (el.dataset.confirm && !confirm(el.dataset.confirm)) return;
    const form = el.closest("form");
    const feedback = form ? form.querySelector(".feedback") : null;
    el.disabled = true;
    try {
      const res = await call(el.dataset.method || "POST", el.dataset.api);
      done(el, feedback, res.message);
    } catch (e) {
      show(feedback, "error", e.message);
    } finally {
      el.disabled = false;
    }
  }
});

// The cluster switcher in the header: ?cluster= selects it (the console
// remembers it in a cookie) and the same page shows for that cluster.
document.addEventListener("change", ev => {
  if (ev.target.id !== "cluster-switch") return;
  // A topic's or a group's page goes to the list: the other cluster may not have it.
  const path = location.pathname.replace(/^\/(topics|consumers)\/.*/, "/$1");
  location.href = path + "?cluster=" + encodeURIComponent(ev.target.value);
});

// Live tail on the Messages tab: new records (Server-Sent Events from
// /api/topics/{topic}/tail) are added at the top of #messages.
let tail = null;

function messageElement(m) {
  const art = document.createElement("article");
  art.className = "message tailed";
  const head = document.createElement("header");
  const chip = document.createElement("span");
  chip.className = "chip";
  chip.textContent = "P" + m.partition;
  const off = document.createElement("span");
  off.append("offset ");
  const strong = document.createElement("strong");
  strong.textContent = m.offset;
  off.append(strong);
  const ts = document.createElement("span");
  ts.className = "muted";
  ts.textContent = new Date(m.timestamp).toISOString();
  const key = document.createElement("span");
  key.append("key: ");
  const kc = document.createElement(m.key_null ? "span" : "code");
  if (m.key_null) kc.className = "muted";
  kc.textContent = m.key_null ? "null" : m.key;
  key.append(kc);
  head.append(chip, " ", off, " ", ts, " ", key);
  const pre = document.createElement("pre");
  pre.className = m.value_pretty ? "value json" : "value";
  pre.textContent = m.value_pretty || m.value;
  art.append(head, pre);
  if (m.headers && m.headers.length) {
    const hs = document.createElement("div");
    hs.className = "headers";
    for (const h of m.headers) {
      const c = document.createElement("span");
      c.className = "chip";
      const b = document.createElement("b");
      b.textContent = h.key;
      c.append(b, ": " + h.value);
      hs.append(c);
    }
    art.append(hs);
  }
  return art;
}

function stopTail(button, status, text) {
  if (tail) tail.close();
  tail = null;
  button.textContent = "Live tail";
  status.textContent = text;
}

document.addEventListener("click", ev => {
  const button = ev.target.closest("#tail-toggle");
  if (!button) return;
  const status = document.getElementById("tail-status");
  if (tail) { stopTail(button, status, "Stopped."); return; }
  const list = document.getElementById("messages");
  let count = 0;
  tail = new EventSource(button.dataset.tail);
  button.textContent = "Stop tail";
  status.textContent = "Connecting…";
  tail.addEventListener("ready", () => { status.textContent = "Tailing: new records appear at the top."; });
  tail.addEventListener("record", e => {
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    list.prepend(messageElement(JSON.parse(e.data)));
    count++;
    status.textContent = "Tailing: " + count + " new record" + (count === 1 ? "" : "s") + ".";
  });
  tail.addEventListener("end", e => stopTail(button, status, JSON.parse(e.data).reason));
  tail.addEventListener("error", () => {
    if (tail && tail.readyState === EventSource.CLOSED) stopTail(button, status, "The tail failed; is the topic still there?");
  });
});

// Configs tab: a row's Save (and its CLI) shows once its value differs
// from the one the page was drawn with; Enter in a row saves (or adds) it.
document.addEventListener("input", ev => {
  if (!ev.target.matches || !ev.target.matches("input[data-config-value]")) return;
  const changed = ev.target.value !== ev.target.defaultValue;
  for (const b of ev.target.closest("tr").querySelectorAll('button[data-config-action="save"]')) b.hidden = !changed;
});

document.addEventListener("keydown", ev => {
  // Only in a text field: Enter on a button does what the button says.
  if (ev.key !== "Enter" || !ev.target.matches || !ev.target.matches("form.configs tr input")) return;
  const row = ev.target.closest("tr");
  const button = row.querySelector('button[data-config-action="save"]:not([data-cli]):not([hidden]), button[data-config-action="add"]:not([data-cli])');
  ev.preventDefault();
  if (button) button.click();
});

// Search boxes with data-filter hide the rows whose data-name does not match.
document.addEventListener("input", ev => {
  const sel = ev.target.dataset && ev.target.dataset.filter;
  if (!sel) return;
  const q = ev.target.value.toLowerCase();
  for (const row of document.querySelectorAll(sel + " tbody tr[data-name]")) {
    row.hidden = !row.dataset.name.toLowerCase().includes(q);
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const msg = sessionStorage.getItem("flash");
  if (msg) {
    sessionStorage.removeItem("flash");
    const flash = document.getElementById("flash");
    flash.textContent = msg;
    flash.hidden = false;
  }
  if (document.body.dataset.unreachable) {
    const poll = async () => {
      try {
        // The page itself, not /api/health: a page can fail (a group's
        // coordinator is down) while the cluster's metadata answers.
        const resp = await fetch(location.href, { headers: { "Accept": "text/html" } });
        if (resp.ok) { location.reload(); return; }
      } catch (e) { /* the console itself is down: keep trying */ }
      setTimeout(poll, 2000);
    };
    setTimeout(poll, 2000);
  }
});
