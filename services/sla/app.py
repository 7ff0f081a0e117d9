"""The SLA service's Chalice app: registers the HTTP routes, event functions and the sweep."""

from chalice import Chalice

from services.sla.handlers.events import consumer
from services.sla.handlers.http import api
from services.sla.handlers.sweep import register_sweep
from shared.events.outbox import register_outbox_relay
from shared.observability import instrument, observability

sla_observability = observability("sla")
app = Chalice(app_name="helpdesk-sla", configure_logs=False)
app.register_blueprint(api.blueprint)
relay_outbox = register_outbox_relay(app)
consume_events = consumer.register(app)
sweep_sla = register_sweep(app, sla_observability.metrics)
instrument(app, sla_observability)
