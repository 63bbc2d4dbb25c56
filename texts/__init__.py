"""Customer-facing texts per language and the company facts they mention (see texts/catalogue.py)."""

from texts.catalogue import Catalogue, CatalogueError, catalogue, load_catalogue, placeholders, text

__all__ = ["Catalogue", "CatalogueError", "catalogue", "load_catalogue", "placeholders", "text"]
