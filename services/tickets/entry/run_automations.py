"""The tickets automations' Lambda entry: its schedule invokes it."""

from chalice import Blueprint

from services.tickets.entry import app, tools
from services.tickets.handlers.automations import register_automations
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
run_automations = register_automations(blueprint, tools.metrics)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
