// Admins merge a duplicate into the contact that stays: find that one, then confirm.

import { useState } from "preact/hooks";
import { api, call, idempotencyKey, type Contact } from "../../api/client";
import { Button, Dialog, Field, Loading, ProblemAlert } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { contactLink, contactTitle, searchContacts } from "./contactApi";

export function MergeContactDialog({ contact, onClose }: { contact: Contact; onClose: () => void }) {
  const [text, setText] = useState("");
  const [survivor, setSurvivor] = useState<Contact | null>(null);
  const [found, setFound] = useState<Contact[] | null>(null);
  const search = useAction(async () => {
    const page = await searchContacts("q", text.trim(), null);
    setFound(page.items.filter((other) => other.id !== contact.id));
  });
  const merge = useAction(async () => {
    if (!survivor) return;
    await call(
      api().POST("/contacts/{contact_id}/merge", {
        params: { path: { contact_id: contact.id }, header: idempotencyKey() },
        body: { into: survivor.id },
      }),
    );
    location.hash = contactLink(survivor.id, contact.id).slice(1);
  });
  const name = contactTitle(contact);

  if (survivor) {
    return (
      <Dialog title={`Merge ${name} into ${contactTitle(survivor)}?`} onClose={onClose}>
        <p>
          <strong>{contactTitle(survivor)}</strong> stays: it keeps its id, primary address and fields, and takes
          a name, phone or organisation it lacks from <strong>{name}</strong>.
        </p>
        <p>
          Their addresses and tags are combined, {name}'s notes are added under a line naming them, and all of{" "}
          {name}'s tickets move to {contactTitle(survivor)}. {name} then only points to the contact that stays.
          This cannot be undone.
        </p>
        <ProblemAlert error={merge.error} />
        <div class="actions">
          <Button onClick={() => setSurvivor(null)}>Back</Button>
          <Button tone="danger" busy={merge.busy} onClick={() => void merge.run()}>
            Merge contacts
          </Button>
        </div>
      </Dialog>
    );
  }
  return (
    <Dialog title={`Merge ${name} into…`} onClose={onClose}>
      <p>Find the contact that stays, then choose it.</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void search.run();
        }}
      >
        <Field label="Name or address of the contact that stays" inline>
          <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
        <Button type="submit" busy={search.busy}>
          Find
        </Button>
      </form>
      <ProblemAlert error={search.error} />
      {search.busy && <Loading what="Searching" />}
      {found && found.length === 0 && <p class="muted">No other contact matches.</p>}
      {found && found.length > 0 && (
        <ul class="plain-list merge-candidates">
          {found.map((other) => (
            <li key={other.id}>
              <Button onClick={() => setSurvivor(other)}>
                <strong>{contactTitle(other)}</strong> {other.primary_email}
              </Button>
            </li>
          ))}
        </ul>
      )}
      <div class="actions">
        <Button onClick={onClose}>Cancel</Button>
      </div>
    </Dialog>
  );
}
