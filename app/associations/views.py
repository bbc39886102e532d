"""Association accounts, campaigns, dashboards and exports."""

from __future__ import annotations

import csv
import io
import logging
import re
from functools import wraps

import segno
import sqlalchemy as sa
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from .. import questionnaires
from ..extensions import db
from ..extensions import limiter
from ..i18n import content_for
from ..models import Assessment
from ..models import Association
from ..models import Campaign
from ..models import ResultItem
from ..models import User
from ..models import utcnow
from . import accounts
from . import aggregates
from . import bp
from .forms import CampaignForm
from .forms import LoginForm
from .forms import NewPasswordForm
from .forms import RegisterForm
from .forms import ResetRequestForm

log = logging.getLogger(__name__)


def association_required(view):
    """Only an approved association's own staff; anonymous visitors go to the login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("associations.login", next=request.path))
        if current_user.association is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


NAMED_ROWS_SHOWN = 100  # the CSV export has them all


def own_campaign(campaign_id: int) -> Campaign:
    """Another association's campaign is a 404, exactly like one that does not exist."""
    campaign = db.session.scalar(
        sa.select(Campaign).where(
            Campaign.id == campaign_id, Campaign.association_id == current_user.association_id
        )
    )
    if campaign is None:
        abort(404)
    return campaign


def safe_next(target: str | None) -> str:
    """Only a path on this site (SECURITY.md T16)."""
    if target and re.fullmatch(r"/(?![/\\])[A-Za-z0-9/_.\-]*", target):
        return target
    return url_for("associations.index")


def _account_key():
    return (request.form.get("email") or "").strip().lower()[:254] or "-"


# --- Accounts ----------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    scope="login-account",
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            log.info("Failed login from %s", request.remote_addr)
            form.password.errors = [_("E-mail or password is not right.")]
        elif not user.is_active:
            form.email.errors = [_("Your account is waiting for approval by programme staff.")]
        else:
            accounts.start_session(user)
            db.session.commit()
            log.info("User %s logged in", user.id)
            if user.is_admin:
                return redirect(url_for("admin.index"))
            return redirect(safe_next(request.args.get("next")))
    return render_template("associations/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        accounts.end_sessions(user)
        db.session.commit()
    flash(_("You have logged out."), "success")
    return redirect(url_for("pages.landing"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if accounts.find_user(email) is None:
            association = Association(name=form.name.data.strip())
            db.session.add(association)
            db.session.add(
                User(
                    email=email,
                    password_hash=accounts.hash_password(form.password.data),
                    association=association,
                )
            )
            db.session.commit()
            log.info("Association %s registered, pending approval", association.id)
        # The same answer whether or not the e-mail was known (no account enumeration).
        return render_template("associations/registered.html")
    return render_template("associations/register.html", form=form), 200 if not form.errors else 422


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        if user is not None:
            accounts.send_reset(user)
            db.session.commit()
        return render_template("associations/reset_sent.html")
    return render_template("associations/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    user = accounts.user_from_reset_token(token)
    if user is None:
        return render_template("associations/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        user.password_hash = accounts.hash_password(form.password.data)
        accounts.end_sessions(user)
        db.session.commit()
        log.info("User %s set a new password", user.id)
        flash(_("Your new password is saved. Please log in."), "success")
        return redirect(url_for("associations.login"))
    return render_template("associations/reset_password.html", form=form)


# --- Campaigns ---------------------------------------------------------------


@bp.get("/")
@association_required
def index():
    campaigns = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.association_id == current_user.association_id)
        .order_by(Campaign.created_at.desc())
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(Assessment.campaign_id, sa.func.count(Assessment.submitted_at))
            .where(Assessment.campaign_id.in_([c.id for c in campaigns]))
            .group_by(Assessment.campaign_id)
        ).all()
    )
    return render_template("associations/index.html", campaigns=campaigns, counts=counts)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@association_required
def new_campaign():
    form = CampaignForm()
    form.set_versions(questionnaires())
    if request.method == "GET":
        form.version.data = form.version.choices[-1].value if form.version.choices else None
    if form.validate_on_submit():
        questionnaire_id, version = form.version.data.split(":")
        campaign = Campaign(
            association_id=current_user.association_id,
            name=form.name.data.strip(),
            code=Campaign.new_code(),
            questionnaire_id=questionnaire_id,
            questionnaire_version=int(version),
            closes_on=form.closes_on.data,
            message=(form.message.data or "").strip(),
        )
        db.session.add(campaign)
        db.session.commit()
        return redirect(url_for("associations.dashboard", campaign_id=campaign.id))
    return render_template(
        "associations/campaign_new.html", form=form
    ), 200 if not form.errors else 422


@bp.get("/campaigns/<int:campaign_id>")
@association_required
def dashboard(campaign_id):
    campaign = own_campaign(campaign_id)
    questionnaire = questionnaires().get(campaign.questionnaire_id, campaign.questionnaire_version)
    summary = aggregates.campaign_summary(campaign.id)
    named = []
    if summary.completed:
        named = db.session.execute(
            sa.select(
                Assessment.member_name,
                Assessment.overall,
                Assessment.level,
                Assessment.submitted_at,
            )
            .where(
                Assessment.campaign_id == campaign.id,
                Assessment.share_named.is_(True),
                Assessment.submitted_at.is_not(None),
            )
            .order_by(Assessment.member_name)
            .limit(NAMED_ROWS_SHOWN + 1)
        ).all()
    return render_template(
        "associations/dashboard.html",
        campaign=campaign,
        questionnaire=questionnaire,
        content=content_for(questionnaire),
        summary=summary,
        named=named[:NAMED_ROWS_SHOWN],
        more_named=len(named) > NAMED_ROWS_SHOWN,
        invitation=url_for("join.join", code=campaign.code, _external=True),
    )


@bp.post("/campaigns/<int:campaign_id>/close")
@association_required
def close(campaign_id):
    campaign = own_campaign(campaign_id)
    campaign.closed_at = None if campaign.closed_at else utcnow()
    db.session.commit()
    if campaign.closed_at:
        flash(_("The campaign is closed: its link no longer starts new assessments."), "success")
    else:
        flash(_("The campaign is open again."), "success")
    return redirect(url_for("associations.dashboard", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/flyer")
@association_required
def flyer(campaign_id):
    campaign = own_campaign(campaign_id)
    link = url_for("join.join", code=campaign.code, _external=True)
    # segno writes plain SVG paths; no script, no external resource.
    svg = segno.make(link, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    blurbs = []
    for lang in FLYER_LANGUAGES:  # a flyer speaks both languages of the programme's users
        with force_locale(lang):
            blurbs.append((lang, str(FLYER_TITLE), str(FLYER_TEXT)))
    return render_template(
        "associations/flyer.html",
        campaign=campaign,
        link=link,
        qr=Markup(svg),  # noqa: S704 (segno's SVG: paths only, from our own link)
        blurbs=blurbs,
    )


FLYER_LANGUAGES = ("es", "ht")
FLYER_TITLE = _l("How ready is your organisation for Compromiso Migrante?")
FLYER_TEXT = _l(
    "Answer a free self-assessment about inclusion and the legal basics of employing "
    "migrant workers, and get an action plan for your organisation."
)


# --- Export ------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(value) -> str:
    """A cell a spreadsheet could run as a formula starts with a quote (SECURITY.md T14)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


@bp.get("/campaigns/<int:campaign_id>/export.csv")
@association_required
def export(campaign_id):
    campaign = own_campaign(campaign_id)
    questionnaire = questionnaires().get(campaign.questionnaire_id, campaign.questionnaire_version)
    content = content_for(questionnaire)
    areas = [d for d in questionnaire.dimensions if not d.legal]
    header = [_("Organisation"), _("Submitted"), _("Overall"), _("Level")]
    header += [content(d, "title") for d in areas]
    level_titles = {level.id: content(level, "title") for level in questionnaire.levels}

    campaign_filter = Assessment.campaign_id == campaign.id
    enough = aggregates.completed_count(campaign_filter) >= aggregates.MIN_GROUP_SIZE
    scores = {}
    items = sa.select(ResultItem.assessment_id, ResultItem.key, ResultItem.value).where(
        ResultItem.kind == "dimension",
        ResultItem.assessment_id.in_(aggregates.submitted_ids(campaign_filter)),
    )
    for assessment_id, key, value in db.session.execute(items):
        scores.setdefault(assessment_id, {})[key] = value
    conditions = [campaign_filter, Assessment.submitted_at.is_not(None)]
    if not enough:  # below the threshold, anonymous rows could single a member out
        conditions.append(Assessment.share_named.is_(True))
    submitted = (
        sa.select(
            Assessment.id,
            Assessment.share_named,
            Assessment.member_name,
            Assessment.submitted_at,
            Assessment.overall,
            Assessment.level,
        )
        .where(*conditions)
        .order_by(Assessment.submitted_at)
        .execution_options(yield_per=1000)
    )
    anonymous_label = _("Anonymous member %(number)s")  # formatted per row below
    unnamed_label = _("Member without a name")

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([neutralise(cell) for cell in header])
        yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheet programs then read UTF-8
        anonymous = 0
        for assessment_id, named, member_name, submitted_at, overall, level in db.session.execute(
            submitted
        ):
            buffer.seek(0)
            buffer.truncate()
            if named:
                name, day = member_name or unnamed_label, submitted_at.date().isoformat()
            else:
                anonymous += 1
                name, day = anonymous_label % {"number": anonymous}, ""
            dimension_scores = scores.get(assessment_id, {})
            writer.writerow(
                [neutralise(name), day, overall, neutralise(level_titles.get(level, level))]
                + [dimension_scores.get(d.id, "") for d in areas]
            )
            yield buffer.getvalue()

    filename = f"campaign-{campaign.id}.csv"
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
