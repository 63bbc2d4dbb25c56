"""How many groups a lead labels for N inbox messages, and how pure they are (services/workspace/inbox.py).

python -m bench.workspace.inbox_grouping [--dev banking77-train] [--test banking77-test hwu64-test bot-heldout-pt ...]
                                         [--csv file.csv ...] [--n 200] [--repeats 5] [--seed 0] [--out f.json]

Each data set is a list of (text, label) messages: built-in names (``/work/shared/datasets``, see its README)
or any CSV with ``text,label`` columns (``--csv``). A sample of N messages (seeded) is grouped exactly as the
inbox does (the app's encoder, retrieval.yml ``encoders.default``, e5 ``query:`` texts; greedy centroid
grouping of :func:`services.workspace.inbox.group_indices`). Figures per sample:

* groups: what a lead must label (one decision per group) for N messages;
* purity: share of messages whose label is their group's majority label (labelling a group at once with its
  majority label leaves 1 - purity of the messages wrong unless the lead unticks them);
* mixed groups: groups holding more than one label;
* labels: distinct labels in the sample (the fewest groups possible at purity 1).

Uniform samples of 200 over 60-77 intents hold 2-3 messages per intent, so grouping cannot save much there;
``--zipf`` adds test samples whose intents follow a Zipf law, closer to an inbox where many customers ask a few
things.

The threshold is tuned on the DEV samples only (the lowest threshold whose mean purity reaches --min-purity:
fewest groups at that quality), then reported on the TEST samples, beside the configured value of
services/workspace/workspace.yml.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from tqdm import tqdm  # noqa: E402

from embeddings.bench import cpu_model
from services.workspace.inbox import group_indices, grouping_form  # noqa: E402
from services.workspace.training_data import plain_text  # noqa: E402

DATA = Path(os.environ.get("BENCH_DATASETS", "/work/shared/datasets"))
REPO_ROOT = Path(__file__).resolve().parents[2]
GRID = [round(x, 2) for x in np.arange(0.80, 0.961, 0.01)]


def load_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        label_col = "label" if "label" in (reader.fieldnames or []) else "category"
        return [(row["text"].strip(), row[label_col].strip()) for row in reader if row["text"].strip()]


def load_hwu64(split: str) -> list[tuple[str, str]]:
    folder = DATA / "hwu64" / split
    texts = (folder / "seq.in").read_text(encoding="utf-8").splitlines()
    labels = (folder / "label").read_text(encoding="utf-8").splitlines()
    return [(t.strip(), lab.strip()) for t, lab in zip(texts, labels, strict=True) if t.strip()]


def load_rasa_file(path: Path) -> list[tuple[str, str]]:
    out = []
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        if isinstance(block, dict) and block.get("intent") and isinstance(block.get("examples"), str):
            out += [(plain_text(line.strip()[2:]), block["intent"]) for line in block["examples"].splitlines()
                    if line.strip().startswith("- ")]
    return out


BUILTIN = {
    "banking77-train": lambda: load_csv(DATA / "banking77" / "train.csv"),
    "banking77-test": lambda: load_csv(DATA / "banking77" / "test.csv"),
    "hwu64-train": lambda: load_hwu64("train"),
    "hwu64-test": lambda: load_hwu64("test"),
    # The bot's held-out messages (never trained on): informal pt/en in the bot's own intents, 6 per intent.
    "bot-heldout-pt": lambda: load_rasa_file(REPO_ROOT / "bot" / "evaluation" / "pt.yml"),
    "bot-heldout-en": lambda: load_rasa_file(REPO_ROOT / "bot" / "evaluation" / "en.yml"),
}


def load(name: str) -> list[tuple[str, str]]:
    if name in BUILTIN:
        return BUILTIN[name]()
    return load_csv(Path(name))


def samples(rows: list[tuple[str, str]], n: int, seed: int, repeats: int) -> list[list[tuple[str, str]]]:
    return [random.Random(seed + r).sample(rows, min(n, len(rows))) for r in range(repeats)]


def zipf_samples(rows: list[tuple[str, str]], n: int, seed: int, repeats: int,
                 s: float = 1.0) -> list[list[tuple[str, str]]]:
    """Samples where intents are as unequal as real traffic (Zipf: the k-th most asked intent ~ 1/k^s).

    A uniform sample of 200 messages over 77 intents holds ~2.6 messages per intent, so grouping can save
    little by construction; an inbox is dominated by a few questions asked by many customers. Messages are
    drawn without replacement within each intent (an intent with too few left gives its share to the next).
    """
    by_label: dict[str, list[str]] = {}
    for text, label in rows:
        by_label.setdefault(label, []).append(text)
    out = []
    for r in range(repeats):
        rng = random.Random(seed + r)
        labels = sorted(by_label)
        rng.shuffle(labels)
        weights = [1 / (k + 1) ** s for k in range(len(labels))]
        pools = {lab: rng.sample(by_label[lab], len(by_label[lab])) for lab in labels}
        sample: list[tuple[str, str]] = []
        while len(sample) < min(n, len(rows)):
            lab = rng.choices(labels, weights)[0]
            if pools[lab]:
                sample.append((pools[lab].pop(), lab))
            else:
                weights[labels.index(lab)] = 0.0
        rng.shuffle(sample)
        out.append(sample)
    return out


class Embedder:
    """The app's default encoder, with a cache (the same texts recur across thresholds and samples)."""

    def __init__(self) -> None:
        from retrieval.config import load_settings
        from retrieval.index import make_encoders
        from services.workspace.example_text import BotVocabulary, clean, deidentify

        self.encoder = make_encoders(load_settings())["default"]
        self.cache: dict[str, np.ndarray] = {}
        vocabulary = BotVocabulary.load(REPO_ROOT / "domain.yml", REPO_ROOT / "bot" / "data")
        # The text the inbox embeds: de-identified, markup removed (services.workspace.inbox.grouping_form).
        self.form = lambda text: grouping_form(text, lambda t: deidentify(clean(t, 100_000), vocabulary)[0])

    def __call__(self, texts: list[str], bar: tqdm) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for start in range(0, len(missing), 32):
            chunk = missing[start:start + 32]
            vectors = np.asarray(self.encoder.encode_queries([self.form(t) for t in chunk]), dtype=np.float32)
            for text, vec in zip(chunk, vectors, strict=True):
                self.cache[text] = vec
            bar.update(len(chunk))
        return np.vstack([self.cache[t] for t in texts])


def score(groups: list[list[int]], labels: list[str]) -> dict[str, float]:
    majority = sum(Counter(labels[i] for i in g).most_common(1)[0][1] for g in groups)
    return {"groups": len(groups), "purity": majority / len(labels),
            "mixed_groups": sum(1 for g in groups if len({labels[i] for i in g}) > 1),
            "labels": len(set(labels)), "singletons": sum(1 for g in groups if len(g) == 1)}


def mean_scores(runs: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = round(statistics.fmean(values), 4)
        out[f"{key}_sd"] = round(statistics.pstdev(values), 4)
    return out


def run(name: str, sample_list: list[list[tuple[str, str]]], embed: Embedder, thresholds: list[float],
        bar: tqdm) -> dict[float, dict[str, float]]:
    vectors = [embed([t for t, _ in s], bar) for s in sample_list]
    return {th: mean_scores([score(group_indices(v, th), [lab for _, lab in s]) for v, s in zip(vectors, sample_list,
                                                                                                 strict=True)])
            for th in thresholds}


def configured_threshold() -> float:
    from services.workspace.config import load_workspace_config

    return float(load_workspace_config().file.inbox.group_similarity)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--dev", nargs="+", default=["banking77-train"], help="data sets the threshold is tuned on")
    parser.add_argument("--test", nargs="+", default=["banking77-test", "hwu64-test", "bot-heldout-pt"],
                        help="data sets reported (built-in names or CSV paths)")
    parser.add_argument("--csv", nargs="*", default=[], help="extra text,label CSV files to report")
    parser.add_argument("--n", type=int, default=200, help="messages per sample (default 200)")
    parser.add_argument("--repeats", type=int, default=5, help="samples per data set (seeds seed..seed+repeats-1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-purity", type=float, default=0.95,
                        help="tuning target: lowest threshold whose DEV purity reaches this")
    parser.add_argument("--also", type=float, nargs="*", default=[0.90, 0.92],
                        help="thresholds reported besides the tuned and configured ones (the trade-off)")
    parser.add_argument("--zipf", type=float, default=1.0,
                        help="also report test samples with Zipf-distributed intents of this exponent (0: off)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = {name: load(name) for name in [*args.dev, *args.test, *args.csv]}
    dev = {name: samples(data[name], args.n, args.seed, args.repeats) for name in args.dev}
    # Test samples use other seeds than DEV so a data set named in both never reuses a sample.
    test = {name: samples(data[name], args.n, args.seed + 1000, args.repeats) for name in [*args.test, *args.csv]}
    if args.zipf:
        test.update({f"{name} zipf": zipf_samples(data[name], args.n, args.seed + 2000, args.repeats, args.zipf)
                     for name in [*args.test, *args.csv] if len(data[name]) >= 2 * args.n})  # else: all of it
    total = sum(len({t for s in ss for t, _ in s}) for ss in [*dev.values(), *test.values()])
    embed = Embedder()
    with tqdm(total=total, desc="embedding", unit="msg") as bar:
        dev_curves = {name: run(name, ss, embed, GRID, bar) for name, ss in dev.items()}
        configured = configured_threshold()
        mean_dev = {th: statistics.fmean(c[th]["purity"] for c in dev_curves.values()) for th in GRID}
        tuned = next((th for th in GRID if mean_dev[th] >= args.min_purity), GRID[-1])
        reported = sorted({tuned, configured, *args.also})
        test_results = {name: run(name, ss, embed, reported, bar) for name, ss in test.items()}
    report = {
        "command": "python -m bench.workspace.inbox_grouping " + " ".join(argv if argv is not None else os.sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "n": args.n, "repeats": args.repeats, "min_purity": args.min_purity, "tuned_threshold": tuned,
        "configured_threshold": configured, "dev": {k: {str(th): v for th, v in c.items()} for k, c in dev_curves.items()},
        "test": {k: {str(th): v for th, v in c.items()} for k, c in test_results.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"tuned on {', '.join(args.dev)}: threshold {tuned} (lowest with mean purity >= {args.min_purity}); "
          f"configured {configured}")
    print(f"{'data set':<24} {'thr':>5} {'groups':>8} {'labels':>7} {'purity':>7} {'mixed':>6} {'single':>7}")
    for section, results in (("dev", {k: {th: c[th] for th in reported} for k, c in dev_curves.items()}),
                             ("test", test_results)):
        for name, curve in results.items():
            for th, s in curve.items():
                print(f"{section}:{name:<20} {th:>5.2f} {s['groups']:>5.1f}±{s['groups_sd']:<3.0f}{s['labels']:>6.1f} "
                      f"{s['purity']:>7.3f} {s['mixed_groups']:>6.1f} {s['singletons']:>7.1f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
