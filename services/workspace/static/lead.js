// The lead's page: checks the session is a lead's (agents see a guard, strangers go to the sign-in), then shows
// one area at a time. Each area is a module (<area>.js) exporting mount(section, api), loaded the first time its
// tab opens; a failure to load one area is shown in that area and never breaks the others.
import { api, ApiError } from "./api.js";

const mounted = new Set();
const TITLE = document.title;

async function show(tab, focus) {
  for (const section of document.querySelectorAll("[data-panel]")) section.hidden = section.dataset.panel !== tab;
  let label = "";
  for (const link of document.querySelectorAll("[data-tab]")) {
    const active = link.dataset.tab === tab;
    link.classList.toggle("active", active);
    if (active) { link.setAttribute("aria-current", "page"); label = link.textContent; } else link.removeAttribute("aria-current");
  }
  document.title = `${label} — ${TITLE}`;
  const section = document.getElementById(`panel-${tab}`);
  if (focus) document.getElementById("main").focus();
  if (mounted.has(tab)) return;
  mounted.add(tab);
  section.setAttribute("aria-busy", "true");
  section.textContent = "Carregando…";
  try {
    const module = await import(`./${tab}.js`);
    await module.mount(section, api);
  } catch (error) {
    mounted.delete(tab);
    section.replaceChildren();
    const card = document.createElement("p");
    card.className = "card error";
    card.setAttribute("role", "alert");
    card.textContent = `Não foi possível abrir esta área: ${error.message}`;
    section.append(card);
  } finally {
    section.removeAttribute("aria-busy");
  }
}

function deny(detail) {
  document.getElementById("denied-detail").textContent = detail;
  document.getElementById("denied").hidden = false;
  document.getElementById("main").hidden = true;
}

async function start() {
  try {
    const me = await api.get("/api/handoff/me");
    const agent = me.agent || me;
    if (agent.role !== "lead") {
      deny("Você entrou como agente. Revisão de conversas, treino do assistente e artigos ficam com os líderes de atendimento.");
      return;
    }
    document.getElementById("me-name").textContent = agent.name ? `${agent.name} (líder)` : "";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { location.href = "/console"; return; }
    deny(error.message);
    return;
  }
  document.getElementById("lead-nav").hidden = false;
  const tabs = [...document.querySelectorAll("[data-tab]")].map((a) => a.dataset.tab);
  let current = null;
  const pick = (focus) => {
    const hash = location.hash.slice(1);
    if (hash && !tabs.includes(hash) && current) return; // an in-page link (the skip link), not a tab
    current = tabs.includes(hash) ? hash : tabs[0];
    show(current, focus);
  };
  window.addEventListener("hashchange", () => pick(true));
  pick(false);
}

start();
