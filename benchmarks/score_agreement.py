"""Agreement of two annotators on one batch, scored exactly as the extractor is scored.

    python benchmarks/score_agreement.py tests/text_blind/batch_535-574 /tmp/iaa_batch_535-574

The first folder's gold (``NNN_name.json`` beside each ``NNN_name.txt``) is the reference; the
second folder holds the second annotator's ``NNN_name.json`` for the same snippets, written
without seeing the first. The figures bound what any extractor can score against one
annotator's gold: disagreement between two careful people reading the same text.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score_text import Finding, load_corpus, score, table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reference", help="batch folder: snippets and the first annotator's gold")
    ap.add_argument("second", help="folder of the second annotator's NNN_name.json files")
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args(argv)
    corpus = load_corpus(Path(args.reference))
    second = Path(args.second)
    missing = [snip.name for snip in corpus if not (second / f"{snip.name}.json").is_file()]
    if missing:
        print(f"{second}: no annotation for {len(missing)} snippet(s), e.g. {missing[0]}", file=sys.stderr)
        return 2

    def annotated(snip):
        items = json.loads((second / f"{snip.name}.json").read_text(encoding="utf-8"))
        return [Finding.from_json({"present": True, **item}) for item in items]

    s = score(corpus, annotated)
    print(table(s))
    if args.show_errors:
        print("\n".join(s.errors) or "no disagreement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
