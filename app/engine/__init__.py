"""The questionnaire engine: pure Python, no Flask, no SQLAlchemy.

YAML -> model (loader) -> score(questionnaire, profile, answers) -> Result.
"""

from .loader import LoadError
from .loader import QuestionnaireError
from .loader import Registry
from .loader import load_directory
from .loader import load_file
from .loader import load_text
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
