"""`flask --app wsgi translations update|check`: the gettext catalogs.

Two domains: `messages` (UI strings, English source) and `questionnaires`
(questionnaire text, Spanish source, one msgctxt per item). Every shipped
language except a domain's source language needs a complete catalog.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask import current_app
from flask.cli import AppGroup

from .config import PROJECT_ROOT

translations_cli = AppGroup("translations", help="Extract, update and check translations.")

DOMAINS = {"messages": ("en", "app"), "questionnaires": ("es", "questionnaires")}
EXTRACT_FLAGS = [
    "--no-wrap",
    "--omit-header",
    "--add-comments=Translators:",
    "--project=autodiagnostico",
    "--keyword=_l",
    "--keyword=lazy_gettext",
]
# Locations help a translator find a question in the YAML; for the UI they
# only make diffs noisy.
DOMAIN_FLAGS = {
    "messages": ["--sort-output", "--no-location"],
    "questionnaires": ["--sort-by-file"],
}
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")
TAG = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9-]*)")
KEEP = "keep"  # a translator comment "keep: <reason>" allows a copy of the source


def _run_babel(*args: str) -> None:
    status = CommandLineInterface().run(["pybabel", "--quiet", *args])
    if status:
        raise click.ClickException(f"pybabel {args[0]} failed")


def extract(domain: str, output: Path) -> None:
    _, sources = DOMAINS[domain]
    output = Path(output).resolve()
    # pybabel writes each location as the path it was given joined with the file's
    # path below it: run from the project root with a relative path, so catalogs say
    # `questionnaires/<id>/v1.yaml:123` on every machine.
    with contextlib.chdir(PROJECT_ROOT):
        _run_babel(
            "extract",
            "-F",
            "pyproject.toml",
            *EXTRACT_FLAGS,
            *DOMAIN_FLAGS[domain],
            "-o",
            str(output),
            sources,
        )


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=False)


def _key(message) -> tuple:
    return (message.context, message.id)


@dataclass
class Report:
    lang: str
    domain: str
    translated: int = 0
    missing: int = 0
    fuzzy: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.fuzzy or self.stale or self.problems)


def _strings(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def _translations(message) -> list[str]:
    if isinstance(message.string, tuple | list):
        return list(message.string)
    return [message.string]


def _is_kept(message) -> bool:
    return any(c.strip().lower().startswith(KEEP) for c in message.user_comments)


def check_catalog(lang: str, domain: str, template, catalog) -> Report:
    report = Report(lang, domain)
    wanted = {_key(m): m for m in template if m.id}
    present = {_key(m): m for m in catalog if m.id}
    contexts = {m.context for m in wanted.values() if m.context}
    for key in wanted:
        message = present.get(key)
        if message is None or not all(_translations(message)):
            report.missing += 1
            continue
        if message.fuzzy:
            report.fuzzy += 1
            continue
        report.translated += 1
        report.problems += _message_problems(message, domain)
    for key, message in present.items():
        # A translation whose context still exists but whose source text changed.
        if key not in wanted and (message.context in contexts or not message.context):
            report.stale += 1
    report.stale += len(catalog.obsolete)
    return report


def _message_problems(message, domain) -> list[str]:
    problems = []
    label = f"{message.context + ': ' if message.context else ''}{_strings(message)[0][:60]!r}"
    source_text = " ".join(_strings(message))
    source_placeholders = sorted(set(PLACEHOLDER.findall(source_text)))
    source_tags = {t.lower() for t in TAG.findall(source_text)}
    for text in _translations(message):
        if sorted(set(PLACEHOLDER.findall(text))) != source_placeholders:
            problems.append(f"{label}: placeholders differ from the source")
        extra = {t.lower() for t in TAG.findall(text)} - source_tags
        if extra:
            problems.append(f"{label}: HTML tags not in the source: {', '.join(sorted(extra))}")
        if text.strip() == _strings(message)[0].strip() and not _is_kept(message):
            problems.append(f"{label}: the translation is a copy of the source")
    return problems


def catalog_path(lang: str, domain: str) -> Path:
    return Path(current_app.config["TRANSLATIONS_DIR"]) / lang / "LC_MESSAGES" / f"{domain}.po"


def check_all() -> list[Report]:
    reports = []
    with tempfile.TemporaryDirectory() as directory:
        for domain, (source_language, _) in DOMAINS.items():
            pot = Path(directory) / f"{domain}.pot"
            extract(domain, pot)
            template = _read(pot)
            for lang in current_app.config["LANGUAGES"]:
                if lang == source_language:
                    continue
                path = catalog_path(lang, domain)
                if not path.exists():
                    report = Report(lang, domain, missing=len([m for m in template if m.id]))
                    report.problems.append(f"{path} does not exist")
                else:
                    report = check_catalog(lang, domain, template, _read(path))
                reports.append(report)
    return reports


@translations_cli.command("check")
def check_command():
    """Count translated, missing, fuzzy and stale entries; exit 1 on any gap."""
    reports = check_all()
    click.echo(
        f"{'lang':5} {'domain':15} {'translated':>10} {'missing':>8} {'fuzzy':>6} {'stale':>6}"
    )
    for r in reports:
        click.echo(
            f"{r.lang:5} {r.domain:15} {r.translated:>10} {r.missing:>8} {r.fuzzy:>6} {r.stale:>6}"
        )
    for report in reports:
        for problem in report.problems:
            click.echo(f"{report.lang}/{report.domain}: {problem}")
    if not all(report.ok for report in reports):
        click.echo("translations incomplete: run `make translations`, then translate", err=True)
        sys.exit(1)


@translations_cli.command("update")
def update_command():
    """Re-extract every string and merge it into each language's catalogs."""
    directory = Path(current_app.config["TRANSLATIONS_DIR"])
    for domain, (source_language, _) in DOMAINS.items():
        pot = directory / f"{domain}.pot"
        extract(domain, pot)
        for lang in current_app.config["LANGUAGES"]:
            if lang == source_language:
                continue
            common = ["-D", domain, "-l", lang, "-i", str(pot), "-d", str(directory), "--no-wrap"]
            if catalog_path(lang, domain).exists():
                # Keep each catalog's header date, so an update with nothing new is no diff.
                flags = ["--no-fuzzy-matching", "--ignore-obsolete", "--ignore-pot-creation-date"]
                _run_babel("update", *common, *flags)
            else:
                _run_babel("init", *common)
        click.echo(f"updated {domain}")
