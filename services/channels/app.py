"""The channels service's Chalice app: every function it deploys, declared by the module under
entry/ that Lambda imports to run it (and nothing of the other functions)."""

# Importing an entry module adds its function to the app.
from services.channels.entry import (  # noqa: F401
    api,
    app,
    consume_events,
    receive_delivery_reports,
    receive_mail,
    relay_outbox,
    send_grouped_notifications,
)
