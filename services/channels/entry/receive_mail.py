"""The received mail's Lambda entry: SES's receipt rule invokes it."""

from chalice import Blueprint

from services.channels.entry import app
from services.channels.handlers.mail import register_mail

blueprint = Blueprint(__name__)
receive_mail_function = register_mail(blueprint)
app.register_blueprint(blueprint)
