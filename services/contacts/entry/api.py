"""The contacts HTTP API's Lambda entry: `app` serves every route."""

from services.contacts.entry import app
from services.contacts.handlers.http import api
from shared.cold_start import resume_collection

app.register_blueprint(api.blueprint)
resume_collection()  # the cold start's imports are done
