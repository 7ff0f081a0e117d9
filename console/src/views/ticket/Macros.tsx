// Macros in the composer: one is chosen by name, previewed for this ticket (its text filled in and
// its changes in words), then applied in one step or put away. The preview is read-only: what is
// applied is what the API rendered, so nothing typed here could be lost or sent by surprise.

import { useRef, useState } from "preact/hooks";
import { ApiError, idempotencyKey, type Ticket } from "../../api/client";
import { Button, Field, humanize, Loading, ProblemAlert } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { WriteProblem } from "./StaleTicket";
import { applyMacro, loadMacros, previewMacro, type Macro, type MacroPreview } from "./ticketApi";

type Change = MacroPreview["changes"][number];

export function MacroChooser(props: { onChoose: (macro: Macro) => void; applied: string }) {
  const macros = useLoad(loadMacros, []);
  const [chosen, setChosen] = useState("");
  const all = macros.data ?? [];
  const shared = all.filter((macro) => macro.scope === "shared");
  const mine = all.filter((macro) => macro.scope === "personal");
  const macro = all.find((each) => each.id === chosen);
  return (
    <div class="macro-chooser">
      {all.length > 0 && (
        <>
          <Field label="Macros" inline>
            <select value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
              <option value="">Choose a macro…</option>
              <MacroGroup label="Shared" macros={shared} />
              <MacroGroup label="Mine" macros={mine} />
            </select>
          </Field>
          <Button disabled={!macro} onClick={() => macro && props.onChoose(macro)}>
            Preview macro
          </Button>
        </>
      )}
      <span class="saved-status" role="status" aria-live="polite">
        {props.applied}
      </span>
      <ProblemAlert error={macros.error} />
    </div>
  );
}

function MacroGroup({ label, macros }: { label: string; macros: Macro[] }) {
  if (macros.length === 0) return null;
  return (
    <optgroup label={label}>
      {macros.map((macro) => (
        <option key={macro.id} value={macro.id}>
          {macro.name}
        </option>
      ))}
    </optgroup>
  );
}

export function MacroPreviewPanel(props: {
  ticket: Ticket;
  macro: Macro;
  me: string;
  onApplied: () => Promise<void>;
  onCancel: () => void;
  onReload: () => Promise<void>;
}) {
  const { ticket, macro } = props;
  // Previewed again whenever the ticket moves (a reload after a 412): it is what will be applied.
  const preview = useLoad(() => previewMacro(ticket.id, macro.id), [ticket.id, macro.id, ticket.version]);
  // As for a reply: a retry of an apply that got no answer reuses its key, so it applies once.
  const attempt = useRef<string | null>(null);
  const apply = useAction(async () => {
    attempt.current ??= idempotencyKey()["Idempotency-Key"];
    try {
      await applyMacro(ticket, macro.id, attempt.current);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 0)) attempt.current = null;
      throw error;
    }
    attempt.current = null;
    await props.onApplied();
  });
  const reload = useAction(async () => {
    await props.onReload();
    apply.clear();
  });
  const stale = apply.error?.status === 412;
  const shown = preview.data;

  return (
    <section class="composer macro-preview" aria-labelledby="macro-preview-title">
      <h2 id="macro-preview-title">Macro: {macro.name}</h2>
      {!shown && !preview.error && <Loading what="Previewing the macro" />}
      <ProblemAlert error={preview.error} />
      {shown && (
        <>
          <p class="composer-mode">{postedAs(shown, ticket)}</p>
          {shown.body !== null && (
            <Field label={shown.visibility === "internal" ? "Note it will add" : "Reply it will send"}>
              <textarea readOnly value={shown.body} />
            </Field>
          )}
          <p>
            <strong>Changes:</strong> {changesInWords(shown.changes, props.me)}
          </p>
        </>
      )}
      <WriteProblem
        error={apply.error}
        reload={reload}
        notDone="The macro was not applied. Reload the ticket to see their change and the macro's preview again."
      />
      <ProblemAlert error={reload.error} />
      <div class="composer-actions">
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button tone="primary" busy={apply.busy} disabled={!shown || stale} onClick={() => void apply.run()}>
          Apply macro
        </Button>
      </div>
    </section>
  );
}

function postedAs(preview: MacroPreview, ticket: Ticket): string {
  if (preview.body === null) return "It posts no text.";
  if (preview.visibility === "internal") return "It adds an internal note: only agents will see it.";
  return `It mails this reply to ${ticket.requester.email}${ticket.cc.length ? ` (copy to ${ticket.cc.join(", ")})` : ""}.`;
}

/** "Status → Resolved, Tags + refunded, Assignee → you": each change as an agent would say it. */
function changesInWords(changes: Change[], me: string): string {
  const words = changes.flatMap((change) => {
    const { field, old, new: value } = change;
    if (field === "tags") {
      const before = (old as string[] | null) ?? [];
      const after = (value as string[] | null) ?? [];
      const added = after.filter((tag) => !before.includes(tag));
      const removed = before.filter((tag) => !after.includes(tag));
      return [
        ...(added.length ? [`Tags + ${added.join(", ")}`] : []),
        ...(removed.length ? [`Tags − ${removed.join(", ")}`] : []),
      ];
    }
    if (field === "assignee") return [`Assignee → ${value === null ? "nobody" : value === me ? "you" : String(value)}`];
    if (field === "status" || field === "priority") return [`${humanize(field)} → ${humanize(String(value))}`];
    return [`${humanize(field)} → ${value === null ? "none" : String(value)}`];
  });
  return words.length ? words.join(", ") : "none to the ticket's fields";
}
