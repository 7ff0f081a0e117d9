import type { Contact } from "../../api/client";
import { DateTime, humanize } from "../../ui/components";

export function ContactDetails({ contact }: { contact: Contact }) {
  return (
    <div class="card contact-card">
      <h2>Details</h2>
      <dl class="contact-facts">
        <dt>Email addresses</dt>
        <dd>
          {contact.emails.length === 0 && <span class="muted">None</span>}
          <ul class="plain-list">
            {contact.emails.map((address, index) => (
              <li key={address}>
                {address}
                {index === 0 && <span class="badge">Primary</span>}
                {contact.bounced[address] && (
                  <p class="bounced">
                    <span aria-hidden="true">⚠ </span>Bounced: {contact.bounced[address]?.detail ?? "the mail came back"}{" "}
                    (<DateTime value={contact.bounced[address]?.at} />)
                  </p>
                )}
              </li>
            ))}
          </ul>
        </dd>
        <Fact label="Phone" value={contact.phone} />
        <Fact label="Organisation" value={contact.organisation} />
        <dt>Tags</dt>
        <dd>
          {contact.tags.length === 0 && <span class="muted">None</span>}
          {contact.tags.map((tag) => (
            <span key={tag} class="badge tag">
              {tag}
            </span>
          ))}
        </dd>
        <dt>CRM</dt>
        <dd>
          <CrmLink contact={contact} />
        </dd>
        <dt>Added</dt>
        <dd>
          <DateTime value={contact.created_at} /> <span class="muted">({humanize(contact.origin)})</span>
        </dd>
      </dl>
      <h3>Notes</h3>
      {contact.notes ? <p class="contact-notes">{contact.notes}</p> : <p class="muted">No notes.</p>}
    </div>
  );
}

function Fact({ label, value }: { label: string; value: string | null }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value || <span class="muted">None</span>}</dd>
    </>
  );
}

function CrmLink({ contact }: { contact: Contact }) {
  if (contact.crm) {
    const name = humanize(contact.crm.provider);
    return contact.crm.url ? (
      <a href={contact.crm.url} target="_blank" rel="noopener noreferrer">
        Open in {name} (new tab)
      </a>
    ) : (
      <span>
        Linked to {name} record {contact.crm.id}
      </span>
    );
  }
  if (contact.crm_unlinked) {
    return (
      <span>
        Unlinked: the {humanize(contact.crm_unlinked.provider)} record was deleted on{" "}
        <DateTime value={contact.crm_unlinked.at} />
      </span>
    );
  }
  return <span class="muted">Not linked</span>;
}
