"""Interface text of the site and help center, in pt-BR and English."""

from __future__ import annotations

UI: dict[str, dict[str, str]] = {
    "pt": {
        "html_lang": "pt-BR", "store": "Loja", "help": "Central de ajuda", "other_lang": "English",
        "tagline": "Eletrônicos com entrega para todo o Brasil",
        "hero_title": "Tecnologia que acompanha você",
        "hero_text": "Celulares, notebooks, fones e a linha de dispositivos conectados Lumo. Pix com 5% de desconto "
                     "e até 12x sem juros no cartão.",
        "hero_cta": "Ver ofertas", "hero_help": "Precisa de ajuda? Fale com a gente no chat.",
        "products": "Destaques", "buy": "Ver produto", "in_installments": "ou 12x de {value} sem juros",
        "perks_shipping": "Frete grátis acima de R$ 299 (Sul e Sudeste)",
        "perks_pix": "5% de desconto no Pix", "perks_return": "7 dias para desistir da compra",
        "help_title": "Como podemos ajudar?", "help_intro": "Encontre respostas sobre pedidos, entregas, pagamentos, "
                      "trocas e sobre o app e os dispositivos Lumo.",
        "search_placeholder": "Ex.: rastrear pedido", "search": "Buscar",
        "cat_service": "Atendimento", "cat_service_desc": "Pedidos, entregas, pagamentos, notas fiscais, trocas e conta",
        "cat_support": "Suporte técnico", "cat_support_desc": "App Lumo, dispositivos, conexão e atualizações",
        "updated": "Atualizado em", "read_in": "Read this article in English", "back": "Voltar à central de ajuda",
        "results_for": "Resultados para “{q}”", "no_results": "Nenhum artigo encontrado. Tente outras palavras ou "
                       "fale com a gente no chat.", "not_found": "Página não encontrada",
        "not_found_text": "Não encontramos esta página. Veja os artigos da central de ajuda ou fale com a gente no chat.",
        "contact": "Atendimento por chat e telefone 0800 555 0123, de segunda a sábado, das 8h às 20h (horário de Brasília).",
        "still_need": "Ainda precisa de ajuda?", "still_need_text": "Abra o chat no canto da tela: o assistente virtual "
                      "responde na hora e chama um atendente quando for preciso.", "open_chat": "Abrir o chat",
        "articles": "artigos", "breadcrumb": "Navegação estrutural", "search_label": "Buscar na central de ajuda",
        "rights": "Lumo Eletrônicos — loja de demonstração.",
    },
    "en": {
        "html_lang": "en", "store": "Store", "help": "Help center", "other_lang": "Português",
        "tagline": "Electronics delivered all over Brazil",
        "hero_title": "Technology that keeps up with you",
        "hero_text": "Phones, notebooks, headphones and Lumo's own connected devices. 5% off with Pix and up to "
                     "12 interest-free instalments by card.",
        "hero_cta": "See deals", "hero_help": "Need help? Chat with us.",
        "products": "Featured", "buy": "View product", "in_installments": "or 12 × {value} interest-free",
        "perks_shipping": "Free shipping over R$ 299 (South and Southeast)",
        "perks_pix": "5% off with Pix", "perks_return": "7 days to change your mind",
        "help_title": "How can we help?", "help_intro": "Answers about orders, delivery, payments, returns, "
                      "and the Lumo app and devices.",
        "search_placeholder": "E.g. track my order", "search": "Search",
        "cat_service": "Customer service", "cat_service_desc": "Orders, delivery, payment, invoices, returns and account",
        "cat_support": "Technical support", "cat_support_desc": "Lumo app, devices, connection and updates",
        "updated": "Updated on", "read_in": "Leia este artigo em português", "back": "Back to the help center",
        "results_for": "Results for “{q}”", "no_results": "No articles found. Try other words or chat with us.",
        "not_found": "Page not found",
        "not_found_text": "We could not find this page. Browse the help center or chat with us.",
        "contact": "Chat and phone support 0800 555 0123, Monday to Saturday, 8am to 8pm (Brasília time).",
        "still_need": "Still need help?", "still_need_text": "Open the chat in the corner of the screen: the virtual "
                      "assistant answers right away and brings in an agent when needed.", "open_chat": "Open the chat",
        "articles": "articles", "breadcrumb": "Breadcrumb", "search_label": "Search the help center",
        "rights": "Lumo Eletrônicos — demo store.",
    },
}

# The demo store's featured products (prices in BRL).
PRODUCTS = [
    {"name": "Lumo Watch 2", "kind": {"pt": "Smartwatch", "en": "Smartwatch"}, "price": 1299.00, "tone": "violet",
     "icon": "watch"},
    {"name": "Lumo Buds Pro", "kind": {"pt": "Fones Bluetooth", "en": "Bluetooth earbuds"}, "price": 599.00,
     "tone": "teal", "icon": "buds"},
    {"name": "Lumo Cam 360", "kind": {"pt": "Câmera Wi-Fi", "en": "Wi-Fi camera"}, "price": 349.90, "tone": "amber",
     "icon": "cam"},
    {"name": "Notebook Aurora 14", "kind": {"pt": "Notebook", "en": "Notebook"}, "price": 4599.00, "tone": "blue",
     "icon": "laptop"},
    {"name": "Smart TV Vista 55\"", "kind": {"pt": "Smart TV 4K", "en": "4K smart TV"}, "price": 2899.00,
     "tone": "rose", "icon": "tv"},
    {"name": "Lumo Speaker", "kind": {"pt": "Caixa inteligente", "en": "Smart speaker"}, "price": 449.00,
     "tone": "green", "icon": "speaker"},
]


def brl(value: float) -> str:
    """R$ 1.299,00 — Brazilian currency format, used on both language versions."""
    whole, cents = f"{value:,.2f}".split(".")
    return f"R$ {whole.replace(',', '.')},{cents}"
