"""Redaction of personal data: what is masked, what must stay (order numbers, invalid check digits), and that
the library-backed rules (services env) and the stdlib rules (Rasa env) agree."""

from __future__ import annotations

import pytest

import pii
from pii.checks import card_ok, cnpj_ok, cpf_ok
from services.privacy import find, redact, redact_log_text

VALID_CPF = "529.982.247-25"
VALID_CPF_BARE = "52998224725"
VALID_CNPJ = "11.222.333/0001-81"
VISA_TEST_CARD = "4111 1111 1111 1111"


@pytest.mark.parametrize("text, kind", [
    (f"meu cpf é {VALID_CPF}", "cpf"),
    (f"cpf {VALID_CPF_BARE}", "cpf"),
    ("CPF 529 982 247 25 por favor", "cpf"),
    (f"empresa {VALID_CNPJ}", "cnpj"),
    ("empresa 11222333000181", "cnpj"),
    ("escreve pra ana.silva+lumo@gmail.com", "email"),
    ("email: JOSE_2@empresa.com.br.", "email"),
    ("me liga (11) 98765-4321", "phone"),
    ("whats 11987654321", "phone"),
    ("+55 21 3456-7890 fixo", "phone"),
    ("55 11 98765 4321", "phone"),
    ("call me at +44 20 7946 0958", "phone"),
    ("or +1 415 555 2671", "phone"),
    (f"cartão {VISA_TEST_CARD}", "card"),
    ("card 5555-5555-5555-4444", "card"),
    ("amex 378282246310005", "card"),
])
def test_personal_data_is_found_and_masked(text: str, kind: str) -> None:
    findings = find(text)
    assert [f.kind for f in findings] == [kind]
    masked = redact(text)
    assert findings[0].text not in masked
    assert "*" in masked
    assert redact(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("text", [
    "meu pedido 20481234",
    "pedido #20481234, PED-20481234 ou 2048 1234",
    "protocolo 12345678901",  # 11 digits like a CPF, wrong check digits
    "nota 123.456.789-00",  # CPF format, wrong check digits
    "cnpj 11.222.333/0001-80",  # wrong check digit
    "rastreio 4111 1111 1111 1112",  # 16 digits, Luhn fails
    "código 1234567812345678",  # Luhn fails
    "ligue 0800 123 4567",  # toll-free: the company's number, not personal
    "R$ 1.234,56 em 02/12/2026 às 10:30",
    "127.0.0.1:54321 - \"GET /api/orders/20481234 HTTP/1.1\" 200",
    "Lumo Watch 2, 46 mm, 3 parcelas de 399,90",
    "111.111.111-11",  # all digits equal passes the mod-11 test but is not a CPF
])
def test_ordinary_numbers_stay(text: str) -> None:
    assert find(text) == []
    assert redact(text) == text
    assert pii.redact(text) == text


def test_random_11_digit_numbers_that_are_not_cpfs_stay() -> None:
    import random

    rng = random.Random(12)
    kept = 0
    for _ in range(300):
        number = str(rng.randrange(10**10, 10**11))
        if cpf_ok(number) or find(number):
            continue  # a valid CPF (1 in 100) or a valid phone number is masked, as it should be
        assert redact(f"pedido {number}") == f"pedido {number}"
        kept += 1
    assert kept > 200


def test_masks_keep_shape_and_last_digits() -> None:
    assert redact(f"cpf {VALID_CPF}") == "cpf ***.***.***-25"
    assert redact(f"cartão {VISA_TEST_CARD}") == "cartão **** **** **** 1111"
    assert redact("fone (11) 98765-4321") == "fone (**) *****-**21"
    assert redact("ana.silva@gmail.com") == "a***@***.com"
    assert redact(VALID_CNPJ) == "**.***.***/****-81"


def test_several_items_in_one_message() -> None:
    text = f"sou {VALID_CPF}, pedido 20481234, email ana@x.com.br, cel +55 (11) 98765-4321"
    masked = redact(text)
    assert "20481234" in masked
    for secret in (VALID_CPF, "ana@x.com.br", "98765-4321"):
        assert secret not in masked
    assert [f.kind for f in find(text)] == ["cpf", "email", "phone"]


def test_check_digit_functions_agree_with_validate_docbr() -> None:
    import random

    from validate_docbr import CNPJ, CPF

    cpf, cnpj, rng = CPF(), CNPJ(), random.Random(7)
    for _ in range(500):
        assert cpf_ok(cpf.generate()) and cnpj_ok(cnpj.generate())
        digits = "".join(rng.choice("0123456789") for _ in range(11))
        assert cpf_ok(digits) == cpf.validate(digits)
        digits = "".join(rng.choice("0123456789") for _ in range(14))
        assert cnpj_ok(digits) == cnpj.validate(digits)
    assert card_ok("4111111111111111") and not card_ok("4111111111111112")


CORPUS = [
    f"meu cpf é {VALID_CPF} e o pedido 20481234",
    f"cpf {VALID_CPF_BARE}", "protocolo 12345678901", f"cnpj {VALID_CNPJ}", "cnpj 11.222.333/0001-80",
    "email ana.silva@gmail.com", f"cartão {VISA_TEST_CARD}", "rastreio 4111 1111 1111 1112",
    "fone (11) 98765-4321", "+55 11 98765-4321", "11 3456 7890", "21987654321", "2198765432",
    "+44 20 7946 0958", "0800 123 4567", "pedido #20481234", "3456-7890", "R$ 1.234,56",
    "GET /api/search?q=ana%40x.com&token=abc HTTP/1.1",
]


@pytest.mark.parametrize("text", CORPUS)
def test_stdlib_rules_of_the_rasa_env_agree_with_the_libraries(text: str) -> None:
    """Rasa's and the action server's logs (pii, stdlib) mask what the services app's (libraries) mask."""
    assert pii.redact_log_text(text) == redact_log_text(text)


def test_log_text_decodes_urls_and_hides_tokens() -> None:
    line = ('127.0.0.1:5 - "GET /api/search?q=meu+cpf+529.982.247-25&lang=pt HTTP/1.1" 200 | '
            "GET /x?q=ana%40x.com&token=s3cret | /conversations/abc/tracker?token=s3cret&include_events=NONE "
            "| /api/search?q=%2811%29+98765-4321")
    masked = redact_log_text(line)
    for secret in ("529.982.247-25", "ana%40x.com", "ana@x.com", "s3cret", "98765-4321"):
        assert secret not in masked, masked
    assert "q=meu+cpf+***.***.***-25&lang=pt" in masked
    assert "include_events=NONE" in masked
