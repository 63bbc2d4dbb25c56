// Privacy area (LGPD): find one customer's conversations by e-mail, CPF, phone or conversation id, download
// everything about them, then anonymise (keeps the numbers for the metrics) or erase them.
import { el } from "./api.js";

function field(id, label, type = "text", hint = "") {
  return el("label", { for: id }, label, el("input", { id, name: id, type, autocomplete: "off", placeholder: hint }));
}

function download(data, name) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function mount(section, api) {
  const status = el("p", { class: "muted", role: "status", "aria-live": "polite" });
  const results = el("tbody");
  const actions = el("div", { class: "actions", hidden: true });
  let found = [];

  const form = el("form", { class: "card", id: "privacy-search" },
    el("h2", {}, "Dados de um cliente (LGPD)"),
    el("p", { class: "muted" }, "Busque por qualquer identificador que o cliente informou. A busca procura em mensagens, "
      + "contatos deixados, transcrições, eventos e no histórico do Rasa."),
    field("privacy-email", "E-mail", "email", "cliente@exemplo.com"),
    field("privacy-cpf", "CPF", "text", "000.000.000-00"),
    field("privacy-phone", "Telefone", "tel", "(11) 98765-4321"),
    field("privacy-conversation", "ID da conversa"),
    field("privacy-customer", "ID do cliente na loja"),
    el("button", { type: "submit" }, "Buscar"));

  const selected = () => found.filter((c) => document.getElementById(`privacy-pick-${c.id}`)?.checked).map((c) => c.id);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "Buscando…";
    try {
      const body = {
        email: form.querySelector("#privacy-email").value, cpf: form.querySelector("#privacy-cpf").value,
        phone: form.querySelector("#privacy-phone").value, conversation_id: form.querySelector("#privacy-conversation").value,
        customer_id: form.querySelector("#privacy-customer").value,
      };
      found = (await api.post("/api/lead/privacy/search", body)).conversations;
      results.replaceChildren(...found.map((c) => el("tr", {},
        el("td", {}, el("input", { type: "checkbox", id: `privacy-pick-${c.id}`, checked: true, "aria-label": `Selecionar ${c.id}` })),
        el("td", {}, c.id), el("td", {}, c.created_at ? new Date(c.created_at).toLocaleString("pt-BR") : "—"),
        el("td", {}, c.language || "—"), el("td", {}, c.status))));
      status.textContent = found.length ? `${found.length} conversa(s) encontrada(s).` : "Nenhuma conversa com esse identificador.";
      actions.hidden = !found.length;
    } catch (error) {
      status.textContent = error.message;
    }
  });

  const run = async (mode) => {
    const ids = selected();
    if (!ids.length) { status.textContent = "Selecione ao menos uma conversa."; return; }
    const question = mode === "erase"
      ? `Apagar definitivamente ${ids.length} conversa(s)? Isto não pode ser desfeito.`
      : `Anonimizar ${ids.length} conversa(s)? Textos e contatos serão removidos; os números das métricas ficam.`;
    if (!window.confirm(question)) return;
    try {
      const outcome = await api.post("/api/lead/privacy/erase", { conversation_ids: ids, mode, confirm: true });
      const rows = Object.entries(outcome.rows).map(([store, n]) => `${store}: ${n}`).join(", ");
      status.textContent = `${mode === "erase" ? "Apagadas" : "Anonimizadas"} ${outcome.conversations} conversa(s) (${rows}).`;
      results.replaceChildren();
      actions.hidden = true;
      found = [];
    } catch (error) {
      status.textContent = error.message;
    }
  };

  actions.append(
    el("button", { type: "button", onclick: async () => {
      const ids = selected();
      if (!ids.length) { status.textContent = "Selecione ao menos uma conversa."; return; }
      try {
        const response = await fetch("/api/lead/privacy/export", { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ conversation_ids: ids }) });
        if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
        download(await response.json(), "dados-do-cliente.json");
        status.textContent = "Exportação baixada.";
      } catch (error) { status.textContent = error.message; }
    } }, "Exportar (JSON)"),
    el("button", { type: "button", onclick: () => run("anonymise") }, "Anonimizar"),
    el("button", { type: "button", class: "danger", onclick: () => run("erase") }, "Apagar"));

  section.replaceChildren(form, el("div", { class: "card" }, status,
    el("table", {}, el("thead", {}, el("tr", {}, ...["", "Conversa", "Início", "Idioma", "Status"].map((h) => el("th", {}, h)))), results),
    actions));
}
