// Audit area: every lead action, latest first, with before and after.
import { el } from "./api.js";

const ACTION_NAMES = {
  conversation_tagged: "etiquetou conversa", conversation_reviewed: "revisou conversa",
  example_added: "adicionou exemplo", example_ignored: "ignorou mensagem", curation_committed: "gravou curadoria no git",
  retrain_started: "iniciou treino", candidate_held_back: "candidato retido", model_promoted: "promoveu modelo",
  model_rolled_back: "voltou modelo", override: "liberou candidato pior", draft_created: "criou rascunho",
  article_saved: "salvou artigo", article_published: "publicou artigo", article_unpublished: "despublicou artigo",
};

function brief(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export async function mount(section, api) {
  const body = el("tbody");
  const filter = el("select", { "aria-label": "Ação" }, el("option", { value: "" }, "todas as ações"),
    ...Object.entries(ACTION_NAMES).map(([value, name]) => el("option", { value }, name)));
  const load = async () => {
    const query = filter.value ? `?action=${encodeURIComponent(filter.value)}` : "";
    const { entries } = await api.get(`/api/lead/audit${query}`);
    body.replaceChildren(...entries.map((e) => el("tr", {},
      el("td", {}, new Date(e.created_at).toLocaleString("pt-BR")), el("td", {}, e.lead_name),
      el("td", {}, ACTION_NAMES[e.action] || e.action), el("td", {}, e.target),
      el("td", { class: "muted" }, brief(e.before)), el("td", {}, brief(e.after)))));
    if (!entries.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "Nada registrado ainda.")));
  };
  filter.addEventListener("change", load);
  section.replaceChildren(el("div", { class: "card" }, el("h2", {}, "Auditoria"), filter,
    el("table", {}, el("thead", {}, el("tr", {}, ...["Quando", "Quem", "Ação", "Alvo", "Antes", "Depois"].map((h) => el("th", {}, h)))), body)));
  await load();
}
