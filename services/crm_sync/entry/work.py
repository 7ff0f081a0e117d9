"""The sync functions' Lambda entry: the work queue, the poll and the nightly full pass, which run
the same code."""

from chalice import Blueprint

from services.crm_sync.entry import app
from services.crm_sync.handlers.work import register_work
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
apply_crm_work, poll_crm, reconcile_crm = register_work(blueprint)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
