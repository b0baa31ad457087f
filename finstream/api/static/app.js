// finstream streaming API demo: plain JS, no build step. Model and filing text is only ever
// written with textContent (never innerHTML), so nothing it contains can run as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { conversationId: null, messageId: null, lastSeq: 0, es: null, ws: null, live: null };

// The token may come in the URL fragment (#token=...): fragments are never sent to the server.
(function readToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem("finstream-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
  $("token").value = sessionStorage.getItem("finstream-token") || "";
  $("token").addEventListener("change", () => sessionStorage.setItem("finstream-token", $("token").value));
})();

const token = () => $("token").value.trim();
const authHeaders = () => (token() ? { Authorization: `Bearer ${token()}` } : {});
const tokenParam = () => (token() ? `token=${encodeURIComponent(token())}` : "");
const setStatus = (text) => { $("status").textContent = text; };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
    throw new Error(err);
  }
  return body;
}

async function newConversation() {
  const body = await api("/api/conversation", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  state.conversationId = body.conversation_id;
  $("conversation-id").textContent = `conversation ${state.conversationId}`;
  $("transcript").replaceChildren();
  ["metrics", "charts", "tables"].forEach((id) => $(id).replaceChildren());
  setStatus("ready");
  return state.conversationId;
}

async function upload(event) {
  event.preventDefault();
  if (!state.conversationId) await newConversation();
  const files = $("files").files;
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  $("upload-status").textContent = "uploading…";
  try {
    const body = await api(`/api/conversation/${state.conversationId}/documents`, { method: "POST", body: form });
    $("upload-status").textContent = `uploaded: ${body.documents.map((d) => d.filename).join(", ")}`;
  } catch (e) {
    $("upload-status").textContent = e.message;
  }
}

// ---------------------------------------------------------------- rendering events

function startAnswer(question) {
  $("transcript").append(el("div", "msg user", question));
  const node = el("div", "msg assistant streaming");
  node.dataset.role = "answer";
  $("transcript").append(node);
  const notes = el("ol", "footnotes");
  notes.dataset.role = "footnotes";
  state.live = { node, text: node.appendChild(document.createTextNode("")), notes, citations: [] };
  node.after(notes);
}

// Citations (footnotes): a marker [n] after the sentence where the cited text begins, and the
// note (filing, section or page, the quoted passage) below the answer. Text only.
const QUOTE_CHARS = 240;

function noteText(c) {
  const where = c.section || (c.page ? `page ${c.page}` : "");
  let quote = String(c.quoted_text || "").split(/\s+/).join(" ").trim();
  if (quote.length > QUOTE_CHARS) quote = quote.slice(0, QUOTE_CHARS) + "…";
  return `${[c.filing, where].filter(Boolean).join(" · ")}: “${quote}”`;
}

function addCitation(live, c) {
  live.citations.push(c);
  const item = el("li", "footnote", noteText(c));
  item.value = live.citations.length;
  live.notes.append(item);
}

function markedText(text, citations) {
  const ends = [...citations].sort((a, b) => (a.text_offset - b.text_offset) || (a.index - b.index)).map((c) => {
    const rest = text.slice(Math.min(Math.max(c.text_offset || 0, 0), text.length));
    const m = /[.!?](?=\s|$)|\n/.exec(rest);
    let at = text.length - rest.length + (m ? m.index + m[0].length : rest.length);
    if (at && text[at - 1] === "\n") at -= 1;
    return at;
  });
  let out = "", pos = 0;
  ends.forEach((at, i) => { out += text.slice(pos, at) + `[${i + 1}]`; pos = at; });
  return out + text.slice(pos);
}

function formatNumber(value, unit) {
  if (typeof value !== "number") return String(value ?? "");
  if (unit === "%") return `${value.toFixed(1)}%`;
  const abs = Math.abs(value);
  const scaled = abs >= 1e9 ? `${(value / 1e9).toFixed(2)}B` : abs >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value.toLocaleString();
  return unit === "USD" ? `$${scaled}` : `${scaled}${unit ? " " + unit : ""}`;
}

// Numbers that did not verify against the filings (see docs/VERIFY.md), as plain text lines.
function uncheckedLines(checks) {
  return (checks || []).filter((c) => c.status === "unverified")
    .map((c) => el("div", "unverified", `⚠ Unverified ${c.where || c.text || c.value}: ${c.reason}`));
}

// Plotly reads titles, names, labels and hover text as its own small HTML (<a href>, <b>):
// the server sends chart text escaped and marks the figure (layout.meta.text); an unmarked
// figure (stored before that) is escaped here, so no link or markup from model text is drawn.
const PLAIN_MARK = "finstream:plain-text";
const escapeText = (v) => typeof v === "string"
  ? v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
  : Array.isArray(v) ? v.map(escapeText)
  : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeText(x)]))
  : v;

function plainFigure(fig) {
  const layout = { ...(fig.layout || {}) };
  if (layout.meta && layout.meta.text === PLAIN_MARK) return fig;
  for (const key of Object.keys(layout)) {
    if (key === "title" || key.startsWith("xaxis") || key.startsWith("yaxis") || key === "annotations") {
      layout[key] = escapeText(layout[key]);
    }
  }
  const data = (fig.data || []).map((trace) => {
    const t = { ...trace };
    for (const key of ["name", "x", "labels", "customdata", "text", "hovertext"]) {
      if (key in t) t[key] = escapeText(t[key]);
    }
    return t;
  });
  return { data, layout };
}

function renderChart(data) {
  const box = el("div", "chart");
  $("charts").append(box);
  $("charts").append(...uncheckedLines(data.verification));
  const fig = plainFigure(data.figure || {});
  if (window.Plotly) {
    window.Plotly.newPlot(box, fig.data || [], fig.layout || {}, { responsive: true, displaylogo: false });
  } else {
    box.textContent = "Plotly failed to load";
  }
}

function renderTable(data) {
  const table = el("table");
  table.append(el("caption", null, data.title || ""));
  const head = table.appendChild(el("thead")).appendChild(el("tr"));
  (data.columns || []).forEach((c) => head.append(el("th", null, c.name ?? c)));
  const tbody = table.appendChild(el("tbody"));
  (data.rows || []).forEach((row) => {
    const tr = tbody.appendChild(el("tr"));
    row.forEach((cell) => tr.append(el("td", typeof cell === "number" ? "num" : null, typeof cell === "number" ? cell.toLocaleString() : cell)));
  });
  $("tables").append(table, ...uncheckedLines(data.verification));
}

function renderMetric(data) {
  const tile = el("div", "metric");
  const bad = (data.verification || []).some((c) => c.status === "unverified" && c.where === "value");
  tile.append(el("div", "label", data.label), el("div", "value", formatNumber(data.value, data.unit) + (bad ? " ⚠" : "")));
  if (typeof data.delta === "number") {
    const shown = data.delta_unit === "percent" ? `${data.delta.toFixed(1)}%` : formatNumber(data.delta, data.unit);
    tile.append(el("div", `delta ${data.delta >= 0 ? "up" : "down"}`, `${data.delta >= 0 ? "▲" : "▼"} ${shown}`));
  }
  tile.append(...uncheckedLines(data.verification));
  $("metrics").append(tile);
}

function handleEvent(event) {
  if (event.seq > 0) state.lastSeq = Math.max(state.lastSeq, event.seq);
  const live = state.live;
  switch (event.type) {
    case "message_start": state.messageId = event.message_id; setStatus("answering…"); break;
    case "text_delta": if (live) live.text.appendData(event.text); break;
    case "tool_start": setStatus(`running ${event.tool_name}…`); break;
    case "tool_complete": if (event.error && live) live.node.append(el("span", "tool", ` [${event.tool_name}: ${event.error}] `)); break;
    case "chart_ready": renderChart(event.chart_data); break;
    case "table_ready": renderTable(event.table_data); break;
    case "metric_ready": renderMetric(event.metric_data); break;
    case "status": setStatus(event.message); break;
    case "verification": if (live && event.scope === "text") live.node.append(...uncheckedLines(event.checks)); break;
    case "citation": if (live) addCitation(live, event); break;
    case "error": if (live) live.node.append(el("span", "err", `${event.code}: ${event.message}`)); else setStatus(`${event.code}: ${event.message}`); break;
    case "message_complete": finishAnswer(event); break;
  }
}

function finishAnswer(event) {
  if (state.live) state.live.node.classList.remove("streaming");
  if (state.live && state.live.citations.length) state.live.text.data = markedText(state.live.text.data, state.live.citations);
  state.live = null;
  $("stop").disabled = true;
  $("ask").disabled = false;
  setStatus(event.success ? "done" : `ended: ${event.stop_reason}`);
  if (state.es) { state.es.close(); state.es = null; }
}

const EVENT_TYPES = ["message_start", "text_delta", "tool_start", "tool_complete", "chart_ready",
  "table_ready", "metric_ready", "status", "error", "verification", "citation", "message_complete"];

// ---------------------------------------------------------------- EventSource

async function askWithEventSource(question) {
  // EventSource can only GET: start the run without waiting, then stream it by message_id.
  const started = await api(`/api/conversation/${state.conversationId}/message?wait=false`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ message: question }),
  });
  const params = [`message_id=${started.message_id}`, "accumulated=false", tokenParam()].filter(Boolean).join("&");
  const es = new EventSource(`/api/conversation/${state.conversationId}/message/stream?${params}`);
  state.es = es;
  let failures = 0;
  // On a dropped connection the browser reconnects by itself with Last-Event-ID: no gap, no repeat.
  EVENT_TYPES.forEach((type) => es.addEventListener(type, (e) => { failures = 0; handleEvent(JSON.parse(e.data)); }));
  es.onerror = () => {
    if (!state.live) return;
    failures += 1;
    // CLOSED: the stream was refused (not text/event-stream, or an error status: a proxy that
    // will not pass event streams, a server at its stream limit). Or it keeps failing. Either
    // way, fall back to the non-streaming endpoint for the same answer.
    if (es.readyState === EventSource.CLOSED || failures > 5) {
      es.close();
      state.es = null;
      fallBack(started.message_id).catch((e) => finishAnswer({ success: false, stop_reason: e.message }));
    } else {
      setStatus("connection lost, reconnecting…");
    }
  };
}

// ---------------------------------------------------------------- fallback (no streaming)

async function fallBack(messageId) {
  setStatus("streaming unavailable: waiting for the whole answer…");
  const answer = await api(`/api/conversation/${state.conversationId}/message/${messageId}?wait=true`);
  showAnswer(answer, "streaming unavailable: answer shown whole");
}

function showAnswer(answer, note) {
  // The same answer as the stream would have shown: the whole text, and the artifacts not drawn yet.
  if (state.live) state.live.text.data = answer.text || "";
  if (state.live) (answer.citations || []).filter((c) => c.seq > state.lastSeq).forEach((c) => addCitation(state.live, c));
  (answer.artifacts || []).filter((a) => a.seq > state.lastSeq).forEach((a) => {
    if (a.kind === "chart") renderChart(a.data);
    else if (a.kind === "table") renderTable(a.data);
    else if (a.kind === "metric") renderMetric(a.data);
  });
  finishAnswer({ success: answer.status === "complete", stop_reason: answer.stop_reason || answer.status });
  setStatus(answer.status === "complete" ? `done (${note})` : `ended: ${answer.status} (${note})`);
}

// ---------------------------------------------------------------- WebSocket

function openSocket() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = ["accumulated=false", tokenParam()].filter(Boolean).join("&");
    const ws = new WebSocket(`${scheme}://${location.host}/ws/conversation/${state.conversationId}?${params}`);
    ws.onopen = () => resolve(ws);
    ws.onmessage = (e) => handleEvent(JSON.parse(e.data));
    ws.onclose = (e) => {
      if (state.ws === ws) state.ws = null;
      if (e.code === 1008) setStatus("WebSocket refused: wrong or missing token");
      else if (state.live) resumeSocket(); // dropped mid-answer: reconnect and resume after lastSeq
    };
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
}

async function resumeSocket() {
  setStatus("connection lost, resuming…");
  await new Promise((r) => setTimeout(r, 1000));
  const ws = await openSocket();
  state.ws = ws;
  ws.send(JSON.stringify({ type: "resume", after: state.lastSeq, message_id: state.messageId }));
}

async function askWithWebSocket(question) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || state.ws.conversationId !== state.conversationId) {
    if (state.ws) state.ws.close();
    try {
      state.ws = await openSocket();
    } catch (e) {
      // The socket was refused (a proxy without WebSocket support): ask without streaming.
      state.ws = null;
      const started = await api(`/api/conversation/${state.conversationId}/message?wait=false`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ message: question }),
      });
      await fallBack(started.message_id);
      return;
    }
    state.ws.conversationId = state.conversationId;
  }
  state.ws.send(JSON.stringify({ type: "user_message", message: question }));
}

// ---------------------------------------------------------------- wiring

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  try {
    if (!state.conversationId) await newConversation();
    $("question").value = "";
    $("ask").disabled = true;
    $("stop").disabled = false;
    startAnswer(question);
    if ($("transport").value === "ws") await askWithWebSocket(question);
    else await askWithEventSource(question);
  } catch (e) {
    finishAnswer({ success: false, stop_reason: e.message });
  }
}

async function stop() {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ type: "stop" }));
  else if (state.conversationId) await api(`/api/conversation/${state.conversationId}/stop`, { method: "POST" }).catch((e) => setStatus(e.message));
}

$("new-conversation").addEventListener("click", () => newConversation().catch((e) => setStatus(e.message)));
$("ask-form").addEventListener("submit", ask);
$("upload-form").addEventListener("submit", upload);
$("stop").addEventListener("click", stop);
