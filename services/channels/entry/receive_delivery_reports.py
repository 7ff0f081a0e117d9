"""SES's delivery reports' Lambda entry: the reports' queue invokes it."""

from chalice import Blueprint

from services.channels.entry import app
from services.channels.handlers.reports import register_reports
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
receive_delivery_reports = register_reports(blueprint)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
