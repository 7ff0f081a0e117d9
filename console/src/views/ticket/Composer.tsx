// The reply or note being written. Its text and choice are a draft in local storage from the first
// key, so a reload, an expired session or a stale ticket never loses them.

import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { ApiError, idempotencyKey, STATUSES, type Message, type Status, type Ticket } from "../../api/client";
import { dropDraft, loadDraft, saveDraft, type Draft } from "../../drafts";
import { Button, Field, humanize, ProblemAlert, Select } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { fileSize } from "./format";
import { LockIcon } from "../../ui/icons";
import { ForwardPicker, ticketFiles, type TicketFile } from "./ForwardPicker";
import { MacroChooser, MacroPreviewPanel } from "./Macros";
import { postMessage, type Macro, type MessageDraft } from "./ticketApi";
import { useUploads, type Upload } from "./uploads";

type Visibility = Draft["visibility"];
type Posted = Awaited<ReturnType<typeof postMessage>>;

export function Composer(props: {
  ticket: Ticket;
  messages: Message[];
  me: string;
  onPosted: (posted: Posted) => void;
  onReload: () => Promise<void>;
}) {
  const { ticket, onPosted } = props;
  // A macro's preview takes the form's place; the draft stays as it was underneath.
  const [macro, setMacro] = useState<Macro | null>(null);
  const [applied, setApplied] = useState("");
  const [draft, setDraft] = useState<Draft>(() => loadDraft(ticket.id) ?? { body: "", visibility: "public" });
  const [status, setStatus] = useState<Status | "">("");
  const uploads = useUploads();
  // Ids of the ticket's own files to send again. Forwarding is mail to the client: a note keeps
  // the choice for when it becomes a reply again, but neither shows nor sends it.
  const [forward, setForward] = useState<string[]>([]);
  // One key per send: a retry of the very same send after a network failure reuses it, so the
  // API answers what it did the first time instead of posting twice.
  const attempt = useRef<{ payload: string; key: string } | null>(null);
  const internal = draft.visibility === "internal";
  const files = ticketFiles(props.messages);
  const forwarded = internal ? [] : files.filter(({ file }) => forward.includes(file.id));
  const pick = (id: string, picked: boolean) =>
    setForward((ids) => (picked ? [...ids.filter((each) => each !== id), id] : ids.filter((each) => each !== id)));

  const change = (next: Draft) => {
    setDraft(next);
    saveDraft(ticket.id, next);
  };
  const send = useAction(async () => {
    const message: MessageDraft = {
      body: draft.body,
      visibility: draft.visibility,
      status: status || null,
      attachments: uploads.attachments,
      forward: forwarded.map(({ file }) => file.id),
    };
    const payload = JSON.stringify(message);
    if (attempt.current?.payload !== payload) attempt.current = { payload, key: idempotencyKey()["Idempotency-Key"] };
    try {
      const posted = await postMessage(ticket.id, message, attempt.current.key);
      attempt.current = null;
      dropDraft(ticket.id);
      setDraft({ body: "", visibility: draft.visibility });
      setStatus("");
      uploads.clear();
      setForward([]);
      onPosted(posted);
    } catch (error) {
      const unanswered = error instanceof ApiError && error.status === 0;
      if (!unanswered) attempt.current = null;
      throw error;
    }
  });
  const ready = draft.body.trim() !== "" && uploads.settled && !send.busy;
  const submit = (event: Event) => {
    event.preventDefault();
    if (ready) void send.run();
  };

  const chooser = (
    <MacroChooser
      applied={applied}
      onChoose={(chosen) => {
        setApplied("");
        setMacro(chosen);
      }}
    />
  );
  if (macro) {
    return (
      <>
        {chooser}
        <MacroPreviewPanel
          key={macro.id}
          ticket={ticket}
          macro={macro}
          me={props.me}
          onCancel={() => setMacro(null)}
          onReload={props.onReload}
          onApplied={async () => {
            setMacro(null);
            setApplied(`Macro “${macro.name}” applied.`);
            await props.onReload();
          }}
        />
      </>
    );
  }
  return (
    <>
      {chooser}
      <form
        class={internal ? "composer composer-internal" : "composer"}
        aria-labelledby="composer-title"
        onSubmit={submit}
        onKeyDown={(event) => {
          if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submit(event);
        }}
      >
        <h2 id="composer-title" class="visually-hidden">
          Reply or internal note
        </h2>
        <fieldset class="composer-choice">
          <legend class="visually-hidden">What to write</legend>
          <VisibilityChoice value="public" current={draft.visibility} onChange={(visibility) => change({ ...draft, visibility })}>
            <span aria-hidden="true">✉ </span>Reply to client
          </VisibilityChoice>
          <VisibilityChoice value="internal" current={draft.visibility} onChange={(visibility) => change({ ...draft, visibility })}>
            <LockIcon /> Internal note
          </VisibilityChoice>
        </fieldset>
        <p class="composer-mode">
          {internal
            ? "Only agents will see this note. It is never mailed."
            : `This reply will be mailed to ${ticket.requester.email}${ticket.cc.length ? ` (copy to ${ticket.cc.join(", ")})` : ""}.`}
        </p>
        <Field label={internal ? "Your note" : "Your reply"}>
          <textarea value={draft.body} onInput={(e) => change({ ...draft, body: e.currentTarget.value })} />
        </Field>
        <div class="composer-row">
          <Field label="Attach files" inline>
            <input
              type="file"
              multiple
              onChange={(e) => {
                uploads.add(e.currentTarget.files);
                e.currentTarget.value = "";
              }}
            />
          </Field>
          <Select<Status | "">
            label="And set status"
            inline
            value={status}
            options={[{ value: "", label: `Keep (${humanize(ticket.status)})` }, ...STATUSES]}
            onChange={setStatus}
          />
        </div>
        {!internal && files.length > 0 && <ForwardPicker files={files} picked={forward} onPick={pick} />}
        <FileList uploads={uploads.uploads} forwarded={forwarded} onRemove={uploads.remove} onUnpick={(id) => pick(id, false)} />
        <ProblemAlert error={send.error} />
        <div class="composer-actions">
          <span class="muted">Ctrl+Enter (⌘+Enter) sends</span>
          <Button tone="primary" type="submit" busy={send.busy} disabled={!ready}>
            {internal ? "Add internal note" : `Send reply to ${ticket.requester.email}`}
          </Button>
        </div>
      </form>
    </>
  );
}

function VisibilityChoice(props: {
  value: Visibility;
  current: Visibility;
  onChange: (value: Visibility) => void;
  children: ComponentChildren;
}) {
  const checked = props.value === props.current;
  return (
    <label class={checked ? "choice choice-checked" : "choice"}>
      <input type="radio" name="visibility" value={props.value} checked={checked} onChange={() => props.onChange(props.value)} />
      {props.children}
    </label>
  );
}

function FileList(props: {
  uploads: Upload[];
  forwarded: TicketFile[];
  onRemove: (id: string) => void;
  onUnpick: (id: string) => void;
}) {
  const { uploads, forwarded, onRemove } = props;
  if (uploads.length === 0 && forwarded.length === 0) return null;
  return (
    <ul class="uploads" aria-label="Files to attach">
      {uploads.map(({ id, file, state }) => (
        <li key={id}>
          <span>
            <span aria-hidden="true">📎 </span>
            {file.name} <span class="muted">({fileSize(file.size)})</span>
          </span>
          {state.kind === "uploading" && (
            <>
              <progress max={100} value={state.percent} aria-label={`Uploading ${file.name}`} />
              <span role="status">Uploading {state.percent}%</span>
            </>
          )}
          {state.kind === "ready" && <span class="upload-ready">✓ Uploaded</span>}
          {state.kind === "failed" && <span class="upload-failed" role="alert">Upload failed: {state.reason}</span>}
          <Button onClick={() => onRemove(id)} aria-label={`Remove ${file.name}`}>
            Remove
          </Button>
        </li>
      ))}
      {forwarded.map(({ file }) => (
        <li key={file.id}>
          <span>
            <span aria-hidden="true">📎 </span>
            {file.name} <span class="muted">({fileSize(file.size)})</span>
          </span>
          <span class="muted">From this ticket</span>
          <Button onClick={() => props.onUnpick(file.id)} aria-label={`Remove ${file.name}`}>
            Remove
          </Button>
        </li>
      ))}
    </ul>
  );
}
