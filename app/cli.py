"""Command-line interface: `flask --app wsgi questionnaire ...`, `translations ...`.

Exit codes: 0 success; 1 validation errors; 2 bad input, with a one-line
message and no traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask import current_app
from flask.cli import AppGroup

from . import questionnaires
from .assess.result_json import result_json
from .engine import AnswerError
from .engine import QuestionnaireError
from .engine import score
from .engine.checks import failed_checks
from .engine.export import export
from .engine.registry import publish
from .engine.registry import questionnaire_files
from .engine.registry import validate as validate_files
from .engine.scoring import normalize_all
from .i18n import content_for
from .i18n import content_languages

questionnaire_cli = AppGroup("questionnaire", help="List, check, export and score questionnaires.")


def init_app(app: Flask) -> None:
    from .catalogs import translations_cli
    from .demo import demo_command

    app.cli.add_command(questionnaire_cli)
    app.cli.add_command(translations_cli)
    app.cli.add_command(associations_cli)
    app.cli.add_command(assessments_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(demo_command)


def fail(message: str, code: int = 2):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def listing(questionnaire) -> dict:
    """One row of `questionnaire list --json` (and of the API's list)."""
    return {
        "id": questionnaire.id,
        "version": questionnaire.version,
        "languages": content_languages(questionnaire),
        "questions": len(questionnaire.questions),
    }


def find(questionnaire_id: str, version: int | None):
    questionnaire = questionnaires().get(questionnaire_id, version)
    if questionnaire is None:
        wanted = f"{questionnaire_id} version {version}" if version else questionnaire_id
        fail(f"unknown questionnaire {wanted}")
    return questionnaire


@questionnaire_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json):
    """List the loaded questionnaires and versions."""
    rows = [listing(q) for q in questionnaires()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(
            f"{row['id']}\tv{row['version']}\t{','.join(row['languages'])}\t"
            f"{row['questions']} questions"
        )


@questionnaire_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate_command(paths):
    """Check questionnaire files; print every mistake as file:line: field: message."""
    root = Path(current_app.config["QUESTIONNAIRES_DIR"])
    files = []
    for path in paths or [root]:
        if path.is_dir():
            files.extend(questionnaire_files(path))
        elif path.exists():
            files.append(path)
        else:
            click.echo(f"{path}:0: file: no such file")
            sys.exit(1)
    loaded, errors = validate_files(files, root)
    for error in errors:
        click.echo(str(error))
    if errors:
        sys.exit(1)
    click.echo(f"{len(loaded)} questionnaire file(s) valid", err=True)


@questionnaire_cli.command("export")
@click.argument("questionnaire_id")
@click.option("--version", "version", type=int, help="A version other than the newest.")
def export_command(questionnaire_id, version):
    """Print a questionnaire's structure as JSON."""
    questionnaire = find(questionnaire_id, version)
    data = export(questionnaire, content_languages(questionnaire))
    click.echo(json.dumps(data, ensure_ascii=False))


@questionnaire_cli.command("score")
@click.argument("questionnaire_id")
@click.argument("answers_file", type=click.Path(path_type=Path))
@click.option("--version", "version", type=int, help="A version other than the newest.")
@click.option("--lang", default=None, help="Language of the action texts.")
def score_command(questionnaire_id, answers_file, version, lang):
    """Score ANSWERS_FILE ({"profile": {...}, "answers": {...}}) and print JSON."""
    questionnaire = find(questionnaire_id, version)
    if lang is not None and lang not in current_app.config["LANGUAGES"]:
        fail(f"unknown language {lang!r}")
    try:
        data = json.loads(answers_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {answers_file}: {error.__class__.__name__}")
    except json.JSONDecodeError as error:
        fail(f"{answers_file} is not valid JSON (line {error.lineno})")
    if not isinstance(data, dict) or not set(data) <= {"profile", "answers"}:
        fail('the answers file must be {"profile": {...}, "answers": {...}}')
    profile, answers = data.get("profile", {}), data.get("answers", {})
    if not isinstance(profile, dict) or not isinstance(answers, dict):
        fail('"profile" and "answers" must be JSON objects')
    try:
        result = score(questionnaire, profile, answers)
    except AnswerError as error:
        fail(f"question {error.question_id}: {error.message}")
    lang = lang or questionnaire.language
    content = content_for(questionnaire, lang)
    values = normalize_all(questionnaire, profile, True) | normalize_all(
        questionnaire, answers, False
    )
    for check in failed_checks(questionnaire, values):
        fail(f"check {check.id} ({', '.join(check.questions)}): {content(check, 'message')}")
    click.echo(json.dumps(result_json(result, content, lang), ensure_ascii=False))


@questionnaire_cli.command("xlsform")
@click.argument("questionnaire_id")
@click.option("--version", "version", type=int, help="A version other than the newest.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .xlsx file to write.",
)
def xlsform_command(questionnaire_id, version, output):
    """Write a questionnaire as an XLSForm workbook for ODK Collect and KoboCollect."""
    from .offline.xlsform import XLSFormError
    from .offline.xlsform import xlsform

    questionnaire = find(questionnaire_id, version)
    try:
        workbook = xlsform(questionnaire, content_languages(questionnaire))
    except XLSFormError as error:
        fail(str(error))
    try:
        output.write_bytes(workbook)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
    click.echo(f"wrote {output} ({questionnaire.id} version {questionnaire.version})", err=True)


@questionnaire_cli.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def publish_command(path):
    """Record a version as published: from now on it must never change."""
    try:
        questionnaire = publish(path, Path(current_app.config["QUESTIONNAIRES_DIR"]))
    except QuestionnaireError as error:
        click.echo(str(error))
        sys.exit(1)
    click.echo(f"published {questionnaire.id} version {questionnaire.version}")


assessments_cli = AppGroup("assessments", help="Import assessments answered offline.")


def _open_campaign(code: str, questionnaire_id: str, version: int | None):
    """The open campaign of an invitation code, running this questionnaire (version)."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import Campaign

    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None:
        fail(f"unknown campaign {code}")
    if not campaign.is_open:
        fail(f"campaign {code} is closed: nothing joins a closed campaign")
    if campaign.questionnaire_id != questionnaire_id:
        fail(f"campaign {code} runs {campaign.questionnaire_id}, not {questionnaire_id}")
    if version not in (None, campaign.questionnaire_version):
        fail(f"campaign {code} runs version {campaign.questionnaire_version}")
    return campaign


@assessments_cli.command("import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--questionnaire", "questionnaire_id", required=True, help="Questionnaire id.")
@click.option("--version", "version", type=int, help="A version other than the newest.")
@click.option("--campaign", "code", help="The invitation code of a campaign to import into.")
@click.option("--lang", default=None, help="Language of the assessments and the messages.")
@click.option(
    "--links",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a CSV of the private links.",
)
@click.option(
    "--cards",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a PDF of printable result cards with QR codes.",
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the app is served, for the links (when BASE_URL is not set).",
)
def import_command(path, questionnaire_id, version, code, lang, links, cards, base_url):
    """Import FILE, the submissions KoboToolbox or ODK Central exported (CSV or JSON):
    each is validated as on the web, scored and stored as a submitted assessment. All
    or nothing; a submission imported before (same instanceID) is skipped."""
    from sqlalchemy.exc import IntegrityError

    from .extensions import db
    from .i18n import in_language
    from .offline import cards as output
    from .offline.odk_import import FileError
    from .offline.odk_import import import_file

    campaign = None
    if code is not None:
        campaign = _open_campaign(code, questionnaire_id, version)
        version = campaign.questionnaire_version
    questionnaire = find(questionnaire_id, version)
    lang = lang or questionnaire.language
    if lang not in current_app.config["LANGUAGES"]:
        fail(f"unknown language {lang!r}")
    try:
        data = path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    try:
        with in_language(lang):
            report = import_file(questionnaire, data, lang, campaign)
    except FileError as error:
        fail(f"{path}: {error}")
    for row in report.rows:
        where = f"row {row.number}" + (f" ({row.submission_id})" if row.submission_id else "")
        for name, message in row.errors:
            click.echo(f"{where}: {name}: {message}", err=True)
    if report.refused:
        db.session.rollback()
        click.echo(f"refused {len(report.refused)} submission(s): nothing imported", err=True)
        sys.exit(1)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        fail("another import stored some of these submissions meanwhile: run it again")
    with current_app.test_request_context("/", base_url=base_url):
        for target, write in ((links, output.links_csv), (cards, output.cards_pdf)):
            if target is not None and report.imported:
                written = write(report, questionnaire, lang)
                mode = "w" if isinstance(written, str) else "wb"
                with target.open(mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
                    f.write(written)
        for row in report.rows:
            state = "skipped: imported before" if row.duplicate else "imported"
            if row.token:  # the links go only to --links and --cards
                state += f"\t{row.result.overall}\t{row.result.level.id}"
            click.echo(f"{row.number}\t{row.submission_id}\t{row.label}\t{state}")
    click.echo(
        f"imported {len(report.imported)}, skipped {len(report.duplicates)} "
        f"imported before, refused 0",
        err=True,
    )


associations_cli = AppGroup("associations", help="Manage trade association accounts.")
users_cli = AppGroup("users", help="Manage programme staff accounts.")


def _new_user(email: str, password: str, **fields):
    from .accounts.auth import find_user
    from .accounts.auth import hash_password
    from .accounts.forms import MAX_PASSWORD
    from .accounts.forms import MIN_PASSWORD
    from .accounts.passwords import is_common
    from .models import User

    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        fail(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    association = fields.get("association")
    if is_common(password, [email, association.name if association else ""]):
        fail("the password is too common: choose a less common one (a few unrelated words)")
    if find_user(email) is not None:
        fail(f"an account with {email} already exists")
    return User(email=email.strip().lower(), password_hash=hash_password(password), **fields)


@associations_cli.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--password", required=True)
def create_association(name, email, password):
    """Create an association account, approved at once."""
    from .extensions import db
    from .models import Association
    from .models import utcnow

    association = Association(name=name.strip(), status="approved", approved_at=utcnow())
    db.session.add(_new_user(email, password, association=association))
    db.session.commit()
    click.echo(f"created association {association.id}: {association.name}")


@associations_cli.command("list")
def list_associations():
    """List associations with their status and e-mail."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import Association

    for association in db.session.scalars(sa.select(Association).order_by(Association.id)):
        emails = ",".join(u.email for u in association.users)
        click.echo(f"{association.id}\t{association.status}\t{association.name}\t{emails}")


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True)
def create_admin(email, password):
    """Create a programme staff account."""
    from .extensions import db

    user = _new_user(email, password, role="admin")
    db.session.add(user)
    db.session.commit()
    click.echo(f"created admin {user.email}")


data_cli = AppGroup("data", help="Data protection tasks.")


@data_cli.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="Days since the last change (default: RETENTION_DAYS).",
)
def purge(days):
    """Delete assessments not changed for DAYS days, with all their answers and results;
    expired password-reset links; and whatever a deleted association left behind.
    On SQLite, deleted rows are overwritten and the write-ahead log is emptied."""
    from datetime import timedelta

    from .config import is_sqlite
    from .database import truncate_sqlite_log
    from .extensions import db
    from .models import utcnow

    days = days or current_app.config["RETENTION_DAYS"]
    counts = purge_rows(utcnow() - timedelta(days=days))
    db.session.commit()
    click.echo(f"deleted {counts['old']} assessment(s) not changed for {days} days")
    click.echo(f"deleted {counts['resets']} password reset link(s), expired or of deleted accounts")
    click.echo(f"deleted {counts['campaigns']} campaign(s) of deleted associations")
    click.echo(f"deleted {counts['members']} assessment(s) of deleted campaigns")
    click.echo(f"deleted {counts['releases']} release(s) of deleted campaigns")
    click.echo(f"deleted {counts['accounts']} account(s) of deleted associations")
    if is_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"]):
        db.session.remove()
        if truncate_sqlite_log(db.engine):
            fail("the write-ahead log is in use and still holds deleted rows: run again", 1)
        click.echo("overwrote the deleted rows and emptied the write-ahead log")


def purge_rows(cutoff) -> dict[str, int]:
    """Delete, in the session's transaction, what `data purge` removes; count each kind."""
    from datetime import timedelta

    import sqlalchemy as sa

    from .accounts.auth import RESET_MAX_AGE
    from .extensions import db
    from .models import Assessment
    from .models import Association
    from .models import Campaign
    from .models import PasswordReset
    from .models import Release
    from .models import User
    from .models import utcnow

    def delete(model, *conditions) -> int:
        return db.session.execute(sa.delete(model).where(*conditions)).rowcount

    def missing(model, column) -> sa.ColumnElement:
        """`column` names a row of `model` that no longer exists."""
        return column.is_not(None) & ~sa.exists().where(model.id == column)

    counts = {}
    # Answers and results go with them (ON DELETE CASCADE); a later re-assessment
    # keeps its own data and loses only its link to the old one (ON DELETE SET NULL).
    counts["old"] = delete(Assessment, Assessment.updated_at < cutoff)
    # What an association deleted without foreign keys (the sqlite3 shell's default)
    # left behind. With them, its accounts, campaigns and releases went with it and its
    # members' assessments stayed, out of any campaign (docs/SECURITY.md T24).
    accounts = sa.select(User.id).where(missing(Association, User.association_id))
    campaigns = sa.select(Campaign.id).where(missing(Association, Campaign.association_id))
    counts["resets"] = delete(
        PasswordReset,
        (PasswordReset.created_at < utcnow() - timedelta(seconds=RESET_MAX_AGE))
        | PasswordReset.user_id.in_(accounts)
        | missing(User, PasswordReset.user_id),
    )
    counts["members"] = delete(
        Assessment,
        Assessment.campaign_id.in_(campaigns) | missing(Campaign, Assessment.campaign_id),
    )
    counts["releases"] = delete(
        Release, Release.campaign_id.in_(campaigns) | missing(Campaign, Release.campaign_id)
    )
    counts["campaigns"] = delete(Campaign, missing(Association, Campaign.association_id))
    counts["accounts"] = delete(User, missing(Association, User.association_id))
    return counts
