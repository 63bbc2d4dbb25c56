"""The metrics dashboard in a real headless Chromium against a real app process, over a demo history.

The history is written by services/metrics/demo.py (simulated customers and agents through ChatService and
HandoffService) into the app's database before the app starts; the app's start-up builds the precomputed samples.
Checks: the lead's page shows the numbers the JSON API and the CSV give for the same filters, the charts are
drawn (Chart.js served by the app under the CSP, no console errors), filtering by team changes them as the API
does, and an agent's page shows only their own figures (another agent's are refused). ``SCREENSHOTS=1`` saves
docs/screenshots/dashboard.png.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest

from services.metrics.demo import write_history
from tests.handoff.conftest import INTERNAL
from tests.handoff.server import AppProcess, create_user, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "senha-do-teste-1"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"


@pytest.fixture(scope="module")
def app_proc(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("dashboard")
    db = f"sqlite:///{tmp_path}/dashboard.db"
    env = {"DATABASE_URL": db, "INTERNAL_TOKEN": INTERNAL, "RASA_URL": f"http://127.0.0.1:{free_port()}",
           "DATA_DIR": str(tmp_path), "APP_ENV": "embedded", "REDIS_URL": "", "DEMO_HISTORY": "0"}
    create_user(db, "lia@lumo.test", "Lia (líder)", "lead", [], PASSWORD, env)
    create_user(db, "ana@lumo.test", "Ana", "agent", ["atendimento"], PASSWORD, env)
    create_user(db, "bruno@lumo.test", "Bruno", "agent", ["suporte"], PASSWORD, env)
    counts = asyncio.run(write_history(db, tmp_path, days=21, per_day=10))
    assert counts["conversations"] > 150 and counts["resolved"] > 30
    proc = AppProcess(env, tmp_path / "app.log")
    yield proc
    proc.stop()


def sign_in(page: Any, base: str, email: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/console")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#me-name")).not_to_be_empty()


def params_of(page: Any, section: str) -> dict[str, str]:
    form = page.locator(f"{section} form.metrics-filters")
    return {"start": form.locator("input[name=start]").input_value(),
            "end": form.locator("input[name=end]").input_value()}


def shown(page: Any, section: str, figure: str) -> str:
    return page.locator(f"{section} .kpi[data-figure='{figure}']").get_attribute("data-value")


def num(value: Any) -> float | None:
    """A figure as a number, however it was written (JS "3", Python "3.0", CSV empty cell for none)."""
    return None if value is None or value == "" else float(value)


def test_dashboard_shows_the_api_and_csv_numbers(app_proc: AppProcess) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = app_proc.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        errors: list[str] = []
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, base, "lia@lumo.test")
        # From here on: no script error, no CSP violation, no failed request (the browser's favicon aside).
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.text
                and "Failed to load resource" not in m.text else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
                and "favicon" not in r.url else None)
        page.goto(f"{base}/console/lead#metrics")
        section = "#panel-metrics"
        expect(page.locator(f"{section}[data-loaded=true]")).to_be_attached(timeout=30000)
        params = params_of(page, section)
        report = page.request.get(f"{base}/api/metrics/report", params=params).json()["figures"]
        summary = page.request.get(f"{base}/api/metrics/tables/summary.csv", params=params).text()
        csv_values = {row[0]: row[1] for row in csv.reader(io.StringIO(summary))}
        for figure in ("contacts", "frt_bot.median_seconds", "frt_human.median_seconds", "csat.satisfied_pct",
                       "containment.pct", "handoff.pct", "backlog.waiting"):
            api_value = report
            for key in figure.split("."):
                api_value = api_value[key]
            assert num(shown(page, section, figure)) == num(api_value) == num(csv_values[figure]), figure
        assert report["contacts"] > 100 and report["csat"]["responses"] > 10
        # Every chart drew on its canvas (Chart.js loaded from the app under script-src 'self').
        canvases = page.locator(f"{section} canvas")
        assert canvases.count() >= 6
        assert page.evaluate("[...document.querySelectorAll('#panel-metrics canvas')]"
                             ".every(c => c.width > 0 && globalThis.Chart.getChart(c))")
        # The tables of the page are the API's rows; each has its CSV link.
        reasons = page.request.get(f"{base}/api/metrics/tables/handoff_reasons", params=params).json()["rows"]
        table = page.locator(f"{section} [data-table=handoff_reasons] table tbody tr")
        assert table.count() == len(reasons) > 0
        assert [table.nth(i).locator("td").nth(1).inner_text() for i in range(len(reasons))] == \
               [str(row[1]) for row in reasons]
        link = page.locator(f"{section} [data-table=by_team] a.csv").get_attribute("href")
        assert link.startswith("/api/metrics/tables/by_team.csv?")
        assert page.request.get(f"{base}{link}").status == 200
        unanswered = page.locator(f"{section} [data-table=unanswered]")
        expect(unanswered.locator("a[href='/console/lead#gaps']")).to_be_visible()
        if os.environ.get("SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        # A team filter: the page follows the API again.
        page.select_option(f"{section} select[name=team]", "suporte")
        with page.expect_response(lambda r: "/api/metrics/report" in r.url and "team=suporte" in r.url):
            page.click(f"{section} form.metrics-filters button[type=submit]")
        suporte = page.request.get(f"{base}/api/metrics/report", params={**params, "team": "suporte"}).json()
        expect(page.locator(f"{section} .kpi[data-figure=contacts]")).to_have_attribute(
            "data-value", str(suporte["figures"]["contacts"]))
        assert suporte["figures"]["contacts"] < report["contacts"]
        assert not errors, errors
        browser.close()


def test_agent_sees_only_their_own_figures(app_proc: AppProcess) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = app_proc.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "ana@lumo.test")
        page.goto(f"{base}/console/metrics")
        expect(page.locator("#metrics[data-loaded=true]")).to_be_attached(timeout=30000)
        assert page.locator("#metrics select[name=agent]").count() == 0
        params = params_of(page, "#metrics")
        own = page.request.get(f"{base}/api/metrics/report", params=params).json()
        ana_id = own["query"]["agent_id"]
        assert ana_id is not None  # pinned by the API, whatever the page asks
        assert num(shown(page, "#metrics", "handling_time.median_seconds")) == num(
            own["figures"]["handling_time"]["median_seconds"])
        assert own["figures"]["handling_time"]["count"] > 0 and own["figures"]["containment"]["contacts"] == 0
        agents = page.request.get(f"{base}/api/metrics/tables/by_agent", params=params).json()["rows"]
        assert {row[0] for row in agents} == {ana_id}
        other = page.request.get(f"{base}/api/metrics/report", params={**params, "agent": ana_id + 1})
        assert other.status == 403
        browser.close()
