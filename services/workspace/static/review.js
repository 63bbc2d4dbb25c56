// Review area: filter past conversations, open one turn by turn (what the customer wrote → what the bot
// understood, with low confidence highlighted), tag it and mark it reviewed. Customer text is always text (el()).
import { el } from "./api.js";

const BASE = "/api/lead/review";
const REASONS = {
  customer_request: "cliente pediu atendente", repeated_fallback: "não entendeu várias vezes",
  always_human: "assunto sempre humano", frustration: "cliente frustrado", unanswered_repeat: "pergunta repetida sem resposta",
};
const STATUS = { bot: "com o assistente", queued: "na fila", assigned: "com agente", resolved: "resolvida", closed: "encerrada" };
const LANGS = { pt: "português", en: "inglês" };

const when = (iso) => (iso ? new Date(iso).toLocaleString("pt-BR", { dateStyle: "short", timeStyle: "short" }) : "");
const pct = (x) => (typeof x === "number" ? `${Math.round(x * 100)}%` : "—");
const badge = (text, kind = "") => el("span", { class: `badge ${kind}`.trim() }, text);

function confidenceChip(reading) {
  if (!reading || !reading.intent) return null;
  const low = reading.low;
  return el("span", { class: `chip${low ? " low" : ""}`, title: low ? "confiança baixa" : "confiança" },
    `${reading.intent} · ${pct(reading.confidence)}`, low ? el("span", { class: "sr-only" }, " (baixa)") : null);
}

function choice(name, label, options) {
  return el("label", {}, label, el("select", { name },
    ...options.map(([value, text]) => el("option", { value }, text))));
}

const ANY_YES_NO = [["", "tanto faz"], ["true", "sim"], ["false", "não"]];

function filterForm(facets, onSubmit) {
  const form = el("form", { id: "review-filters", class: "grid-form", "aria-label": "Filtros de conversas" },
    el("label", {}, "De", el("input", { type: "date", name: "from" })),
    el("label", {}, "Até", el("input", { type: "date", name: "to" })),
    choice("language", "Idioma", [["", "todos"], ...facets.languages.map((l) => [l, LANGS[l] || l])]),
    choice("team", "Equipe", [["", "todas"], ...facets.teams.map((t) => [t, t])]),
    el("label", {}, "Intenção", el("input", { name: "intent", list: "review-intents", placeholder: "ex.: order_status",
      autocomplete: "off" }), el("datalist", { id: "review-intents" }, ...facets.intents.map((i) => el("option", { value: i })))),
    el("label", {}, "Confiança de", el("input", { type: "number", name: "confidence_min", min: 0, max: 1, step: "0.05", placeholder: "0" })),
    el("label", {}, "até", el("input", { type: "number", name: "confidence_max", min: 0, max: 1, step: "0.05", placeholder: "1" })),
    choice("fallback", "Teve fallback", ANY_YES_NO),
    choice("escalated", "Escalonada", ANY_YES_NO),
    choice("reason", "Motivo", [["", "qualquer"], ...facets.reasons.map((r) => [r, REASONS[r] || r])]),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "kb_not_helped", value: "true" }), "Artigo não ajudou"),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "csat_max", value: "2" }), "CSAT ≤ 2"),
    el("label", {}, "Etiqueta", el("input", { name: "tag", list: "review-tags", autocomplete: "off" }),
      el("datalist", { id: "review-tags" }, ...facets.tags.map((t) => el("option", { value: t.tag }, `${t.tag} (${t.count})`)))),
    choice("reviewed", "Revisada", ANY_YES_NO),
    el("label", { class: "wide" }, "Texto do cliente", el("input", { type: "search", name: "q", maxlength: 200,
      placeholder: "palavras que o cliente escreveu" })),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Filtrar"),
      el("button", { type: "reset" }, "Limpar")));
  form.addEventListener("submit", (event) => { event.preventDefault(); onSubmit(); });
  form.addEventListener("reset", () => setTimeout(onSubmit));
  return form;
}

function queryOf(form, page) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) if (String(value).trim()) params.append(key, String(value).trim());
  if (page > 1) params.set("page", String(page));
  return params.toString();
}

function signals(c) {
  return el("div", { class: "badges" },
    c.fallbacks ? badge(`fallback ×${c.fallbacks}`, "warn") : null,
    c.escalation ? badge(`escalada: ${REASONS[c.escalation.reason] || c.escalation.reason}`, "info") : null,
    c.kb_not_helped ? badge("artigo não ajudou", "bad") : null,
    c.csat ? badge(`CSAT ${c.csat}`, c.csat <= 2 ? "bad" : c.csat >= 4 ? "good" : "") : null);
}

function resultRow(c, open) {
  const button = el("button", { type: "button", class: "link", onclick: () => open(c.id),
    title: "Abrir a conversa" }, c.first_message || "(sem texto)");
  return el("tr", { dataset: { id: c.id } },
    el("td", { class: "nowrap" }, when(c.created_at)),
    el("td", {}, LANGS[c.language] || c.language),
    el("td", { class: "message" }, button, el("div", { class: "muted small" }, `${c.messages} mensagem(ns) · ${STATUS[c.status] || c.status}${c.team ? ` · ${c.team}` : ""}`)),
    el("td", {}, ...c.intents.slice(0, 3).map((i) => el("span", { class: "chip" }, i))),
    el("td", {}, el("span", { class: `chip${c.low_confidence ? " low" : ""}` }, pct(c.min_confidence))),
    el("td", {}, signals(c)),
    el("td", {}, ...c.tags.map((t) => el("span", { class: "tag" }, t))),
    el("td", {}, c.reviewed ? badge(`✓ ${c.reviewed.by}`, "good") : el("span", { class: "muted" }, "não")));
}

// One entry of the conversation, by kind (services/conversations/kinds.py).
function turnNode(t) {
  const d = t.data || {};
  const line = (who, ...body) => el("li", { class: `turn ${t.kind}`, dataset: { kind: t.kind } },
    el("div", { class: "who" }, who, el("time", { datetime: t.at }, when(t.at))), ...body);
  const note = (...body) => el("li", { class: `turn event ${t.kind}`, dataset: { kind: t.kind } },
    el("time", { datetime: t.at }, when(t.at)), " ", ...body);
  switch (t.kind) {
    case "customer_message": {
      const r = t.reading;
      return line("Cliente", el("p", { class: "text" }, t.text ?? ""), el("div", { class: "chips" }, confidenceChip(r),
        ...((r && r.entities) || []).map((e) => el("span", { class: "chip entity" }, `${e.entity}=${e.value}`))));
    }
    case "bot_reply": {
      const r = t.reading || {};
      const article = r.kb_article;
      if (!t.text && !(r.actions || []).length) return null;
      return line("Assistente", t.text ? el("p", { class: "text" }, t.text) : null, el("div", { class: "chips" },
        ...(r.actions || []).map((a) => el("span", { class: "chip action" }, a)),
        article ? el("span", { class: "chip kb" }, `artigo: ${article.title || article.article_id}`) : null));
    }
    case "agent_message": return line(`${t.author || d.agent_name || "Agente"} (agente)`, el("p", { class: "text" }, t.text ?? ""));
    case "note": return line(`Nota interna · ${t.author || "agente"}`, el("p", { class: "text note" }, t.text ?? ""));
    case "fallback": return note(badge("fallback", "warn"), " o assistente não entendeu",
      (d.ranking || []).length ? ` (melhores palpites: ${d.ranking.slice(0, 3).map((r) => `${r.name} ${pct(r.confidence)}`).join(", ")})` : "");
    case "kb_answer": return note(badge("artigo", "info"), ` mostrado: ${d.title || d.article_id}`, typeof d.score === "number" ? ` (${pct(d.score)})` : "");
    case "kb_feedback": return note(d.helped ? badge("ajudou", "good") : badge("não ajudou", "bad"), ` artigo ${d.article_id || ""}`);
    case "escalated": return note(badge("escalada", "info"), ` ${REASONS[d.reason] || d.reason}`, d.reason_detail ? ` — ${d.reason_detail}` : "");
    case "queued": return note(`na fila da equipe ${t.team || d.team || ""}`, d.waiting && d.waiting !== "queued"
      ? (d.why === "hours" ? " (fora do horário: recado)" : " (nenhum agente online: recado)") : "");
    case "agent_joined": return note(`${d.agent_name || "agente"} assumiu`);
    case "transferred": return note(`transferida ${d.to_team ? `para a equipe ${d.to_team}` : `para ${d.to_agent_name || "outro agente"}`}`);
    case "requeued": return note(`voltou para a fila (console de ${d.from_agent_name || "agente"} ausente)`);
    case "resolved": return note(badge("resolvida", "good"), d.tag ? ` ${d.tag}` : "", d.note ? ` — ${d.note}` : "");
    case "handed_back": return note("devolvida ao assistente");
    case "reopened": return note("o cliente escreveu de novo");
    case "csat": return note(badge(`CSAT ${d.rating}`, d.rating <= 2 ? "bad" : d.rating >= 4 ? "good" : ""), d.comment ? ` “${d.comment}”` : "");
    case "csat_requested": return note("pesquisa de satisfação enviada");
    case "closed": return note(`encerrada${d.why ? ` (${d.why})` : ""}`);
    case "language_changed": return note(`idioma: ${LANGS[d.language] || d.language}`);
    case "conversation_opened": return note(`conversa aberta (${LANGS[d.language] || d.language || ""}, ${d.channel || "web"})`);
    case "contact_left": return note("o cliente deixou um contato");
    default: return note(t.kind);
  }
}

function tagEditor(api, id, tags, onChange) {
  const list = el("ul", { class: "tags", "aria-label": "Etiquetas" });
  const input = el("input", { id: "tag-input", list: "review-tags", maxlength: 40, placeholder: "nova etiqueta",
    "aria-label": "Nova etiqueta", autocomplete: "off" });
  const status = el("span", { class: "muted", role: "status" });
  let current = [...tags];
  const save = async (next) => {
    try {
      const { tags: saved } = await api.put(`${BASE}/conversations/${encodeURIComponent(id)}/tags`, { tags: next });
      current = saved; status.textContent = "salvo"; status.className = "ok"; draw(); onChange();
    } catch (error) { status.textContent = error.message; status.className = "error"; }
  };
  const draw = () => list.replaceChildren(...current.map((t) => el("li", { class: "tag" }, t,
    el("button", { type: "button", class: "remove", "aria-label": `Remover etiqueta ${t}`,
      onclick: () => save(current.filter((x) => x !== t)) }, "×"))));
  const form = el("form", { id: "tag-form", class: "inline" }, input, el("button", { type: "submit", id: "tag-add" }, "Adicionar"), status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) save([...current, input.value]).then(() => { if (status.className === "ok") input.value = ""; });
  });
  draw();
  return el("div", { class: "tag-editor" }, el("h3", {}, "Etiquetas"), list, form);
}

function reviewToggle(api, id, mark, onChange) {
  const box = el("div", { class: "review-toggle" });
  const draw = (m) => {
    const button = el("button", { type: "button", id: "review-toggle", class: m ? "" : "primary", "aria-pressed": m ? "true" : "false" },
      m ? "Desmarcar revisão" : "Marcar como revisada");
    button.addEventListener("click", async () => {
      try {
        const { reviewed } = await api.post(`${BASE}/conversations/${encodeURIComponent(id)}/reviewed`, { reviewed: !m });
        draw(reviewed); onChange();
      } catch (error) { box.append(el("p", { class: "error", role: "alert" }, error.message)); }
    });
    box.replaceChildren(m ? el("span", { class: "badge good" }, `Revisada por ${m.by} em ${when(m.at)}`) : el("span", { class: "muted" }, "Ainda não revisada"), " ", button);
  };
  draw(mark);
  return box;
}

export async function mount(section, api) {
  const facets = await api.get(`${BASE}/facets`);
  const body = el("tbody", { id: "review-results" });
  const summary = el("p", { class: "muted", role: "status", id: "review-summary" });
  const error = el("p", { class: "error", role: "alert" });
  const prev = el("button", { type: "button" }, "← Anteriores");
  const next = el("button", { type: "button" }, "Próximas →");
  const listView = el("div", { id: "review-list" });
  const detailView = el("div", { id: "review-detail", class: "card", hidden: true, tabindex: "-1" });
  let page = 1;
  let stale = false;
  const form = filterForm(facets, () => { page = 1; load(); });

  async function load() {
    error.textContent = "";
    try {
      const data = await api.get(`${BASE}/conversations?${queryOf(form, page)}`);
      body.replaceChildren(...data.conversations.map((c) => resultRow(c, open)));
      if (!data.conversations.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "muted empty" }, "Nenhuma conversa com esses filtros.")));
      summary.textContent = `${data.total} conversa(s) · página ${data.page} de ${data.pages}`;
      prev.disabled = data.page <= 1; next.disabled = data.page >= data.pages;
    } catch (e) { error.textContent = e.message; }
  }
  prev.addEventListener("click", () => { page -= 1; load(); });
  next.addEventListener("click", () => { page += 1; load(); });

  async function open(id) {
    let data;
    try { data = await api.get(`${BASE}/conversations/${encodeURIComponent(id)}`); } catch (e) { error.textContent = e.message; return; }
    const c = data.conversation;
    const scrolled = window.scrollY;
    const back = el("button", { type: "button", id: "review-back", onclick: () => {
      detailView.hidden = true; listView.hidden = false; if (stale) { stale = false; load(); }
      window.scrollTo(0, scrolled);
      const row = body.querySelector(`tr[data-id="${CSS.escape(id)}"] button`);
      if (row) row.focus({ preventScroll: true });
    } }, "← Voltar à lista");
    const changed = () => { stale = true; };
    detailView.replaceChildren(
      el("div", { class: "detail-head" }, back, el("h2", {}, `Conversa de ${when(c.created_at)}`),
        el("div", { class: "badges" }, badge(LANGS[c.language] || c.language), badge(STATUS[c.status] || c.status),
          c.csat_rating ? badge(`CSAT ${c.csat_rating}`, c.csat_rating <= 2 ? "bad" : "good") : null,
          ...data.handoffs.map((h) => badge(`atendimento #${h.id}: ${h.team}${h.resolution_tag ? ` · ${h.resolution_tag}` : ""}`, "info")))),
      el("p", { class: "muted small" }, `id ${c.id} · confiança baixa: abaixo de ${pct(data.low_confidence)}`),
      el("div", { class: "detail-tools" }, tagEditor(api, c.id, data.tags, changed), reviewToggle(api, c.id, data.reviewed, changed)),
      el("ol", { class: "turns", "aria-label": "Turnos da conversa" }, ...data.turns.map(turnNode).filter(Boolean)));
    listView.hidden = true; detailView.hidden = false;
    window.scrollTo(0, 0);
    detailView.focus({ preventScroll: true });
  }

  listView.append(el("div", { class: "card" }, el("h2", {}, "Conversas"), form),
    el("div", { class: "card" }, el("div", { class: "toolbar" }, summary, el("div", { class: "pager" }, prev, next)), error,
      el("table", { class: "results" }, el("thead", {}, el("tr", {}, ...["Quando", "Idioma", "Primeira mensagem", "Intenções",
        "Menor confiança", "Sinais", "Etiquetas", "Revisada"].map((h) => el("th", { scope: "col" }, h)))), body)));
  section.replaceChildren(listView, detailView);
  await load();
}
