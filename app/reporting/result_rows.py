"""The figures of one submitted result, as rows that aggregates can GROUP BY."""

from __future__ import annotations

SIZE_BANDS = ((200, "200+"), (50, "50-199"), (10, "10-49"), (1, "1-9"), (0, "0"))


def result_rows(assessment_id: int, result, profile: dict) -> list[dict]:
    """The figures of a result as ResultItem rows."""
    row = {"assessment_id": assessment_id, "value": None, "status": None}
    rows = [row | {"kind": "overall", "key": "", "value": result.overall}]
    rows.append(row | {"kind": "level", "key": result.level.id})
    rows += [
        row | {"kind": "dimension", "key": d, "value": s.score}
        for d, s in result.dimensions.items()
        if s.score is not None and not result.questionnaire.dimension_by_id[d].legal
    ]
    rows += [
        row | {"kind": "commitment", "key": c, "status": r.status}
        for c, r in result.commitments.items()
    ]
    rows += [row | {"kind": "knockout", "key": q} for q in result.knockouts_failed]
    rows += [row | {"kind": "action", "key": a.action.id} for a in result.actions]
    rows += [row | {"kind": "profile", "key": k, "status": v} for k, v in profile_groups(profile)]
    return rows


def profile_groups(profile: dict):
    """(field, group) pairs for national overviews: choices as they are, numbers by
    the size bands of Código del Trabajo art. 505 bis."""
    for field_id, value in sorted(profile.items()):
        if isinstance(value, str) and len(value) <= 64:
            yield field_id, value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield field_id, next(label for floor, label in SIZE_BANDS if value >= floor)
