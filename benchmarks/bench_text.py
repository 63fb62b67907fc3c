"""Throughput of the free-text extractor on one core: snippets per second of CPU time.

Runs ``extract_findings`` over every snippet of the given corpora (default: the tuned corpus
tests/text_corpus and the two development batches of tests/text_blind) for a time budget,
and reports snippets/s and characters/s measured with the process's CPU time
(``time.process_time``), so other work on a shared machine does not lower the figure. Also
checks that time stays linear in the input: one long report made of many snippets must cost
about the sum of its parts.

    python benchmarks/bench_text.py                  # target: >= 500 snippets/s
    python benchmarks/bench_text.py --seconds 5 tests/text_corpus
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout, not an installed dicomtools
from dicomtools.text import extract_findings  # noqa: E402

DEFAULT = (ROOT / "tests" / "text_corpus", ROOT / "tests" / "text_blind" / "batch_175-214",
           ROOT / "tests" / "text_blind" / "batch_215-254")
TARGET = 500.0


def load(folders: list[Path]) -> list[str]:
    """The text of every snippet (``*.txt``) of the folders, in name order."""
    return [p.read_text(encoding="utf-8") for f in folders for p in sorted(f.glob("*.txt"))]


def rate(texts: list[str], seconds: float) -> tuple[float, float, int]:
    """(snippets/s, characters/s, extractions) of CPU time over at least ``seconds``."""
    extract_findings(texts[0])  # warm-up: compiled patterns and generated tables
    done = chars = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for text in texts:
            extract_findings(text)
            chars += len(text)
        done += len(texts)
    spent = time.process_time() - start
    return done / spent, chars / spent, done


def linearity(texts: list[str], copies: int = 1) -> float:
    """CPU time of one report of ``copies`` x all snippets / (``copies`` x time of the parts);
    about 1 when time is linear (kept under the findings cap, extract.MAX_FINDINGS)."""
    parts_start = time.process_time()
    for text in texts:
        extract_findings(text)
    parts = time.process_time() - parts_start
    long = "\n\n".join(texts * copies)
    start = time.process_time()
    extract_findings(long, max_chars=len(long))
    return (time.process_time() - start) / (copies * parts) if parts else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpora", nargs="*", type=Path, help="folders of *.txt snippets")
    ap.add_argument("--seconds", type=float, default=3.0, help="CPU-time budget")
    ap.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET:.0f} snippets/s")
    args = ap.parse_args(argv)
    texts = load(args.corpora or [p for p in DEFAULT if p.is_dir()])
    if not texts:
        print("no snippets found")
        return 1
    per_s, chars_s, n = rate(texts, args.seconds)
    ratio = linearity(texts)
    print(f"snippets: {len(texts)} ({sum(map(len, texts)):,} characters)")
    print(f"throughput: {per_s:,.0f} snippets/s, {chars_s / 1000:,.0f} k characters/s on one core "
          f"(CPU time, {n} extractions)")
    print(f"linearity: one report of all snippets costs {ratio:.2f} x the sum of its parts")
    if args.check and per_s < TARGET:
        print(f"below target ({TARGET:.0f} snippets/s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
