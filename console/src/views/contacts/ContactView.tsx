// One contact: who they are, every ticket they raised, and (by role) edit, merge and erase.
// A merged-away id answers 308 naming the survivor: the view goes there and says so. An erased
// contact answers 410.

import { useEffect, useState } from "preact/hooks";
import type { ViewProps } from "../../app";
import type { Contact } from "../../api/client";
import { href } from "../../router";
import { Button, Loading, Notice, PageHeader, ProblemAlert } from "../../ui/components";
import { useLoad } from "../../ui/hooks";
import { contactLink, contactTitle, readContact } from "./contactApi";
import { ContactDetails } from "./ContactDetails";
import { ContactEditForm } from "./ContactEditForm";
import { ContactTickets } from "./ContactTickets";
import { EraseContactDialog } from "./EraseContactDialog";
import { MergeContactDialog } from "./MergeContactDialog";
import "./contacts.css";

type Dialog = "merge" | "erase" | null;

export function ContactView({ session, route, contactId }: ViewProps & { contactId: string }) {
  const loaded = useLoad(() => readContact(contactId), [contactId]);
  const [contact, setContact] = useState<Contact>();
  const [editing, setEditing] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  // What was read stays shown while the next contact loads: use it only if it is this one's.
  const read = loaded.data?.requested === contactId ? loaded.data : undefined;
  useEffect(() => setContact(read?.contact), [read]);
  useEffect(() => setEditing(false), [contactId]);

  const survivor = read?.mergedInto;
  useEffect(() => {
    if (survivor) location.replace(contactLink(survivor, contactId));
  }, [survivor, contactId]);

  if (loaded.error?.status === 410) {
    return (
      <section>
        <PageHeader title="Contact erased" />
        <Notice>This contact was erased. Their tickets stay, without their name or address.</Notice>
        <p>
          <a href={href("contacts")}>Back to contacts</a>
        </p>
      </section>
    );
  }
  if (survivor) return <Loading what="This contact was merged; opening the contact it went into" />;
  if (loaded.error) {
    return (
      <section>
        <PageHeader title="Contact" />
        <ProblemAlert error={loaded.error} />
      </section>
    );
  }
  if (!contact) return <Loading what="Loading the contact" />;

  const mergedFrom = route.query.get("merged_from");
  return (
    <section>
      <PageHeader title={contactTitle(contact)}>
        {!editing && <Button onClick={() => setEditing(true)}>Edit contact</Button>}
        {session.admin && (
          <>
            <Button onClick={() => setDialog("merge")}>Merge into…</Button>
            <Button tone="danger" onClick={() => setDialog("erase")}>
              Erase…
            </Button>
          </>
        )}
      </PageHeader>
      {mergedFrom && (
        <Notice tone="success">
          Contact {mergedFrom} was merged into this one; you were taken to the contact that stays.
        </Notice>
      )}
      <div class="two-columns contact-layout">
        <ContactTickets contactId={contact.id} />
        <aside aria-label="Contact details">
          {editing ? (
            <ContactEditForm
              contact={contact}
              onSaved={(saved) => {
                setContact(saved);
                setEditing(false);
              }}
              onCancel={() => setEditing(false)}
            />
          ) : (
            <ContactDetails contact={contact} />
          )}
        </aside>
      </div>
      {dialog === "merge" && <MergeContactDialog contact={contact} onClose={() => setDialog(null)} />}
      {dialog === "erase" && (
        <EraseContactDialog
          contact={contact}
          onClose={() => setDialog(null)}
          onErased={() => {
            setDialog(null);
            void loaded.reload();
          }}
        />
      )}
    </section>
  );
}
