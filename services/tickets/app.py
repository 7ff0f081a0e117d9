"""The tickets service's Chalice app: every function it deploys, declared by the module under
entry/ that Lambda imports to run it (and nothing of the other functions)."""

# Importing an entry module adds its function to the app.
from services.tickets.entry import (  # noqa: F401
    api,
    app,
    consume_events,
    relay_outbox,
    run_automations,
)
