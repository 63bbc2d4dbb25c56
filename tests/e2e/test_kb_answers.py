"""The bot answers knowledge-base questions through the real Rasa server, with a link to the right article."""

from __future__ import annotations

import uuid

import httpx
import pytest

from scripts.stack import Stack

pytestmark = pytest.mark.slow


def conversation(stack: Stack, *messages: str) -> list[dict]:
    sender = f"kb-{uuid.uuid4().hex}"
    replies: list[dict] = []
    for text in messages:
        response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                              timeout=60)
        assert response.status_code == 200, response.text
        replies = response.json()
    return replies


def joined(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.mark.parametrize("question, article_url", [
    ("como eu ativo a verificacao em duas etapas no app?", "/help/pt/verificacao-em-duas-etapas"),
    ("vcs tem loja fisica pra eu retirar o produto?", "/help/pt/retirada-na-loja"),
    ("how long does the lumo buds battery last on one charge?", "/help/en/battery-life"),
    ("can i buy with my company cnpj and get an invoice?", "/help/en/business-purchases"),
])
def test_question_answered_with_link_to_the_right_article(stack: Stack, question: str, article_url: str) -> None:
    lang_greeting = "hello" if "/en/" in article_url else "oi"
    text = joined(conversation(stack, lang_greeting, question))
    assert article_url in text, text


def test_off_topic_question_is_not_answered_from_the_kb(stack: Stack) -> None:
    text = joined(conversation(stack, "oi", "qual a capital da franca?"))
    assert "/help/" not in text
