"""The contacts service's Chalice app: every function it deploys, declared by the module under
entry/ that Lambda imports to run it (and nothing of the other functions)."""

# Importing an entry module adds its function to the app.
from services.contacts.entry import api, app, consume_events, relay_outbox  # noqa: F401
