"""The SLA outbox relay's Lambda entry: the table's stream invokes it."""

from chalice import Blueprint

from services.sla.entry import app
from shared.cold_start import resume_collection
from shared.events.outbox import register_outbox_relay

blueprint = Blueprint(__name__)
relay_outbox = register_outbox_relay(blueprint)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
