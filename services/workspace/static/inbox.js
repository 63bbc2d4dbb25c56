// NLU inbox area: messages the bot was not trained on, worst first, near-duplicates grouped. For a group (or the
// messages ticked in it) the lead confirms the prediction, picks another intent, marks it out of scope or
// ignores it; what was written or refused is shown inline. Customer text is always shown as text (el()).
import { el } from "./api.js";

const REASONS = {
  fallback: "Não entendeu", kb_not_helped: "Artigo não ajudou", escalated: "Foi para atendente",
  low_confidence: "Baixa confiança", new: "Nova",
};
const LANGUAGES = { pt: "português", en: "inglês" };

function styles() {
  if (!document.querySelector('link[data-area="inbox"]')) {
    document.head.append(el("link", { rel: "stylesheet", href: "/console/lead/static/inbox.css", dataset: { area: "inbox" } }));
  }
}

function badges(reasons) {
  return el("span", { class: "inbox-badges" }, reasons.map((r) => el("span", { class: `inbox-badge inbox-${r}` }, REASONS[r] || r)));
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`;
}

function resultView(result) {
  const items = [];
  for (const w of result.written || []) items.push(el("li", { class: "ok" }, `Gravado em ${w.intent} (${w.file}): `, el("q", {}, w.text)));
  for (const u of result.unchanged || []) items.push(el("li", { class: "muted" }, `Já era exemplo de ${u.intent}: `, el("q", {}, u.text)));
  for (const r of result.refused || []) items.push(el("li", { class: "error" }, `Recusado: ${r.reason}`, r.text ? " — " : "", r.text ? el("q", {}, r.text) : ""));
  if (result.ignored) items.push(el("li", { class: "muted" }, `${result.ignored} mensagem(ns) ignorada(s).`));
  return el("ul", { class: "inbox-result" }, items);
}

function groupCard(group, intents, api) {
  const checks = new Map();
  const rows = group.messages.map((m) => {
    const box = el("input", { type: "checkbox", checked: true, "aria-label": "Incluir esta mensagem" });
    checks.set(m.event_id, box);
    return el("li", { class: "inbox-message", dataset: { eventId: String(m.event_id) } },
      el("label", {}, box, " ", el("span", { class: "inbox-text" }, m.text)),
      el("span", { class: "muted inbox-meta" },
        ` ${m.intent || "sem intenção"} · ${percent(m.confidence)} · ${LANGUAGES[m.language] || m.language} · `,
        new Date(m.created_at).toLocaleString("pt-BR")),
      badges(m.reasons));
  });
  const listId = `intents-${group.id}`;
  const picker = el("input", { type: "search", list: listId, value: group.suggested_intent || "", class: "inbox-intent",
    "aria-label": "Intenção", placeholder: "buscar intenção…", autocomplete: "off" });
  const datalist = el("datalist", { id: listId }, intents.map((name) => el("option", { value: name })));
  const status = el("div", { role: "status", "aria-live": "polite", class: "inbox-status" });
  const chosen = () => [...checks].filter(([, box]) => box.checked).map(([id]) => id);
  const buttons = [];
  const send = async (action, intent) => {
    const ids = chosen();
    if (!ids.length) { status.replaceChildren(el("p", { class: "error" }, "Marque ao menos uma mensagem.")); return; }
    if (action === "intent" && !intents.includes(intent)) {
      status.replaceChildren(el("p", { class: "error" }, intent ? `A intenção "${intent}" não existe no domínio.` : "Escolha uma intenção."));
      picker.focus();
      return;
    }
    buttons.forEach((b) => { b.disabled = true; });
    status.replaceChildren(el("p", { class: "muted" }, "Gravando…"));
    try {
      const body = { event_ids: ids, action };
      if (intent) body.intent = intent;
      const result = await api.post("/api/lead/inbox/label", body);
      status.replaceChildren(resultView(result));
      const settled = new Set([...(result.written || []), ...(result.unchanged || [])].map((x) => x.event_id));
      if (action === "ignore") ids.forEach((id) => settled.add(id));
      for (const id of settled) {
        const box = checks.get(id);
        if (box) { box.checked = false; box.disabled = true; box.closest("li").classList.add("inbox-done"); }
      }
    } catch (error) {
      status.replaceChildren(el("p", { class: "error" }, error.message));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  const suggested = group.suggested_intent;
  buttons.push(
    el("button", { type: "button", class: "inbox-confirm", onclick: () => send("confirm", suggested || undefined),
      title: suggested ? `Confirmar como ${suggested}` : "Confirmar a intenção prevista de cada mensagem" },
      suggested ? `Confirmar (${suggested})` : "Confirmar"),
    el("button", { type: "button", class: "inbox-relabel", onclick: () => send("intent", picker.value.trim()) }, "Outra intenção"),
    el("button", { type: "button", class: "inbox-oos", onclick: () => send("out_of_scope") }, "Fora de escopo"),
    el("button", { type: "button", class: "inbox-ignore", onclick: () => send("ignore") }, "Ignorar"),
  );
  return el("article", { class: "card inbox-group", dataset: { groupId: group.id }, "aria-label": `Grupo de ${group.size} mensagem(ns)` },
    el("header", { class: "inbox-group-head" },
      el("strong", {}, group.size === 1 ? "1 mensagem" : `${group.size} mensagens parecidas`),
      el("span", { class: "muted" }, ` · sugestão: ${suggested || "nenhuma"} `), badges(group.reasons)),
    el("ul", { class: "inbox-messages" }, rows),
    el("div", { class: "inbox-actions" }, el("label", {}, "Intenção ", picker), datalist, ...buttons),
    status);
}

export async function mount(section, api) {
  styles();
  const { intents } = await api.get("/api/lead/inbox/intents");
  const language = el("select", { "aria-label": "Idioma" }, el("option", { value: "" }, "todos os idiomas"),
    ...Object.entries(LANGUAGES).map(([value, name]) => el("option", { value }, name)));
  const reason = el("select", { "aria-label": "Motivo" }, el("option", { value: "" }, "todos os motivos"),
    ...Object.entries(REASONS).map(([value, name]) => el("option", { value }, name)));
  const summary = el("p", { class: "muted", role: "status" });
  const list = el("div", { class: "inbox-groups" });
  const commitStatus = el("span", { role: "status", "aria-live": "polite", class: "inbox-commit-status" });
  const load = async () => {
    summary.textContent = "Carregando…";
    const query = new URLSearchParams();
    if (language.value) query.set("language", language.value);
    if (reason.value) query.set("reason", reason.value);
    try {
      const body = await api.get(`/api/lead/inbox${query.toString() ? `?${query}` : ""}`);
      summary.textContent = body.total_messages
        ? `${body.total_messages} mensagem(ns) em ${body.total_groups} grupo(s), piores primeiro.`
        : "Nenhuma mensagem nova: o bot já foi treinado com tudo o que os clientes escreveram.";
      list.replaceChildren(...body.groups.map((g) => groupCard(g, intents, api)));
    } catch (error) {
      summary.textContent = error.message;
    }
  };
  const commit = el("button", { type: "button", id: "inbox-commit" }, "Gravar rodada no git");
  commit.addEventListener("click", async () => {
    commit.disabled = true;
    commitStatus.textContent = "Gravando…";
    try {
      const r = await api.post("/api/lead/inbox/commit");
      commitStatus.className = "inbox-commit-status ok";
      commitStatus.textContent = `${r.examples} exemplo(s) no branch ${r.branch} (commit ${r.commit.slice(0, 10)}).`;
    } catch (error) {
      commitStatus.className = "inbox-commit-status error";
      commitStatus.textContent = error.message;
    } finally {
      commit.disabled = false;
    }
  });
  const refresh = el("button", { type: "button" }, "Atualizar");
  refresh.addEventListener("click", load);
  language.addEventListener("change", load);
  reason.addEventListener("change", load);
  section.replaceChildren(
    el("div", { class: "card" }, el("h2", {}, "Caixa de NLU"),
      el("p", { class: "muted" }, "Mensagens que o bot ainda não conhece. Marque as mensagens de um grupo e escolha o que fazer; dados pessoais são trocados por exemplos neutros antes de gravar."),
      el("div", { class: "inbox-toolbar" }, language, reason, refresh, commit, commitStatus), summary),
    list);
  await load();
}
