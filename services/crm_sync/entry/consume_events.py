"""The crm_sync event consumer's Lambda entry: the service's event queue invokes it."""

from chalice import Blueprint

from services.crm_sync.entry import app
from services.crm_sync.handlers.events import consumer
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
consume_events = consumer.register(blueprint)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
