import { useState } from "preact/hooks";
import { api, call, idempotencyKey } from "../../api/client";
import { navigate } from "../../router";
import { Button, Dialog, ProblemAlert } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { ContactFields, EMPTY_DRAFT, newContactBody } from "./contactForm";

export function NewContactDialog({ onClose }: { onClose: () => void }) {
  const [draft, setDraft] = useState(EMPTY_DRAFT);
  const create = useAction(async () => {
    const contact = await call(
      api().POST("/contacts", { params: { header: idempotencyKey() }, body: newContactBody(draft) }),
    );
    navigate("contacts", contact.id);
  });
  const submit = (event: Event) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <Dialog title="New contact" onClose={onClose}>
      <form onSubmit={submit} class="contact-form">
        <ContactFields draft={draft} onChange={setDraft} error={create.error} />
        <ProblemAlert error={create.error} />
        <div class="actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" tone="primary" busy={create.busy}>
            Create contact
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
