"""Ticket search on DynamoDB: an inverted index in the tickets table, under its own keys.

| item | pk | sk |
|---|---|---|
| search document | `SEARCHDOC#<ticket id>` | `DOC` |
| posting | `SEARCH#W#<stem>` or `SEARCH#P#<first letters>` | `<ticket created_at>#<ticket id>` |

A posting list is one partition, sorted by the ticket's creation, so "newest first" is a Query
read backwards from where the last page ended. The postings of a ticket never move: they are
keyed by when it was created, not by its last change. Items carry no index attribute, so no GSI
holds them; the stream's filter passes only the outbox, so the relay never sees them.

Writes: the document (conditional on the version read) and up to 99 postings are one
TransactWriteItems; a message that brings more new words than that puts the rest first in
BatchWriteItem requests of 25. Reads: one Query for candidates, one BatchGetItem for their
documents and tickets.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import TransactWriteError

from services.tickets.data.dynamodb import TICKET_SK, _ticket, ticket_key
from services.tickets.data.tables import SERVICE, TicketItem, TicketsTable
from services.tickets.logic.search import Candidate, IndexedText, SearchDoc, StaleDoc
from services.tickets.logic.search_text import Terms
from services.tickets.logic.ticket import Ticket
from shared.storage import bind_table, failed_conditions, transaction

DOC_SK = "DOC"
TRANSACTION_ITEMS = 100  # DynamoDB's most per TransactWriteItems


def doc_key(ticket_id: str) -> str:
    return f"SEARCHDOC#{ticket_id}"


def posting_list(key: str) -> str:
    return f"SEARCH#{key}"


class SearchDocItem(TicketsTable, discriminator="search_doc"):
    ticket_id = UnicodeAttribute()
    position = UnicodeAttribute()
    words = UnicodeSetAttribute(null=True)
    stems = UnicodeSetAttribute(null=True)
    pairs = UnicodeSetAttribute(null=True)
    texts = UnicodeAttribute()  # JSON: [[source, text, message id or null], ...]
    message_ids = UnicodeSetAttribute(null=True)
    version = NumberAttribute()


class SearchPostingItem(TicketsTable, discriminator="search_posting"):
    """The key says it all: which list, and which ticket where."""


class DynamoSearchIndex:
    def __init__(self) -> None:
        bind_table(TicketsTable, SERVICE)

    def doc(self, ticket_id: str) -> SearchDoc | None:
        try:
            return _doc(SearchDocItem.get(doc_key(ticket_id), DOC_SK, consistent_read=True))
        except SearchDocItem.DoesNotExist:
            return None

    def store(self, doc: SearchDoc, previous: SearchDoc | None) -> None:
        old = previous.posting_keys() if previous is not None else set()
        new = doc.posting_keys()
        # Removals first: they are few (an erasure, a changed tag), and must not wait on a batch.
        writes = [(False, k) for k in sorted(old - new)] + [(True, k) for k in sorted(new - old)]
        in_transaction = writes[: TRANSACTION_ITEMS - 1]
        later = writes[TRANSACTION_ITEMS - 1 :]
        # Postings beyond the transaction: added before it (a found ticket is checked against its
        # document anyway), removed after it (never before the document that no longer has them).
        self.batch_write(doc.position, [k for put, k in later if put], [])
        item = _doc_item(doc, (previous.version if previous else 0) + 1)
        write = transaction(TicketsTable)
        condition = (
            SearchDocItem.pk.does_not_exist()
            if previous is None
            else SearchDocItem.version == previous.version
        )
        try:
            with write:
                write.save(item, condition=condition)
                for put, key in in_transaction:
                    posting = SearchPostingItem(posting_list(key), doc.position)
                    if put:
                        write.save(posting)
                    else:
                        write.delete(posting)
        except TransactWriteError as error:
            if (item.pk, item.sk) in failed_conditions(write, error):
                raise StaleDoc(doc.ticket_id) from error
            raise
        doc.version = int(item.version)
        self.batch_write(doc.position, [], [k for put, k in later if not put])

    def batch_write(self, position: str, puts: list[str], deletes: list[str]) -> None:
        """Postings of one ticket, in BatchWriteItem requests of 25 (pynamodb's batches)."""
        if not puts and not deletes:
            return
        with SearchPostingItem.batch_write() as batch:
            for key in puts:
                batch.save(SearchPostingItem(posting_list(key), position))
            for key in deletes:
                batch.delete(SearchPostingItem(posting_list(key), position))

    def store_new(self, docs: list[SearchDoc]) -> None:
        """Documents never stored before and their postings, in batches only: for building an
        index from nothing (a rebuild, the benchmark), where no writer races."""
        with SearchPostingItem.batch_write() as batch:
            for doc in docs:
                batch.save(_doc_item(doc, 1))
                for key in doc.posting_keys():
                    batch.save(SearchPostingItem(posting_list(key), doc.position))

    def candidates(self, key: str, limit: int, after: str | None) -> tuple[list[Candidate], bool]:
        results = SearchPostingItem.query(
            posting_list(key),
            TicketsTable.sk < after if after is not None else None,
            scan_index_forward=False,
            limit=limit,
        )
        found = [Candidate(item.sk) for item in results]
        return found, results.last_evaluated_key is not None

    def load(self, ticket_ids: list[str]) -> dict[str, tuple[SearchDoc | None, Ticket | None]]:
        keys = [(doc_key(i), DOC_SK) for i in ticket_ids]
        keys += [(ticket_key(i), TICKET_SK) for i in ticket_ids]
        docs: dict[str, SearchDoc] = {}
        tickets: dict[str, Ticket] = {}
        for item in TicketsTable.batch_get(keys):
            if isinstance(item, SearchDocItem):
                docs[item.ticket_id] = _doc(item)
            elif isinstance(item, TicketItem):
                tickets[item.id] = _ticket(item)
        return {i: (docs.get(i), tickets.get(i)) for i in ticket_ids}


def _doc_item(doc: SearchDoc, version: int) -> SearchDocItem:
    return SearchDocItem(
        doc_key(doc.ticket_id),
        DOC_SK,
        ticket_id=doc.ticket_id,
        position=doc.position,
        words=doc.terms.words or None,
        stems=doc.terms.stems or None,
        pairs=doc.terms.pairs or None,
        texts=json.dumps([[t.source, t.text, t.message_id] for t in doc.texts]),
        message_ids=doc.message_ids or None,
        version=version,
    )


def _doc(item: SearchDocItem) -> SearchDoc:
    texts: list[Any] = json.loads(item.texts)
    return SearchDoc(
        ticket_id=item.ticket_id,
        position=item.position,
        terms=Terms(set(item.words or ()), set(item.stems or ()), set(item.pairs or ())),
        texts=[IndexedText(source, text, message_id) for source, text, message_id in texts],
        message_ids=set(item.message_ids or ()),
        version=int(item.version),
    )
