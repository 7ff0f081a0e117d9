"""Parts of table keys that every service spells the same way."""

from __future__ import annotations

NO_KEY = "-none-"
"""The key part that stands for "none" where a key needs a value: a ticket without a department
or without an assignee, mail routed to no department."""
