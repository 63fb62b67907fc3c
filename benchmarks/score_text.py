"""Score dicomtools.text on a corpus of report snippets with gold findings, and time it.

Corpus: ``NNN_name.txt`` (the snippet) + ``NNN_name.json`` (gold: a list of finding objects
with only their non-null keys; an empty list marks a decoy: physiological uptake, guideline
or cohort text, lab results). Default corpus: tests/text_corpus.

Matching, per snippet: a predicted finding is paired with a gold finding of the same
procedure, site and laterality; what is left is paired by procedure and finding type, then
by procedure alone (the first step only for a gold finding with a site: two findings
without one pair by type), then the same three steps by modality instead of procedure (a study the
gold leaves without procedure, e.g. an mIBG scan of unnamed isotope, still pairs with its
finding; the procedure field then counts as a disagreement) (greedy, in order;
``--strict-pairing``: procedure steps only, as before 2026-12-02). Per field (every Finding field except tracking_*):
a pair with equal non-null values is a true positive; a predicted non-null value that is not
the gold one is a false positive, a gold non-null value not predicted is a false negative;
unpaired predictions count all their fields as false positives, unpaired gold findings all
theirs as false negatives. ``present`` accuracy = gold findings whose pair has the gold
``present`` / all gold findings. Decoy false positives = findings predicted on decoys.

    python benchmarks/score_text.py                 # table + throughput
    python benchmarks/score_text.py --check         # exit 1 below target (F1 0.95, present 0.98)
    python benchmarks/score_text.py --show-errors   # list every disagreement
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

# Measure the checkout this script sits in, not whatever dicomtools is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dicomtools.model import Finding
from dicomtools.text import extract_findings

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "text_corpus"
FIELDS = tuple(f.name for f in fields(Finding) if not f.name.startswith("tracking"))
TARGET_F1, TARGET_PRESENT = 0.95, 0.98


@dataclass
class Snippet:
    name: str
    text: str
    gold: list[dict]


@dataclass
class Scores:
    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    present_ok: int = 0
    gold_findings: int = 0
    predicted_findings: int = 0
    decoys: int = 0
    decoy_fp: int = 0
    snippets: int = 0
    crashes: int = 0  # snippets on which the extractor raised (scored as no findings)
    errors: list[str] = field(default_factory=list)

    @staticmethod
    def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def field_prf(self, name: str) -> tuple[float, float, float]:
        return self.prf(self.tp[name], self.fp[name], self.fn[name])

    def overall(self) -> tuple[float, float, float]:
        return self.prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))

    def present_accuracy(self) -> float:
        return self.present_ok / self.gold_findings if self.gold_findings else 1.0


def load_corpus(folder: Path = DEFAULT_CORPUS) -> list[Snippet]:
    """Every snippet with its gold, in name order."""
    out = []
    for txt in sorted(Path(folder).glob("*.txt")):
        gold = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
        # the gold must itself be valid model data, and is compared in the model's own
        # spelling of its terms ("SUVbw" and "suvbw" are one concept)
        gold = [_plain(Finding.from_json({"present": True, **item})) for item in gold]
        out.append(Snippet(txt.stem, txt.read_text(encoding="utf-8"), gold))
    return out


def _plain(finding: Finding) -> dict:
    return {k: _bare(v) for k, v in finding.to_json().items()
            if k in FIELDS and (v not in (None, []) or k == "present")}


def _bare(value):
    """Measurements and evaluations without their empty keys (as gold files write them)."""
    if isinstance(value, list):
        return [{k: v for k, v in item.items() if v not in (None, [])} if isinstance(item, dict) else item
                for item in value]
    return value


STRICT_PAIRING = False


def _pairs(pred: list[dict], gold: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    pairs: list[tuple[dict, dict]] = []
    pred_left, gold_left = list(pred), list(gold)
    keys: tuple[tuple[str, ...], ...] = (("procedure", "site", "laterality"), ("procedure", "finding"),
                                         ("procedure",))
    if not STRICT_PAIRING:
        keys += (("modality", "site", "laterality"), ("modality", "finding"), ("modality",))
    for key in keys:
        for g in list(gold_left):
            if "site" in key and g.get("site") is None and not STRICT_PAIRING:
                continue  # a place pairs findings only where there is one (two unsited findings
                # of one study pair by their type, not by both having no site)
            match = next((p for p in pred_left if all(p.get(k) == g.get(k) for k in key)), None)
            if match is not None:
                pairs.append((match, g))
                pred_left.remove(match)
                gold_left.remove(g)
    return pairs, pred_left, gold_left


def extracted(snip: Snippet) -> list[Finding]:
    """The extractor's findings of a snippet (the default predictions)."""
    return [e.finding for e in extract_findings(snip.text)]


def score(corpus: list[Snippet], predict=extracted) -> Scores:
    """Scores of ``predict`` (snippet -> findings) against the gold of ``corpus``."""
    s = Scores()
    for snip in corpus:
        s.snippets += 1
        try:
            pred = [_plain(f) for f in predict(snip)]
        except Exception as exc:  # a crash is a wrong answer (no findings), counted and named
            s.crashes += 1
            s.errors.append(f"{snip.name}: extractor raised {type(exc).__name__}: {str(exc)[:120]}")
            pred = []
        s.predicted_findings += len(pred)
        s.gold_findings += len(snip.gold)
        if not snip.gold:
            s.decoys += 1
            s.decoy_fp += len(pred)
            for p in pred:
                s.errors.append(f"{snip.name}: decoy produced {p}")
        pairs, extra, missed = _pairs(pred, snip.gold)
        for p, g in pairs:
            if p.get("present") == g.get("present"):
                s.present_ok += 1
            for name in FIELDS:
                pv, gv = p.get(name), g.get(name)
                if pv == gv:  # "present" counts when both are null (equivocal)
                    if pv is not None or name == "present":
                        s.tp[name] += 1
                    continue
                if name == "present":
                    s.fp[name] += 1
                    s.fn[name] += 1
                    s.errors.append(f"{snip.name}: present: predicted {pv!r}, gold {gv!r}")
                    continue
                if pv is not None:
                    s.fp[name] += 1
                if gv is not None:
                    s.fn[name] += 1
                s.errors.append(f"{snip.name}: {name}: predicted {pv!r}, gold {gv!r}")
        for p in extra:
            for name in p:
                s.fp[name] += 1
            if snip.gold:
                s.errors.append(f"{snip.name}: extra finding {p}")
        for g in missed:
            for name in g:
                s.fn[name] += 1
            s.errors.append(f"{snip.name}: missed finding {g}")
    return s


def table(s: Scores) -> str:
    lines = [f"{'field':22} {'P':>6} {'R':>6} {'F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}"]
    for name in FIELDS:
        if s.tp[name] + s.fp[name] + s.fn[name] == 0:
            continue
        p, r, f1 = s.field_prf(name)
        lines.append(f"{name:22} {p:6.3f} {r:6.3f} {f1:6.3f} {s.tp[name]:5d} {s.fp[name]:4d} {s.fn[name]:4d}")
    p, r, f1 = s.overall()
    lines.append(f"{'ALL FIELDS (micro)':22} {p:6.3f} {r:6.3f} {f1:6.3f} {sum(s.tp.values()):5d} "
                 f"{sum(s.fp.values()):4d} {sum(s.fn.values()):4d}")
    lines.append(f"present accuracy: {s.present_accuracy():.3f} ({s.present_ok}/{s.gold_findings} gold findings)")
    lines.append(f"decoy false positives: {s.decoy_fp} finding(s) on {s.decoys} decoy snippets")
    lines.append(f"extractor errors: {s.crashes} snippet(s)")
    lines.append(f"snippets: {s.snippets}; gold findings: {s.gold_findings}; predicted: {s.predicted_findings}")
    return "\n".join(lines)


def throughput(corpus: list[Snippet], seconds: float = 2.0) -> tuple[float, int]:
    """Snippets per second of extract_findings on this process's one core."""
    extract_findings(corpus[0].text)  # warm-up: regex compilation, imports
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for snip in corpus:
            extract_findings(snip.text)
        done += len(corpus)
    return done / (time.perf_counter() - start), done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--check", action="store_true", help="exit 1 when below target")
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--strict-pairing", action="store_true",
                    help="pair findings by procedure only (the scorer before 2026-12-02)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget of the throughput run (0: skip)")
    args = ap.parse_args(argv)
    global STRICT_PAIRING
    STRICT_PAIRING = args.strict_pairing
    corpus = load_corpus(Path(args.corpus))
    s = score(corpus)
    print(table(s))
    if args.seconds > 0:
        rate, n = throughput(corpus, args.seconds)
        print(f"throughput: {rate:,.0f} snippets/s on one core ({n} extractions)")
    if args.show_errors:
        print("\n".join(s.errors) or "no disagreement")
    ok = s.overall()[2] >= TARGET_F1 and s.present_accuracy() >= TARGET_PRESENT
    if args.check and not ok:
        print(f"below target (field F1 >= {TARGET_F1}, present accuracy >= {TARGET_PRESENT})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
