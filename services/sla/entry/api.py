"""The SLA HTTP API's Lambda entry: `app` serves every route."""

from services.sla.entry import app
from services.sla.handlers.http import api

app.register_blueprint(api.blueprint)
