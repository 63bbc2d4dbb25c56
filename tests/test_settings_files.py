"""Lead-editable YAML files: shipped ones validate, mistakes stop start-up naming file/key/problem; the text
catalogue is complete in every language; company facts are written once."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.configcheck import ConfigError, check_all, ensure_valid
from texts import CatalogueError, load_catalogue, placeholders

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "handoff" / "policy.yml"


def test_every_shipped_file_validates() -> None:
    assert check_all() == []


def policy_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_typo_in_policy_names_file_key_and_problem(tmp_path: Path) -> None:
    bad = policy_copy(tmp_path, "\nescalation:\n", "\nescalaton:\n")
    problems = check_all(policy=bad)
    assert [(p.file, p.key) for p in problems] == [(str(bad), "escalaton")]
    assert "unknown key" in problems[0].problem and "did you mean 'escalation'" in problems[0].problem


@pytest.mark.parametrize("old, new, key, words", [
    ("    max_consecutive: 2", "    max_consecutive: 0", "escalation.fallback.max_consecutive", "greater than"),
    ("  history_size: 20", "  history_sise: 20", "queue.history_sise", "did you mean 'history_size'"),
    ('fri: "08:00-20:00", sat: "08:00-20:00"}\n  suporte', 'fri: "08:00-20:00", sat: "8h-20h"}\n  suporte',
     "teams.atendimento.hours.sat", "not a range"),
    ("  timezone: America/Sao_Paulo", "  timezone: Brasilia", "business_hours.timezone", "not a timezone"),
    ("  default_team: atendimento", "  default_team: vendas", "routing.default_team", "not a team"),
    ("  min_similarity: 0.5", "  min_similarity: 0.5\n    min_confidence: 0.5", "escalation.unanswered_repeat.min_confidence",
     "unknown key"),
])
def test_policy_mistakes(tmp_path: Path, old: str, new: str, key: str, words: str) -> None:
    problems = check_all(policy=policy_copy(tmp_path, old, new))
    assert len(problems) == 1, problems
    assert problems[0].key == key and words in problems[0].problem, problems[0]


def test_unknown_key_in_chat_and_settings_files(tmp_path: Path) -> None:
    chat = tmp_path / "chat.yml"
    chat.write_text("max_message_chars: 2000\nlanguages: [pt, en]\n")
    settings = tmp_path / "settings.yml"
    settings.write_text("timezone: America/Sao_Paulo\nrasa_timeout_seconds: soon\n")
    found = {(p.file, p.key) for p in check_all(chat=chat, settings=settings)}
    assert found == {(str(chat), "languages"), (str(settings), "timezone"), (str(settings), "rasa_timeout_seconds")}


def test_services_app_refuses_to_start_and_cli_prints_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = policy_copy(tmp_path, "\nescalation:\n", "\nescalaton:\n")
    monkeypatch.setenv("HANDOFF_POLICY", str(bad))
    from services.app import create_app

    with pytest.raises(ConfigError) as caught:
        create_app()
    assert f"{bad}: escalaton: unknown key" in str(caught.value)
    result = subprocess.run([sys.executable, "-m", "services.configcheck"], cwd=REPO, capture_output=True,
                            text=True, env={"HANDOFF_POLICY": str(bad), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 1 and f"{bad}: escalaton: unknown key" in result.stderr
    monkeypatch.delenv("HANDOFF_POLICY")
    ensure_valid()


def test_topics_file_is_checked(tmp_path: Path) -> None:
    topics = tmp_path / "topics.yml"
    topics.write_text("topics:\n  order_status:\n    category: service\n    search: {pt: x, en: y}\n")
    bad = policy_copy(tmp_path, "  topics_file: bot/topics.yml", f"  topics_file: {topics}")
    problems = check_all(policy=bad)
    assert [(p.file, p.key) for p in problems] == [(str(topics), "topics.order_status.search")]


# ---------------------------------------------------------------- the text catalogue
def test_catalogue_has_every_key_in_every_language_with_the_same_placeholders() -> None:
    cat = load_catalogue()
    assert cat.languages == ("pt", "en")
    reference = cat.texts["pt"]
    for lang in cat.languages:
        assert set(cat.texts[lang]) == set(reference), lang
        for key, template in cat.texts[lang].items():
            assert placeholders(template) == placeholders(reference[key]), (lang, key)
            assert cat.text(key, lang, **{p: "X" for p in placeholders(template) if "." not in p})
    # Company facts are filled in, in the text's language.
    assert "0800 555 0123" in cat.text("handoff.unavailable", "en")
    assert "Monday to Saturday" in cat.text("handoff.unavailable", "en")
    assert "segunda a sábado" in cat.text("handoff.unavailable", "pt")


def copy_texts(tmp_path: Path) -> Path:
    folder = tmp_path / "texts"
    shutil.copytree(REPO / "texts", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def edit_yaml(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("file, change, key, words", [
    ("en.yml", lambda d: d["chat"].pop("too_long"), "chat.too_long", "missing"),
    ("en.yml", lambda d: d["handoff"].update(queued="Queue: {team}, {minutes} min."), "handoff.queued", "placeholders"),
    ("pt.yml", lambda d: d["widget"].update(down="Ligue {company.fone}"), "widget.down", "not a fact"),
    ("en.yml", lambda d: d["chat"].update(offlne="x"), "chat.offlne", "unknown key"),
    ("company.yml", lambda d: d.update(hours={"pt": "seg a sab"}), "hours.en", "missing"),
])
def test_broken_catalogue_names_file_key_and_problem(tmp_path: Path, file: str, change, key: str,  # type: ignore[no-untyped-def]
                                                     words: str) -> None:
    folder = copy_texts(tmp_path)
    edit_yaml(folder / file, change)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    assert caught.value.key == key and words in caught.value.problem, str(caught.value)
    assert Path(caught.value.file).parent == folder
    assert [p.key for p in check_all(texts=folder)] == [key]


def test_policy_api_delegates_to_the_catalogue() -> None:
    from handoff.policy import load_policy

    policy = load_policy()
    assert policy.team_name("atendimento", "en") == "Customer Service"
    assert policy.team_name("suporte", "pt") == "Suporte Técnico"
    assert "8 am to 8 pm" in policy.hours_text("suporte", "en")
    assert policy.message("queued", "pt", team="Atendimento", position=2, minutes=6).startswith(
        "Vou te passar para uma pessoa do time de Atendimento. Você é o 2º da fila")


# ---------------------------------------------------------------- company facts written once
def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    return [REPO / line for line in out.splitlines() if line]


def test_phone_number_is_written_in_exactly_one_source_file() -> None:
    """Help-center articles (kb_articles/, content checked by tests/test_kb_articles.py), docs and tests aside."""
    phone = load_catalogue().company("pt").phone
    pattern = re.compile(re.escape(phone).replace(r"\ ", r"[\s.-]?"))
    found = []
    for path in tracked_files():
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(("kb_articles/", "docs/", "tests/")) or rel.endswith(".md") or not path.is_file():
            continue
        try:
            if pattern.search(path.read_text(encoding="utf-8")):
                found.append(rel)
        except UnicodeDecodeError:
            continue
    assert found == ["texts/company.yml"]


def test_widget_is_served_with_catalogue_texts_and_the_one_limit() -> None:
    from services.chat.config import load_chat_config
    from services.chat.widget_assets import MARKER, WIDGET_FILE, render_widget

    source = WIDGET_FILE.read_text(encoding="utf-8")
    assert MARKER in source and "Deixe seu contato" not in source and "0800" not in source
    cat = load_catalogue()
    served = render_widget(cat, load_chat_config(max_message_chars=1234))
    assert MARKER not in served and '"maxMessageChars":1234' in served
    for lang in cat.languages:
        assert cat.section("widget", lang)["contactTitle"] in served
    assert "0800 555 0123" in served and "{n}" in served  # company facts filled, browser placeholders kept


def test_handoff_loads_its_policy_through_the_same_schema(tmp_path: Path) -> None:
    from handoff.policy import PolicyError, load_policy

    bad = policy_copy(tmp_path, "\nescalation:\n", "\nescalaton:\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(bad)
    assert str(caught.value) == f"{bad}: escalaton: unknown key (did you mean 'escalation'?)"
