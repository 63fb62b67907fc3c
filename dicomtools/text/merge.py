"""Findings told twice are one: the case text and its figure caption describe one lesion,
an abstract restates the body. Bounded look-back, so merging stays linear."""

from __future__ import annotations

from .frames import LESIONS, Draft

# Findings a report usually has one of: told again without a place, they are the one before.
_SINGULAR = frozenset({"mass", "lesion", "neoplasm", "neuroblastoma", "ganglioneuroblastoma", "ganglioneuroma"})


def _compatible(a: Draft, b: Draft) -> bool:
    """May ``b`` (read later) be the same finding as ``a``?"""
    if a.procedure != b.procedure or a.present != b.present or b.other or a.case != b.case:
        return False
    if a.item is not None and b.item is not None and a.item != b.item:
        return False  # "Nodule 1: ..." and "Nodule 2: ...": two findings, whatever they share
    if a.study_level or b.study_level:
        same_kind = a.finding == b.finding
        return same_kind and a.values.get("site") == b.values.get("site")
    # a lesion told twice may be called a mass, then a tumour; "no nodules" (right lobe), then
    # "no mass" (isthmus) are two statements unless they say the same place the same way
    # ("no lesion or metastases": two statements, a metastasis is what is asked about)
    kinds_ok = a.finding == b.finding or ({a.finding, b.finding} <= LESIONS and (
        a.present is not False or (all(a.values.get(k) == b.values.get(k) for k in ("site", "laterality"))
                                   and "metastasis" not in (a.finding, b.finding))))
    if kinds_ok and a.panel and b.panel:
        # panels of one figure: the lesion in another view, unless they say another place
        return not _disagree(a, b, "site", "laterality")
    if not kinds_ok:
        return False
    sa, sb = a.values.get("site"), b.values.get("site")
    if _disagree(a, b, "laterality", "vertebral_levels"):
        return False  # two lesions at different levels ("L2" and "T11-T12") stay two findings
    if sa and sb and sa != sb:
        # "The mass arose in the paraspinal space": the same mass told again, with where it
        # arose; only a definite reference of the same kind of finding, said next
        return b.definite_ref and a.finding == b.finding and not b.values.get("laterality") \
            and b.present is True and a.present is True
    if sa and sb:
        return True
    # "A 5 cm mass in the left adrenal ... The mass/A heterogeneous mass shows ...": a lesion said
    # again with no place of its own, by the same test, is the one before it
    # (foci of uptake, metastases, nodes and nodules come several at a time: not these)
    return sb is None and (b.definite_ref or (a.present is True and b.present is True and sa is not None
                                              and a.finding == b.finding and a.finding in _SINGULAR))


def _restates(body: Draft, summary: Draft) -> bool:
    """Is an abstract's finding the body's finding told again (its state may be summarised
    differently: "inconclusive" in the abstract, "negative" in the case text)?"""
    if body.procedure != summary.procedure:
        return False
    if body.finding != summary.finding and not {body.finding, summary.finding} <= LESIONS:
        return False
    return not _disagree(body, summary, "site", "laterality", "vertebral_levels")


def _disagree(a: Draft, b: Draft, *keys: str) -> bool:
    """Do two drafts both state one of ``keys`` and state it differently?"""
    for key in keys:
        va, vb = a.values.get(key), b.values.get(key)
        if va and vb and va != vb:
            return True
    return False


def _absorb_summary(drafts: list[Draft]) -> list[Draft]:
    """Merged findings; an abstract's finding that the body reports again is dropped into the
    body's finding (the body is the full report and wins where they disagree)."""
    body = _merge([d for d in drafts if not d.summary])
    kept: list[Draft] = []
    for draft in (d for d in drafts if d.summary):
        target = next((d for d in body if _restates(d, draft)), None)
        if target is None:
            kept.append(draft)
        else:
            target.evidence.extend(e for e in draft.evidence if e not in target.evidence)
    merged = _merge(kept) + body
    merged.sort(key=lambda d: d.evidence[0].start)
    return merged


def _merge(drafts: list[Draft]) -> list[Draft]:
    """One finding per lesion: the case text and its figure caption describe it twice."""
    out: list[Draft] = []
    for draft in drafts:
        # the same lesion is told again within a few findings; a bounded look-back keeps
        # the merge linear on junk input
        target = next((d for d in reversed(out[-50:]) if _compatible(d, draft)), None)
        if target is None:
            out.append(draft)
            continue
        for key, value in draft.values.items():
            target.fill(key, value)
        target.enhanced |= draft.enhanced
        target.tracer = target.tracer or draft.tracer
        target.evidence.extend(e for e in draft.evidence if e not in target.evidence)
        if target.study_level and not draft.study_level:
            target.study_level = False
    return out
