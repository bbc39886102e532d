"""The machine-readable view of a questionnaire (`questionnaire export`)."""

from __future__ import annotations

from .model import Question
from .model import Questionnaire
from .model import plain_number


def _options(question: Question) -> list:
    return [o.value for o in question.options]


def export(questionnaire: Questionnaire, languages: list[str]) -> dict:
    return {
        "id": questionnaire.id,
        "version": questionnaire.version,
        "languages": languages,
        "profile": [
            {"id": f.id, "type": f.type, "options": _options(f)} for f in questionnaire.profile
        ],
        "dimensions": [
            {
                "id": dimension.id,
                "weight": plain_number(dimension.weight),
                "questions": [
                    {
                        "id": q.id,
                        "type": q.type,
                        "knockout": q.knockout,
                        "when": q.when.source if q.when else None,
                        "allow_na": q.allow_na,
                        "options": [
                            {"value": o.value, "points": plain_number(o.points)} for o in q.options
                        ],
                        "max_points": plain_number(q.max_points),
                        "best": q.best_answer(),
                        "worst": q.worst_answer(),
                    }
                    for q in dimension.questions
                ],
            }
            for dimension in questionnaire.dimensions
        ],
        "levels": [
            {"id": level.id, "min": plain_number(level.min)} for level in questionnaire.levels
        ],
    }
