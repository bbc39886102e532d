"""`flask --app wsgi demo`: a demo trade association with six completed members.

A newcomer who logs in as the demo association sees a campaign whose dashboard
already shows aggregates (they appear at five completed members). Members are
built through the same code paths as the web journey (`Assessment.start`,
`store.save_changes`, `score`, `store.submit`), with answers drawn from the
questionnaire model by a seeded random generator: every run makes the same demo.
Running it again adds nothing.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from fractions import Fraction

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from . import questionnaires
from .engine import score
from .engine.journey import Journey
from .engine.model import DONT_KNOW
from .engine.model import NO
from .engine.model import NOT_APPLICABLE
from .engine.model import YES
from .engine.scoring import AnswerError
from .engine.scoring import normalize

ASSOCIATION_NAME = "Gremio de Demostración"
EMAIL = "demo@example.cl"
CAMPAIGN_NAME = "Campaña de demostración"
CAMPAIGN_MESSAGE = (
    "Estimados socios: esta es una campaña de demostración con respuestas inventadas."
)
SEED = 2026


@dataclass(frozen=True)
class Member:
    name: str
    share_named: bool  # False: "totals only", never a row on the dashboard
    language: str
    maturity: float  # 0..1: how far along its practices are; drives the answers
    profile: dict  # realistic values for fields the questionnaire has (others are drawn)
    answers: dict = dataclass_field(default_factory=dict)  # fixed answers, e.g. the Carta


# Fictitious organisations: varied sizes, sectors, regions and progress.
MEMBERS = (
    Member(
        "Agrícola Valle del Elqui SpA",
        True,
        "es",
        0.8,
        {
            "p_tipo_organizacion": "empresa",
            "p_regimen_laboral": "codigo_trabajo",
            "p_dotacion_total": 140,
            "p_dotacion_extranjera": 38,
            "p_nacionalidades": ["venezuela", "peru", "bolivia"],
            "p_intermediarios": "si",
            "p_contratistas": "si",
            "p_atencion_publico": "no",
            "p_sector": "agricultura_pesca",
            "p_region": "coquimbo",
        },
        answers={"legal_carta_compromiso": "si"},
    ),
    Member(
        "Constructora Cordillera Ltda.",
        True,
        "es",
        0.55,
        {
            "p_tipo_organizacion": "empresa",
            "p_regimen_laboral": "codigo_trabajo",
            "p_dotacion_total": 320,
            "p_dotacion_extranjera": 64,
            "p_nacionalidades": ["venezuela", "haiti", "colombia"],
            "p_intermediarios": "no",
            "p_contratistas": "si",
            "p_atencion_publico": "no",
            "p_sector": "construccion",
            "p_region": "metropolitana",
        },
        answers={"legal_carta_compromiso": "en_proceso"},
    ),
    Member(
        "Panadería La Espiga",
        False,
        "es",
        0.2,
        {
            "p_tipo_organizacion": "empresa",
            "p_regimen_laboral": "codigo_trabajo",
            "p_dotacion_total": 18,
            "p_dotacion_extranjera": 4,
            "p_nacionalidades": ["peru"],
            "p_intermediarios": "no",
            "p_contratistas": "no",
            "p_atencion_publico": "si",
            "p_sector": "manufactura",
            "p_region": "valparaiso",
        },
        answers={"legal_carta_compromiso": "no"},
    ),
    Member(
        "Transportes del Biobío S.A.",
        False,
        "es",
        0.4,
        {
            "p_tipo_organizacion": "empresa",
            "p_regimen_laboral": "codigo_trabajo",
            "p_dotacion_total": 75,
            "p_dotacion_extranjera": 9,
            "p_nacionalidades": ["venezuela", "colombia"],
            "p_intermediarios": "si",
            "p_contratistas": "no",
            "p_atencion_publico": "si",
            "p_sector": "transporte",
            "p_region": "biobio",
        },
        answers={"legal_carta_compromiso": "no"},
    ),
    Member(
        "Hotel Puerto Austral",
        True,
        "ht",
        0.9,
        {
            "p_tipo_organizacion": "empresa",
            "p_regimen_laboral": "codigo_trabajo",
            "p_dotacion_total": 45,
            "p_dotacion_extranjera": 14,
            "p_nacionalidades": ["haiti", "venezuela"],
            "p_intermediarios": "no",
            "p_contratistas": "no",
            "p_atencion_publico": "si",
            "p_sector": "alojamiento_comida",
            "p_region": "magallanes",
        },
        answers={"legal_carta_compromiso": "si"},
    ),
    Member(
        "Servicios de Aseo Norte Grande",
        False,
        "es",
        0.6,
        {
            "p_tipo_organizacion": "empresa",
            "p_regimen_laboral": "codigo_trabajo",
            "p_dotacion_total": 210,
            "p_dotacion_extranjera": 92,
            "p_nacionalidades": ["bolivia", "peru", "colombia", "otra"],
            "p_intermediarios": "no",
            "p_contratistas": "si",
            "p_atencion_publico": "si",
            "p_sector": "servicios_empresas",
            "p_region": "antofagasta",
        },
        answers={"legal_carta_compromiso": "en_proceso"},
    ),
)


# --- Answers drawn from the questionnaire model ------------------------------


def _number(question, rng: random.Random, maturity: float):
    low = question.min if question.min is not None else Fraction(0)
    if question.bands:  # where a band starts: a higher band for a more mature member
        bands = sorted(question.bands, key=lambda band: band.min)
        index = round(maturity * (len(bands) - 1) + rng.uniform(-0.5, 0.5))
        value = max(bands[min(len(bands) - 1, max(0, index))].min, low)
    else:
        value = low + rng.randint(0, 100)
    if question.max is not None:
        value = min(value, question.max)
    return int(value) if value == int(value) else float(value)


def draw_answer(question, rng: random.Random, maturity: float):
    """A valid answer to one question: better answers the more mature the member."""
    if question.knockout and (maturity >= 0.5 or rng.random() < 0.75):
        return question.best_answer()  # most members meet the legal baseline
    if question.dont_know and rng.random() < 0.06 * (1.5 - maturity):
        return DONT_KNOW
    if question.allow_na and rng.random() < 0.05:
        return NOT_APPLICABLE
    if question.type == "yesno":
        return YES if rng.random() < maturity else NO
    if question.type in ("single", "scale"):
        if len({option.points for option in question.options}) == 1:  # e.g. a profile field
            return rng.choice(question.options).value
        options = sorted(question.options, key=lambda option: option.points)
        spread = rng.gauss(maturity * (len(options) - 1), 0.8)
        return options[min(len(options) - 1, max(0, round(spread)))].value
    if question.type == "multiple":
        chosen = [o.value for o in question.options if not o.exclusive and rng.random() < maturity]
        if chosen:
            return chosen
        exclusive = [o.value for o in question.options if o.exclusive]
        return exclusive[:1] or [rng.choice(question.options).value]
    if question.type == "number":
        return _number(question, rng, maturity)
    return "" if not question.required else "Respuesta de demostración."


def member_values(questionnaire, member: Member, rng: random.Random) -> tuple[dict, dict]:
    """(profile, answers) of one member, only for the fields and questions it is shown."""
    profile = {}
    for field in questionnaire.profile:
        value = member.profile.get(field.id)
        try:
            profile[field.id] = normalize(field, value) if value is not None else None
        except AnswerError:  # another questionnaire: draw a value instead
            profile[field.id] = None
        if profile[field.id] is None:
            profile[field.id] = normalize(field, draw_answer(field, rng, member.maturity))
    profile = {k: v for k, v in profile.items() if v != ""}
    answers = {}
    for question in questionnaire.questions:
        value = draw_answer(question, rng, member.maturity)
        if question.id in member.answers:  # drawn all the same: the other draws stay put
            try:
                value = normalize(question, member.answers[question.id])
            except AnswerError:  # another questionnaire: keep the drawn answer
                pass
        if value != "":
            answers[question.id] = normalize(question, value)
    # Conditions only read earlier answers, and the walk ignores hidden ones: one
    # journey over every drawn answer says which of them the member would have seen.
    journey = Journey(questionnaire, profile, answers)
    shown = journey.shown_profile_values()
    return shown, {k: v for k, v in answers.items() if journey.visible(questionnaire.fields[k])}


# --- The command --------------------------------------------------------------


def _association_user():
    from .accounts.auth import find_user

    user = find_user(EMAIL)
    if user is not None and (user.association is None or user.association.name != ASSOCIATION_NAME):
        raise click.ClickException(f"{EMAIL} belongs to an account that is not the demo's")
    return user


def _campaign(association, questionnaire):
    from .extensions import db
    from .models import Campaign

    campaign = db.session.scalar(
        sa.select(Campaign).where(
            Campaign.association_id == association.id, Campaign.name == CAMPAIGN_NAME
        )
    )
    if campaign is None:
        campaign = Campaign(
            association=association,
            name=CAMPAIGN_NAME,
            code=Campaign.new_code(),
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            message=CAMPAIGN_MESSAGE,
        )
        db.session.add(campaign)
        db.session.flush()
    return campaign


def _add_member(campaign, questionnaire, member: Member, rng: random.Random) -> bool:
    """Submit one member's assessment unless the campaign already has it."""
    from .assess import store
    from .extensions import db
    from .models import Assessment

    profile, answers = member_values(questionnaire, member, rng)
    exists = db.session.scalar(
        sa.select(Assessment.id).where(
            Assessment.campaign_id == campaign.id, Assessment.member_name == member.name
        )
    )
    if exists is not None:
        return False
    assessment, _token = Assessment.start(
        questionnaire,
        member.language,
        campaign_id=campaign.id,
        member_name=member.name,
        share_named=member.share_named,
    )
    db.session.add(assessment)
    db.session.flush()
    store.save_changes(db.session.connection(), assessment.id, {**profile, **answers})
    result = score(questionnaire, profile, answers)
    store.submit(assessment, result, profile)
    return True


@click.command("demo")
@with_appcontext
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the app is served, for the printed links.",
)
@click.option("--new-password", is_flag=True, help="Give the demo account a new password.")
def demo_command(base_url, new_password):
    """Create a demo trade association, a campaign and six completed members (once)."""
    from .accounts.auth import hash_password
    from .extensions import db
    from .models import Association
    from .models import User
    from .models import utcnow

    questionnaire_id = current_app.config["QUESTIONNAIRE"]
    questionnaire = questionnaires().get(questionnaire_id)
    if questionnaire is None:
        raise click.ClickException(f"unknown questionnaire {questionnaire_id}")

    password = None
    user = _association_user()
    if user is None:
        password = secrets.token_urlsafe(12)
        association = Association(name=ASSOCIATION_NAME, status="approved", approved_at=utcnow())
        user = User(email=EMAIL, password_hash=hash_password(password), association=association)
        db.session.add(user)
        db.session.flush()
    elif new_password:
        password = secrets.token_urlsafe(12)
        user.password_hash = hash_password(password)
        user.session_epoch += 1  # like a password change: older sessions end
    association = user.association

    campaign = _campaign(association, questionnaire)
    # Not for secrets: one seeded generator for all members makes the same demo every run.
    rng = random.Random(SEED)  # noqa: S311
    added = sum(_add_member(campaign, questionnaire, m, rng) for m in MEMBERS)
    db.session.commit()

    base = base_url.rstrip("/")
    click.echo(f"Demo trade association: {association.name}")
    click.echo(
        f"Campaign: {campaign.name} ({questionnaire.id} v{campaign.questionnaire_version}), "
        f"{added} member(s) added now, {len(MEMBERS)} in the demo"
    )
    click.echo(f"  log in at  {base}/es/associations/login")
    click.echo(f"  e-mail     {EMAIL}")
    if password:
        click.echo(f"  password   {password}   (shown this once; --new-password makes another)")
    else:
        click.echo("  password   printed when the demo was created (--new-password: a new one)")
    click.echo(f"  dashboard  {base}/es/associations/campaigns/{campaign.id}")
