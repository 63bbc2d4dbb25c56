// Audit area: every lead action, latest first: who, when, what, on what, and what changed (before → after).
import { el } from "./api.js";

const ACTION_NAMES = {
  conversation_tagged: "etiquetou conversa", conversation_reviewed: "revisou conversa",
  example_added: "adicionou exemplo", example_ignored: "ignorou mensagem", curation_committed: "gravou curadoria no git",
  retrain_started: "iniciou treino", candidate_held_back: "candidato retido", model_promoted: "promoveu modelo",
  model_rolled_back: "voltou modelo", override: "liberou candidato pior", draft_created: "criou rascunho",
  article_saved: "salvou artigo", article_published: "publicou artigo", article_unpublished: "despublicou artigo",
  customer_data_searched: "buscou dados de cliente", customer_data_exported: "exportou dados de cliente",
  customer_data_erased: "apagou dados de cliente",
};
const LIMIT = 200;

const when = (iso) => new Date(iso).toLocaleString("pt-BR", { dateStyle: "short", timeStyle: "medium" });

function text(value) {
  if (value === null || value === undefined) return "—";
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

// The keys that changed, each "key: before → after"; whole values when they are not both objects.
function changes(before, after) {
  const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);
  if (!isObj(before) || !isObj(after)) {
    return before === null || before === undefined ? [el("li", {}, text(after))] : [el("li", {}, `${text(before)} → ${text(after)}`)];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const lines = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => el("li", {}, el("strong", {}, `${k}: `), `${text(before[k])} → ${text(after[k])}`));
  return lines.length ? lines : [el("li", { class: "muted" }, "sem mudança")];
}

function row(e) {
  const full = el("details", {}, el("summary", {}, "antes/depois completos"),
    el("pre", { class: "small" }, `antes: ${JSON.stringify(e.before, null, 2)}\ndepois: ${JSON.stringify(e.after, null, 2)}`));
  return el("tr", {},
    el("td", { class: "nowrap" }, el("time", { datetime: e.created_at }, when(e.created_at))),
    el("td", {}, e.lead_name || `#${e.lead_id ?? "?"}`),
    el("td", {}, el("span", { class: "badge info" }, ACTION_NAMES[e.action] || e.action)),
    el("td", { class: "small" }, e.target),
    el("td", {}, el("ul", { class: "changes" }, ...changes(e.before, e.after)), full));
}

export async function mount(section, api) {
  const body = el("tbody", { id: "audit-rows" });
  const status = el("p", { class: "muted", role: "status" });
  const error = el("p", { class: "error", role: "alert" });
  const action = el("select", { name: "action" }, el("option", { value: "" }, "todas"),
    ...Object.entries(ACTION_NAMES).map(([value, name]) => el("option", { value }, name)));
  const target = el("input", { name: "target", type: "search", maxlength: 300, placeholder: "ex.: conversation: ou article:" });
  const form = el("form", { class: "grid-form", "aria-label": "Filtros da auditoria" },
    el("label", {}, "Ação", action), el("label", {}, "Alvo começa com", target),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Filtrar")));
  const load = async () => {
    error.textContent = "";
    const params = new URLSearchParams({ limit: String(LIMIT) });
    if (action.value) params.set("action", action.value);
    if (target.value.trim()) params.set("target", target.value.trim());
    try {
      const { entries } = await api.get(`/api/lead/audit?${params}`);
      body.replaceChildren(...entries.map(row));
      if (!entries.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted empty" }, "Nada registrado com esses filtros.")));
      status.textContent = entries.length >= LIMIT ? `as ${LIMIT} ações mais recentes` : `${entries.length} ação(ões)`;
    } catch (e) { error.textContent = e.message; }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  action.addEventListener("change", load);
  section.replaceChildren(
    el("div", { class: "card" }, el("h2", {}, "Auditoria"),
      el("p", { class: "muted" }, "Cada ação de um líder: quem, quando, o quê e o que mudou. Visualizações de conversas ficam no registro do console."),
      form),
    el("div", { class: "card" }, status, error, el("table", {},
      el("thead", {}, el("tr", {}, ...["Quando", "Quem", "Ação", "Alvo", "Mudança"].map((h) => el("th", { scope: "col" }, h)))), body)));
  await load();
}
