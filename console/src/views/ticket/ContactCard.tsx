// Who asked: the requester's contact and their other tickets. A new ticket's contact is linked by
// an event a moment after it opens, so the card looks again until it is.

import type { Ticket } from "../../api/client";
import { href } from "../../router";
import { LoadMore, Loading, ProblemAlert, StatusBadge } from "../../ui/components";
import { useInterval, useLoad, usePaged } from "../../ui/hooks";
import { contactLink, contactTitle } from "../contacts/contactApi";
import { loadContact, loadContactTickets, loadTicket } from "./ticketApi";

const LINKING_POLL_SECONDS = 3;

export function ContactCard({ ticket }: { ticket: Ticket }) {
  // Looked up apart from the ticket, so a later link shows without touching the version in use.
  const linked = useLoad(async () => ticket.contact_id ?? (await loadTicket(ticket.id)).contact_id, [ticket.id, ticket.contact_id]);
  const contactId = linked.data ?? null;
  useInterval(() => void linked.reload(), contactId || linked.loading ? 0 : LINKING_POLL_SECONDS);
  return (
    <section class="panel" aria-labelledby="contact-title">
      <h2 id="contact-title">Requester</h2>
      <p class="requester">
        {ticket.requester.name && <strong>{ticket.requester.name} </strong>}
        <span>{ticket.requester.email}</span>
      </p>
      {contactId ? <ContactDetails contactId={contactId} ticketId={ticket.id} /> : <p class="muted" role="status">Linking contact…</p>}
    </section>
  );
}

function ContactDetails({ contactId, ticketId }: { contactId: string; ticketId: string }) {
  const contact = useLoad(() => loadContact(contactId), [contactId]);
  const tickets = usePaged((cursor) => loadContactTickets(contactId, cursor), [contactId]);
  if (contact.error) return <ProblemAlert error={contact.error} />;
  if (!contact.data) return <Loading what="Loading the contact" />;
  const { data } = contact;
  const others = tickets.items.filter((t) => t.id !== ticketId);
  return (
    <>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{contactTitle(data)}</dd>
        <dt>Email</dt>
        <dd>{data.emails.join(", ") || "—"}</dd>
        {data.phone && (
          <>
            <dt>Phone</dt>
            <dd>{data.phone}</dd>
          </>
        )}
        {data.organisation && (
          <>
            <dt>Organisation</dt>
            <dd>{data.organisation}</dd>
          </>
        )}
      </dl>
      <p class="links">
        <a href={contactLink(data.id)}>Open contact</a>
        {data.crm?.url && (
          <a href={data.crm.url} target="_blank" rel="noopener noreferrer">
            Open in {data.crm.provider} <span class="visually-hidden">(opens a new tab)</span>
          </a>
        )}
      </p>
      <h3>Other tickets</h3>
      <ProblemAlert error={tickets.error} />
      {!tickets.loading && others.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="other-tickets">
          {others.map((other) => (
            <li key={other.id}>
              <a href={href("tickets", other.id)}>
                {other.number}: {other.subject}
              </a>{" "}
              <StatusBadge status={other.status as Ticket["status"]} />
            </li>
          ))}
        </ul>
      )}
      <LoadMore more={tickets.more} loading={tickets.loading} />
    </>
  );
}
