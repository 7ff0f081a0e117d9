"""The crm_sync service's Chalice app: registers the HTTP routes, the sync and event functions."""

from chalice import Chalice

from services.crm_sync.handlers.events import consumer
from services.crm_sync.handlers.http import api
from services.crm_sync.handlers.work import register_work
from shared.events.outbox import register_outbox_relay
from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-crm-sync", configure_logs=False)
app.register_blueprint(api.blueprint)
apply_crm_work, poll_crm, reconcile_crm = register_work(app)
relay_outbox = register_outbox_relay(app)
consume_events = consumer.register(app)
instrument(app, observability("crm_sync"))
