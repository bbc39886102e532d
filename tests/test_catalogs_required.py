"""Without the compiled catalog of a configured language, the web server refuses to
start and names the file, instead of serving Creole pages in English and Spanish."""

from __future__ import annotations

import shutil

import click
import pytest

from app.config import ConfigError
from tests.support.content import translations_directory


def test_the_web_server_refuses_to_start_without_a_compiled_catalog(tmp_path, make_app):
    copy = tmp_path / "translations"
    shutil.copytree(translations_directory(), copy)
    (copy / "ht" / "LC_MESSAGES" / "messages.mo").unlink()
    with pytest.raises(ConfigError, match=r"ht/LC_MESSAGES/messages\.mo"):
        make_app(TRANSLATIONS_DIR=str(copy))


def test_a_flask_command_starts_and_warns(tmp_path, make_app, caplog):
    copy = tmp_path / "translations"
    shutil.copytree(translations_directory(), copy)
    (copy / "en" / "LC_MESSAGES" / "questionnaires.mo").unlink()
    with click.Context(click.Command("translations")):  # as under `flask translations`
        make_app(TRANSLATIONS_DIR=str(copy))
    assert "en/LC_MESSAGES/questionnaires.mo" in caplog.text
