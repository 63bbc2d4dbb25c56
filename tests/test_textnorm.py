"""The shared text rules (textnorm/): folding, words, stop words, order numbers, article front matter.

Also checks that the package stays importable from both environments (stdlib + PyYAML only) and that the
three article readers (index, help center, validator) accept and refuse the same files.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

from textnorm import (
    ALL_STOPWORDS,
    STOPWORDS,
    fold,
    normalise,
    normalise_order_number,
    stopwords_for,
    words,
)
from textnorm.frontmatter import (
    ARTICLE_ID_RULE,
    MAX_ARTICLE_BYTES,
    ArticleMeta,
    FrontMatterError,
    decode_article,
    field_problems,
    is_article_id,
    parse_article,
    split_front_matter,
)

ROOT = Path(__file__).resolve().parents[1]
TEXTNORM = ROOT / "textnorm"
GOOD = (
    "---\nid: rastrear-pedido\ntitle: '  Como   rastrear '\nlang: pt\ncategory: service\ntags: [pedido, entrega]\n"
    "updated: 2026-10-14\ntranslation: track-order\nintents: [order_status]\n---\nCorpo do artigo.\n"
)


# ---------------------------------------------------------------- folding and words


@pytest.mark.parametrize(("text", "folded"), [
    ("Não", "nao"),
    ("CONFIGURAÇÃO", "configuracao"),
    ("você já está aí?", "voce ja esta ai?"),
    ("Straße", "strasse"),
    ("２０４８", "2048"),  # full-width digits from a phone keyboard
    ("", ""),
    (None, ""),
])
def test_fold(text: str | None, folded: str) -> None:
    assert fold(text) == folded


def test_fold_refuses_non_text_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="expected text"):
        fold(123)  # type: ignore[arg-type]


def test_normalise_collapses_whitespace() -> None:
    assert normalise("  Já\tNÃO \n  quero ") == "ja nao quero"
    assert normalise(None) == ""


def test_words_split_on_punctuation_and_underscore() -> None:
    assert words("Cadê meu pedido #2048-1234?? e_mail") == ["cade", "meu", "pedido", "2048", "1234", "e", "mail"]
    assert words("Devolução já", keep_accents=True) == ["devolução", "já"]


# ---------------------------------------------------------------- stop words


def test_stopwords_are_folded_single_words() -> None:
    for lang, stop in STOPWORDS.items():
        assert stop, lang
        for word in stop:
            assert word == fold(word) and words(word) == [word], (lang, word)


def test_stopwords_keep_topic_words_out() -> None:
    topic = {"pedido", "entrega", "senha", "pix", "boleto", "order", "refund", "password", "rastrear"}
    assert not topic & ALL_STOPWORDS
    assert {"vc", "pq", "nao", "voce"} <= STOPWORDS["pt"]
    assert {"the", "please", "thx"} <= STOPWORDS["en"]


def test_stopwords_for() -> None:
    assert stopwords_for("pt") is STOPWORDS["pt"]
    assert stopwords_for(None) == STOPWORDS["pt"] | STOPWORDS["en"]
    with pytest.raises(ValueError, match="no stop words for language 'es'"):
        stopwords_for("es")


# ---------------------------------------------------------------- order numbers


@pytest.mark.parametrize(("typed", "expected"), [
    ("20481234", "20481234"),
    ("#20481234", "20481234"),
    ("PED-20481234", "20481234"),
    ("2048 1234", "20481234"),
    ("２０４８１２３４", "20481234"),
    ("1234", None),
    ("123456789", None),
    ("", None),
    ("meu pedido", None),
    (None, None),
    (20481234, None),
    (["20481234"], None),
])
def test_normalise_order_number(typed: object, expected: str | None) -> None:
    assert normalise_order_number(typed) == expected


# ---------------------------------------------------------------- article ids and front matter


@pytest.mark.parametrize(("value", "ok"), [
    ("rastrear-pedido", True),
    ("pix2", True),
    ("a" * 100, True),
    ("a" * 101, False),
    ("Rastrear", False),
    ("com_underscore", False),
    ("duplo--hifen", False),
    ("-inicio", False),
    ("fim-", False),
    ("com espaço", False),
    ("devolução", False),
    ("", False),
    (123, False),
    (None, False),
])
def test_article_id_rule(value: object, ok: bool) -> None:
    assert is_article_id(value) is ok


def test_good_article_parses_to_clean_fields() -> None:
    meta, body = parse_article("\ufeff" + GOOD, "pt/rastrear-pedido.md")
    assert meta == ArticleMeta(id="rastrear-pedido", title="Como rastrear", lang="pt", category="service",
                               tags=("pedido", "entrega"), intents=("order_status",), translation="track-order",
                               updated="2026-10-14")
    assert body == "Corpo do artigo.\n"


def test_crlf_and_front_matter_at_end_of_file() -> None:
    front = split_front_matter("---\r\nid: a\r\n---", "a.md")
    assert front.meta == {"id": "a"} and front.body == ""


@pytest.mark.parametrize(("text", "problem"), [
    ("Só texto.\n", "missing front matter"),
    ("---\nid: a\nsem fim\n", "missing front matter"),
    ("---\nid: [quebrado\n---\nx", "front matter is not valid YAML"),
    ("---\n- a\n- b\n---\nx", "must be a YAML mapping"),
    (GOOD.replace("id: rastrear-pedido", "id: Rastrear_Pedido"), "not kebab-case"),
    (GOOD.replace("lang: pt", "lang: es"), "lang 'es' is not one of pt, en"),
    (GOOD.replace("category: service", "category: vendas"), "category 'vendas' is not one of service, support"),
    (GOOD.replace("title: '  Como   rastrear '", "title: ''"), "missing or empty field 'title'"),
    (GOOD.replace("title: '  Como   rastrear '", "title: 2024"), "title must be text"),
    (GOOD.replace("tags: [pedido, entrega]", "tags: pedido"), "tags must be a list"),
    (GOOD.replace("updated: 2026-10-14", "updated: ontem"), "not a date in the form YYYY-MM-DD"),
    (GOOD.replace("translation: track-order", "translation: Track Order"), "translation 'Track Order' is not"),
    (GOOD.replace("intents: [order_status]", "intents: order_status"), "intents must be a list"),
])
def test_bad_front_matter_names_file_and_problem(text: str, problem: str) -> None:
    with pytest.raises(FrontMatterError) as caught:
        parse_article(text, "pt/artigo.md")
    assert str(caught.value).startswith("pt/artigo.md: ") and problem in str(caught.value)
    assert caught.value.path == "pt/artigo.md" and problem in caught.value.problem
    assert isinstance(caught.value, ValueError)


def test_every_problem_is_listed_once_per_field() -> None:
    meta = {"id": "X", "lang": "es", "category": "service", "updated": "ontem"}
    problems = field_problems(meta, required=("id", "title", "lang", "category", "tags"))
    assert set(problems) == {"id", "title", "lang", "tags", "updated"}
    assert problems["title"] == "missing or empty field 'title'"
    assert ARTICLE_ID_RULE in problems["id"]


def test_optional_fields_may_be_absent_when_serving() -> None:
    meta, _ = parse_article("---\nid: a\ntitle: A\nlang: en\ncategory: support\n---\nx", "a.md")
    assert (meta.tags, meta.intents, meta.translation, meta.updated) == ((), (), None, None)


def test_dates_come_back_as_iso_text() -> None:
    meta, _ = parse_article(GOOD.replace("updated: 2026-10-14", "updated: '2026-10-15'"), "a.md")
    assert meta.updated == "2026-10-15"
    assert not field_problems({"updated": dt.datetime(2026, 1, 2, 3, 4)}, required=())


def test_decode_repairs_invalid_utf8_and_refuses_binary_or_huge_files() -> None:
    decoded = decode_article(b"---\nid: a\n---\nbyte ruim: \xff ok", "a.md")
    assert "\ufffd" in decoded.text and "invalid UTF-8" in (decoded.warning or "")
    assert decode_article("ação".encode()).warning is None
    with pytest.raises(FrontMatterError, match=r"a\.md: binary file"):
        decode_article(b"\x00\x01", "a.md")
    with pytest.raises(FrontMatterError, match="more than"):
        decode_article(b"x" * (MAX_ARTICLE_BYTES + 1), "a.md")


def test_non_text_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="article text must be str"):
        split_front_matter(b"---\nid: a\n---\n")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the three readers agree


def _checker():
    spec = importlib.util.spec_from_file_location("check_articles_textnorm", ROOT / "kb_articles" / "check_articles.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("article_id", ["rastrear-pedido", "com_underscore", "Maiusculas", "a" * 101])
def test_index_help_center_and_validator_share_the_id_rule(tmp_path: Path, article_id: str) -> None:
    from retrieval.ingest import load_articles
    from services.helpcenter.articles import ArticleStore

    pairs = (("pt", article_id, "track-order"), ("en", "track-order", article_id))
    for lang, own_id, translation in pairs:
        (tmp_path / lang).mkdir()
        (tmp_path / lang / f"{own_id}.md").write_text(
            f"---\nid: {own_id}\ntitle: T\nlang: {lang}\ncategory: service\ntags: [a]\n"
            f"updated: 2026-10-14\ntranslation: {translation}\n---\nTexto.\n\n## Seção\n\nMais.\n",
            encoding="utf-8",
        )
    valid = is_article_id(article_id)
    indexed = {a.key for a in load_articles(tmp_path).articles}
    served = ArticleStore(tmp_path, check_seconds=0).get("pt", article_id)
    problems = _checker().check_folder(tmp_path)
    assert (f"pt/{article_id}" in indexed) is valid
    assert (served is not None) is valid
    assert (problems == []) is valid, problems
    if not valid:
        assert any("not kebab-case" in p and f"{article_id}.md" in p for p in problems)


# ---------------------------------------------------------------- importable from both environments


def test_textnorm_imports_only_stdlib_and_yaml() -> None:
    """The Rasa environment imports textnorm, so it must not reach into services/, handoff/ or retrieval/."""
    allowed = set(sys.stdlib_module_names) | {"yaml", "textnorm", "__future__"}
    for path in TEXTNORM.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_textnorm_imports_in_the_rasa_environment() -> None:
    import subprocess

    rasa_python = ROOT / ".venv" / "rasa" / "bin" / "python"
    if not rasa_python.exists():
        pytest.skip("the Rasa environment is not built")
    done = subprocess.run(
        [str(rasa_python), "-c", "import textnorm, textnorm.frontmatter; print(textnorm.fold('Não'))"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == "nao", done.stderr


def test_informal_portuguese_in_standard_spelling_for_the_encoder() -> None:
    from textnorm.informal import standard_spelling

    assert standard_spelling("cade meu pedido?? vc sabe", "pt") == "cadê meu pedido?? você sabe"
    assert standard_spelling("Nao chegou, pq?", "pt") == "Não chegou, por que?"
    assert standard_spelling("esta caixa", "pt") == "esta caixa"  # ambiguous words stay
    assert standard_spelling("cade my order", "en") == "cade my order"
