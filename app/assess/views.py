"""Routes of the journey. Thin: load, call the engine or the store, render."""

from __future__ import annotations

import logging
import secrets
from functools import partial

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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError

from .. import default_questionnaire
from .. import questionnaires
from ..cache import RESULT_PDF_MAX_BYTES
from ..cache import pages_with_holes
from ..cache import result_pdfs
from ..cache import result_reports
from ..compression import PageWithHoles
from ..database import read_first
from ..database import write_transaction
from ..engine.calculators import CalculatorError
from ..engine.calculators import art20
from ..engine.checks import contradicts_calculation
from ..engine.checks import failed_checks
from ..engine.journey import Journey
from ..engine.journey import carry_over
from ..engine.scoring import top_actions
from ..explain import requirement_text
from ..extensions import db
from ..extensions import limiter
from ..faults import is_outage
from ..faults import log_database_error
from ..i18n import content_for
from ..i18n import current_language
from ..i18n import format_number
from ..models import Assessment
from ..models import Campaign
from ..models import is_typable
from ..models import shown_token
from ..pages import RESENDABLE
from ..pages import render_error
from ..pages import render_outage
from ..pages import shows_personal_parts
from ..qr import qr_svg
from ..reporting.benchmark import campaign_benchmark
from ..security import csrf_token
from ..urls import external_url
from . import bp
from . import store
from .forms import ORIGINAL_PREFIX
from .forms import SharingForm
from .forms import add_error
from .forms import answer_label
from .forms import changed_values
from .forms import parse_whole_number
from .forms import range_message
from .forms import remember_saved
from .forms import section_form
from .forms import validate_step
from .loading import journey_after
from .loading import load_assessment
from .widgets import question_widget

log = logging.getLogger(__name__)

CALCULATOR_FIELDS = ("total", "specialists", "foreign", "chilean_family", "resident_5_years")
CALCULATOR_MAX = 9_999_999  # people in one field of the calculator
# A hidden field of the step form: "<questionnaire id>@<version>" the page was drawn from.
QUESTIONNAIRE_FIELD = "questionnaire-version"
# The query of a step opened from the review page: saving it goes back there. Only this
# exact value counts, and it only ever leads to this assessment's own review page.
RETURN_TO_REVIEW = {"return": "review"}
# The id of the step form: the header's language buttons submit it (form="...").
STEP_FORM_ID = "step-form"
# What a kept step page holds instead of the visitor's token and CSRF token: random
# per process, so no answer and no address can hold them.
TOKEN_HOLE = "hole" + secrets.token_hex(16)
CSRF_HOLE = "hole" + secrets.token_hex(16)


def step_url(token, section, returning=False, anchor=None, lang=None) -> str:
    """A step's address (without a token: the profile form that starts an assessment);
    `lang`: the same step in another language."""
    language = {"lang": lang} if lang else {}
    if token is None:
        return url_for("assess.new", _anchor=anchor, **language)
    marker = RETURN_TO_REVIEW if returning else {}
    return url_for(
        "assess.section", token=token, section_id=section.id, _anchor=anchor, **language, **marker
    )


def returning_to_review() -> bool:
    return request.args.get("return") == RETURN_TO_REVIEW["return"]


@bp.before_request
def token_as_shown():
    """A private link typed from the card in small letters, without its dashes or with
    spaces opens the same assessment (app/models.py); a GET goes once to the link as
    the card writes it, so every page shows one spelling, and no typed space reaches a
    log line (docs/SECURITY.md T21 redacts up to a space)."""
    token = (request.view_args or {}).get("token")
    if token is None or request.method != "GET" or shown_token(token) == token:
        return None
    url = url_for(request.endpoint, **(request.view_args | {"token": shown_token(token)}))
    query = request.query_string.decode("latin-1")
    return redirect(f"{url}?{query}" if query else url)


# --- Starting ----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["NEW_ASSESSMENT_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 302,  # only assessments created
    scope="new-assessment",
)
def new():
    questionnaire = default_questionnaire()
    journey = Journey(questionnaire, {}, {})
    profile = questionnaire.sections[0]
    if request.method == "GET":
        return render_step(questionnaire, journey, profile, token=None)
    draft = request.form.get("action") == "language"
    form, values, _calculator = validated_form(questionnaire, journey, profile, complete=not draft)
    if form.errors or draft:  # a new language: the same page, nothing stored yet
        preview = journey_after(journey, values)
        status = 422 if form.errors else 200
        return render_step(questionnaire, preview, profile, token=None, form=form, status=status)
    assessment, token = Assessment.start(questionnaire, current_language())
    db.session.add(assessment)
    db.session.flush()
    connection = db.session.connection()
    store.save_changes(
        connection, assessment.id, {k: v for k, v in values.items() if v is not None}
    )
    store.mark_saved(connection, assessment.id, profile.id)
    db.session.commit()
    log.info(
        "Assessment %s started (%s v%s)", assessment.id, questionnaire.id, questionnaire.version
    )
    flash(_("Your assessment was created. Keep the private link below to come back."), "success")
    journey = journey_after(journey, values)
    return redirect(next_url(token, journey, profile))


# --- Steps -------------------------------------------------------------------


@bp.route("/<token>/")
def resume(token):
    loaded = load_assessment(token)
    if loaded.submitted:
        return redirect(url_for("assess.results", token=token))
    step = loaded.journey.resume_step(store.saved_sections(loaded.record))
    return redirect(step_url(token, step) if step else url_for("assess.review", token=token))


@bp.route("/<token>/s/<section_id>", methods=["GET", "POST"])
def section(token, section_id):
    if request.method == "POST":
        read_first()  # reading and validating need no lock; the save below takes it briefly
    loaded = load_assessment(token)
    if loaded.submitted:
        return already_submitted(token)
    questionnaire, journey = loaded.questionnaire, loaded.journey
    step = questionnaire.section_by_id.get(section_id)
    if step is None:
        abort(404)
    if step not in journey.steps:
        return redirect(url_for("assess.resume", token=token))
    if request.method == "GET":
        return step_page(loaded, step)

    action = request.form.get("action", "next")
    returning = returning_to_review()
    form, values, calculator = validated_form(
        questionnaire, journey, step, complete=action != "language"
    )
    preview = journey_after(journey, values)
    if action == "language":
        return save_draft(loaded, step, form, calculator, preview)
    if action == "calculate" or form.errors:
        status = 422 if form.errors and action != "calculate" else 200
        return render_step(
            questionnaire, preview, step, token, form=form, calculator=calculator, status=status
        )
    changes = changed_values(journey.candidates(step), form)
    if not save(loaded, step, changes):
        return already_submitted(token)
    updated = journey_after(journey, changes)  # what is now stored, without reading it again
    if updated.unseen_questions(step, posted_question_ids()):
        flash(_("Your answers opened new questions on this page. Please answer them too."))
        return redirect(step_url(token, step, returning))
    if returning:
        return redirect(return_url(token, journey, updated, step, changes))
    if action == "back":
        return redirect(previous_url(token, updated, step))
    return redirect(next_url(token, updated, step))


def step_page(loaded, step):
    """A step as a GET shows it: a page with holes (`page_with_holes`), whose key is what
    the step template reads."""
    questionnaire, journey = loaded.questionnaire, loaded.journey
    steps = journey.steps
    key = (
        "step",
        questionnaire.id,
        questionnaire.version,
        questionnaire.sha256,
        current_language(),
        step.id,
        returning_to_review(),
        steps.index(step),
        len(steps),
        tuple(
            (q.id, q is not questionnaire.fields[q.id], journey.value(q))
            for q in journey.questions(step)
        ),
    )

    def render(token, csrf):
        return render_step(questionnaire, journey, step, token, csrf=csrf)[0]

    return page_with_holes(key, loaded.token, render)


def page_with_holes(key, token, render):
    """A page that is the same for every visitor with the same `key`, but for the token
    and the CSRF token: `render(token, csrf)` draws it once per worker with holes in their
    place (cache.PAGES_WITH_HOLES), filled per request. A page with something personal on
    it (a flashed message, the account of a logged-in user in the footer) is drawn as is."""
    if shows_personal_parts():
        return render(token, None)
    page = pages_with_holes.get(key)
    if page is None:
        html = render(TOKEN_HOLE, CSRF_HOLE)
        page = PageWithHoles(html, (TOKEN_HOLE, CSRF_HOLE))
        if token not in html:  # a page that shows the token anywhere else stays its own
            pages_with_holes.put(key, page)
    return page.response({TOKEN_HOLE: token, CSRF_HOLE: csrf_token()})


def save(loaded, step, changes) -> bool:
    """Store one page's changes; False when the assessment was submitted meanwhile
    (from another tab since this page was read)."""
    with write_transaction() as connection:
        return store.save_page(connection, loaded.record.id, step.id, changes)


def save_draft(loaded, step, form, calculator, preview):
    """A language button of a step page: the page was posted to its address in the new
    language. What is valid is stored without asking for the rest; the page then shows
    again in the new language, with what could not be stored still in its fields (and
    the calculator's numbers, which are never stored)."""
    token, journey = loaded.token, loaded.journey
    changes = {
        question_id: value
        for question_id, value in changed_values(journey.candidates(step), form).items()
        if not form[question_id].errors
    }
    if changes and not save(loaded, step, changes):
        return already_submitted(token)
    if not form.errors and calculator is None:
        return redirect(step_url(token, step, returning_to_review()))
    remember_saved(form, changes)
    status = 422 if form.errors else 200
    return render_step(
        loaded.questionnaire, preview, step, token, form=form, calculator=calculator, status=status
    )


def return_url(token, journey, updated, step, changes) -> str:
    """After a step opened from the review page: back to the review at the changed
    question, unless the change opened required questions on other pages: the first
    of those comes first (still on the way back to the review)."""
    section_of = journey.questionnaire.section_of
    opened = [q for q in updated.newly_open(journey) if section_of[q.id] is not step]
    if opened:
        flash(_("Your change opened new questions. Please answer them too."))
        return step_url(token, section_of[opened[0].id], True, anchor=f"q-{opened[0].id}")
    changed = [q.id for q in updated.questions(step) if q.id in changes]
    anchor = f"q-{changed[0]}" if changed else f"review-{step.id}"
    return url_for("assess.review", token=token, _anchor=anchor)


def already_submitted(token):
    flash(_("This assessment was already submitted. Start a new one to change answers."))
    return redirect(url_for("assess.results", token=token))


def validated_form(questionnaire, journey, step, complete=True):
    """Validate a post: (form, valid values, the calculator's numbers or None).

    Required questions are checked once visibility is known, unless the post is a
    draft (`complete=False`: a language button)."""
    content = content_for(questionnaire)
    form, values = validate_step(questionnaire, journey, step, request.form, content, complete)
    calculator = posted_calculator()
    for question in journey.candidates(step):
        if question.calculator and values.get(question.id) is not None:
            flag_contradiction(form, question, values[question.id], calculator)
    return form, values, calculator


def flag_contradiction(form, question, value, calculator) -> None:
    """An answer that says the opposite of the calculator filled in beside it: an error
    on the answer, and a warning beside the calculator's result (where the page lands)."""
    result = calculator["result"] if calculator else None
    if result is None or not contradicts_calculation(question, value, result.meets_rule):
        return
    if result.meets_rule:
        message = _(
            "The calculation below says you meet the rule. Check your answer or the numbers."
        )
    else:
        message = _(
            "The calculation below says you do not meet the rule yet. "
            "Check your answer or the numbers."
        )
    add_error(form, question.id, message)
    calculator["warning"] = _("Your answer above says the opposite. Check it before you save.")


def posted_question_ids() -> set[str]:
    """The questions the posted page showed (each carries a hidden copy of its value)."""
    return {key[len(ORIGINAL_PREFIX) :] for key in request.form if key.startswith(ORIGINAL_PREFIX)}


def next_url(token, journey, step) -> str:
    later = journey.next_step(step)
    return step_url(token, later) if later else url_for("assess.review", token=token)


def previous_url(token, journey, step) -> str:
    return step_url(token, journey.previous_step(step))


def posted_calculator():
    """The art. 20 calculator of a post: when its button was pressed or any of its
    fields was filled in (the numbers then stay on the page); else None."""
    posted = request.form
    typed = any(posted.get(f"calc-{name}", "").strip() for name in CALCULATOR_FIELDS)
    return calculate() if typed or posted.get("action") == "calculate" else None


def calculate():
    """The art. 20 calculator: numbers in, share of Chilean staff out (nothing stored).
    What was typed stays in the fields, letters included, with a message on each field
    that is not a number."""
    typed, numbers, errors = {}, {}, {}
    for name in CALCULATOR_FIELDS:
        typed[name] = request.form.get(f"calc-{name}", "").strip()
        try:
            number = parse_whole_number(typed[name] or "0")
        except ValueError as error:
            errors[name] = str(error)
            continue
        if not 0 <= number <= CALCULATOR_MAX:
            errors[name] = str(range_message(0, CALCULATOR_MAX))
        else:
            numbers[name] = number
    result = None
    if not errors:
        try:
            result = art20(**numbers)
        except CalculatorError as error:
            errors[error.field] = calculator_message(error.field)
    return {"values": typed, "errors": errors, "result": result, "warning": None}


def calculator_message(field: str) -> str:
    return {
        "total": _("Write how many people work for you in Chile, for example 12."),
        "specialists": _("There must be fewer specialists than people in the whole staff."),
        "foreign": _("Foreign staff cannot be more than the staff who are not specialists."),
        "resident_5_years": _("These two groups cannot be more than the foreign staff."),
    }[field]


@bp.errorhandler(CSRFError)
def expired_form(error):
    """A save whose security token expired: show the page again with the user's
    choices, unsaved, instead of a bare 400 (docs/SECURITY.md 2.5)."""
    message = _(
        "For your security this page expired. Your answers are still here: "
        "please press the button again to save them."
    )
    return rerender_post(400, message)


@bp.errorhandler(OperationalError)
@bp.errorhandler(ProgrammingError)
def database_busy(error):
    """The database could not take the save (locked, full, down or without its schema):
    a 503 that keeps the user's input, never a traceback, and one log line naming the
    cause. The page is drawn again from the post and the questionnaire alone: in an
    outage, reading the database again would fail too (docs/SECURITY.md 2.7 item 19)."""
    if not is_outage(error):
        raise error  # a bug, not an outage: the usual 500
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()
    g.writes_done = True  # nothing more is written in this request
    log_database_error(log, error, f"{request.method} {request.endpoint}")
    message = _(
        "We could not save this page just now. Your answers are still here: "
        "please press the button again in a minute."
    )
    if request.method == "POST" and request.endpoint in ("assess.new", "assess.section"):
        response = current_app.make_response(redraw_post(503, message))
    elif request.method == "POST" and request.endpoint in RESENDABLE:
        response = render_outage()
    else:
        response = render_error(503)
    response.headers["Retry-After"] = "30"
    return response


def posted_questionnaire():
    """The questionnaire version the posted page was drawn from (a hidden field of the
    step form), else the newest version of the default one."""
    name, _sep, version = request.form.get(QUESTIONNAIRE_FIELD, "").rpartition("@")
    found = questionnaires().get(name, int(version)) if version.isdigit() and name else None
    return found or default_questionnaire()


def redraw_post(status: int, message: str):
    """Show a posted step (or the profile page) again, unsaved, without reading the
    database: the questions are those the posted page showed (`posted_question_ids`),
    each with what was posted for it, and the normal buttons to save again."""
    questionnaire = posted_questionnaire()
    if request.endpoint == "assess.new":
        step, token = questionnaire.sections[0], None
    else:
        token = (request.view_args or {})["token"]
        step = questionnaire.section_by_id.get((request.view_args or {})["section_id"])
        if step is None:
            return render_error(status)
    journey = Journey(questionnaire, {}, {})
    shown = posted_question_ids()
    questions = [journey.asked.get(q.id, q) for q in step.questions if q.id in shown]
    form = section_form(questions, content_for(questionnaire), {}, formdata=request.form)
    return render_step(
        questionnaire,
        journey,
        step,
        token,
        form=form,
        status=status,
        notice=message,
        questions=questions,
    )


def rerender_post(status: int, message: str):
    """Show a posted step again with the user's input, unsaved."""
    view_args = request.view_args or {}
    if request.method != "POST" or request.endpoint not in ("assess.new", "assess.section"):
        return render_error(status)
    if request.endpoint == "assess.new":
        questionnaire = default_questionnaire()
        journey, step, token = Journey(questionnaire, {}, {}), questionnaire.sections[0], None
    else:
        token = view_args["token"]
        loaded = load_assessment(token)
        questionnaire, journey = loaded.questionnaire, loaded.journey
        step = questionnaire.section_by_id.get(view_args["section_id"])
        if step is None or step not in journey.steps or loaded.submitted:
            return render_error(status)
    form, values, calculator = validated_form(questionnaire, journey, step)
    preview = journey_after(journey, values)
    return render_step(
        questionnaire,
        preview,
        step,
        token,
        form=form,
        status=status,
        notice=message,
        calculator=calculator,
    )


def render_step(
    questionnaire,
    journey,
    step,
    token,
    form=None,
    status=200,
    calculator=None,
    notice=None,
    questions=None,
    csrf=None,
):
    """The step template; `csrf`: what to write instead of the CSRF token (a hole)."""
    content = content_for(questionnaire)
    questions = journey.questions(step) if questions is None else questions
    if form is None:
        form = section_form(questions, content, {q.id: journey.value(q) for q in questions})
    steps = journey.steps if token else questionnaire.sections[:1]
    number = steps.index(step) + 1 if step in steps else 1
    total = len(journey.steps) if token else len(questionnaire.sections)
    returning = bool(token) and returning_to_review()
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
            questionnaire_field=QUESTIONNAIRE_FIELD,
            returning=returning,
            form_id=STEP_FORM_ID,
            form_action=step_url(token, step, returning),
            # The header's language buttons post the page to its address in that language.
            language_actions={
                lang: step_url(token, step, returning, lang=lang)
                for lang in current_app.config["LANGUAGES"]
            },
            **({"csrf_token": lambda: csrf} if csrf else {}),
        ),
        status,
    )


# --- Review, submit, results -------------------------------------------------


@bp.route("/<token>/review", methods=["GET", "POST"])
def review(token):
    loaded = load_assessment(token)
    if loaded.submitted:
        return redirect(url_for("assess.results", token=token))
    questionnaire, journey = loaded.questionnaire, loaded.journey
    broken = failed_checks(questionnaire, journey.values)
    if request.method == "GET" or broken:
        return render_template(
            "assess/review.html",
            questionnaire=questionnaire,
            content=content_for(questionnaire),
            journey=journey,
            token=token,
            unanswered=journey.all_unanswered(),
            broken=broken,
            change_url=lambda question: step_url(
                token, questionnaire.section_of[question.id], True, anchor=f"q-{question.id}"
            ),
        ), 422 if request.method == "POST" else 200
    if journey.unanswered(questionnaire.sections[0]):
        abort(409)  # the review page offers no submit button while the profile has gaps
    loaded.submit()
    db.session.commit()
    log.info("Assessment %s submitted", loaded.record.id)
    return redirect(url_for("assess.results", token=token))


def results_context(token):
    """Everything the results page and the PDF show around the report (`rendered_report`);
    None before submission."""
    loaded = load_assessment(token)
    if not loaded.submitted:
        return None
    journey, result = loaded.result()
    questionnaire = loaded.questionnaire
    context = {
        "assessment": loaded.record,
        "questionnaire": questionnaire,
        "content": content_for(questionnaire),
        "journey": journey,
        "result": result,
        "previous": loaded.previous_result(),
        "plan": action_plan(result),
        "top": top_actions(result.actions),
        "benchmark": campaign_benchmark(loaded.record),
        "next_level": result.next_level,
        "describe": describer(result, content_for(questionnaire)),
    }
    return context | {"token": token}


def report_key(context) -> tuple:
    """What the report (and its PDF) of a submitted assessment depends on."""
    assessment = context["assessment"]
    return (
        context["questionnaire"].sha256,
        assessment.id,
        assessment.submitted_at,
        current_language(),
        assessment.previous_id if context["previous"] else None,
        repr(context["benchmark"]),
    )


def rendered_report(context, opened: bool = False):
    """The report of a submitted assessment only changes with the language and the
    campaign medians beside it, so it is rendered once per process for each. The
    context holds no token: the report cannot show one (tests/test_cache.py).
    `opened`: the full plan and the checklists drawn open, as the PDF shows them."""
    key = (*report_key(context), opened)
    report = result_reports.get(key)
    if report is None:
        html = render_template("assess/_report.html", **context, opened=opened)
        report = Markup(html)  # noqa: S704 (autoescaped template)
        result_reports.put(key, report)
    return report


def action_plan(result) -> dict:
    """The whole plan in the engine's order, in its three parts: the must-haves, what
    the next level needs, then the rest by what it would add."""
    return {
        "must_have": [a for a in result.actions if a.knockout],
        "next_level": [a for a in result.actions if a.for_next_level],
        "rest": [a for a in result.actions if not (a.knockout or a.for_next_level)],
    }


def describer(result, content):
    """`requirement_text` for one result, in the page's language."""

    def describe(requirement):
        return requirement_text(
            requirement,
            result,
            content,
            partial(answer_label, content=content, format_number=format_number),
        )

    return describe


@bp.get("/<token>/results")
def results(token):
    context = results_context(token)
    if context is None:
        return redirect(url_for("assess.review", token=token))
    key = ("results", *report_key(context), context["assessment"].campaign_id)

    def render(token, csrf):
        return render_template(
            "assess/results.html",
            **context | {"token": token},
            report=rendered_report(context),
            # The header's links to this page in the other languages, built on `token`.
            switch_language_url=lambda lang: url_for("assess.results", token=token, lang=lang),
            **({"csrf_token": lambda: csrf} if csrf else {}),
        )

    return page_with_holes(key, token, render)


@bp.get("/<token>/results.pdf")
@limiter.limit(lambda: current_app.config["PDF_LIMIT_PER_ADDRESS"], scope="pdf")
def results_pdf(token):
    """Rendered once per report (seconds of CPU), then served from RESULT_PDFS."""
    context = results_context(token)
    if context is None:
        return redirect(url_for("assess.review", token=token))
    from . import pdf

    key = report_key(context)
    document = result_pdfs.get(key)
    if document is None:
        report = rendered_report(context, opened=True)
        document = pdf.render_pdf(render_template("assess/report.html", **context, report=report))
        if len(document) <= RESULT_PDF_MAX_BYTES:
            result_pdfs.put(key, document)
    filename = f"compromiso-migrante-{current_language()}.pdf"
    return current_app.response_class(
        document,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/<token>/reassess")
def reassess(token):
    """Start a new assessment on the newest version, pre-filled from this one."""
    loaded = load_assessment(token)
    previous = loaded.record
    questionnaire = questionnaires().get(previous.questionnaire_id) or loaded.questionnaire
    profile, answers = loaded.journey.profile, loaded.journey.answers
    campaign = db.session.get(Campaign, previous.campaign_id) if previous.campaign_id else None
    # Nothing re-assesses into a closed campaign: the new assessment stands on its own.
    outside = {"campaign_id": None, "member_name": None, "share_named": False}
    extra = outside if campaign is not None and not campaign.is_open else {}
    assessment, new_token = Assessment.start(questionnaire, current_language(), previous, **extra)
    db.session.add(assessment)
    db.session.flush()
    carried = carry_over(questionnaire, profile | answers, loaded.questionnaire.version)
    store.save_changes(db.session.connection(), assessment.id, carried)
    db.session.commit()
    log.info("Assessment %s re-assesses %s", assessment.id, previous.id)
    if extra:
        flash(_("Your association's campaign is closed: this new assessment is not part of it."))
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
    loaded = load_assessment(token)
    link = external_url("assess.resume", token=token)
    return render_template(
        "assess/card.html",
        questionnaire=loaded.questionnaire,
        content=content_for(loaded.questionnaire),
        token=token,
        assessment=loaded.record,
        link=link,
        qr=qr_svg(link),
        typable=is_typable(token),
    )


@bp.route("/<token>/delete", methods=["GET", "POST"])
def delete(token):
    loaded = load_assessment(token)
    if request.method == "GET":
        return render_template("assess/delete.html", token=token)
    db.session.delete(store.editable(loaded.record))
    db.session.commit()
    log.info("Assessment %s deleted by its owner", loaded.record.id)
    flash(_("Your assessment and all its answers were deleted."), "success")
    return redirect(url_for("pages.landing"))


@bp.context_processor
def answer_helpers():
    return {"answer_label": lambda q, v, content: answer_label(q, v, content, format_number)}


@bp.route("/<token>/sharing", methods=["GET", "POST"])
def sharing(token):
    """A campaign member changes what its association may see."""
    assessment = store.editable(load_assessment(token).record)
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
