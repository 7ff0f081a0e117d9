"""Ticket search wired to its DynamoDB index (a large installation wires OpenSearch here)."""

from __future__ import annotations

from services.tickets.data.search_dynamodb import DynamoSearchIndex
from services.tickets.logic.search import SearchIndex


def search_index() -> SearchIndex:
    return DynamoSearchIndex()
