// An agent's own figures (/console/metrics): the same dashboard as the lead's tab, pinned by the API to the
// signed-in agent. A lead opening this page sees everything, as on their own tab.
import { api, ApiError } from "/console/lead/static/api.js";
import { mountDashboard } from "./dashboard.js";

async function start() {
  const denied = document.getElementById("denied");
  let agent;
  try {
    const me = await api.get("/api/handoff/me");
    agent = me.agent || me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { location.href = "/console"; return; }
    denied.textContent = error.message;
    denied.hidden = false;
    return;
  }
  document.getElementById("me-name").textContent = agent.name || "";
  await mountDashboard(document.getElementById("metrics"), api, { lead: agent.role === "lead" });
}

start();
