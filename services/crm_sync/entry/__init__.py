"""The crm_sync service's Lambda entry points: one module per function, importing only what that
function runs. Each adds its function to this app, which logs and counts for all of them."""

from chalice import Chalice

from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-crm-sync", configure_logs=False)
instrument(app, observability("crm_sync"))
