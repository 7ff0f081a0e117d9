"""The crm_sync HTTP API's Lambda entry: `app` serves every route."""

from services.crm_sync.entry import app
from services.crm_sync.handlers.http import api

app.register_blueprint(api.blueprint)
