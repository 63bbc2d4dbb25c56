"""Tests for the help-center articles and their validator (kb_articles/check_articles.py).

The real folder must pass, and deliberately broken folders must fail with the right message,
so a validator that accepts everything would make these tests fail.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "kb_articles"
SCRIPT = KB / "check_articles.py"


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_articles", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


def _article(art_id: str, lang: str, translation: str, category: str = "service", body: str | None = None,
             extra: str = "") -> str:
    if body is None:
        body = "Resposta curta.\n\n## Passo a passo\n\n1. Faça isto.\n"
    return (
        f"---\nid: {art_id}\ntitle: Título de {art_id}\nlang: {lang}\ncategory: {category}\n"
        f"tags: [teste]\nupdated: 2026-10-14\ntranslation: {translation}\n{extra}---\n{body}"
    )


def _write(root: Path, lang: str, name: str, text: str) -> None:
    (root / lang).mkdir(parents=True, exist_ok=True)
    (root / lang / f"{name}.md").write_text(text, encoding="utf-8")


@pytest.fixture()
def good_folder(tmp_path: Path) -> Path:
    _write(tmp_path, "pt", "rastrear-pedido", _article("rastrear-pedido", "pt", "track-order"))
    _write(tmp_path, "en", "track-order", _article("track-order", "en", "rastrear-pedido"))
    return tmp_path


def test_real_folder_is_valid() -> None:
    assert checker.check_folder(KB) == []


def test_real_folder_has_enough_articles_in_both_categories() -> None:
    pt = sorted((KB / "pt").glob("*.md"))
    en = sorted((KB / "en").glob("*.md"))
    assert len(pt) >= 44 and len(en) == len(pt)
    categories = [checker.parse_article(p, checker.Report()).meta["category"] for p in pt]
    share_service = categories.count("service") / len(categories)
    assert 0.5 <= share_service <= 0.7, share_service


def test_real_articles_cover_every_service_and_support_intent() -> None:
    covered: set[str] = set()
    for path in (KB / "pt").glob("*.md"):
        covered.update(checker.parse_article(path, checker.Report()).meta.get("intents") or [])
    topic_intents = {
        "order_status", "delivery_problem", "cancel_order", "payment_methods", "payment_failed",
        "invoice_request", "return_product", "exchange_product", "refund_status", "right_of_withdrawal",
        "warranty", "update_account", "pre_sale_question", "shipping_cost",
        "app_login_problem", "password_reset", "device_setup", "device_pairing",
        "device_not_turning_on", "device_connection_problem", "device_not_charging", "software_update",
    }
    assert topic_intents - covered == set()


def _bodies(lang: str) -> dict[str, str]:
    return {p.stem: checker.parse_article(p, checker.Report()).body for p in sorted((KB / lang).glob("*.md"))}


@pytest.mark.parametrize(("lang", "closing"), [("pt", "## Ainda precisa de ajuda?"), ("en", "## Still need help?")])
def test_real_articles_follow_the_house_structure(lang: str, closing: str) -> None:
    """Opening answer before the first heading, a closing section pointing to the chat, 200-700 words."""
    for art_id, body in _bodies(lang).items():
        assert not body.lstrip().startswith("#"), f"{art_id}: must open with a short answer, not a heading"
        assert closing in body, f"{art_id}: missing '{closing}'"
        assert "chat" in body.split(closing, 1)[1], f"{art_id}: the closing section must point to the chat"
        words = len(body.split())
        assert 200 <= words <= 700, f"{art_id}: {words} words"


def test_real_articles_agree_with_company_facts() -> None:
    """Phone number (texts/company.yml), hours, Pix discount and installments agree wherever they appear."""
    from texts import catalogue

    company_phone = catalogue().company("pt").phone
    for lang in ("pt", "en"):
        for art_id, body in _bodies(lang).items():
            for phone in re.findall(r"0800[\d ]{7,12}\d", body):
                assert phone == company_phone, f"{lang}/{art_id}: phone {phone!r}, company.yml says {company_phone!r}"
            for pct in re.findall(r"(\d+)% (?:de desconto|off|discount)", body):
                assert pct == "5", f"{lang}/{art_id}: Pix discount {pct}%"
            for n in re.findall(r"(\d+)x sem juros|(\d+) interest-free installments", body):
                assert "12" in n, f"{lang}/{art_id}: up to {n} installments"
    pt_hours = [b for b in _bodies("pt").values() if "segunda a sábado" in b]
    assert pt_hours and all("das 8h às 20h" in b for b in pt_hours)
    en_hours = [b for b in _bodies("en").values() if "Monday to Saturday" in b]
    assert en_hours and all("8 am to 8 pm" in b for b in en_hours)


def test_minimal_valid_folder_passes(good_folder: Path) -> None:
    assert checker.check_folder(good_folder) == []


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("sem-front-matter", "Só texto, sem cabeçalho.\n", "missing front matter"),
        ("yaml-quebrado", "---\nid: [sem fechar\n---\nTexto\n", "not valid YAML"),
        ("nome-diferente", _article("outro-id", "pt", "track-order"), "differs from the file name"),
        ("lingua-errada", _article("lingua-errada", "en", "track-order"), "does not match its folder"),
        ("categoria-ruim", _article("categoria-ruim", "pt", "track-order", category="vendas"), "category"),
        ("corpo-vazio", _article("corpo-vazio", "pt", "track-order", body="\n  \n"), "body is empty"),
        ("sem-traducao", _article("sem-traducao", "pt", "nao-existe"), "not found in en/"),
        ("intencao-ruim", _article("intencao-ruim", "pt", "track-order", extra="intents: [comprar_pizza]\n"),
         "unknown intent"),
        ("Id_Invalido", _article("Id_Invalido", "pt", "track-order"), "not kebab-case"),
        ("sem-titulo", "---\nid: sem-titulo\nlang: pt\ncategory: service\ntags: [a]\nupdated: 2026-10-14\n"
         "translation: track-order\n---\nTexto\n", "missing or empty field 'title'"),
        ("data-ruim", _article("data-ruim", "pt", "track-order").replace("2026-10-14", "ontem"), "not a date"),
    ],
)
def test_broken_article_is_reported(good_folder: Path, name: str, text: str, expected: str) -> None:
    _write(good_folder, "pt", name, text)
    problems = checker.check_folder(good_folder)
    assert any(name in p and expected in p for p in problems), problems


def test_translation_must_point_back(good_folder: Path) -> None:
    _write(good_folder, "en", "track-order", _article("track-order", "en", "outro-artigo"))
    problems = checker.check_folder(good_folder)
    assert any("points back" in p for p in problems), problems


def test_duplicate_id_is_reported(good_folder: Path) -> None:
    # Same id in both languages: the second one read is a duplicate.
    _write(good_folder, "en", "rastrear-pedido", _article("rastrear-pedido", "en", "rastrear-pedido"))
    problems = checker.check_folder(good_folder)
    assert any("duplicate id" in p for p in problems), problems


def test_section_count_must_match_translation(good_folder: Path) -> None:
    body = "Resposta.\n\n## Um\n\nTexto.\n\n## Dois\n\nTexto.\n"
    _write(good_folder, "en", "track-order", _article("track-order", "en", "rastrear-pedido", body=body))
    problems = checker.check_folder(good_folder)
    assert any("sections" in p for p in problems), problems


def test_broken_help_links_are_reported(good_folder: Path) -> None:
    body = "Veja [outro](/help/pt/nao-existe) e [ingles](/help/en/track-order).\n\n## Passo a passo\n\n1. Isto.\n"
    _write(good_folder, "pt", "rastrear-pedido", _article("rastrear-pedido", "pt", "track-order", body=body))
    problems = checker.check_folder(good_folder)
    assert any("/help/pt/nao-existe points to no article" in p for p in problems), problems
    assert any("/help/en/track-order points to the other language" in p for p in problems), problems


def test_binary_and_non_utf8_files_are_reported(good_folder: Path) -> None:
    (good_folder / "pt" / "binario.md").write_bytes(b"\x00\x01\x02")
    (good_folder / "pt" / "latin1.md").write_bytes("---\nid: latin1\n---\nação\n".encode("latin-1"))
    problems = checker.check_folder(good_folder)
    assert any("binario.md" in p and "binary" in p for p in problems), problems
    assert any("latin1.md" in p and "UTF-8" in p for p in problems), problems


def test_missing_language_folder(tmp_path: Path) -> None:
    _write(tmp_path, "pt", "a", _article("a", "pt", "b"))
    problems = checker.check_folder(tmp_path)
    assert any("language folder is missing" in p for p in problems), problems


def test_cli_exit_codes(good_folder: Path) -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), str(good_folder)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    _write(good_folder, "pt", "corpo-vazio", _article("corpo-vazio", "pt", "track-order", body=""))
    bad = subprocess.run([sys.executable, str(SCRIPT), str(good_folder)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "body is empty" in bad.stderr
    helped = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "translation" in helped.stdout
