"""The contacts HTTP API's Lambda entry: `app` serves every route."""

from services.contacts.entry import app
from services.contacts.handlers.http import api

app.register_blueprint(api.blueprint)
