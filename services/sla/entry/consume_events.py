"""The SLA event consumer's Lambda entry: the service's event queue invokes it."""

from chalice import Blueprint

from services.sla.entry import app
from services.sla.handlers.events import consumer

blueprint = Blueprint(__name__)
consume_events = consumer.register(blueprint)
app.register_blueprint(blueprint)
