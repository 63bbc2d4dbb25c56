// Gaps area: questions the knowledge base did not answer, grouped by meaning, most customers first.
// From a group the lead creates draft articles (pt and/or en) and continues in the Articles area.
import { el } from "./api.js";

const SOURCE_NAMES = {
  fallback: "bot não entendeu", no_answer: "busca sem resposta", not_helped: "“não ajudou”", escalated: "foi para atendente",
};
const TREND = { up: "↑ em alta", down: "↓ em queda", flat: "→ estável" };

function styles() {
  if (!document.querySelector('link[data-area="gaps"]')) {
    document.head.append(el("link", { rel: "stylesheet", href: "/console/lead/static/gaps.css", dataset: { area: "gaps" } }));
  }
}

function closestLine(closest) {
  if (!closest) return el("p", { class: "muted" }, "Nenhum artigo parecido encontrado.");
  const verdict = closest.answerable ? "a busca acha que responde" : "a busca acha que não responde";
  return el("p", {}, "Artigo mais próximo: ",
    el("a", { href: closest.url, target: "_blank", rel: "noopener" }, closest.title),
    el("span", { class: "muted" }, ` (${closest.lang}, pontuação ${closest.score.toFixed(2)}, ${verdict})`));
}

function gapCard(gap, onDraft) {
  const status = el("p", { class: "gap-status", role: "status" });
  const langs = ["pt", "en"].map((lang) => el("label", {},
    el("input", { type: "checkbox", value: lang, checked: true }), lang === "pt" ? " português" : " inglês"));
  const button = el("button", { type: "button" }, "Criar rascunho");
  button.addEventListener("click", async () => {
    const chosen = langs.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!chosen.length) { status.textContent = "Escolha pelo menos um idioma."; status.className = "gap-status error"; return; }
    button.disabled = true;
    status.textContent = "Criando rascunho…"; status.className = "gap-status muted";
    try {
      await onDraft(gap, chosen, status);
    } finally {
      button.disabled = false;
    }
  });
  const trend = gap.trend;
  return el("article", { class: "card gap", dataset: { gap: gap.id } },
    el("h3", {}, gap.title),
    el("p", { class: "gap-figures" },
      el("strong", {}, `${gap.customers} cliente${gap.customers === 1 ? "" : "s"}`),
      ` · ${gap.questions} pergunta${gap.questions === 1 ? "" : "s"} · `,
      el("span", { class: `trend trend-${trend.direction}` }, `${TREND[trend.direction]} (${trend.first_half} → ${trend.second_half})`),
      " · ", Object.entries(gap.sources).map(([k, v]) => `${SOURCE_NAMES[k] || k}: ${v}`).join(", "),
      " · idiomas: ", Object.entries(gap.languages).map(([k, v]) => `${k} ${v}`).join(", ")),
    el("ul", { class: "gap-examples", "aria-label": "Exemplos de perguntas" }, gap.examples.map((text) => el("li", {}, text))),
    closestLine(gap.closest),
    el("div", { class: "gap-actions" }, el("span", {}, "Rascunho em: "), ...langs, button),
    status);
}

export async function mount(section, api) {
  styles();
  const list = el("div", { class: "gap-list" });
  const info = el("p", { class: "muted", role: "status" }, "Carregando…");
  const refresh = el("button", { type: "button" }, "Atualizar");

  const onDraft = async (gap, langs, status) => {
    try {
      const { drafts } = await api.post(`/api/lead/gaps/${encodeURIComponent(gap.id)}/draft`, { langs });
      status.className = "gap-status ok";
      status.replaceChildren("Rascunho criado: ", ...drafts.map((d, i) => [i ? ", " : "",
        el("a", { href: "#articles", onclick: () => sessionStorage.setItem("lead.openArticle", `${d.lang}/${d.id}`) },
          `${d.lang}/${d.id}`)]).flat(), ". Abra em Artigos para escrever a resposta e publicar.");
    } catch (error) {
      status.className = "gap-status error";
      status.textContent = `Não foi possível criar o rascunho: ${error.message}`;
    }
  };

  const load = async () => {
    refresh.disabled = true;
    info.textContent = "Carregando…";
    try {
      const { gaps, window } = await api.get("/api/lead/gaps");
      info.textContent = `${gaps.length} lacuna${gaps.length === 1 ? "" : "s"} em ${window.questions} perguntas sem resposta ` +
        `dos últimos ${window.window_days} dias (agrupadas com similaridade ≥ ${window.cluster_similarity}).`;
      list.replaceChildren(...gaps.map((g) => gapCard(g, onDraft)));
      if (!gaps.length) list.append(el("p", { class: "muted" }, "Nenhuma pergunta sem resposta no período. 🎉"));
    } catch (error) {
      info.textContent = `Não foi possível carregar as lacunas: ${error.message}`;
      info.className = "error";
    } finally {
      refresh.disabled = false;
    }
  };
  refresh.addEventListener("click", load);
  section.replaceChildren(el("div", { class: "card" },
    el("h2", {}, "Lacunas da base de conhecimento"),
    el("p", { class: "muted" }, "Perguntas que a base não respondeu (bot não entendeu, busca sem resposta, “não ajudou”, " +
      "conversas passadas para atendente), agrupadas por significado e ordenadas por número de clientes."),
    refresh, info), list);
  await load();
}
