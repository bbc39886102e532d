"""What a re-assessment's results may compare with the earlier result: only what both
versions of the questionnaire measure the same way. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from .model import CHOICE_TYPES
from .model import Question
from .model import Questionnaire


@dataclass(frozen=True)
class Comparable:
    """An earlier result seen from a later version: the areas and commitments whose
    questions changed are left out, and the overall score once any area changed."""

    dimensions: dict
    commitments: dict
    overall: int | None


def comparable_result(earlier_result, later: Questionnaire) -> Comparable:
    earlier = earlier_result.questionnaire
    same = _same_questions(earlier, later)
    dimensions = {
        d.id: earlier_result.dimensions[d.id]
        for d in later.dimensions
        if not d.legal and d.id in earlier_result.dimensions and _same_area(d, earlier, same)
    }
    areas = [d for d in later.dimensions if not d.legal]
    all_areas = len(dimensions) == len(areas) == len([d for d in earlier.dimensions if not d.legal])
    commitments = {
        c.id: earlier_result.commitments[c.id]
        for c in later.commitments
        if c.id in earlier_result.commitments
        and earlier.commitment_thresholds == later.commitment_thresholds
        and _same_tagged(c.id, earlier, later, same)
    }
    return Comparable(dimensions, commitments, earlier_result.overall if all_areas else None)


def _sources(earlier: Questionnaire, later: Questionnaire) -> dict:
    """Each question of `later` -> (the question of `earlier` its answers come from,
    the renamed options as later value -> earlier value)."""
    replaces = (
        later.replaces if later.replaces and later.replaces.version == earlier.version else None
    )
    sources = {}
    for question in later.questions:
        rule = replaces.rule(question.id) if replaces else None
        source = earlier.fields.get(rule.source_id if rule else question.id)
        if source is not None and source.section == question.section:
            sources[question.id] = (
                source,
                {new: old for new, old, _ in rule.options} if rule else {},
            )
    return sources


def _same_questions(earlier: Questionnaire, later: Questionnaire) -> dict:
    """Questions of `later` scored exactly as a question of `earlier`: later id -> earlier id."""
    if (earlier.id, earlier.version, earlier.sha256) == (later.id, later.version, later.sha256):
        return {q.id: q.id for q in later.questions}
    return {
        qid: source.id
        for qid, (source, renamed) in _sources(earlier, later).items()
        if _scored_alike(later.fields[qid], source, renamed)
    }


def _scored_alike(question: Question, source: Question, renamed: dict) -> bool:
    shape = {question.type, source.type}
    if not (shape <= set(CHOICE_TYPES) or len(shape) == 1):
        return False
    alike = (question.weight, question.cap, question.allow_na, question.bands) == (
        source.weight, source.cap, source.allow_na, source.bands,
    )  # fmt: skip
    when = (question.when.source if question.when else None) == (
        source.when.source if source.when else None
    )
    points = {renamed.get(o.value, o.value): (o.points, o.exclusive) for o in question.options}
    earlier = {o.value: (o.points, o.exclusive) for o in source.options}
    return alike and when and points == earlier


def _same_area(dimension, earlier: Questionnaire, same: dict) -> bool:
    before = earlier.dimension_by_id.get(dimension.id)
    if before is None or before.weight != dimension.weight:
        return False
    mapped = [same.get(q.id) for q in dimension.questions]
    return None not in mapped and sorted(mapped) == sorted(q.id for q in before.questions)


def _same_tagged(commitment: str, earlier: Questionnaire, later: Questionnaire, same: dict) -> bool:
    now = [q.id for q in later.questions if commitment in q.commitments]
    before = sorted(q.id for q in earlier.questions if commitment in q.commitments)
    mapped = [same.get(qid) for qid in now]
    return None not in mapped and sorted(mapped) == before
