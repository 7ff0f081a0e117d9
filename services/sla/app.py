"""The SLA service's Chalice app: registers the HTTP routes and event functions."""

from chalice import Chalice

from services.sla.handlers.events import consumer
from services.sla.handlers.http import api
from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-sla", configure_logs=False)
app.register_blueprint(api.blueprint)
consume_events = consumer.register(app)
instrument(app, observability("sla"))
