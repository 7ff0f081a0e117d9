"""The contacts service's Chalice app. Its routes and functions arrive with its own issue."""

from chalice import Chalice

from shared.observability import instrument, observability

app = Chalice(app_name="helpdesk-contacts", configure_logs=False)
instrument(app, observability("contacts"))
