"""The NLU benchmark CLI end to end on a tiny CSV (a real Rasa training of the project pipeline)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.nlu import metrics
from bench.nlu.__main__ import main
from bench.nlu.data_io import BenchDataError, read_csv

TRAIN = [
    ("oi tudo bem", "greet"), ("ola bom dia", "greet"), ("hello there", "greet"), ("hi", "greet"),
    ("e ai blz", "greet"), ("good morning", "greet"),
    ("cade meu pedido", "order_status"), ("onde esta minha encomenda", "order_status"),
    ("where is my order", "order_status"), ("meu pedido nao chegou ainda", "order_status"),
    ("track my package", "order_status"), ("status do pedido 20481234", "order_status"),
    ("quero cancelar a compra", "cancel_order"), ("cancela meu pedido pfv", "cancel_order"),
    ("cancel my order", "cancel_order"), ("i want to cancel", "cancel_order"),
    ("desisti da compra, quero cancelar", "cancel_order"), ("please cancel the purchase", "cancel_order"),
]
TEST = [
    ("oii", "greet"), ("hey", "greet"), ("cade minha encomenda", "order_status"),
    ("where is my package", "order_status"), ("cancelar pedido", "cancel_order"),
    ("cancel it please", "cancel_order"), ("qual a previsao do tempo", "oos"), ("what's the weather", "oos"),
]
KEYS = {
    "accuracy", "macro_f1", "train_seconds", "predict_p50_ms", "predict_p95_ms", "n_train", "n_test",
    "model_bytes", "in_scope_accuracy", "oos_recall", "worst_intents", "threshold_sweep",
}


def write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "intent"])
        writer.writerows(rows)
    return path


def test_cli_trains_evaluates_and_writes_every_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "report.json"
    code = main([
        "--train", str(write(tmp_path / "train.csv", TRAIN)),
        "--test", str(write(tmp_path / "test.csv", TEST)),
        "--out", str(out), "--oos-label", "oos", "--work-dir", str(tmp_path / "runs"),
    ])
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) >= KEYS
    assert (report["n_train"], report["n_test"]) == (18, 8)
    assert report["accuracy"] >= 5 / 6  # in-scope rows, the classifier's own top intent
    assert 0 < report["predict_p50_ms"] <= report["predict_p95_ms"]
    assert report["model_bytes"] > 0 and report["train_seconds"] > 0
    assert 0.0 <= report["oos_recall"] <= 1.0
    assert "macro-F1" in capsys.readouterr().out
    assert Path(report["model_path"]).is_file() and str(tmp_path) in report["model_path"]


def test_cli_rejects_bad_input_with_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence;label\nfoo;bar\n", encoding="utf-8")
    good = write(tmp_path / "good.csv", TRAIN)
    assert main(["--train", str(bad), "--test", str(good), "--out", str(tmp_path / "o.json")]) == 2
    assert "expected a header" in capsys.readouterr().err
    one_label = write(tmp_path / "one.csv", [("oi", "greet"), ("ola", "greet")])
    assert main(["--train", str(one_label), "--test", str(good), "--out", str(tmp_path / "o.json")]) == 2
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary", b"text,intent\n", b"text,intent\n,greet\n"])
def test_read_csv_rejects_unusable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(BenchDataError):
        read_csv(path)


def test_read_csv_takes_the_last_column_and_cleans_labels(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('text,scenario,intent\n"hi, there",chat,greet now\n', encoding="utf-8")
    assert [(e.text, e.label) for e in read_csv(path)] == [("hi, there", "greet_now")]


def test_oos_scores_and_percentile() -> None:
    gold = ["a", "a", "b", "oos", "oos"]
    pred = ["a", "nlu_fallback", "b", "nlu_fallback", "a"]
    scores = metrics.oos_scores(gold, pred, "oos")
    assert scores["in_scope_accuracy"] == pytest.approx(2 / 3)
    assert scores["oos_recall"] == pytest.approx(0.5)
    assert scores["oos_precision"] == pytest.approx(0.5)
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert metrics.percentile(list(map(float, range(1, 101))), 95) == 95.0
    f1 = metrics.per_label_f1(["a", "a", "b"], ["a", "b", "b"])
    assert f1["a"]["f1"] == pytest.approx(2 / 3) and f1["b"]["f1"] == pytest.approx(2 / 3)


def test_threshold_sweep_follows_the_fallback_classifier_rule() -> None:
    top = [("a", 0.9, 0.05), ("a", 0.5, 0.45), ("b", 0.3, 0.2), ("a", 0.95, 0.01)]
    assert metrics.apply_threshold(top, 0.4, 0.1) == ["a", "nlu_fallback", "nlu_fallback", "a"]
    sweep = metrics.threshold_sweep(["a", "a", "oos", "oos"], top, "oos", [0.2, 0.4], 0.0)
    assert [row["oos_recall"] for row in sweep] == [0.0, 0.5]
    assert [row["in_scope_accuracy"] for row in sweep] == [1.0, 1.0]


def test_hwu64_converter_and_oos_split(tmp_path: Path) -> None:
    from bench.nlu import convert_hwu64, make_oos_split

    src = tmp_path / "hwu64"
    for split in ("train", "valid", "test"):
        (src / split).mkdir(parents=True)
        (src / split / "seq.in").write_text("wake me up at 7, please\nhow is the weather\n", encoding="utf-8")
        (src / split / "label").write_text("alarm_set\nweather_query\n", encoding="utf-8")
    assert convert_hwu64.main(["--src", str(src), "--out-dir", str(tmp_path / "csv")]) == 0
    assert [(e.text, e.label) for e in read_csv(tmp_path / "csv" / "train.csv")] == [
        ("wake me up at 7, please", "alarm_set"),
        ("how is the weather", "weather_query"),
    ]
    assert make_oos_split.main(["--src", str(tmp_path / "csv"), "--out-dir", str(tmp_path / "oos"),
                                "--holdout", "weather_"]) == 0
    assert [e.label for e in read_csv(tmp_path / "oos" / "train.csv")] == ["alarm_set"]
    assert [e.label for e in read_csv(tmp_path / "oos" / "test.csv")] == ["alarm_set", "oos"]
    (src / "test" / "label").write_text("alarm_set\n", encoding="utf-8")
    with pytest.raises(ValueError):
        convert_hwu64.main(["--src", str(src), "--out-dir", str(tmp_path / "csv2")])
