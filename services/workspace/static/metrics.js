// The lead's "Métricas" tab: the dashboard of services/metrics/static/dashboard.js, with every team and agent.
import { mountDashboard } from "/console/metrics/static/dashboard.js";

export async function mount(section, api) {
  await mountDashboard(section, api, { lead: true });
}
