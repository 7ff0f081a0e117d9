"""Made-up replies, one per way mail clients quote, each with the new text a reader should see:
the hand-labelled half of the quoted-history trial (the other half is the corpus's talon and
chatwoot replies). The expected text keeps the sender's own sign-off, as talon's fixtures do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplySample:
    name: str
    raw: bytes
    expected: str  # the new text, compared with runs of white space made one space


def _mail(subject: str, body: str, content_type: str = "text/plain") -> bytes:
    head = (
        "From: Dana Client <dana@client.example.org>\nTo: support@example.com\n"
        f"Subject: {subject}\nDate: Tue, 5 Mar 2024 10:00:00 +0000\nMIME-Version: 1.0\n"
        f"Content-Type: {content_type}; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    )
    return (head + body).encode()


REPLY_SAMPLES = [
    ReplySample(
        "gmail plain",
        _mail(
            "Re: Invoice 1042",
            "Thanks, the new invoice is fine.\n\nDana\n\n"
            "On Mon, Mar 4, 2024 at 9:12 AM Support <support@example.com> wrote:\n"
            "> Here is the corrected invoice.\n>\n> Best,\n> Support\n",
        ),
        "Thanks, the new invoice is fine. Dana",
    ),
    ReplySample(
        "gmail attribution over two lines",
        _mail(
            "Re: Login",
            "It works again.\n\nOn Mon, Mar 4, 2024 at 9:12 AM Support Team of Example <\n"
            "support@example.com> wrote:\n\n> Please try again now.\n",
        ),
        "It works again.",
    ),
    ReplySample(
        "outlook header block",
        _mail(
            "RE: Delivery",
            "The parcel arrived today.\n\nRegards,\nDana\n\n"
            "________________________________\nFrom: Support <support@example.com>\n"
            "Sent: Monday, March 4, 2024 9:12 AM\nTo: Dana Client <dana@client.example.org>\n"
            "Subject: Delivery\n\nYour parcel is on its way.\n",
        ),
        "The parcel arrived today. Regards, Dana",
    ),
    ReplySample(
        "original message divider",
        _mail(
            "Re: Password",
            "Done, thank you.\n\n-----Original Message-----\nFrom: support@example.com\n"
            "Sent: Monday, March 4, 2024 9:12 AM\nSubject: Password\n\nPlease reset it.\n",
        ),
        "Done, thank you.",
    ),
    ReplySample(
        "german attribution",
        _mail(
            "AW: Rechnung",
            "Vielen Dank, alles klar.\n\nAm 04.03.2024 um 09:12 schrieb Support "
            "<support@example.com>:\n> Anbei die Rechnung.\n",
        ),
        "Vielen Dank, alles klar.",
    ),
    ReplySample(
        "french attribution",
        _mail(
            "RE: Facture",
            "Merci, c'est réglé.\n\nLe lun. 4 mars 2024 à 09:12, Support "
            "<support@example.com> a écrit :\n> Voici la facture.\n",
        ),
        "Merci, c'est réglé.",
    ),
    ReplySample(
        "spanish outlook block",
        _mail(
            "RE: Pedido",
            "Recibido, gracias.\n\nDe: Support <support@example.com>\n"
            "Enviado: lunes, 4 de marzo de 2024 9:12\nPara: Dana\nAsunto: Pedido\n\n"
            "Su pedido ha salido.\n",
        ),
        "Recibido, gracias.",
    ),
    ReplySample(
        "bottom posted",
        _mail(
            "Re: Opening hours",
            "On 04/03/2024 09:12, Support wrote:\n> We open at nine.\n\n"
            "Good to know, see you then.\n",
        ),
        "Good to know, see you then.",
    ),
    ReplySample(
        "signature kept",
        _mail(
            "Re: Refund",
            "Yes, please refund it to the card.\n\n-- \nDana Client\nClient Ltd.\n\n"
            "On Mon, Mar 4, 2024 at 9:12 AM Support <support@example.com> wrote:\n"
            "> Shall we refund the order?\n",
        ),
        "Yes, please refund it to the card. -- Dana Client Client Ltd.",
    ),
    ReplySample(
        "no history",
        _mail("Printer", "The printer on floor 2 is out of toner.\n\nDana\n"),
        "The printer on floor 2 is out of toner. Dana",
    ),
    ReplySample(
        "forward is new text",
        _mail(
            "Fwd: Order 77",
            "See below.\n\n---------- Forwarded message ---------\nFrom: Shop "
            "<shop@example.net>\nDate: Mon, Mar 4, 2024\nSubject: Order 77\n\n"
            "Your order shipped.\n",
        ),
        "See below. ---------- Forwarded message --------- From: Shop <shop@example.net> "
        "Date: Mon, Mar 4, 2024 Subject: Order 77 Your order shipped.",
    ),
    ReplySample(
        "gmail html",
        _mail(
            "Re: Access",
            '<div dir="ltr">I can log in now.<br></div><br><div class="gmail_quote">'
            '<div class="gmail_attr">On Mon, Mar 4, 2024 at 9:12 AM Support wrote:<br></div>'
            "<blockquote>Please try again.</blockquote></div>",
            "text/html",
        ),
        "I can log in now.",
    ),
    ReplySample(
        "outlook html",
        _mail(
            "RE: Meeting",
            "<html><body><div>Tuesday works for me.</div><div>Dana</div>"
            '<hr><div id="divRplyFwdMsg"><b>From:</b> Support &lt;support@example.com&gt;<br>'
            "<b>Sent:</b> Monday, March 4, 2024 9:12 AM<br><b>Subject:</b> Meeting</div>"
            "<div>Would Tuesday suit you?</div></body></html>",
            "text/html",
        ),
        "Tuesday works for me. Dana",
    ),
    ReplySample(
        "thunderbird html",
        _mail(
            "Re: Contract",
            "<html><body><p>Signed and sent back.</p>"
            '<div class="moz-cite-prefix">On 04/03/2024 09:12, Support wrote:<br></div>'
            '<blockquote type="cite">Please sign the contract.</blockquote></body></html>',
            "text/html",
        ),
        "Signed and sent back.",
    ),
]
