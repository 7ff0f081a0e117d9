"""The tickets HTTP API's Lambda entry: `app` serves every route."""

from services.tickets.entry import app
from services.tickets.handlers.availability_http import api as availability_api
from services.tickets.handlers.bulk_http import api as bulk_api
from services.tickets.handlers.http import api
from services.tickets.handlers.macros_http import api as macros_api
from services.tickets.handlers.ratings_http import api as ratings_api
from services.tickets.handlers.search_http import api as search_api
from shared.cold_start import resume_collection

app.register_blueprint(api.blueprint)
app.register_blueprint(availability_api.blueprint)
app.register_blueprint(search_api.blueprint)
app.register_blueprint(macros_api.blueprint)
app.register_blueprint(bulk_api.blueprint)
app.register_blueprint(ratings_api.blueprint)
resume_collection()  # the cold start's imports are done
