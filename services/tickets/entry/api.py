"""The tickets HTTP API's Lambda entry: `app` serves every route."""

from services.tickets.entry import app
from services.tickets.handlers.http import api
from services.tickets.handlers.search_http import api as search_api
from shared.cold_start import resume_collection

app.register_blueprint(api.blueprint)
app.register_blueprint(search_api.blueprint)
resume_collection()  # the cold start's imports are done
