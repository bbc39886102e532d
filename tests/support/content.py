"""Which questionnaire the tests use, the profile they answer, and the translations.

Journey, routing and security tests run on the small fixture questionnaire
(tests/fixtures/questionnaires/mini/v1.yaml): `MINI` is the default of every app
built by tests/conftest.py. Tests about the shipped content ask for `SHIPPED`.

`translations_directory()` compiles the project's catalogs, plus the fixture's
questionnaire translations, into a temporary folder once per process: the tests
need no `make compile`, and the fixture's text never enters translations/.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MINI_DIRECTORY = FIXTURES / "questionnaires"
MINI_PATH = MINI_DIRECTORY / "mini" / "v1.yaml"

MINI = {"QUESTIONNAIRES_DIR": str(MINI_DIRECTORY), "QUESTIONNAIRE": "mini"}
SHIPPED = {
    "QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
    "QUESTIONNAIRE": "compromiso-migrante",
}

# An organisation answering the fixture questionnaire: a company of 80 with 12 foreign
# workers, so every legal question shows (and the art. 20 calculator).
MINI_PROFILE = {
    "p_tipo_organizacion": "empresa",
    "p_dotacion_total": "80",
    "p_dotacion_extranjera": "12",
    "p_sector": "comercio",
    "p_region": "metropolitana",
}
# A similar organisation answering the shipped questionnaire (reliability and
# browser tests, bench/): 13 foreign workers of 80 is more than 15 per cent, so the
# art. 20 question (and its calculator) is asked.
EMPRESA = {
    "p_tipo_organizacion": "empresa",
    "p_regimen_laboral": "codigo_trabajo",
    "p_dotacion_total": "80",
    "p_dotacion_extranjera": "13",
    "p_intermediarios": "si",
    "p_contratistas": "si",
    "p_atencion_publico": "si",
    "p_sector": "comercio",
    "p_region": "metropolitana",
}
PROFILES = {"mini": MINI_PROFILE, "compromiso-migrante": EMPRESA}


def profile_for(questionnaire_id: str) -> dict:
    """The profile form values the tests give for a questionnaire."""
    return PROFILES[questionnaire_id]


@cache
def translations_directory() -> str:
    """translations/ compiled (.po -> .mo), with the fixture questionnaire's catalogs
    merged into the `questionnaires` domain. Removed when the process ends."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = Path(tempfile.mkdtemp(prefix="test-translations-"))
    atexit.register(shutil.rmtree, target, True)
    for source in sorted((ROOT / "translations").glob("*/LC_MESSAGES/*.po")):
        relative = source.relative_to(ROOT / "translations")
        with source.open("rb") as handle:
            catalog = read_po(handle)
        extra = FIXTURES / "translations" / relative
        if extra.exists():
            with extra.open("rb") as handle:
                for message in read_po(handle):
                    if message.id:
                        catalog.add(message.id, message.string, context=message.context)
        output = target / relative.with_suffix(".mo")
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as handle:
            write_mo(handle, catalog)
    return str(target)
