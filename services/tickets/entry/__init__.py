"""The tickets service's Lambda entry points: one module per function, importing only what that
function runs. Each adds its function to this app, which logs and counts for all of them."""

from shared.cold_start import pause_collection

pause_collection()  # before the first import of the cold start: see shared.cold_start

from chalice import Chalice  # noqa: E402

from shared.observability import instrument, observability  # noqa: E402

tools = observability("tickets")
app = Chalice(app_name="helpdesk-tickets", configure_logs=False)
instrument(app, tools)
