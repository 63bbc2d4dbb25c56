"""Customer-facing texts the gateway itself writes (notices, errors), in pt-BR and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "offline": {
        "pt": "Nosso assistente está fora do ar no momento. Sua mensagem foi guardada. "
              "Se quiser, deixe seu e-mail ou telefone e a equipe Lumo retorna o contato "
              "(seg. a sáb., 8h às 20h). Telefone: 0800 555 0123.",
        "en": "Our assistant is unavailable right now. Your message has been saved. "
              "If you like, leave your e-mail or phone number and the Lumo team will get back to you "
              "(Mon–Sat, 8am–8pm Brasília time). Phone: 0800 555 0123.",
    },
    "contact_saved": {
        "pt": "Obrigado! Recebemos seus dados de contato e vamos retornar assim que possível.",
        "en": "Thank you! We have your contact details and will get back to you as soon as possible.",
    },
    "csat_request": {
        "pt": "Como foi seu atendimento? Dê uma nota de 1 a 5.",
        "en": "How was your experience? Please rate it from 1 to 5.",
    },
    "csat_thanks": {
        "pt": "Obrigado pela sua avaliação!",
        "en": "Thanks for your feedback!",
    },
    "empty": {
        "pt": "A mensagem está vazia.",
        "en": "The message is empty.",
    },
    "too_long": {
        "pt": "Sua mensagem é muito longa (máximo de {limit} caracteres). Divida em partes menores.",
        "en": "Your message is too long (at most {limit} characters). Please split it into shorter parts.",
    },
    "rate_limited": {
        "pt": "Você enviou muitas mensagens em pouco tempo. Aguarde alguns segundos e tente de novo.",
        "en": "You sent many messages in a short time. Please wait a few seconds and try again.",
    },
    "bad_frame": {
        "pt": "Não entendi o que o navegador enviou. Tente de novo.",
        "en": "We could not read what your browser sent. Please try again.",
    },
    "bad_token": {
        "pt": "Sua sessão de chat expirou; uma nova conversa foi iniciada.",
        "en": "Your chat session expired; a new conversation was started.",
    },
    "closed": {
        "pt": "Esta conversa foi encerrada. Uma nova conversa foi iniciada.",
        "en": "This conversation was closed. A new conversation was started.",
    },
    "internal": {
        "pt": "Algo deu errado do nosso lado. Sua mensagem foi guardada; tente de novo em instantes.",
        "en": "Something went wrong on our side. Your message was saved; please try again shortly.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """The text for ``key`` in ``language`` (Portuguese when the language is unknown)."""
    variants = TEXTS[key]
    template = variants.get(language) or variants["pt"]
    return template.format(**values) if values else template
