// Models area: retrain the bot ("Treinar"), follow the job live, compare the candidate with the model customers
// talk to now, then promote it, release a held-back one with a reason, or go back to any earlier version.
import { el } from "./api.js";

const STATUS = { candidate: "candidato", held_back: "retido", promoted: "em uso", retired: "anterior" };
const STAGE = { validate: "validando os dados", train: "treinando", evaluate: "avaliando", verdict: "veredito", done: "concluído" };
const STATE = { running: "em andamento", finished: "concluído", failed: "falhou" };

function styles() {
  if (!document.querySelector('link[data-area="models"]')) {
    document.head.append(el("link", { rel: "stylesheet", href: "/console/lead/static/models.css", dataset: { area: "models" } }));
  }
}

const pct = (value) => (value === undefined || value === null ? "—" : `${(value * 100).toFixed(1)}%`);
const when = (iso) => (iso ? new Date(iso).toLocaleString("pt-BR") : "");

function signed(delta) {
  const text = `${delta > 0 ? "+" : ""}${(delta * 100).toFixed(1)}`;
  return el("span", { class: delta < -1e-9 ? "error" : delta > 1e-9 ? "ok" : "muted" }, text);
}

function comparisonTable(evaluation) {
  const cur = evaluation.current;
  const cand = evaluation.candidate;
  const row = (name, key) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, cur ? pct(cur[key]) : "—"),
    el("td", {}, pct(cand[key])), el("td", {}, cur ? signed(cand[key] - cur[key]) : ""));
  const stories = (s) => (s ? `${s.passed}/${s.total}` : "—");
  return el("table", { class: "compare" },
    el("caption", {}, `Mesmas ${evaluation.held_out.count} mensagens de teste (nunca treinadas) para os dois modelos`),
    el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", { scope: "col" }, "Atual"), el("th", { scope: "col" }, "Candidato"),
      el("th", { scope: "col" }, "Diferença (pontos)"))),
    el("tbody", {}, row("Acurácia", "accuracy"), row("F1 macro", "macro_f1"),
      el("tr", {}, el("th", { scope: "row" }, "Histórias de teste"), el("td", {}, stories(cur && cur.stories)),
        el("td", {}, stories(cand.stories)), el("td", {}, (cand.stories && cand.stories.failed.length)
          ? el("span", { class: "error" }, `falharam: ${cand.stories.failed.join(", ")}`) : ""))));
}

function intentTable(evaluation) {
  const cur = (evaluation.current || evaluation.candidate).per_intent_f1;
  const cand = evaluation.candidate.per_intent_f1;
  const rows = Object.keys(cand).map((intent) => ({ intent, before: cur[intent] ?? 0, after: cand[intent] }))
    .map((r) => ({ ...r, delta: r.after - r.before }))
    .sort((a, b) => a.delta - b.delta || a.intent.localeCompare(b.intent));
  const changed = rows.filter((r) => Math.abs(r.delta) > 1e-9);
  const shown = changed.length ? changed : rows.slice(0, 5);
  return el("details", { open: changed.length > 0 },
    el("summary", {}, changed.length ? `F1 por intenção: ${changed.length} mudaram` : "F1 por intenção: nenhuma mudou"),
    el("table", {}, el("thead", {}, el("tr", {}, ...["Intenção", "Atual", "Candidato", "Mudança"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...shown.map((r) => el("tr", {}, el("td", {}, r.intent), el("td", {}, r.before.toFixed(2)),
        el("td", {}, r.after.toFixed(2)), el("td", {}, signed(r.delta)))))));
}

function changedTable(evaluation) {
  const list = evaluation.changed || [];
  return el("details", { open: list.length > 0 && list.length <= 20 },
    el("summary", {}, `Mensagens que mudaram de classificação: ${list.length}`),
    list.length ? el("table", {}, el("thead", {}, el("tr", {}, ...["Mensagem", "Esperado", "Antes", "Depois"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...list.map((c) => el("tr", {}, el("td", {}, c.text), el("td", {}, c.expected),
        el("td", { class: c.before === c.expected ? "ok" : "error" }, c.before),
        el("td", { class: c.after === c.expected ? "ok" : "error" }, c.after)))))
      : el("p", { class: "muted" }, "Nenhuma mensagem mudou."));
}

export async function mount(section, api) {
  styles();
  const status = el("p", { role: "status", "aria-live": "polite", class: "muted" });
  const trainButton = el("button", { type: "button", class: "primary" }, "Treinar");
  const jobBox = el("div", { class: "job" });
  const result = el("div");
  const versionsBody = el("tbody");
  let polling = null;
  let state = { versions: [], promoted_id: null };

  const say = (text, kind = "muted") => { status.className = kind; status.textContent = text; };

  async function act(path, body, done) {
    say("Aplicando… (o Rasa carrega o modelo, leva alguns segundos)");
    try {
      const answer = await api.post(path, body);
      const failed = answer.failed || [];
      say(failed.length ? `Feito, mas ${failed.length} servidor(es) falharam: ${failed.map((f) => `${f.url}: ${f.error}`).join("; ")}` : done,
        failed.length ? "error" : "ok");
    } catch (error) {
      say(error.message, "error");
    }
    await load();
  }

  function decision(version) {
    if (version.status === "promoted") return el("p", { class: "ok" }, "Este modelo está atendendo os clientes.");
    const box = el("div", { class: "decision" });
    const verdict = version.verdict || { status: "ready", reasons: [] };
    for (const warning of verdict.warnings || []) box.append(el("p", { class: "muted" }, `Atenção: ${warning}`));
    if (verdict.unchanged) box.append(el("p", { class: "muted" }, "Os dados não mudaram: é o mesmo modelo de antes."));
    if (version.status === "held_back") {
      box.append(el("p", { class: "error" }, "Retido: o candidato ficou pior que o modelo atual além da tolerância."),
        el("ul", {}, ...verdict.reasons.map((r) => el("li", {}, r))));
      const reason = el("textarea", { id: `reason-${version.id}`, rows: 2, maxlength: 1000 });
      const release = el("button", { type: "button", class: "danger" }, "Liberar mesmo assim");
      release.addEventListener("click", () => {
        if (!reason.value.trim()) { say("Escreva o motivo para liberar um candidato retido.", "error"); reason.focus(); return; }
        act(`/api/lead/models/${version.id}/promote`, { override_reason: reason.value }, `Versão ${version.id} liberada e em uso.`);
      });
      box.append(el("label", { for: `reason-${version.id}` }, "Motivo (fica na auditoria)"), reason, release);
    } else {
      box.append(el("p", { class: "ok" }, "Pronto: não ficou pior que o modelo atual."));
      const promote = el("button", { type: "button", class: "primary" }, "Promover");
      promote.addEventListener("click", () => act(`/api/lead/models/${version.id}/promote`, {}, `Versão ${version.id} promovida: já está atendendo.`));
      box.append(promote);
    }
    return box;
  }

  function showVersion(version) {
    if (!version || !version.evaluation) { result.replaceChildren(); return; }
    const changes = version.changes || {};
    const curation = changes.curation || [];
    result.replaceChildren(el("div", { class: "card" },
      el("h3", {}, `Versão ${version.id} — ${STATUS[version.status] || version.status}`),
      el("p", {}, `O que mudou: ${changes.summary || "—"}`),
      curation.length ? el("details", {}, el("summary", {}, `${curation.length} exemplo(s) da curadoria`),
        el("ul", {}, ...curation.map((c) => el("li", {}, `${c.text} → ${c.intent} (${c.by || "?"})`)))) : "",
      comparisonTable(version.evaluation), intentTable(version.evaluation), changedTable(version.evaluation),
      decision(version)));
  }

  function showJob(job) {
    if (!job) { jobBox.replaceChildren(el("p", { class: "muted" }, "Nenhum treino ainda.")); return; }
    const running = job.state === "running";
    trainButton.disabled = running;
    const bar = el("progress", { max: 100, value: job.percent, "aria-label": "Progresso do treino" });
    const split = Object.entries(job.stage_seconds || {}).map(([k, v]) => `${STAGE[k] || k} ${v}s`).join(" · ");
    jobBox.replaceChildren(
      el("p", {}, `Treino ${job.id} (${job.started_by || "?"}): ${STATE[job.state] || job.state}`,
        running ? ` — ${STAGE[job.stage] || job.stage}, ${job.percent}%` : "", ` — ${Math.round(job.elapsed_seconds)} s`),
      bar, split ? el("p", { class: "muted" }, split) : "",
      job.error ? el("pre", { class: "error" }, job.error) : "",
      el("details", { open: running }, el("summary", {}, "Últimas linhas do log"), el("pre", { class: "log" }, (job.log || []).join("\n"))));
  }

  async function poll(jobId) {
    clearTimeout(polling);
    try {
      const { job } = await api.get(`/api/lead/models/jobs/${jobId}`);
      showJob(job);
      if (job.state === "running") { polling = setTimeout(() => poll(jobId), 1000); return; }
      if (job.state === "finished") say("Treino concluído: veja a comparação abaixo.", "ok");
      else say(`O treino falhou: ${job.error || ""}`, "error");
      await load(job.version_id);
    } catch (error) {
      say(error.message, "error");
      polling = setTimeout(() => poll(jobId), 3000);
    }
  }

  function versionRow(v) {
    const actions = el("td");
    if (v.status !== "promoted" && state.promoted_id !== null && v.id < state.promoted_id && v.status !== "held_back") {
      const back = el("button", { type: "button" }, "Voltar para esta versão");
      back.addEventListener("click", () => {
        if (confirm(`Voltar para a versão ${v.id}? Os clientes passam a falar com ela agora.`)) {
          act(`/api/lead/models/${v.id}/rollback`, {}, `Voltamos para a versão ${v.id}.`);
        }
      });
      actions.append(back);
    }
    const view = el("button", { type: "button", class: "link" }, "Ver avaliação");
    view.addEventListener("click", () => showVersion(v));
    if (v.evaluation) actions.append(" ", view);
    return el("tr", { class: v.status === "promoted" ? "current" : "" }, el("td", {}, String(v.id)),
      el("td", {}, STATUS[v.status] || v.status), el("td", {}, when(v.created_at)), el("td", {}, v.created_by || "—"),
      el("td", {}, (v.changes && v.changes.summary) || ""),
      el("td", {}, v.evaluation ? `${pct(v.evaluation.candidate.accuracy)} / ${pct(v.evaluation.candidate.macro_f1)}` : "—"),
      el("td", {}, v.promoted_at ? `${when(v.promoted_at)} (${v.promoted_by || "—"})` : ""),
      el("td", {}, v.override_reason || ""), actions);
  }

  async function load(showId) {
    state = await api.get("/api/lead/models");
    versionsBody.replaceChildren(...state.versions.map(versionRow));
    if (!state.versions.length) versionsBody.append(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "Nenhuma versão registrada.")));
    showJob(state.job);
    const pick = state.versions.find((v) => v.id === showId)
      || state.versions.find((v) => v.status === "candidate" || v.status === "held_back");
    showVersion(pick && pick.id >= (state.promoted_id || 0) ? pick : state.versions.find((v) => v.id === showId));
    if (state.job && state.job.state === "running" && !polling) poll(state.job.id);
  }

  trainButton.addEventListener("click", async () => {
    trainButton.disabled = true;
    try {
      const { job } = await api.post("/api/lead/models/retrain");
      say("Treino iniciado.", "muted");
      poll(job.id);
    } catch (error) {
      say(error.message, "error");
      if (error.body && error.body.job) poll(error.body.job.id);
      else trainButton.disabled = false;
    }
  });

  section.replaceChildren(
    el("div", { class: "card" }, el("h2", {}, "Modelos"),
      el("p", { class: "muted" }, "Treine com os dados atuais; o candidato é comparado com o modelo em uso antes de chegar aos clientes."),
      trainButton, status, jobBox),
    result,
    el("div", { class: "card" }, el("h3", {}, "Versões"),
      el("table", {}, el("thead", {}, el("tr", {}, ...["#", "Situação", "Criada", "Por", "O que mudou", "Acurácia / F1", "Promovida", "Motivo", ""]
        .map((h) => el("th", { scope: "col" }, h)))), versionsBody)));
  await load();
}
