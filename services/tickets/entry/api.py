"""The tickets HTTP API's Lambda entry: `app` serves every route."""

from services.tickets.entry import app
from services.tickets.handlers.http import api

app.register_blueprint(api.blueprint)
