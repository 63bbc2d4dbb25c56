"""Informal Portuguese spellings written the standard way, for the sentence encoder.

Why: customers type "cade meu pedido", "vc", "nao" — folded text is fine for keyword search (which folds
everything), but the multilingual sentence encoder learnt from standard spelling and reads "cade" as noise while
it understands "cadê" ("cadê meu pedido" finds the tracking article, "cade meu pedido" did not). Only
unambiguous words are listed: "esta" (this / is) or "so" are left alone.
"""

from __future__ import annotations

import re

PT_STANDARD: dict[str, str] = {
    "cade": "cadê", "vc": "você", "voce": "você", "vcs": "vocês", "voces": "vocês", "pq": "por que",
    "nao": "não", "n": "não", "tb": "também", "tbm": "também", "tambem": "também", "q": "que", "qdo": "quando",
    "qto": "quanto", "hj": "hoje", "msg": "mensagem", "obg": "obrigado", "blz": "beleza", "pfv": "por favor",
    "pf": "por favor", "ja": "já", "ate": "até", "entao": "então", "numero": "número", "codigo": "código",
    "cartao": "cartão", "devolucao": "devolução", "endereco": "endereço", "credito": "crédito",
    "debito": "débito", "cobranca": "cobrança", "conexao": "conexão", "configuracao": "configuração",
    "informacao": "informação", "possivel": "possível", "ta": "está", "tá": "está", "to": "estou",
    "tô": "estou", "eh": "é", "horario": "horário", "funcionario": "funcionário", "aplicacao": "aplicação",
    "atualizacao": "atualização", "notificacao": "notificação", "nf": "nota fiscal",
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def standard_spelling(text: str, lang: str) -> str:
    """``text`` with informal Portuguese words in standard spelling (other languages unchanged)."""
    if lang != "pt" or not text:
        return text

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        standard = PT_STANDARD.get(word.lower())
        if standard is None:
            return word
        return standard.capitalize() if word[0].isupper() else standard

    return _WORD.sub(fix, text)
