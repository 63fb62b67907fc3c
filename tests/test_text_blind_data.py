"""The blind batches are well-formed data: every snippet has its gold, the gold is valid model
data, each batch cites its sources and keeps a decoy share, and no snippet is in two batches."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLIND = ROOT / "tests" / "text_blind"
BATCHES = sorted(p for p in BLIND.glob("batch_*") if p.is_dir())


def _scorer():
    spec = importlib.util.spec_from_file_location("score_text", ROOT / "benchmarks" / "score_text.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("score_text", module)
    spec.loader.exec_module(module)
    return module


def test_there_are_many_blind_batches():
    assert len(BATCHES) >= 15
    assert sum(len(list(b.glob("*.txt"))) for b in BATCHES) >= 600


@pytest.mark.parametrize("batch", BATCHES, ids=lambda p: p.name)
def test_a_batch_is_well_formed(batch):
    texts = {p.stem for p in batch.glob("*.txt")}
    golds = {p.stem for p in batch.glob("*.json")}
    assert texts == golds, texts ^ golds
    corpus = _scorer().load_corpus(batch)  # raises on gold that is not valid model data
    assert len(corpus) == len(texts)
    assert any(not s.gold for s in corpus), "a batch keeps decoys"
    sources = (batch / "SOURCES.md").read_text(encoding="utf-8")
    assert "http" in sources and "Gold decisions" in sources


def test_no_snippet_text_is_in_two_batches():
    seen: dict[str, str] = {}
    for batch in BATCHES:
        for txt in batch.glob("*.txt"):
            body = " ".join(txt.read_text(encoding="utf-8").split())
            assert body not in seen, f"{txt.name} repeats {seen[body]}"
            seen[body] = txt.name
