// Erasing a person cannot be undone: the admin types their primary address (or ERASE) first.

import { useState } from "preact/hooks";
import { api, call, type Contact } from "../../api/client";
import { Button, Dialog, Field, ProblemAlert } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { contactTitle } from "./contactApi";

const ERASE_WORD = "ERASE";

export function EraseContactDialog(props: { contact: Contact; onClose: () => void; onErased: () => void }) {
  const [typed, setTyped] = useState("");
  const expected = props.contact.primary_email;
  const confirmed =
    typed.trim() === ERASE_WORD || (expected !== null && typed.trim().toLowerCase() === expected.toLowerCase());
  const erase = useAction(async () => {
    await call(api().DELETE("/contacts/{contact_id}", { params: { path: { contact_id: props.contact.id } } }));
    props.onErased();
  });
  return (
    <Dialog title={`Erase ${contactTitle(props.contact)}?`} onClose={props.onClose}>
      <p>
        This removes their name, addresses, phone, organisation, notes and tags, and takes their address and name
        off their tickets and the mail kept from them. The tickets stay. This cannot be undone.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (confirmed) void erase.run();
        }}
      >
        <Field label={expected ? `Type ${expected} or ${ERASE_WORD} to confirm` : `Type ${ERASE_WORD} to confirm`}>
          <input type="text" autoComplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <ProblemAlert error={erase.error} />
        <div class="actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button type="submit" tone="danger" disabled={!confirmed} busy={erase.busy}>
            Erase contact
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
