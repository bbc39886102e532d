"""Helpers shared by the test suite (and bench/): the questionnaire content the tests
use, a reader for HTML pages and forms, the visitor client and account helpers.

Nothing here imports the app at import time except `visitor` and `accounts`."""
