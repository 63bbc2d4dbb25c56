// The metrics dashboard: one module for the lead's "Métricas" tab (every team and agent) and the agent's own page
// (/console/metrics, their figures only — the API pins an agent's queries to themselves, this page only hides the
// agent filter). Every number shown comes from /api/metrics/report or /api/metrics/tables/<name>, the same rows
// the CSV links download. Charts: the vendored Chart.js (served by the app; no CDN, nothing inline).
import "./vendor/chart.umd.min.js";
// The console's one DOM builder (no innerHTML: every text is shown as text).
import { el as h } from "/console/lead/static/api.js";

const Chart = globalThis.Chart;
const TEAMS = { atendimento: "Atendimento", suporte: "Suporte Técnico" };
const LANGUAGES = { pt: "Português", en: "Inglês" };
const CHANNELS = { web: "Site (widget)", other: "Outros canais" };
const REASONS = {
  customer_request: "Cliente pediu uma pessoa", repeated_fallback: "Bot não entendeu (repetido)",
  frustration: "Frustração", unanswered_repeat: "Pergunta repetida sem resposta", always_human: "Tema sempre humano",
  unknown: "Sem motivo",
};
const BUCKETS = { "0-1 min": "0–1 min", "1-5 min": "1–5 min", "5-15 min": "5–15 min", "15-60 min": "15–60 min", "1 h+": "1 h ou mais" };
const COLORS = ["#1a56db", "#e3a008", "#0e9f6e", "#9061f9", "#e02424", "#ff8a4c", "#0694a2", "#6b7280"];

// Headline cards: [figure path in the report, label, kind]. kind: "s" seconds, "%" share, "n" count, "x" plain.
const CARDS = [
  ["contacts", "Contatos", "n"],
  ["frt_bot.median_seconds", "1ª resposta do bot (mediana)", "s"],
  ["frt_human.median_seconds", "1ª resposta humana (mediana)", "s"],
  ["resolution_time.median_seconds", "Tempo médio de resolução (TMR, mediana)", "s"],
  ["csat.satisfied_pct", "CSAT (notas 4–5)", "%"],
  ["csat.response_pct", "Taxa de resposta do CSAT", "%"],
  ["nps.score", "NPS", "x"],
  ["containment.pct", "Contenção pelo bot", "%"],
  ["bot_resolution.pct", "Resolução pelo bot", "%"],
  ["handoff.pct", "Transferência para pessoas", "%"],
  ["repeat_contact.pct_7d", "Recontato em 7 dias", "%"],
  ["queue_wait.median_seconds", "Espera na fila (mediana)", "s"],
  ["handling_time.median_seconds", "Tempo de atendimento (mediana)", "s"],
  ["backlog.waiting", "Na fila agora / no fim do período", "n"],
];

const number = new Intl.NumberFormat("pt-BR", { maximumFractionDigits: 1 });

export function formatValue(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "%") return `${number.format(value)} %`;
  if (kind === "s") {
    if (value < 90) return `${number.format(value)} s`;
    if (value < 5400) return `${number.format(value / 60)} min`;
    if (value < 172800) return `${number.format(value / 3600)} h`;
    return `${number.format(value / 86400)} dias`;
  }
  return number.format(value);
}

function pick(tree, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), tree);
}

function isoDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

function select(name, label, options, all = "Todos") {
  return h("label", {}, label,
    h("select", { name }, h("option", { value: "" }, all),
      Object.entries(options).map(([value, text]) => h("option", { value }, text))));
}

export async function mountDashboard(section, api, { lead }) {
  if (!document.querySelector("link[data-area=metrics]")) {
    document.head.append(h("link", { rel: "stylesheet", href: "/console/metrics/static/dashboard.css", dataset: { area: "metrics" } }));
  }
  const today = new Date();
  const start = new Date(today.getTime() - 29 * 86400000);
  const form = h("form", { class: "metrics-filters card", "aria-label": "Filtros das métricas" },
    h("label", {}, "De", h("input", { type: "date", name: "start", value: isoDay(start), required: true })),
    h("label", {}, "Até", h("input", { type: "date", name: "end", value: isoDay(today), required: true })),
    select("team", "Equipe", TEAMS, "Todas"),
    select("language", "Idioma", LANGUAGES),
    h("label", {}, "Tópico", h("input", { name: "intent", list: "metrics-intents", placeholder: "ex.: order_status", maxlength: 64 })),
    h("datalist", { id: "metrics-intents" }),
    select("channel", "Canal", CHANNELS),
    lead ? h("label", {}, "Agente", h("select", { name: "agent" }, h("option", { value: "" }, "Todos"))) : null,
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "compare", checked: true }), "Comparar com o período anterior"),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "business_hours" }), "Só horário comercial"),
    h("span", { class: "actions" },
      h("button", { type: "submit" }, "Atualizar"),
      h("button", { type: "button", onclick: () => window.print() }, "Imprimir")));
  const status = h("p", { class: "metrics-status muted", role: "status", "aria-live": "polite" });
  const body = h("div", { class: "metrics-body" });
  section.replaceChildren(...[
    h("h1", {}, lead ? "Métricas de atendimento" : "Minhas métricas"),
    lead ? null : h("p", { class: "muted" }, "Só os seus números: as conversas que você atendeu, respondeu ou resolveu."),
    form, status, body].filter(Boolean));
  const charts = [];
  window.addEventListener("beforeprint", () => charts.forEach((c) => c.resize(640, 280)));
  window.addEventListener("afterprint", () => charts.forEach((c) => c.resize()));

  async function refresh(event) {
    if (event) event.preventDefault();
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const name of ["start", "end", "team", "language", "intent", "channel", "agent"]) {
      const value = (data.get(name) || "").trim();
      if (value) params.set(name, value);
    }
    if (data.get("business_hours")) params.set("business_hours", "true");
    const compare = Boolean(data.get("compare"));
    status.textContent = "Carregando…";
    status.classList.remove("error");
    const names = ["by_day", "handoff_reasons", "by_intent", "by_team", "kb_articles", "comments", "unanswered", "backlog",
      ...(lead ? ["by_agent"] : [])];
    try {
      const [report, ...tables] = await Promise.all([
        api.get(`/api/metrics/report?${params}&compare=${compare}`),
        ...names.map((name) => api.get(`/api/metrics/tables/${name}?${params}`)),
      ]);
      const t = Object.fromEntries(names.map((name, i) => [name, tables[i]]));
      charts.splice(0).forEach((c) => c.destroy());
      render(body, report, t, params, charts, lead);
      fillChoices(form, t, lead);
      status.textContent = `Período ${params.get("start")} a ${params.get("end")} · atualizado ${new Date().toLocaleTimeString("pt-BR")}`;
      section.dataset.loaded = "true";
    } catch (error) {
      status.textContent = `Não foi possível carregar as métricas: ${error.message}`;
      status.classList.add("error");
    }
  }
  form.addEventListener("submit", refresh);
  await refresh();
}

function fillChoices(form, t, lead) {
  const list = form.querySelector("#metrics-intents");
  const intents = t.by_intent.rows.map((row) => row[0]).filter(Boolean);
  list.replaceChildren(...intents.map((name) => h("option", { value: name })));
  if (lead && t.by_agent) {
    const agentSelect = form.querySelector("select[name=agent]");
    const chosen = agentSelect.value;
    const known = new Set([...agentSelect.options].map((o) => o.value));
    for (const row of t.by_agent.rows) {
      if (row[0] !== null && !known.has(String(row[0]))) agentSelect.append(h("option", { value: row[0] }, row[1]));
    }
    agentSelect.value = chosen;
  }
}

function card(title, csvName, params, ...content) {
  const csv = csvName ? h("a", { class: "csv", href: `/api/metrics/tables/${csvName}.csv?${params}`, download: "" }, "Baixar CSV") : null;
  return h("section", { class: "card metrics-card", dataset: csvName ? { table: csvName } : {} }, h("header", {}, h("h2", {}, title), csv), ...content);
}

function chart(charts, label, config) {
  const canvas = h("canvas", { role: "img", "aria-label": label });
  const holder = h("div", { class: "chart" }, canvas);
  config.options = { animation: false, maintainAspectRatio: false, responsive: true, ...config.options };
  charts.push(new Chart(canvas, config));
  return holder;
}

function dataTable(table, headers, map = (row) => row, caption = null) {
  return h("table", {}, caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, table.rows.length
      ? table.rows.map((row) => h("tr", {}, map(row).map((cell) => h("td", {}, cell ?? "—"))))
      : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "Nada neste período."))));
}

function column(table, name) {
  return table.columns.indexOf(name);
}

function render(body, report, t, params, charts, lead) {
  const f = report.figures;
  const before = report.previous ? report.previous.figures : null;
  const kpis = h("div", { class: "kpis" }, CARDS.map(([path, label, kind]) => {
    const value = pick(f, path);
    const old = before ? pick(before, path) : undefined;
    const delta = typeof value === "number" && typeof old === "number" ? value - old : null;
    return h("div", { class: "kpi card", dataset: { figure: path, value: value ?? "" } },
      h("span", { class: "kpi-label" }, label),
      h("strong", { class: "kpi-value" }, formatValue(value, kind)),
      before ? h("span", { class: "kpi-prev muted" }, `antes: ${formatValue(old, kind)}`,
        delta !== null && delta !== 0 ? ` (${delta > 0 ? "+" : "−"}${formatValue(Math.abs(delta), kind)})` : "") : null);
  }));

  const day = t.by_day;
  const days = day.rows.map((row) => row[0]);
  const series = (name) => day.rows.map((row) => row[column(day, name)]);
  const volume = card("Contatos por dia", "by_day", params,
    chart(charts, "Contatos e transferências por dia", {
      type: "bar",
      data: { labels: days, datasets: [
        { label: "Contatos", data: series("contacts"), backgroundColor: COLORS[0] },
        { label: "Transferidos para pessoas", data: series("handoff.escalated"), backgroundColor: COLORS[1] },
      ] },
    }));

  const buckets = Object.keys(BUCKETS);
  const frt = card("Distribuição da 1ª resposta", null, params,
    chart(charts, "Quantas primeiras respostas em cada faixa de tempo", {
      type: "bar",
      data: { labels: buckets.map((b) => BUCKETS[b]), datasets: [
        { label: "Bot", data: buckets.map((b) => f.frt_bot.buckets[b]), backgroundColor: COLORS[0] },
        { label: "Pessoas", data: buckets.map((b) => f.frt_human.buckets[b]), backgroundColor: COLORS[2] },
      ] },
    }),
    h("p", { class: "muted" }, `Bot: mediana ${formatValue(f.frt_bot.median_seconds, "s")}, p90 ${formatValue(f.frt_bot.p90_seconds, "s")} · ` +
      `Pessoas: mediana ${formatValue(f.frt_human.median_seconds, "s")}, p90 ${formatValue(f.frt_human.p90_seconds, "s")}, ` +
      `${f.frt_human.pending} sem resposta ainda`));

  const satisfaction = card("CSAT e NPS por dia", "comments", params,
    chart(charts, "CSAT (notas 4 e 5) e NPS por dia", {
      type: "line",
      data: { labels: days, datasets: [
        { label: "CSAT % satisfeitos", data: series("csat.satisfied_pct"), borderColor: COLORS[2], backgroundColor: COLORS[2], spanGaps: true },
        { label: "NPS", data: series("nps.score"), borderColor: COLORS[3], backgroundColor: COLORS[3], spanGaps: true },
      ] },
      options: { scales: { y: { suggestedMin: -100, suggestedMax: 100 } } },
    }),
    h("p", { class: "muted" }, `CSAT: ${f.csat.responses} respostas de ${f.csat.surveys} pesquisas (${formatValue(f.csat.response_pct, "%")}), média ${f.csat.average ?? "—"} · ` +
      `NPS: ${f.nps.responses} respostas${f.nps.status === "ok" ? `, promotores ${formatValue(f.nps.promoters_pct, "%")}, detratores ${formatValue(f.nps.detractors_pct, "%")}` : " (sem dados ainda)"}`),
    h("h3", {}, "Comentários recentes (os 12 últimos; todos no CSV)"),
    dataTable({ rows: t.comments.rows.slice(0, 12) }, ["Quando", "Pesquisa", "Nota", "Equipe", "Agente", "Comentário"],
      (row) => [row[0].replace("T", " "), row[1].toUpperCase(), row[2], TEAMS[row[3]] || row[3], row[5], row[6]]));

  const bot = f.bot_resolution;
  const containment = card("Contenção e transferências", "handoff_reasons", params,
    h("div", { class: "two" },
      chart(charts, "Resultado das conversas com o bot", {
        type: "doughnut",
        data: { labels: ["Confirmada", "Presumida (sem retorno)", "Não resolvida", "Aguardando"],
          datasets: [{ data: [bot.confirmed, bot.assumed, bot.unresolved, bot.pending], backgroundColor: [COLORS[2], COLORS[0], COLORS[4], COLORS[7]] }] },
      }),
      chart(charts, "Motivos das transferências para pessoas", {
        type: "bar",
        data: { labels: t.handoff_reasons.rows.map((r) => REASONS[r[0]] || r[0]),
          datasets: [{ label: "Transferências", data: t.handoff_reasons.rows.map((r) => r[1]), backgroundColor: COLORS[1] }] },
        options: { indexAxis: "y" },
      })),
    dataTable(t.handoff_reasons, ["Motivo", "Transferências", "% do total", "Período anterior"],
      (row) => [REASONS[row[0]] || row[0], row[1], formatValue(row[2], "%"), row[3]]));

  const intents = [...t.by_intent.rows].filter((row) => row[0]).sort((a, b) => b[1] - a[1]).slice(0, 10);
  const topics = card("Principais tópicos", "by_intent", params,
    chart(charts, "Contatos por tópico", {
      type: "bar",
      data: { labels: intents.map((row) => row[0]), datasets: [{ label: "Contatos", data: intents.map((row) => row[1]), backgroundColor: COLORS[0] }] },
      options: { indexAxis: "y" },
    }),
    dataTable({ rows: intents }, ["Tópico", "Contatos", "Transferidos %", "CSAT %"],
      (row) => [row[0], row[1], formatValue(row[column(t.by_intent, "handoff.pct")], "%"), formatValue(row[column(t.by_intent, "csat.satisfied_pct")], "%")]));

  const unanswered = card("Perguntas sem resposta", "unanswered", params,
    h("p", {}, "O que a base de conhecimento não soube responder. Para agir: ",
      h("a", { href: "/console/lead#gaps" }, "Lacunas da base"), " e ", h("a", { href: "/console/lead#review" }, "Conversas"), "."),
    dataTable(t.unanswered, ["Pergunta", "Vezes", "Última vez", "Idioma"],
      (row) => [row[0], row[1], row[2] ? row[2].replace("T", " ") : "—", LANGUAGES[row[3]] || row[3]]));

  const groupHeaders = ["Contatos", "1ª resp. humana", "TMR", "CSAT %", "Contenção %", "Transferência %"];
  const groupCells = (table, row) => [row[column(table, "contacts")], formatValue(row[column(table, "frt_human.median_seconds")], "s"),
    formatValue(row[column(table, "resolution_time.median_seconds")], "s"), formatValue(row[column(table, "csat.satisfied_pct")], "%"),
    formatValue(row[column(table, "containment.pct")], "%"), formatValue(row[column(table, "handoff.pct")], "%")];
  const teams = card("Por equipe", "by_team", params,
    h("p", { class: "muted" }, "Atendimento mede tempo de resposta, resolução e satisfação; Suporte Técnico também recontato (retenção)."),
    dataTable(t.by_team, ["Equipe", ...groupHeaders, "Recontato 7 d %"],
      (row) => [TEAMS[row[0]] || row[0] || "Só o bot", ...groupCells(t.by_team, row), formatValue(row[column(t.by_team, "repeat_contact.pct_7d")], "%")]));
  const agents = lead && t.by_agent ? card("Por agente", "by_agent", params,
    dataTable(t.by_agent, ["Agente", "Atendimentos", "Tempo de atendimento", "1ª resposta", "Resolvidas", "CSAT %"],
      (row) => [row[1] || "Só o bot / fila", row[column(t.by_agent, "handling_time.count")], formatValue(row[column(t.by_agent, "handling_time.median_seconds")], "s"),
        formatValue(row[column(t.by_agent, "frt_human.median_seconds")], "s"), row[column(t.by_agent, "resolution_time.count")],
        formatValue(row[column(t.by_agent, "csat.satisfied_pct")], "%")])) : null;
  const kb = card("Artigos da base de conhecimento", "kb_articles", params,
    dataTable(t.kb_articles, ["Artigo", "Respostas", "Avaliações", "Ajudou %"],
      (row) => [row[1] || row[0], row[2], row[3], formatValue(row[5], "%")]));
  const backlog = card("Fila e conversas em atendimento", "backlog", params,
    dataTable(t.backlog, ["Conversa", "Equipe", "Situação", "Agente", "Há quanto tempo"],
      (row) => [row[0].slice(0, 8), TEAMS[row[1]] || row[1], row[2] === "assigned" ? "Em atendimento" : row[2] === "waiting_offline" ? "Ticket fora do horário" : "Na fila",
        row[4], formatValue(row[5], "s")]));

  body.replaceChildren(kpis, h("div", { class: "grid" }, volume, frt, satisfaction, containment, topics, unanswered, teams, agents, kb, backlog),
    h("p", { class: "muted" }, "Dados também em JSON para ferramentas de BI: ",
      h("a", { href: `/api/metrics/report?${params}` }, "/api/metrics/report"), " e /api/metrics/tables/<tabela>. ",
      h("a", { class: "csv", href: `/api/metrics/tables/summary.csv?${params}`, download: "" }, "Resumo em CSV"), "."));
}
