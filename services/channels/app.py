"""The channels service's Chalice app: registers the HTTP routes, the mail and event functions."""

from chalice import Chalice

from services.channels.handlers.events import consumer
from services.channels.handlers.http import api
from services.channels.handlers.mail import register_mail
from services.channels.handlers.reports import register_reports
from shared.events.outbox import register_outbox_relay
from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-channels", configure_logs=False)
app.register_blueprint(api.blueprint)
receive_mail_function = register_mail(app)
receive_delivery_reports = register_reports(app)
relay_outbox = register_outbox_relay(app)
consume_events = consumer.register(app)
instrument(app, observability("channels"))
