"""Which passwords are too easy to guess: zxcvbn's estimate and its common-password list
(ASVS 6.2.4, 6.2.12). The length rule stays in forms.py (MIN_PASSWORD, MAX_PASSWORD);
the registration and new-password forms and the CLI that creates accounts all ask here."""

from __future__ import annotations

import threading

from zxcvbn import matching
from zxcvbn import zxcvbn

MIN_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable" for an online attack
# Words anyone attacking this site would try first.
SITE_WORDS = ("compromiso", "migrante", "sermig", "gremio", "asociacion", "autodiagnostico")
# zxcvbn keeps the user's words in a module-level dictionary while it scores:
# one estimate at a time, or two threads would see each other's words.
_lock = threading.Lock()


def is_common(password: str, user_inputs: tuple[str, ...] | list[str] = ()) -> bool:
    """True when the password is in zxcvbn's common-password list, or when zxcvbn
    scores it below MIN_SCORE (the user's own e-mail and name count as known words)."""
    if password.lower() in matching.RANKED_DICTIONARIES["passwords"]:
        return True
    words = [w for w in user_inputs if w] + list(SITE_WORDS)
    for value in user_inputs:  # "gremio.norte@example.cl": "gremio.norte", "gremio", "norte"
        local = (value or "").split("@")[0]
        words += [local, *local.replace("-", ".").replace("_", ".").split(".")]
    with _lock:
        result = zxcvbn(password, user_inputs=words, max_length=max(len(password), 72))
    return result["score"] < MIN_SCORE
