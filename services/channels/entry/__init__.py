"""The channels service's Lambda entry points: one module per function, importing only what that
function runs. Each adds its function to this app, which logs and counts for all of them."""

from chalice import Chalice

from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-channels", configure_logs=False)
instrument(app, observability("channels"))
