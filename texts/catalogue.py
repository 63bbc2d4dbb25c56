"""The catalogue of customer-facing texts (``texts/<language>.yml``) and the company facts (``texts/company.yml``).

Why one module for both Python environments: the services app (chat notices, handoff messages, widget and
help-center texts) and the action server both need the same wording and the same phone number, and before
this they each kept their own copy. It needs only PyYAML and the standard library, so the Rasa environment
(Python 3.10) can import it without touching ``services/`` or ``handoff/``.

Texts are ``str.format`` templates. ``{company.phone}`` and the other company facts are filled from
``company.yml`` in the text's language; other placeholders (``{team}``, ``{position}``…) come from the caller.
Loading checks what a support lead can get wrong and names the file, the key and the problem: a key missing in
one language, a different set of placeholders between languages, an unknown company fact.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent
COMPANY_FILE = "company.yml"
_FORMATTER = string.Formatter()


class CatalogueError(ValueError):
    """A texts or company file is wrong; the message names the file, the key and what is wrong."""

    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = str(file), key, problem
        super().__init__(f"{file}: {key or '(top level)'}: {problem}")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CatalogueError(path, "", "the file does not exist") from error
    except yaml.YAMLError as error:
        raise CatalogueError(path, "", f"not valid YAML: {error}") from error


def _leaves(node: Any, path: Path, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) for every text of a nested mapping; anything but mappings and strings is an error."""
    if not isinstance(node, dict):
        raise CatalogueError(path, prefix, "must be a mapping of keys to texts")
    for key, value in node.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from _leaves(value, path, dotted)
        elif isinstance(value, str) and value.strip():
            yield dotted, value
        else:
            raise CatalogueError(path, dotted, f"must be a non-empty text, not {type(value).__name__} {value!r}")


def placeholders(template: str) -> set[str]:
    """The placeholder names of a template: ``"{team} {company.phone}"`` -> ``{"team", "company.phone"}``."""
    return {field for _, field, _, _ in _FORMATTER.parse(template) if field}


class _KeepMissing(dict):  # type: ignore[type-arg]
    """format_map helper: an unknown placeholder stays as it was, for texts the browser fills in."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Catalogue:
    """Every language's texts (flat: dotted key -> template) and the company facts per language."""

    directory: Path
    languages: tuple[str, ...]
    texts: Mapping[str, Mapping[str, str]]
    company_facts: Mapping[str, Mapping[str, str]]

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def language(self, language: str | None) -> str:
        """``language`` if the catalogue speaks it, else the default language."""
        return language if language in self.texts else self.default_language

    def company(self, language: str | None) -> SimpleNamespace:
        """The company facts in ``language`` (``company.phone``, ``company.hours``...)."""
        return SimpleNamespace(**self.company_facts[self.language(language)])

    def has(self, key: str) -> bool:
        return key in self.texts[self.default_language]

    def template(self, key: str, language: str | None) -> str:
        lang = self.language(language)
        try:
            return self.texts[lang][key]
        except KeyError:
            raise CatalogueError(self.directory / f"{lang}.yml", key, "no such text") from None

    def text(self, key: str, language: str | None, **values: object) -> str:
        """The text ``key`` in ``language`` with company facts and ``values`` filled in."""
        template = self.template(key, language)
        try:
            return template.format(company=self.company(language), **values)
        except (KeyError, IndexError, AttributeError) as error:
            raise CatalogueError(self.directory / f"{self.language(language)}.yml", key,
                                 f"placeholder {error} was not given a value") from error

    def section(self, prefix: str, language: str | None) -> dict[str, str]:
        """Every text under ``prefix`` (key without the prefix), company facts filled, other placeholders kept.

        For the browser: the widget fills ``{n}``/``{max}``/``{name}`` itself.
        """
        lang = self.language(language)
        start = prefix + "."
        company = self.company(lang)
        return {key[len(start):]: template.format_map(_KeepMissing(company=company))
                for key, template in self.texts[lang].items() if key.startswith(start)}


def _load_company(path: Path, languages_hint: tuple[str, ...] | None = None) -> tuple[tuple[str, ...], dict]:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise CatalogueError(path, "", "must be a mapping of facts")
    languages = raw.get("languages")
    if (not isinstance(languages, list) or not languages
            or not all(isinstance(x, str) and len(x) == 2 and x.isalpha() and x.islower() for x in languages)):
        raise CatalogueError(path, "languages", "must be a non-empty list of two-letter language codes, e.g. [pt, en]")
    if len(set(languages)) != len(languages):
        raise CatalogueError(path, "languages", "lists a language twice")
    langs = tuple(languages)
    facts: dict[str, dict[str, str]] = {lang: {} for lang in langs}
    for key, value in raw.items():
        if key == "languages":
            continue
        if not isinstance(key, str) or not key.isidentifier():
            raise CatalogueError(path, str(key), "fact names are lower-case words joined by _")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            for lang in langs:
                facts[lang][key] = str(value)
        elif isinstance(value, dict):
            missing = [lang for lang in langs if not isinstance(value.get(lang), str) or not value[lang].strip()]
            extra = sorted(set(map(str, value)) - set(langs))
            if missing:
                raise CatalogueError(path, f"{key}.{missing[0]}", "missing: give the fact in every language "
                                     f"({', '.join(langs)}) or as one plain text")
            if extra:
                raise CatalogueError(path, f"{key}.{extra[0]}", f"is not one of the languages {list(langs)}")
            for lang in langs:
                facts[lang][key] = value[lang]
        else:
            raise CatalogueError(path, str(key), f"must be a text or one text per language, not {value!r}")
    return langs, facts


def load_catalogue(directory: Path | str | None = None) -> Catalogue:
    """Read and check ``company.yml`` and one ``<language>.yml`` per language (default: this folder or $TEXTS_DIR)."""
    folder = Path(directory or os.environ.get("TEXTS_DIR") or DEFAULT_DIR)
    languages, facts = _load_company(folder / COMPANY_FILE)
    texts: dict[str, dict[str, str]] = {}
    for lang in languages:
        path = folder / f"{lang}.yml"
        texts[lang] = dict(_leaves(_read_yaml(path), path))
    reference_lang = languages[0]
    reference = texts[reference_lang]
    for lang in languages:
        path = folder / f"{lang}.yml"
        for key in sorted(set(reference) - set(texts[lang])):
            raise CatalogueError(path, key, f"missing (it exists in {reference_lang}.yml)")
        for key in sorted(set(texts[lang]) - set(reference)):
            raise CatalogueError(path, key, f"unknown key (not in {reference_lang}.yml): a typo?")
        for key, template in texts[lang].items():
            try:
                names = placeholders(template)
            except ValueError as error:
                raise CatalogueError(path, key, f"broken placeholder: {error}") from error
            for name in sorted(names):
                if name.startswith("company."):
                    fact = name.split(".", 1)[1]
                    if fact not in facts[lang]:
                        raise CatalogueError(path, key, f"{{{name}}} is not a fact of {COMPANY_FILE}")
                elif not name.isidentifier():
                    raise CatalogueError(path, key, f"placeholder {{{name}}} must be a plain name like {{team}}")
            if names != placeholders(reference[key]):
                raise CatalogueError(path, key, f"placeholders {sorted(names)} differ from "
                                     f"{reference_lang}.yml's {sorted(placeholders(reference[key]))}")
    return Catalogue(directory=folder, languages=languages, texts=texts, company_facts=facts)


@lru_cache(maxsize=4)
def _cached(directory: str) -> Catalogue:
    return load_catalogue(directory)


def catalogue() -> Catalogue:
    """The shipped catalogue (or $TEXTS_DIR's), read once per process."""
    return _cached(str(Path(os.environ.get("TEXTS_DIR") or DEFAULT_DIR)))


def text(key: str, language: str | None, **values: object) -> str:
    """Shortcut: ``catalogue().text(...)``."""
    return catalogue().text(key, language, **values)
