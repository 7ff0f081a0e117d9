"""SES's delivery reports' Lambda entry: the reports' queue invokes it."""

from chalice import Blueprint

from services.channels.entry import app
from services.channels.handlers.reports import register_reports

blueprint = Blueprint(__name__)
receive_delivery_reports = register_reports(blueprint)
app.register_blueprint(blueprint)
