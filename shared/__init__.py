"""The project's own library: what every service imports and no service owns.

Settings, the clock, the caller's identity, errors and their HTTP form, the event envelope,
the outbox and publisher, idempotent consumption, and observability set-up. No business rule of
any one service lives here.
"""
