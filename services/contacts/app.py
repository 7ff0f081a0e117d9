"""The contacts service's Chalice app: registers the HTTP routes and event functions."""

from chalice import Chalice

from services.contacts.handlers.events import consumer
from services.contacts.handlers.http import api
from shared.events.outbox import register_outbox_relay
from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-contacts", configure_logs=False)
app.register_blueprint(api.blueprint)
relay_outbox = register_outbox_relay(app)
consume_events = consumer.register(app)
instrument(app, observability("contacts"))
