// Merging a duplicate into the ticket that stays: which one, then a confirmation, as it cannot be
// undone.

import { useState } from "preact/hooks";
import type { Ticket } from "../../api/client";
import { Button, Confirm, Dialog, Field, fieldProblem, ProblemAlert } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { mergeTicket } from "./ticketApi";

export function MergeDialog(props: { ticket: Ticket; onMerged: (source: Ticket, target: Ticket) => void; onClose: () => void }) {
  const [into, setInto] = useState("");
  const [confirming, setConfirming] = useState(false);
  const merge = useAction(async () => {
    const merged = await mergeTicket(props.ticket.id, into.trim());
    props.onMerged(merged.source, merged.target);
  });
  if (confirming) {
    return (
      <Confirm
        title={`Merge ${props.ticket.number} into ${into.trim()}?`}
        confirmLabel="Merge"
        busy={merge.busy}
        error={merge.error}
        onConfirm={() => void merge.run()}
        onCancel={() => {
          merge.clear();
          setConfirming(false);
        }}
      >
        <p>
          The conversation of {props.ticket.number} moves to {into.trim()} and {props.ticket.number} is closed. This
          cannot be undone.
        </p>
      </Confirm>
    );
  }
  return (
    <Dialog title={`Merge ${props.ticket.number} into another ticket`} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (into.trim()) setConfirming(true);
        }}
      >
        <Field label="Number or id of the ticket that stays" error={fieldProblem(merge.error, "into")}>
          <input value={into} required onInput={(e) => setInto(e.currentTarget.value)} />
        </Field>
        <ProblemAlert error={merge.error} />
        <div class="actions">
          <Button onClick={props.onClose}>Cancel</Button>
          <Button tone="primary" type="submit">
            Continue
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
