"""The demo store's featured products and the price format.

The interface texts of the site and help center are section ``site`` of the text catalogue (texts/<language>.yml).
"""

from __future__ import annotations

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
