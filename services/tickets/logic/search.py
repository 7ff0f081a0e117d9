"""Full-text search over tickets: a projection kept from the service's own events, and the query
that reads it for the caller.

Each ticket has a search document (its words, stems and pairs of stems, and the texts snippets are
cut from) and a posting in one list per stem and per first letters of its words; a list holds
ticket ids newest ticket first. A query reads one list (its rarest-looking word's), checks each
candidate's document for every word, phrase and prefix, and the live ticket for who may see it:
the same rule as lists, so a ticket the caller may not open never shows, not even as a gap.

`SearchIndex` is the port: `data.search_dynamodb` implements it on the tickets table; a large
installation can implement it on OpenSearch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from services.tickets.logic.access import viewer_of
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.search_text import (
    BadQuery,
    SearchQuery,
    Terms,
    parse_query,
    posting_keys,
    snippet,
)
from services.tickets.logic.ticket import ERASED_EMAIL, Message, Ticket
from shared.errors import FieldError, Invalid
from shared.identity import Caller
from shared.storage import Page, decode_cursor, encode_cursor

CANDIDATES = 50  # read per query: a document and a ticket each, one batch read of 100 keys
MAX_LIMIT = CANDIDATES
SNIPPET_TEXT = 1_000  # characters of each text kept for snippets
SNIPPET_MESSAGES = 50  # the newest messages whose text is kept for snippets
INDEXED_TEXT = 20_000  # characters of a message that are indexed (mail can be huge)
PAIRS_BUDGET = 20_000  # pairs of stems kept for phrases; a DynamoDB item holds 400 KB
STORE_ATTEMPTS = 5
MESSAGES_PAGE = 100


Source = Literal["subject", "number", "requester", "tags", "message"]


@dataclass
class IndexedText:
    source: Source
    text: str
    message_id: str | None = None


@dataclass
class SearchDoc:
    ticket_id: str
    position: str  # where the ticket sorts in posting lists: `<created_at>#<id>`, newest last
    terms: Terms
    texts: list[IndexedText] = field(default_factory=list)
    message_ids: set[str] = field(default_factory=set)
    version: int = 0  # of the stored document; each store is conditional on it

    def add_message(self, message_id: str, body: str) -> None:
        text = body[:INDEXED_TEXT]
        pairs = set(self.terms.pairs)
        self.terms.add(text)
        if len(self.terms.pairs) > PAIRS_BUDGET:
            self.terms.pairs = pairs  # too long a ticket: its later words are found, not phrases
        self.message_ids.add(message_id)
        self.texts.append(IndexedText("message", text[:SNIPPET_TEXT], message_id))
        messages = [t for t in self.texts if t.source == "message"]
        if len(messages) > SNIPPET_MESSAGES:
            self.texts.remove(messages[0])

    def posting_keys(self) -> set[str]:
        return posting_keys(self.terms)


class StaleDoc(Exception):
    """The document changed since it was read: read it again and redo the change."""


@dataclass(frozen=True)
class Candidate:
    position: str

    @property
    def ticket_id(self) -> str:
        return self.position.rsplit("#", 1)[1]


class SearchIndex(Protocol):
    def doc(self, ticket_id: str) -> SearchDoc | None: ...

    def store(self, doc: SearchDoc, previous: SearchDoc | None) -> None:
        """Store the document, add its ticket to the posting lists it joined and remove it from
        those it left (since `previous`), with as few write requests as the lists allow; raises
        StaleDoc if the stored document is no longer `previous`."""
        ...

    def candidates(self, key: str, limit: int, after: str | None) -> tuple[list[Candidate], bool]:
        """Up to `limit` postings of list `key`, newest ticket first, after position `after`;
        and whether more follow."""
        ...

    def load(self, ticket_ids: list[str]) -> dict[str, tuple[SearchDoc | None, Ticket | None]]:
        """The documents and the tickets, in one batch read."""
        ...


@dataclass(frozen=True)
class Hit:
    ticket: Ticket
    snippet: str
    source: Source
    message_id: str | None


# --- the query -------------------------------------------------------------------------------


def search_tickets(
    text: str,
    caller: Caller,
    deps: Dependencies,
    index: SearchIndex,
    limit: int,
    cursor: str | None,
) -> Page[Hit]:
    """Tickets matching `text` that the caller may open, newest first. A page holds at most
    `limit` hits and may hold fewer (even none) while a cursor still follows: each call reads
    one slice of the list, so its cost stays the same whatever the index holds."""
    try:
        query = parse_query(text)
    except BadQuery as error:
        raise Invalid(f"q: {error}", [FieldError("query.q", str(error))]) from None
    key = query.driver()
    if key is None:
        return Page([], None)
    after = _position(cursor, key)
    viewer = viewer_of(caller, deps.repository, deps.config.triage_department)
    candidates, more = index.candidates(key, CANDIDATES, after)
    loaded = index.load([c.ticket_id for c in candidates])
    hits: list[Hit] = []
    last = None
    for candidate in candidates:
        if len(hits) == limit:
            more = True
            break
        last = candidate.position
        doc, ticket = loaded.get(candidate.ticket_id, (None, None))
        if doc is None or ticket is None or not viewer.sees(ticket):
            continue
        if query.matches(doc.terms):
            hits.append(_hit(query, ticket, doc))
    next_cursor = encode_cursor({"list": key, "after": last}) if more and last else None
    return Page(hits, next_cursor)


def _position(cursor: str | None, key: str) -> str | None:
    if cursor is None:
        return None
    position = decode_cursor(cursor, dict)
    after = position.get("after")
    if position.get("list") != key or not isinstance(after, str):
        raise Invalid(
            "cursor: not a cursor of this query",
            [FieldError("query.cursor", "not a cursor this API gave out for this query")],
        )
    return after


def _hit(query: SearchQuery, ticket: Ticket, doc: SearchDoc) -> Hit:
    texts = [t for t in doc.texts if t.source != "message"]
    texts += reversed([t for t in doc.texts if t.source == "message"])  # newest message first
    best: tuple[int, str, IndexedText] | None = None
    for indexed in texts:  # the text showing most of the query; the first of those
        found = snippet(query, indexed.text)
        if found is not None and (best is None or found[0] > best[0]):
            best = (*found, indexed)
    if best is not None:
        return Hit(ticket, best[1], best[2].source, best[2].message_id)
    # Matched in text too old or long to keep for snippets: the subject says what it is about.
    return Hit(ticket, ticket.subject, "subject", None)


# --- keeping the index -----------------------------------------------------------------------


def position_of(ticket: Ticket) -> str:
    return f"{ticket.created_at.isoformat()}#{ticket.id}"


def _ticket_doc(ticket: Ticket, version: int) -> SearchDoc:
    doc = SearchDoc(ticket.id, position_of(ticket), Terms.empty(), version=version)
    fields: list[tuple[Source, str]] = [("subject", ticket.subject), ("number", ticket.number)]
    if ticket.requester.email != ERASED_EMAIL:  # an erased requester leaves no word behind
        requester = " ".join(filter(None, [ticket.requester.name, ticket.requester.email]))
        fields.append(("requester", requester))
    if ticket.tags:
        fields.append(("tags", " ".join(ticket.tags)))
    for source, text in fields:
        doc.terms.add(text)
        doc.texts.append(IndexedText(source, text[:SNIPPET_TEXT]))
    return doc


def _indexed(message: Message) -> bool:
    # An erased person's messages are anonymised, not deleted: their text leaves the index.
    return message.author.email != ERASED_EMAIL


def reindex_ticket(ticket_id: str, deps: Dependencies, index: SearchIndex) -> bool:
    """Build the ticket's document again from the ticket and its whole conversation (notes
    included); what the events carry is not needed. False if there is no such ticket."""
    for _ in range(STORE_ATTEMPTS):
        previous = index.doc(ticket_id)
        ticket, messages = _conversation(ticket_id, deps)
        if ticket is None:
            return False
        doc = _ticket_doc(ticket, previous.version if previous else 0)
        for message in messages:
            if _indexed(message):
                doc.add_message(message.id, message.body)
        try:
            index.store(doc, previous)
        except StaleDoc:
            continue
        return True
    raise StaleDoc(ticket_id)


def index_message(
    ticket_id: str, message_id: str, body: str | None, deps: Dependencies, index: SearchIndex
) -> None:
    """Add a posted message to its ticket's document: from the event's text when it carries it
    (a note's event does not), else from the conversation."""
    for _ in range(STORE_ATTEMPTS):
        previous = index.doc(ticket_id)
        if previous is None or body is None:
            reindex_ticket(ticket_id, deps, index)
            return
        if message_id in previous.message_ids:
            return  # indexed already: the event came again, or a rebuild read it
        doc = _copy(previous)
        doc.add_message(message_id, body)
        try:
            index.store(doc, previous)
        except StaleDoc:
            continue
        return
    raise StaleDoc(ticket_id)


def reindex_tickets(ticket_ids: Iterable[str], deps: Dependencies, index: SearchIndex) -> None:
    for ticket_id in dict.fromkeys(ticket_ids):
        reindex_ticket(ticket_id, deps, index)


def forget_contact(contact_id: str, deps: Dependencies, index: SearchIndex) -> None:
    """After a contact's erasure: their tickets' documents rebuilt without them."""
    reindex_tickets((t.id for t in deps.repository.tickets_of_contact(contact_id)), deps, index)


def _copy(doc: SearchDoc) -> SearchDoc:
    terms = Terms(set(doc.terms.words), set(doc.terms.stems), set(doc.terms.pairs))
    texts = [IndexedText(t.source, t.text, t.message_id) for t in doc.texts]
    return SearchDoc(doc.ticket_id, doc.position, terms, texts, set(doc.message_ids), doc.version)


def _conversation(ticket_id: str, deps: Dependencies) -> tuple[Ticket | None, list[Message]]:
    ticket, page = deps.repository.get_with_messages(ticket_id, MESSAGES_PAGE, None)
    messages = list(page.items)
    while page.cursor is not None:
        _, page = deps.repository.get_with_messages(ticket_id, MESSAGES_PAGE, page.cursor)
        messages += page.items
    return ticket, messages
