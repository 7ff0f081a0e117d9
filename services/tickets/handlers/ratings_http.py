"""The rating page clients reach by the links of the rating mail (no sign-in: the link's token is
the credential), and the CSAT report for agents.

The page answers small HTML pages; anything wrong with the link or the form is a page that says
what, never a problem document a person cannot read."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from services.tickets.csat_models import CsatQueryIn, CsatReportOut, RatingPageQuery
from services.tickets.handlers.wiring import dependencies, rating_secret, rating_tallies
from services.tickets.logic.ratings import (
    MAX_COMMENT,
    csat_report,
    rate_ticket,
    rated_ticket,
    report_days,
)
from services.tickets.logic.ticket import Ticket
from shared.api import Api, ApiRequest, HtmlPage
from shared.errors import DomainError
from shared.rating_links import RATINGS, ExpiredRatingToken, InvalidRatingToken, RatingClaim

api = Api(__name__, tag="ratings", service="tickets")

MAX_FORM_BYTES = 16 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
STYLE = (
    "body{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "textarea{width:100%}fieldset{border:0;padding:0}"
)
WORDS = {"good": "Good, I am satisfied", "bad": "Bad, I am not satisfied"}


def _page(title: str, body: str, status: int = 200) -> HtmlPage:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HtmlPage(document, status, STYLE)


def _problem_page(problem: Exception) -> HtmlPage:
    """What a person reads when the link or the form cannot be used."""
    if isinstance(problem, InvalidRatingToken):
        return _page(
            "This rating link is not valid",
            "<p>The link is incomplete or was changed. Please open it again from the mail we "
            "sent you, or answer that mail.</p>",
            404,
        )
    if isinstance(problem, ExpiredRatingToken):
        return _page(
            "This rating link has expired",
            "<p>Ratings are taken for 14 days after a ticket is resolved. You can still answer "
            "the mail to write to us.</p>",
            410,
        )
    if isinstance(problem, DomainError):
        return _page(
            "Your rating could not be taken", f"<p>{html.escape(str(problem))}</p>", problem.status
        )
    raise problem


def _form(ticket: Ticket, claim: RatingClaim, choice: str | None) -> str:
    rated = ticket.satisfaction
    current = rated if rated is not None and rated.resolved_at == claim.resolved_at else None
    selected = choice if choice in RATINGS else (current.rating if current else None)
    comment = current.comment if current and current.comment else ""
    options = "".join(
        f'<p><label><input type="radio" name="choice" value="{rating}" required'
        f"{' checked' if rating == selected else ''}> {WORDS[rating]}</label></p>"
        for rating in RATINGS
    )
    earlier = (
        f"<p>You rated this {WORDS[current.rating].split(',')[0].lower()}; you may change it "
        f"until {claim.expires_at:%-d %B %Y}.</p>"
        if current
        else ""
    )
    return (
        f"<p>Ticket {html.escape(ticket.number)}: {html.escape(ticket.subject)}</p>{earlier}"
        '<form method="post"><fieldset><legend>How did we do?</legend>'
        f"{options}</fieldset>"
        f'<p><label for="comment">Anything to add? (optional, at most {MAX_COMMENT} '
        f'characters)</label><br><textarea id="comment" name="comment" rows="5" '
        f'maxlength="{MAX_COMMENT}">{html.escape(comment)}</textarea></p>'
        '<p><button type="submit">Send my rating</button></p></form>'
    )


@api.route(
    "/ratings/{token}",
    "GET",
    summary="The rating page of a rating link: the choice selected, nothing recorded (HTML)",
    query=RatingPageQuery,
    authenticated=False,
    errors=(404, 409, 410),
)
def get_rating_page(request: ApiRequest[Any, RatingPageQuery]) -> HtmlPage:
    try:
        ticket, claim = rated_ticket(request.path["token"], rating_secret(), dependencies())
    except (InvalidRatingToken, ExpiredRatingToken, DomainError) as problem:
        return _problem_page(problem)
    return _page("Rate our help", _form(ticket, claim, request.query.choice))


@api.route(
    "/ratings/{token}",
    "POST",
    summary="Record the rating sent from the rating page, with its comment (form; HTML)",
    authenticated=False,
    idempotent=False,
    errors=(400, 404, 409, 410, 413, 415),
)
def post_rating(request: ApiRequest[Any, Any]) -> HtmlPage:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return _page("Your rating could not be taken", "<p>Send the rating page's form.</p>", 415)
    if len(request.raw_body) > MAX_FORM_BYTES:
        return _page("Your rating could not be taken", "<p>The comment is too long.</p>", 413)
    try:
        form = parse_qs(request.raw_body.decode(), errors="strict")
    except UnicodeDecodeError:
        return _page("Your rating could not be taken", "<p>The form was not readable.</p>", 400)
    choice = (form.get("choice") or [""])[0]
    if choice not in RATINGS:
        return _page(
            "Your rating could not be taken",
            "<p>Choose good or bad, then send your rating.</p>",
            400,
        )
    comment = (form.get("comment") or [""])[0]
    try:
        rate_ticket(request.path["token"], choice, comment, rating_secret(), dependencies())
    except (InvalidRatingToken, ExpiredRatingToken, DomainError) as problem:
        return _problem_page(problem)
    return _page(
        "Thank you",
        "<p>Your rating was recorded. You can change it by opening the link in the mail again.</p>",
    )


@api.route(
    "/reports/csat",
    "GET",
    summary="Clients' ratings (good and bad) per department and per agent over days",
    query=CsatQueryIn,
    response=CsatReportOut,
    errors=(404, 422),
)
def get_csat_report(request: ApiRequest[Any, CsatQueryIn]) -> CsatReportOut:
    deps = dependencies()
    first, last = report_days(request.query.start, request.query.end, deps.clock.now())
    report = csat_report(
        first, last, request.query.department_id, request.caller, deps, rating_tallies()
    )
    return CsatReportOut.of(report)
