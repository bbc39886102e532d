"""Routes of the journey. Thin: load, call the engine or the store, render."""

from __future__ import annotations

import logging

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy.exc import OperationalError

from .. import default_questionnaire
from .. import questionnaires
from ..cache import AppCache
from ..database import read_first
from ..database import start_writing
from ..engine import score
from ..engine.calculators import CalculatorError
from ..engine.calculators import art20
from ..extensions import db
from ..i18n import content_for
from ..i18n import current_language
from ..models import Assessment
from ..pages import render_error
from . import bp
from . import store
from .forms import ORIGINAL_PREFIX
from .forms import changed_values
from .forms import posted_value
from .forms import section_form
from .widgets import question_widget

log = logging.getLogger(__name__)

BENCHMARK_FRESH_SECONDS = 10
CALCULATOR_FIELDS = ("total", "specialists", "foreign", "chilean_family", "resident_5_years")


def step_url(token: str, section) -> str:
    return url_for("assess.section", token=token, section_id=section.id)


# --- Starting ----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    questionnaire = default_questionnaire()
    journey = store.Journey(questionnaire, {}, {})
    profile = questionnaire.sections[0]
    if request.method == "GET":
        return render_step(questionnaire, journey, profile, token=None)
    form, values = validated_form(questionnaire, journey, profile)
    if form.errors:
        preview = journey.with_values(values)
        return render_step(questionnaire, preview, profile, token=None, form=form, status=422)
    assessment, token = Assessment.start(questionnaire, current_language())
    db.session.add(assessment)
    db.session.flush()
    store.save_changes(assessment.id, {k: v for k, v in values.items() if v is not None})
    store.mark_saved(assessment.id, profile.id)
    db.session.commit()
    log.info(
        "Assessment %s started (%s v%s)", assessment.id, questionnaire.id, questionnaire.version
    )
    flash(_("Your assessment was created. Keep the private link below to come back."), "success")
    journey = journey.with_values(values)
    return redirect(next_url(token, journey, profile))


# --- Steps -------------------------------------------------------------------


@bp.route("/<token>/")
def resume(token):
    assessment = store.find(token)
    if assessment.submitted_at:
        return redirect(url_for("assess.results", token=token))
    questionnaire = store.questionnaire_of(assessment)
    journey = store.journey_for(assessment, questionnaire)
    saved = store.saved_sections(assessment)
    for step in journey.steps:
        if step.id not in saved or journey.unanswered(step):
            return redirect(step_url(token, step))
    return redirect(url_for("assess.review", token=token))


@bp.route("/<token>/s/<section_id>", methods=["GET", "POST"])
def section(token, section_id):
    if request.method == "POST":
        read_first()  # reading and validating need no lock; the save below takes it briefly
    assessment = store.find(token)
    if assessment.submitted_at:
        return already_submitted(token)
    questionnaire = store.questionnaire_of(assessment)
    step = questionnaire.section_by_id.get(section_id)
    if step is None:
        abort(404)
    journey = store.journey_for(assessment, questionnaire)
    if step not in journey.steps:
        return redirect(url_for("assess.resume", token=token))
    if request.method == "GET":
        return render_step(questionnaire, journey, step, token)

    action = request.form.get("action", "next")
    form, values = validated_form(questionnaire, journey, step)
    if action == "calculate":
        preview = journey.with_values(values)
        return render_step(questionnaire, preview, step, token, form=form, calculator=calculate())
    if form.errors:
        preview = journey.with_values(values)
        return render_step(questionnaire, preview, step, token, form=form, status=422)
    changes = changed_values(candidates(journey, step), form)
    assessment_id = assessment.id
    start_writing()
    if not store.save_page(assessment_id, step.id, changes):
        db.session.rollback()  # submitted from another tab since this page was read
        return already_submitted(token)
    db.session.commit()
    updated = journey.with_values(changes)  # what is now stored, without reading it again
    if newly_shown_unanswered(updated, step):
        flash(_("Your answers opened new questions on this page. Please answer them too."))
        return redirect(step_url(token, step))
    if action == "back":
        return redirect(previous_url(token, updated, step))
    return redirect(next_url(token, updated, step))


def already_submitted(token):
    flash(_("This assessment was already submitted. Start a new one to change answers."))
    return redirect(url_for("assess.results", token=token))


def candidates(journey, step):
    """The questions a post for this step may answer: those not ruled out by the profile.

    (Follow-ups on the same page may appear as the page's own answers change.)"""
    if step.id == "profile":
        return list(step.questions)
    return [q for q in step.questions if journey.outcomes[q.id].state != "hidden_by_profile"]


def validated_form(questionnaire, journey, step):
    """Validate a post; required questions are checked once visibility is known."""
    questions = candidates(journey, step)
    content = content_for(questionnaire)
    form = section_form(questions, content, {}, formdata=request.form)
    form.validate()
    values = {q.id: posted_value(q, form) for q in questions if not form[q.id].errors}
    if step.id == "profile":
        shown = store.Journey(questionnaire, {k: v for k, v in values.items() if v is not None}, {})
        for question in questions:
            if shown.visible(question) and question.required and values.get(question.id) is None:
                if not form[question.id].errors:
                    form[question.id].errors = [_("Answer this question.")]
    return form, values


def newly_shown_unanswered(journey, step) -> bool:
    """True when this post revealed questions the user has not seen yet."""
    rendered = {
        key[len(ORIGINAL_PREFIX) :] for key in request.form if key.startswith(ORIGINAL_PREFIX)
    }
    return any(q.id not in rendered and journey.value(q) is None for q in journey.questions(step))


def next_url(token, journey, step) -> str:
    steps = journey.steps
    later = steps[steps.index(step) + 1 :] if step in steps else steps
    return step_url(token, later[0]) if later else url_for("assess.review", token=token)


def previous_url(token, journey, step) -> str:
    steps = journey.steps
    index = steps.index(step) if step in steps else 0
    return step_url(token, steps[index - 1]) if index > 0 else step_url(token, steps[0])


def calculate():
    """The art. 20 calculator: numbers in, share of Chilean staff out (nothing stored)."""
    numbers, errors = {}, {}
    for name in CALCULATOR_FIELDS:
        text = request.form.get(f"calc-{name}", "").strip() or "0"
        if not text.isdigit() or len(text) > 7:
            errors[name] = _("Enter a whole number, for example 12.")
        else:
            numbers[name] = int(text)
    result = None
    if not errors:
        try:
            result = art20(**numbers)
        except CalculatorError as error:
            errors[error.field] = calculator_message(error.field)
    return {"values": numbers, "errors": errors, "result": result}


def calculator_message(field: str) -> str:
    return {
        "specialists": _("The specialists cannot be more than the whole staff."),
        "foreign": _("Foreign staff cannot be more than the staff who are not specialists."),
        "resident_5_years": _("These two groups cannot be more than the foreign staff."),
    }[field]


@bp.errorhandler(CSRFError)
def expired_form(error):
    """A save whose security token expired: show the page again with the user's
    choices, unsaved, instead of a bare 400 (SECURITY.md 2.5)."""
    message = _(
        "For your security this page expired. Your answers are still here: "
        "please press the button again to save them."
    )
    return rerender_post(400, message)


@bp.errorhandler(OperationalError)
def database_busy(error):
    """The database could not take the save (locked, full or down): keep the user's
    input on the page with a 503, never a traceback."""
    db.session.rollback()
    g.writes_done = True  # showing the page again only reads: do not wait for the lock again
    log.error("Database unavailable: %s", error.orig.__class__.__name__)
    message = _(
        "We could not save this page just now. Your answers are still here: "
        "please press the button again in a minute."
    )
    try:
        response = current_app.make_response(rerender_post(503, message))
    except OperationalError:
        db.session.rollback()
        response = render_error(503)
    response.headers["Retry-After"] = "30"
    return response


def rerender_post(status: int, message: str):
    """Show a posted step again with the user's input, unsaved."""
    view_args = request.view_args or {}
    if request.method != "POST" or request.endpoint not in ("assess.new", "assess.section"):
        return render_error(status)
    if request.endpoint == "assess.new":
        questionnaire = default_questionnaire()
        journey, step, token = store.Journey(questionnaire, {}, {}), questionnaire.sections[0], None
    else:
        token = view_args["token"]
        assessment = store.find(token)
        questionnaire = store.questionnaire_of(assessment)
        journey = store.journey_for(assessment, questionnaire)
        step = questionnaire.section_by_id.get(view_args["section_id"])
        if step is None or step not in journey.steps or assessment.submitted_at:
            return render_error(status)
    form, values = validated_form(questionnaire, journey, step)
    preview = journey.with_values(values)
    return render_step(
        questionnaire, preview, step, token, form=form, status=status, notice=message
    )


def render_step(
    questionnaire, journey, step, token, form=None, status=200, calculator=None, notice=None
):
    content = content_for(questionnaire)
    questions = journey.questions(step)
    if form is None:
        form = section_form(questions, content, {q.id: journey.value(q) for q in questions})
    steps = journey.steps if token else questionnaire.sections[:1]
    number = steps.index(step) + 1 if step in steps else 1
    total = len(journey.steps) if token else len(questionnaire.sections)
    return (
        render_template(
            "assess/step.html",
            questionnaire=questionnaire,
            content=content,
            step=step,
            questions=questions,
            form=form,
            token=token,
            number=number,
            total=total,
            calculator=calculator,
            calculator_fields=CALCULATOR_FIELDS,
            question_widget=question_widget,
            is_first=number == 1,
            notice=notice,
        ),
        status,
    )


# --- Review, submit, results -------------------------------------------------


@bp.route("/<token>/review", methods=["GET", "POST"])
def review(token):
    assessment = store.find(token)
    questionnaire = store.questionnaire_of(assessment)
    journey = store.journey_for(assessment, questionnaire)
    if request.method == "POST":
        if assessment.submitted_at:
            return redirect(url_for("assess.results", token=token))
        missing = [q for s in journey.steps for q in journey.unanswered(s) if s.id == "profile"]
        if missing:
            abort(409)
        result = score(questionnaire, journey.profile, journey.answers)
        shown = {k: v for k, v in journey.profile.items() if k in journey.shown_profile}
        store.submit(assessment, result, shown)
        db.session.commit()
        log.info("Assessment %s submitted", assessment.id)
        return redirect(url_for("assess.results", token=token))
    if assessment.submitted_at:
        return redirect(url_for("assess.results", token=token))
    return render_template(
        "assess/review.html",
        questionnaire=questionnaire,
        content=content_for(questionnaire),
        journey=journey,
        token=token,
        unanswered=[q for s in journey.steps for q in journey.unanswered(s)],
    )


def submitted_result(token):
    """(assessment, questionnaire, journey, result) for a submitted assessment."""
    assessment = store.find(token)
    if not assessment.submitted_at:
        return assessment, None, None, None
    questionnaire = store.questionnaire_of(assessment)
    journey, result = store.locked_result(assessment, questionnaire)
    return assessment, questionnaire, journey, result


def previous_result(assessment):
    """The result of the assessment this one re-assesses, if it was submitted."""
    if assessment.previous_id is None:
        return None
    previous = db.session.get(Assessment, assessment.previous_id)
    if previous is None or previous.submitted_at is None:
        return None
    return store.locked_result(previous, store.questionnaire_of(previous))[1]


def results_context(token):
    assessment, questionnaire, journey, result = submitted_result(token)
    if result is None:
        return None
    context = {
        "assessment": assessment,
        "questionnaire": questionnaire,
        "content": content_for(questionnaire),
        "journey": journey,
        "result": result,
        "previous": previous_result(assessment),
        "token": token,
        "plan": action_plan(result),
        "benchmark": campaign_benchmark(assessment),
    }
    return context | {"report": rendered_report(context)}


# Reports of about 15 KB: the most recent few hundred visits, in each language.
_REPORTS = AppCache("results reports", 256)


def rendered_report(context):
    """The report of a submitted assessment only changes with the language and the
    campaign medians beside it, so it is rendered once per process for each."""
    assessment = context["assessment"]
    key = (
        context["questionnaire"].sha256,
        assessment.id,
        assessment.submitted_at,
        current_language(),
        assessment.previous_id if context["previous"] else None,
        repr(context["benchmark"]),
    )
    report = _REPORTS.get(key)
    if report is None:
        report = Markup(render_template("assess/_report.html", **context))  # noqa: S704 (autoescaped template)
        _REPORTS.put(key, report)
    return report


def campaign_benchmark(assessment):
    """The campaign's medians beside a member's scores, once enough members took part."""
    if assessment.campaign_id is None:
        return None
    from ..associations.aggregates import campaign_summary

    # Members of a campaign the size of a country's trade association open their
    # results in bursts: medians up to a few seconds old are as good beside them.
    summary = campaign_summary(assessment.campaign_id, fresh_for=BENCHMARK_FRESH_SECONDS)
    if not summary.enough:
        return None
    medians = {d: stats[1] for d, stats in summary.dimensions.items()}
    return {"overall": summary.overall_median, "dimensions": medians}


def action_plan(result):
    """Actions grouped by priority, then by horizon: [(priority, [(horizon, [items])])]."""
    groups = []
    for priority in ("high", "medium", "low"):
        items = [a for a in result.actions if a.action.priority == priority and not a.knockout]
        horizons = sorted({a.action.horizon or 0 for a in items})
        if items:
            groups.append(
                (
                    priority,
                    [(h, [a for a in items if (a.action.horizon or 0) == h]) for h in horizons],
                )
            )
    return groups


@bp.get("/<token>/results")
def results(token):
    context = results_context(token)
    if context is None:
        return redirect(url_for("assess.review", token=token))
    return render_template("assess/results.html", **context)


@bp.get("/<token>/results.pdf")
def results_pdf(token):
    context = results_context(token)
    if context is None:
        return redirect(url_for("assess.review", token=token))
    from .pdf import render_pdf

    html = render_template("assess/report.html", **context)
    filename = f"compromiso-migrante-{current_language()}.pdf"
    return current_app.response_class(
        render_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/<token>/reassess")
def reassess(token):
    """Start a new assessment on the newest version, pre-filled from this one."""
    previous = store.find(token)
    old_questionnaire = store.questionnaire_of(previous)
    questionnaire = questionnaires().get(previous.questionnaire_id) or old_questionnaire
    profile, answers = store.load_values(previous, old_questionnaire)
    assessment, new_token = Assessment.start(questionnaire, current_language(), previous)
    db.session.add(assessment)
    db.session.flush()
    store.save_changes(assessment.id, store.valid_copy(questionnaire, profile | answers))
    db.session.commit()
    log.info("Assessment %s re-assesses %s", assessment.id, previous.id)
    flash(
        _(
            "A new assessment was started with your previous answers. "
            "Check each page and update what changed."
        ),
        "success",
    )
    return redirect(url_for("assess.resume", token=new_token))


@bp.get("/<token>/card")
def card(token):
    assessment = store.find(token)
    questionnaire = store.questionnaire_of(assessment)
    return render_template(
        "assess/card.html",
        questionnaire=questionnaire,
        content=content_for(questionnaire),
        token=token,
        assessment=assessment,
    )


@bp.route("/<token>/delete", methods=["GET", "POST"])
def delete(token):
    assessment = store.find(token)
    if request.method == "GET":
        return render_template("assess/delete.html", token=token)
    db.session.delete(assessment)
    db.session.commit()
    log.info("Assessment %s deleted by its owner", assessment.id)
    flash(_("Your assessment and all its answers were deleted."), "success")
    return redirect(url_for("pages.landing"))


@bp.context_processor
def answer_helpers():
    from ..i18n import format_number
    from .forms import answer_label

    return {"answer_label": lambda q, v, content: answer_label(q, v, content, format_number)}


@bp.route("/<token>/sharing", methods=["GET", "POST"])
def sharing(token):
    """A campaign member changes what its association may see."""
    from ..associations.forms import SharingForm

    assessment = store.find(token)
    if assessment.campaign_id is None:
        abort(404)
    form = SharingForm()
    if request.method == "GET":
        form.member_name.data = assessment.member_name
        form.sharing.data = "named" if assessment.share_named else "aggregate"
    if form.validate_on_submit():
        assessment.member_name = (form.member_name.data or "").strip() or None
        assessment.share_named = form.sharing.data == "named"
        db.session.commit()
        flash(_("Your choice was saved."), "success")
        return redirect(url_for("assess.resume", token=token))
    return render_template("assess/sharing.html", form=form, token=token, assessment=assessment)
