// Articles area: the help-center articles (kb_articles/*.md) — list, edit with a preview, publish, unpublish.
// The preview HTML comes from the server, rendered by the help center's own renderer (raw HTML escaped, unsafe
// links dropped); it is parsed into nodes with DOMParser, and the CSP forbids inline scripts anyway.
import { el } from "./api.js";

const STATUS = { published: "publicado", draft: "rascunho" };
const OPEN_KEY = "lead.openArticle";

function styles() {
  if (!document.querySelector('link[data-area="articles"]')) {
    document.head.append(el("link", { rel: "stylesheet", href: "/console/lead/static/articles.css", dataset: { area: "articles" } }));
  }
}

function htmlNodes(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  return [...doc.body.childNodes].map((node) => document.importNode(node, true));
}

function problemList(problems) {
  return problems && problems.length ? el("ul", { class: "problems" }, problems.map((p) => el("li", {}, p))) : "";
}

export async function mount(section, api) {
  styles();
  let articles = [];
  let current = null; // {lang, id, version, status, text}
  const filter = el("input", { type: "search", placeholder: "Filtrar por título ou id", "aria-label": "Filtrar artigos" });
  const statusFilter = el("select", { "aria-label": "Status" }, el("option", { value: "" }, "todos"),
    el("option", { value: "draft" }, "rascunhos"), el("option", { value: "published" }, "publicados"));
  const rows = el("tbody");
  const listInfo = el("p", { class: "muted", role: "status" });

  const title = el("h2", {});
  const meta = el("p", { class: "muted" });
  const textarea = el("textarea", { "aria-label": "Texto do artigo (Markdown)", spellcheck: "true", rows: 28 });
  const preview = el("div", { class: "article-preview", "aria-label": "Pré-visualização", "aria-live": "polite" });
  const message = el("div", { class: "editor-message", role: "alert" });
  const save = el("button", { type: "button" }, "Salvar");
  const toggle = el("button", { type: "button" });
  const close = el("button", { type: "button", class: "secondary" }, "Fechar");
  const editor = el("div", { class: "card article-editor", hidden: true },
    title, meta, el("div", { class: "editor-actions" }, save, toggle, close), message,
    el("div", { class: "editor-panes" },
      el("div", {}, el("h3", {}, "Markdown"), textarea),
      el("div", {}, el("h3", {}, "Como o cliente verá"), preview)));

  const say = (kind, text, problems) => {
    message.className = `editor-message ${kind}`;
    message.replaceChildren(text ? el("p", {}, text) : "", problemList(problems));
  };

  const renderList = () => {
    const words = filter.value.trim().toLowerCase();
    const shown = articles.filter((a) => (!statusFilter.value || a.status === statusFilter.value) &&
      (!words || `${a.title} ${a.id}`.toLowerCase().includes(words)));
    rows.replaceChildren(...shown.map((a) => el("tr", { class: a.status === "draft" ? "draft" : "" },
      el("td", {}, el("button", { type: "button", class: "link", onclick: () => open(a.lang, a.id) }, a.title)),
      el("td", {}, a.lang), el("td", {}, el("span", { class: `badge badge-${a.status}` }, STATUS[a.status] || a.status)),
      el("td", {}, a.category || ""), el("td", {}, a.updated || ""),
      el("td", { class: "error" }, a.problem || ""))));
    listInfo.textContent = `${shown.length} de ${articles.length} artigos.`;
  };

  const loadList = async () => {
    ({ articles } = await api.get("/api/lead/articles"));
    renderList();
  };

  let previewTimer = null;
  const refreshPreview = async () => {
    try {
      const result = await api.post("/api/lead/articles/preview", { text: textarea.value });
      preview.replaceChildren(...(result.title ? [el("h1", {}, result.title)] : []), ...htmlNodes(result.html));
      if (result.problem) preview.prepend(el("p", { class: "error" }, result.problem));
    } catch (error) {
      preview.replaceChildren(el("p", { class: "error" }, `Sem pré-visualização: ${error.message}`));
    }
  };
  textarea.addEventListener("input", () => { clearTimeout(previewTimer); previewTimer = setTimeout(refreshPreview, 400); });

  const showArticle = (article) => {
    current = article;
    title.textContent = article.title;
    meta.textContent = `${article.lang}/${article.id} · ${STATUS[article.status] || article.status}` +
      (article.translation ? ` · tradução: ${article.translation}` : "");
    textarea.value = article.text;
    toggle.textContent = article.status === "draft" ? "Publicar" : "Despublicar";
    editor.hidden = false;
    refreshPreview();
  };

  async function open(lang, id) {
    say("", "");
    try {
      showArticle(await api.get(`/api/lead/articles/${lang}/${encodeURIComponent(id)}`));
      editor.scrollIntoView({ behavior: "smooth" });
    } catch (error) {
      say("error", `Não foi possível abrir o artigo: ${error.message}`);
      editor.hidden = false;
    }
  }

  const after = (result, done) => {
    const notes = [];
    if (result.index) notes.push(`busca atualizada em ${result.index.seconds}s`);
    if (result.index_error) notes.push(result.index_error);
    say(result.index_error ? "error" : "ok", [done, ...notes].join(" — "), result.remarks && result.remarks.length
      ? ["Ainda falta para publicar:", ...result.remarks] : []);
  };

  const failed = (error, what) => {
    if (error.status === 409) {
      say("error", `${error.message} (Outra pessoa salvou este artigo depois que você o abriu. Copie seu texto, recarregue e salve de novo.)`);
      message.append(el("button", { type: "button", onclick: () => open(current.lang, current.id) }, "Recarregar o artigo"));
    } else {
      say("error", `${what}: ${error.message}`, error.body && error.body.problems);
    }
  };

  save.addEventListener("click", async () => {
    if (!current) return;
    save.disabled = true;
    try {
      const result = await api.put(`/api/lead/articles/${current.lang}/${current.id}`, { text: textarea.value, version: current.version });
      current.version = result.version;
      current.text = textarea.value;
      after(result, "Salvo.");
      await loadList();
    } catch (error) {
      failed(error, "Não foi salvo");
    } finally {
      save.disabled = false;
    }
  });

  toggle.addEventListener("click", async () => {
    if (!current) return;
    if (textarea.value !== current.text) { say("error", "Salve suas alterações antes de publicar ou despublicar."); return; }
    const publishing = current.status === "draft";
    toggle.disabled = true;
    try {
      const result = await api.post(`/api/lead/articles/${current.lang}/${current.id}/${publishing ? "publish" : "unpublish"}`,
        { version: current.version });
      const names = result.changed.map((c) => `${c.lang}/${c.id}`).join(" e ");
      await loadList();
      await open(current.lang, current.id);
      after(result, publishing ? `Publicado: ${names}. O bot e a central de ajuda já usam este texto.`
        : `Despublicado: ${names}. Saiu da busca e da central de ajuda.`);
    } catch (error) {
      failed(error, publishing ? "Não foi publicado" : "Não foi despublicado");
    } finally {
      toggle.disabled = false;
    }
  });

  close.addEventListener("click", () => { editor.hidden = true; current = null; });
  filter.addEventListener("input", renderList);
  statusFilter.addEventListener("change", renderList);

  section.replaceChildren(
    el("div", { class: "card" }, el("h2", {}, "Artigos da central de ajuda"),
      el("p", { class: "muted" }, "Os arquivos Markdown de kb_articles/ continuam sendo a fonte da verdade; " +
        "publicar verifica tudo com o mesmo verificador do CI."),
      el("div", { class: "filters" }, filter, statusFilter), listInfo,
      el("table", {}, el("thead", {}, el("tr", {}, ...["Título", "Idioma", "Status", "Categoria", "Atualizado", "Problema"]
        .map((h) => el("th", {}, h)))), rows)),
    editor);
  await loadList();

  const openRequested = () => {
    const wanted = sessionStorage.getItem(OPEN_KEY);
    if (!wanted || location.hash !== "#articles") return;
    sessionStorage.removeItem(OPEN_KEY);
    const [lang, id] = wanted.split("/");
    loadList().then(() => open(lang, id));
  };
  window.addEventListener("hashchange", openRequested);
  openRequested();
}
