"""Small temporary article sets and settings for the retrieval tests (never the real kb_articles/)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from retrieval.config import load_settings  # noqa: E402

ARTICLES: dict[str, str] = {
    "pt/senha.md": """---
id: redefinir-senha
title: Como redefinir a senha da conta
lang: pt
category: support
tags: [senha, conta]
updated: 2026-10-01
translation: reset-password
---
# Como redefinir a senha da conta

Se você esqueceu a senha, toque em **Esqueci minha senha** na tela de login do Lumo app ou do site.
Enviamos um link para o seu e-mail; ele vale por 30 minutos.

## Conta bloqueada

Depois de 5 senhas erradas a conta fica bloqueada por 15 minutos. Espere e tente de novo.
""",
    "pt/pix.md": """---
id: formas-de-pagamento
title: Formas de pagamento aceitas
lang: pt
category: service
tags: [pagamento, pix, cartao, boleto]
---
## Pix

O Pix é aprovado em minutos e tem 5% de desconto.

## Cartão de crédito

Parcelamos em até 12x sem juros no cartão de crédito (Visa, Mastercard, Elo, Amex, Hipercard).

| Valor da compra | Parcelas sem juros |
|---|---|
| até R$ 500 | até 6x |
| acima de R$ 500 | até 12x |

## Boleto

O boleto vence em 3 dias e a aprovação leva até 3 dias úteis.
""",
    "pt/devolucao.md": """---
id: direito-de-arrependimento
title: Devolução por arrependimento em 7 dias
lang: pt
category: service
---
Você pode devolver qualquer produto em até 7 dias corridos após a entrega, sem precisar explicar o motivo.
O frete de devolução é grátis e o reembolso é integral, incluindo o frete.
""",
    "en/password.md": """---
id: reset-password
title: How to reset your account password
lang: en
category: support
translation: redefinir-senha
---
Forgot your password? Tap **Forgot my password** on the login screen of the Lumo app or the website.
We e-mail you a link that is valid for 30 minutes.
""",
    "en/cam.md": """---
id: lumo-cam-night-vision
title: Lumo Cam night vision and infrared settings
lang: en
category: support
---
## Turning on night vision

The Lumo Cam switches to infrared night vision automatically in the dark. To force it, open the Lumo app,
go to Devices › Lumo Cam › Image and set Night vision to Always on. The infrared LEDs glow red.
""",
}


def write_articles(root: Path, articles: dict[str, str | bytes]) -> Path:
    for rel, content in articles.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A fresh folder with the five sample articles."""
    return write_articles(tmp_path / "kb", ARTICLES)


@pytest.fixture
def settings(tmp_path: Path, kb: Path):  # type: ignore[no-untyped-def]
    """Product settings, but only the multilingual encoder (the product default, int8 e5) and temporary folders."""
    return load_settings(None, articles_dir=str(kb), index_dir=str(tmp_path / "index"),
                         encoders={"default": {"backend": "onnx-int8", "variant": "original"}}, query_routes={})


@pytest.fixture(scope="session")
def shared_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Read-only tests share one index of the sample articles (building one per test is slow)."""
    root = tmp_path_factory.mktemp("shared")
    kb = write_articles(root / "kb", ARTICLES)
    return load_settings(None, articles_dir=str(kb), index_dir=str(root / "index"),
                         encoders={"default": {"backend": "onnx-int8", "variant": "original"}}, query_routes={})


@pytest.fixture(scope="session")
def shared_state(shared_settings):  # type: ignore[no-untyped-def]
    from retrieval.service import SearchState

    return SearchState(shared_settings)
