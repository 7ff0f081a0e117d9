import { useState } from "preact/hooks";
import { api, call, onlyChanged, type Contact } from "../../api/client";
import { Button, ProblemAlert } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { ContactFields, contactChanges, draftOf } from "./contactForm";

/** Edit in place; on a problem the form stays as typed, with the problem beside it. */
export function ContactEditForm(props: { contact: Contact; onSaved: (contact: Contact) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState(() => draftOf(props.contact));
  const save = useAction(async () => {
    const saved = await call(
      api().PATCH("/contacts/{contact_id}", {
        params: { path: { contact_id: props.contact.id } },
        body: onlyChanged(contactChanges(draft, props.contact)),
      }),
    );
    props.onSaved(saved);
  });
  const submit = (event: Event) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <form class="card contact-form" onSubmit={submit} aria-labelledby="edit-contact-title">
      <h2 id="edit-contact-title">Edit contact</h2>
      {props.contact.read_only.length > 0 && (
        <p class="muted">Some fields are managed in the CRM and change only there.</p>
      )}
      <ContactFields draft={draft} onChange={setDraft} error={save.error} readOnly={props.contact.read_only} />
      <ProblemAlert error={save.error} />
      <div class="actions">
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button type="submit" tone="primary" busy={save.busy}>
          Save contact
        </Button>
      </div>
    </form>
  );
}
