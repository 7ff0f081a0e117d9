"""The received mail's Lambda entry: SES's receipt rule invokes it."""

from chalice import Blueprint

from services.channels.entry import app
from services.channels.handlers.mail import register_mail
from shared.cold_start import resume_collection

blueprint = Blueprint(__name__)
receive_mail_function = register_mail(blueprint)
app.register_blueprint(blueprint)
resume_collection()  # the cold start's imports are done
