"""The tickets event consumer's Lambda entry: the service's event queue invokes it."""

from chalice import Blueprint

from services.tickets.entry import app
from services.tickets.handlers.events import consumer

blueprint = Blueprint(__name__)
consume_events = consumer.register(blueprint)
app.register_blueprint(blueprint)
