"""The grouped notifications' Lambda entry: its schedule invokes it."""

from chalice import Blueprint

from services.channels.entry import app
from services.channels.handlers.digests import register_digests
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
send_grouped_notifications = register_digests(blueprint)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
