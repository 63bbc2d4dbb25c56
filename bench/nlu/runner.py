"""Train an NLU pipeline on a CSV, load the packed model with Rasa's Agent, evaluate message by message."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.nlu import metrics
from bench.nlu.data_io import Example, write_rasa_nlu
from bench.nlu.pipelines import fallback_threshold

RUNS_DIR = Path(".cache/bench/nlu-runs")
SWEEP = [round(0.05 * i, 2) for i in range(1, 20)]


def _progress(iterable: Any, total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="msg", file=sys.stderr, mininterval=5)


def quiet_rasa_logs() -> None:
    """Rasa logs every parsed message at debug level: keep warnings only, but keep its progress bars."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    os.environ["LOG_LEVEL"] = "INFO"  # Rasa's progress bars test this variable


def train(config: dict[str, Any], examples: list[Example], workdir: Path) -> tuple[Path, float]:
    """Train with a fresh Rasa cache (so the time is a cold training) and return (model path, seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    nlu_path, config_path = workdir / "nlu.yml", workdir / "config.yml"
    write_rasa_nlu(examples, nlu_path)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    os.environ["RASA_CACHE_DIRECTORY"] = str(workdir / "rasa-cache")
    from rasa.model_training import train_nlu

    print(f"[bench.nlu] training on {len(examples)} examples ({workdir})", file=sys.stderr, flush=True)
    started = time.perf_counter()
    model = train_nlu(str(config_path), str(nlu_path), str(workdir / "models"), fixed_model_name="nlu")
    seconds = time.perf_counter() - started
    if not model:
        raise RuntimeError("Rasa did not produce a model (see the log above)")
    shutil.rmtree(workdir / "rasa-cache", ignore_errors=True)
    return Path(model), seconds


def predict_all(model_path: Path, texts: list[str]) -> tuple[list[dict[str, Any]], list[float]]:
    """Parse each text on its own through the loaded model (as a live conversation would)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    loop = asyncio.new_event_loop()
    try:
        for warm in ("oi", "hello", "quero ajuda"):
            loop.run_until_complete(agent.parse_message(warm))
        results, latencies = [], []
        for text in _progress(texts, len(texts), "predict"):
            started = time.perf_counter()
            results.append(loop.run_until_complete(agent.parse_message(text)))
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        loop.close()
    return results, latencies


def raw_top(result: dict[str, Any]) -> tuple[str, float, float]:
    """The classifier's own (top intent, its confidence, runner-up confidence), before any fallback."""
    ranking = list(result.get("intent_ranking") or [])
    intent = result.get("intent") or {}
    if intent.get("name") == metrics.FALLBACK and len(ranking) > 1:
        ranking = ranking[1:]
    elif not ranking:
        ranking = [intent]
    second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
    return ranking[0].get("name") or "", float(ranking[0].get("confidence") or 0.0), second


def run(
    config: dict[str, Any],
    train_rows: list[Example],
    test_rows: list[Example],
    oos_label: str | None,
    name: str,
    runs_dir: Path = RUNS_DIR,
) -> dict[str, Any]:
    """The whole benchmark: returns the JSON-ready report."""
    quiet_rasa_logs()
    train_labels = {e.label for e in train_rows}
    workdir = runs_dir / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    model_path, train_seconds = train(config, train_rows, workdir)
    results, latencies = predict_all(model_path, [e.text for e in test_rows])

    gold = [e.label for e in test_rows]
    predicted = [(r.get("intent") or {}).get("name") or "" for r in results]
    top = [raw_top(r) for r in results]
    report: dict[str, Any] = {
        "pipeline": name,
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "n_intents_train": len(train_labels),
        "train_seconds": round(train_seconds, 2),
        "model_bytes": model_path.stat().st_size,
        "predict_p50_ms": round(metrics.percentile(latencies, 50), 2),
        "predict_p95_ms": round(metrics.percentile(latencies, 95), 2),
        "fallback_rate": sum(p == metrics.FALLBACK for p in predicted) / max(1, len(predicted)),
        "model_path": str(model_path),
    }
    threshold, ambiguity = fallback_threshold(config)
    report["fallback_threshold"], report["ambiguity_threshold"] = threshold, ambiguity
    # the classifier's own out-of-scope threshold, fitted at training time (None when it has none)
    novelty = [r.get("intent_novelty") or {} for r in results]
    report["fitted_oos_threshold"] = next((n["threshold"] for n in novelty if n.get("threshold") is not None), None)
    if oos_label:
        in_scope = [(g, p, t) for g, p, t in zip(gold, predicted, top, strict=True) if g != oos_label]
        # accuracy of the classifier itself on in-scope rows (no fallback), comparable with other runs
        report["accuracy"] = metrics.accuracy([g for g, _, _ in in_scope], [t[0] for _, _, t in in_scope])
        per_label = metrics.per_label_f1([g for g, _, _ in in_scope], [t[0] for _, _, t in in_scope])
        report.update(metrics.oos_scores(gold, predicted, oos_label))
        report["threshold_sweep"] = metrics.threshold_sweep(gold, top, oos_label, SWEEP, ambiguity or 0.0)
    else:
        # accuracy counts a fallback as wrong: that is what the customer gets
        report["accuracy"] = metrics.accuracy(gold, predicted)
        report["accuracy_without_fallback"] = metrics.accuracy(gold, [t[0] for t in top])
        per_label = metrics.per_label_f1(gold, predicted)
    report["macro_f1"] = sum(v["f1"] for v in per_label.values()) / max(1, len(per_label))
    report["worst_intents"] = sorted(
        ({"intent": k, **{m: round(x, 4) for m, x in v.items()}} for k, v in per_label.items()),
        key=lambda row: (row["f1"], row["intent"]),
    )[:10]
    report["per_intent"] = per_label
    # per-message outcome, so thresholds can be re-swept without retraining (choose_threshold)
    report["predictions"] = [
        {"gold": g, "predicted": p, "top": t[0], "confidence": round(t[1], 5), "second": round(t[2], 5),
         "novelty": n.get("score")}
        for g, p, t, n in zip(gold, predicted, top, novelty, strict=True)
    ]
    return report


def format_report(report: dict[str, Any]) -> str:
    """Human-readable summary printed at the end of a run."""
    lines = [
        f"pipeline           {report['pipeline']}",
        f"train / test rows  {report['n_train']} / {report['n_test']} ({report['n_intents_train']} intents)",
        f"accuracy           {report['accuracy'] * 100:.2f}%",
        f"macro-F1           {report['macro_f1'] * 100:.2f}%",
        f"training time      {report['train_seconds']:.1f} s",
        f"model size         {report['model_bytes'] / 1e6:.2f} MB",
        f"latency p50 / p95  {report['predict_p50_ms']:.1f} / {report['predict_p95_ms']:.1f} ms per message",
        f"fallback rate      {report['fallback_rate'] * 100:.1f}% (FallbackClassifier threshold "
        f"{report['fallback_threshold']}, fitted out-of-scope threshold {report.get('fitted_oos_threshold')})",
    ]
    if "accuracy_without_fallback" in report:
        lines.append(f"acc. w/o fallback  {report['accuracy_without_fallback'] * 100:.2f}%")
    if "oos_recall" in report:
        lines += [
            f"in-scope accuracy  {report['in_scope_accuracy'] * 100:.2f}% (fallback counts as wrong)",
            f"OOS recall         {report['oos_recall'] * 100:.2f}% (precision {report['oos_precision'] * 100:.1f}%)",
        ]
    lines.append("10 worst intents by F1:")
    for row in report["worst_intents"]:
        lines.append(f"  {row['intent']:<40} F1 {row['f1'] * 100:5.1f}  support {row['support']}")
    return "\n".join(lines)
