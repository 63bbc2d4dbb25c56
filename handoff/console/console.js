// Lumo agent console. Every piece of text from the server is rendered with textContent (never innerHTML):
// customer messages may contain HTML or script and must show as the characters typed.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { me: null, teams: [], tags: [], selected: null, detail: null, ws: null, wsRetry: 0, seqs: new Set(),
                unread: new Set(), typingTimer: null, typingOn: false, reloadTimer: null, agents: [] };
const REASONS = { customer_request: "Pediu atendente", repeated_fallback: "Bot falhou repetidamente",
                  always_human: "Assunto sempre humano", frustration: "Cliente frustrado",
                  unanswered_repeat: "Pergunta repetida sem resposta" };
const STATUSES = { queued: "na fila", offline: "ticket offline", active: "em atendimento", resolved: "resolvido",
                   handed_back: "devolvido ao assistente" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: {}, ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401 && !path.endsWith("/auth/login")) { showLogin(); }
  if (!response.ok) {
    const detail = body && body.detail;
    const message = typeof detail === "string" ? detail : (detail && detail.message) || `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

function minutesSince(seconds) {
  const m = Math.floor(seconds / 60);
  return m < 1 ? "< 1 min" : `${m} min`;
}

// -- sign-in ------------------------------------------------------------------------------------------------
function showLogin() {
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
  $("login-email").focus();
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    await api("/api/handoff/auth/login", { json: { email: $("login-email").value, password: $("login-password").value } });
    $("login-password").value = "";
    await start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
}

async function start() {
  let me;
  try { me = await api("/api/handoff/me"); } catch (_) { showLogin(); return; }
  state.me = me.agent; state.teams = me.teams; state.tags = me.resolution_tags;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("me-name").textContent = `${state.me.name} (${state.me.role === "lead" ? "líder" : "agente"}: ${
    state.me.role === "lead" ? "todas as equipes" : state.me.teams.join(", ")})`;
  $("status-select").value = state.me.status;
  $("lead-panel").hidden = state.me.role !== "lead";
  $("lead-link").hidden = state.me.role !== "lead";
  const teamSelect = $("transfer-team");
  teamSelect.replaceChildren(el("option", null, "—"));
  teamSelect.firstChild.value = "";
  for (const team of state.teams) {
    const option = el("option", null, team.name);
    option.value = team.id;
    teamSelect.append(option);
  }
  const tagSelect = $("resolve-tag");
  tagSelect.replaceChildren();
  for (const tag of state.tags) {
    const option = el("option", null, tag.replaceAll("_", " "));
    option.value = tag;
    tagSelect.append(option);
  }
  connect();
  await reloadQueue();
  await loadAgents();
}

// -- queues -------------------------------------------------------------------------------------------------
function queueItem(item, extra) {
  const li = el("li", item.priority === 1 ? "prio-1" : "");
  li.tabIndex = 0;
  li.dataset.id = String(item.id);
  li.setAttribute("role", "button");
  const title = el("div", null, `#${item.id} · ${item.team} · ${REASONS[item.reason] || item.reason}`);
  li.append(title);
  li.append(el("div", "line2", extra));
  if (state.unread.has(item.id)) li.classList.add("unread");
  if (state.selected === item.id) li.classList.add("selected");
  li.addEventListener("click", () => select(item.id));
  li.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(item.id); }
  });
  return li;
}

async function reloadQueue() {
  let data;
  try { data = await api("/api/handoff/queue"); } catch (_) { return; }
  const queue = $("queue-list");
  queue.replaceChildren(...data.waiting.map((item) => {
    const contact = item.contact ? ` · contato: ${item.contact.email || item.contact.phone || ""}` : "";
    const kind = item.status === "offline" ? "ticket offline" : "na fila";
    return queueItem(item, `${kind} há ${minutesSince(item.wait_seconds)} · ${item.language}${contact}`);
  }));
  if (!data.waiting.length) queue.append(el("li", "muted", "Nenhuma conversa aguardando."));
  const mine = $("mine-list");
  mine.replaceChildren(...data.mine.map((item) => queueItem(item, `em atendimento · ${item.language}`)));
  if (state.me.role === "lead") {
    $("active-list").replaceChildren(...data.active.map((item) => queueItem(item, `com ${item.agent_name || "?"}`)));
  }
}

function scheduleReload() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(reloadQueue, 150);
}

async function loadAgents() {
  try { state.agents = (await api("/api/handoff/agents")).agents; } catch (_) { return; }
  const select = $("transfer-agent");
  select.replaceChildren(el("option", null, "—"));
  select.firstChild.value = "";
  for (const agent of state.agents) {
    if (agent.id === state.me.id) continue;
    const option = el("option", null, `${agent.name} (${agent.status}; ${agent.teams.join(", ")})`);
    option.value = String(agent.id);
    select.append(option);
  }
}

// -- one conversation ---------------------------------------------------------------------------------------
function messageNode(role, who, text, when) {
  const li = el("li", `msg ${role}`);
  li.append(el("span", "who", `${who}${when ? " · " + new Date(when).toLocaleTimeString() : ""}`));
  li.append(document.createTextNode(text || ""));
  return li;
}

function appendLive(message) {
  if (state.seqs.has(message.seq)) return;
  state.seqs.add(message.seq);
  const who = { customer: "Cliente", bot: "Assistente", agent: message.author_name || "Agente", system: "Sistema" }[message.role] || message.role;
  const list = $("messages");
  list.append(messageNode(message.role, who, message.text, message.created_at));
  list.scrollTop = list.scrollHeight;
}

function renderDetails(detail) {
  const h = detail.handoff;
  $("chat-title").textContent = `Conversa #${h.id} · ${h.team}`;
  const wait = h.status === "active" ? `com ${h.agent_name || "?"}` : STATUSES[h.status] || h.status;
  $("chat-meta").textContent = `${REASONS[h.reason] || h.reason} · idioma ${h.language} · ${wait}`;
  const dl = $("details");
  dl.replaceChildren();
  const rows = [["Motivo", `${REASONS[h.reason] || h.reason} — ${h.reason_detail || ""}`], ["Equipe", h.team],
                ["Prioridade", h.priority], ["Intenção", h.intent || "—"], ["Status", STATUSES[h.status] || h.status],
                ["Entrou na fila", h.queued_at ? new Date(h.queued_at).toLocaleString() : "—"]];
  const slots = (detail.transcript && detail.transcript.slots) || {};
  for (const [key, value] of Object.entries(slots)) if (value !== null) rows.push([key, value]);
  if (h.contact) rows.push(["Contato", [h.contact.name, h.contact.email, h.contact.phone, h.contact.message].filter(Boolean).join(" · ")]);
  for (const [key, value] of rows) { dl.append(el("dt", null, key)); dl.append(el("dd", null, value)); }
  const notes = $("notes");
  notes.replaceChildren(...detail.notes.map((n) => el("li", null, `${n.author_name}: ${n.text}`)));
  const holds = h.status === "active" && (h.agent_id === state.me.id || state.me.role === "lead");
  $("claim-btn").hidden = !(h.status === "queued" || h.status === "offline");
  $("composer").hidden = !holds;
  for (const id of ["transfer-form", "resolve-form", "handback-btn"]) $(id).hidden = !holds;
  $("export-json").href = `/api/handoff/handoffs/${h.id}/transcript?format=json`;
  $("export-text").href = `/api/handoff/handoffs/${h.id}/transcript?format=text`;
}

async function select(id) {
  $("action-error").textContent = "";
  if (state.selected && state.selected !== id) send({ type: "unwatch", handoff_id: state.selected });
  state.selected = id;
  state.unread.delete(id);
  let detail;
  try { detail = await api(`/api/handoff/handoffs/${id}`); } catch (error) {
    $("action-error").textContent = error.message; return;
  }
  state.detail = detail;
  state.seqs = new Set();
  $("empty-state").hidden = true;
  $("chat-view").hidden = false;
  $("side-content").hidden = false;
  const list = $("messages");
  list.replaceChildren();
  for (const m of (detail.transcript && detail.transcript.messages) || []) {
    const who = m.role === "customer" ? "Cliente" : "Assistente";
    const node = messageNode(m.role === "customer" ? "customer" : "bot", who, m.text, m.timestamp);
    if (m.role === "customer" && m.intent && m.intent.name) {
      node.append(el("span", "who", `intenção ${m.intent.name} (${m.intent.confidence})`));
    }
    if (m.kb && m.kb.article_id) node.append(el("span", "who", `artigo: ${m.kb.article_id}`));
    if (m.kb_feedback) node.append(el("span", "who", m.kb_feedback.helped ? "ajudou" : "não ajudou"));
    list.append(node);
  }
  list.append(el("li", "divider", "— escalado para atendimento humano —"));
  for (const m of detail.messages) appendLive(m);
  renderDetails(detail);
  send({ type: "watch", handoff_id: id });
  for (const li of document.querySelectorAll(".list li")) li.classList.toggle("selected", li.dataset.id === String(id));
  if (!$("composer").hidden) $("composer-text").focus();
}

async function act(path, json) {
  $("action-error").textContent = "";
  try {
    await api(path, { json: json || {} });
    await reloadQueue();
    if (state.selected) await select(state.selected);
  } catch (error) {
    $("action-error").textContent = error.message;
  }
}

// -- live connection ----------------------------------------------------------------------------------------
function send(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/agent`);
  state.ws = ws;
  $("conn-state").textContent = "conectando…";
  ws.onopen = () => {
    state.wsRetry = 0;
    $("conn-state").textContent = "conectado";
    if (state.selected) send({ type: "watch", handoff_id: state.selected });
  };
  ws.onmessage = (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch (_) { return; }
    onFrame(frame);
  };
  ws.onclose = (event) => {
    $("conn-state").textContent = "desconectado — reconectando…";
    if (event.code === 4401) { showLogin(); return; }
    const delay = Math.min(1000 * 2 ** state.wsRetry++, 15000);
    setTimeout(connect, delay);
  };
}

function onFrame(frame) {
  const mine = frame.handoff_id !== undefined && frame.handoff_id === state.selected;
  switch (frame.type) {
    case "hello":
      // The product's one message-length limit (services/chat/chat.yml), also enforced by the server.
      if (frame.limits && frame.limits.max_message_chars) $("composer-text").maxLength = frame.limits.max_message_chars;
      break;
    case "message":
      if (mine) appendLive(frame.message);
      break;
    case "typing":
      if (mine && frame.role === "customer") $("typing").textContent = frame.on ? "Cliente está digitando…" : "";
      break;
    case "customer_message":
      if (!state.detail || state.detail.handoff.conversation_id !== frame.conversation_id) scheduleReload();
      break;
    case "note":
      if (frame.handoff_id === state.selected) {
        $("notes").append(el("li", null, `${frame.note.author_name}: ${frame.note.text}`));
      }
      break;
    case "unwatched":
      // The server stopped relaying this chat: it went to a team this agent is not in.
      scheduleReload();
      if (frame.handoff_id === state.selected) {
        state.selected = null; state.detail = null;
        $("chat-view").hidden = true; $("side-content").hidden = true; $("empty-state").hidden = false;
        $("empty-state").textContent = "Esta conversa foi para outro time e saiu da sua tela. Escolha outra na fila.";
      }
      break;
    case "queue_changed": case "closed": case "transferred": case "requeued": case "contact_request": case "csat":
      scheduleReload();
      if (frame.handoff_id && frame.handoff_id === state.selected && frame.type !== "csat") select(state.selected);
      break;
    case "error":
      $("action-error").textContent = frame.message || frame.code;
      break;
    default:
      break;
  }
}

function typing(on) {
  if (!state.selected) return;
  if (on !== state.typingOn) { state.typingOn = on; send({ type: "typing", handoff_id: state.selected, on }); }
  clearTimeout(state.typingTimer);
  if (on) state.typingTimer = setTimeout(() => typing(false), 3000);
}

function sendMessage(event) {
  event.preventDefault();
  const box = $("composer-text");
  const text = box.value.trim();
  if (!text || !state.selected) return;
  send({ type: "message", handoff_id: state.selected, text, client_message_id: crypto.randomUUID() });
  box.value = "";
  typing(false);
}

// -- wiring -------------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout-btn").addEventListener("click", async () => { await api("/api/handoff/auth/logout", { json: {} }); showLogin(); });
  $("status-select").addEventListener("change", (e) => api("/api/handoff/me/status", { json: { status: e.target.value } }));
  $("composer").addEventListener("submit", sendMessage);
  $("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) sendMessage(event);
  });
  $("composer-text").addEventListener("input", () => typing(true));
  $("claim-btn").addEventListener("click", () => act(`/api/handoff/handoffs/${state.selected}/claim`));
  $("handback-btn").addEventListener("click", () => act(`/api/handoff/handoffs/${state.selected}/handback`));
  $("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (!text) return;
    try { await api(`/api/handoff/handoffs/${state.selected}/notes`, { json: { text } }); $("note-text").value = ""; }
    catch (error) { $("action-error").textContent = error.message; }
  });
  $("transfer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const agent = $("transfer-agent").value;
    const team = $("transfer-team").value;
    act(`/api/handoff/handoffs/${state.selected}/transfer`, agent ? { agent_id: Number(agent) } : { team });
  });
  $("resolve-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(`/api/handoff/handoffs/${state.selected}/resolve`, { tag: $("resolve-tag").value, note: $("resolve-note").value });
  });
  setInterval(() => send({ type: "ping" }), 25000);
  setInterval(reloadQueue, 30000);
  start();
});
