"""The questionnaire engine: pure Python, no Flask, no SQLAlchemy.

YAML -> model (loader) -> score(questionnaire, profile, answers) -> Result.
A directory of files -> Registry of versions (registry).
"""

from .errors import LoadError
from .errors import QuestionnaireError
from .loader import load_file
from .loader import load_text
from .registry import Registry
from .registry import load_directory
from .scoring import AnswerError
from .scoring import Result
from .scoring import score

__all__ = [
    "AnswerError",
    "LoadError",
    "QuestionnaireError",
    "Registry",
    "Result",
    "load_directory",
    "load_file",
    "load_text",
    "score",
]
