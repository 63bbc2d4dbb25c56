"""The inbox's grouping rule and candidate filter on hand-made data (fast; the API tests use the real encoder)."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from services.workspace.inbox import InboxMessage, build_groups, candidates, group_indices, grouping_form


def unit(*rows: list[float]) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def angle_vectors(degrees: list[float]) -> np.ndarray:
    return unit(*[[np.cos(np.radians(d)), np.sin(np.radians(d))] for d in degrees])


def test_complete_linkage_does_not_chain() -> None:
    # 0°, 15°, 30°: neighbours are cos 15° = 0.966 alike, the ends only cos 30° = 0.866.
    v = angle_vectors([0, 15, 30])
    assert group_indices(v, 0.95) == [[0, 1], [2]]
    assert group_indices(v, 0.85) == [[0, 1, 2]]
    assert group_indices(v, 0.99) == [[0], [1], [2]]
    assert group_indices(np.zeros((0, 2), dtype=np.float32), 0.9) == []


def test_a_row_joins_the_group_it_is_closest_to() -> None:
    v = angle_vectors([0, 40, 33])  # 33° is 0.985 alike to 40° and 0.839 to 0°
    assert group_indices(v, 0.9) == [[0], [1, 2]]


def msg(event_id: int, text: str, reasons: list[str], intent: str | None = "x", confidence: float = 0.5) -> InboxMessage:
    return InboxMessage(event_id=event_id, conversation_id="c", seq=event_id, text=text, language="pt",
                        created_at=datetime(2026, 12, 1), intent=intent, confidence=confidence, reasons=reasons)


def test_candidates_skip_known_decided_and_commands_worst_first() -> None:
    known = {"bom dia": "greet", "pedido 10002000": "order_status"}
    messages = [msg(1, "Bom   DIA", ["new"]), msg(2, "/deny", ["new"]), msg(3, "quero ajuda", ["low_confidence"]),
                msg(4, "xpto", ["fallback"]), msg(5, "decidida", ["fallback"]), msg(6, "pedido 55501234", ["new"]),
                msg(7, "outra", ["escalated"], confidence=0.2), msg(8, "mais uma", ["escalated"], confidence=0.9)]
    form = lambda t: t.replace("55501234", "10002000")  # noqa: E731 - the de-identified form
    got = candidates(messages, known, decided={5}, example_form=form)
    assert [m.event_id for m in got] == [4, 7, 8, 3]


def test_groups_suggest_the_most_common_prediction_and_sort_worst_first() -> None:
    messages = [msg(1, "a", ["new"], "greet"), msg(2, "b", ["fallback"], "nlu_fallback"),
                msg(3, "c", ["low_confidence"], "order_status"), msg(4, "d", ["new"], "order_status")]
    v = angle_vectors([0, 60, 61, 62])
    groups = build_groups(messages, v, 0.99)
    assert [g["size"] for g in groups] == [3, 1]
    assert groups[0]["suggested_intent"] == "order_status" and groups[0]["reasons"] == ["fallback", "low_confidence",
                                                                                        "new"]
    assert groups[0]["id"] == "g2" and groups[1]["suggested_intent"] == "greet"


def test_grouping_form_is_the_de_identified_text_without_markup() -> None:
    form = lambda t: t.replace("20481234", "[10002000](order_number)")  # noqa: E731
    assert grouping_form("cade 20481234", form) == "cade 10002000"

    def refuse(_: str) -> str:
        raise ValueError("html")

    assert grouping_form("  <b>x</b>  y ", refuse) == "<b>x</b> y"
