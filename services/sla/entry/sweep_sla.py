"""The SLA sweep's Lambda entry: its schedule invokes it."""

from chalice import Blueprint

from services.sla.entry import app, tools
from services.sla.handlers.sweep import register_sweep
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
sweep_sla = register_sweep(blueprint, tools.metrics)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
