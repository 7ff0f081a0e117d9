"""The channels HTTP API's Lambda entry: `app` serves every route."""

from services.channels.entry import app
from services.channels.handlers.http import api

app.register_blueprint(api.blueprint)
