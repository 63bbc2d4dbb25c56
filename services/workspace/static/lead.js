// The lead's page: checks the session is a lead's, then shows one area at a time. Each area is a module
// (<area>.js) exporting mount(section, api), loaded the first time its tab opens.
import { api, ApiError } from "./api.js";

const mounted = new Set();

async function show(tab) {
  for (const section of document.querySelectorAll("[data-panel]")) section.hidden = section.dataset.panel !== tab;
  for (const link of document.querySelectorAll("[data-tab]")) {
    link.classList.toggle("active", link.dataset.tab === tab);
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (mounted.has(tab)) return;
  mounted.add(tab);
  const section = document.getElementById(`panel-${tab}`);
  try {
    const module = await import(`./${tab}.js`);
    await module.mount(section, api);
  } catch (error) {
    mounted.delete(tab);
    section.textContent = `Não foi possível abrir esta área: ${error.message}`;
  }
}

async function start() {
  const denied = document.getElementById("denied");
  try {
    const me = await api.get("/api/handoff/me");
    const agent = me.agent || me;
    if (agent.role !== "lead") {
      denied.textContent = "Esta área é só para líderes de atendimento.";
      denied.hidden = false;
      return;
    }
    document.getElementById("me-name").textContent = agent.name || "";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { location.href = "/console"; return; }
    denied.textContent = error.message;
    denied.hidden = false;
    return;
  }
  const tabs = [...document.querySelectorAll("[data-tab]")].map((a) => a.dataset.tab);
  const pick = () => show(tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : tabs[0]);
  window.addEventListener("hashchange", pick);
  pick();
}

start();
