// Files already on the ticket, to send again with a reply: the API copies them by id, so nothing
// is downloaded or uploaded again.

import { useEffect, useRef, useState } from "preact/hooks";
import type { Message } from "../../api/client";
import { Button } from "../../ui/components";
import { fileSize } from "./format";

export interface TicketFile {
  file: Message["attachments"][number];
  from: string;
}

/** Every file of the conversation, oldest first, with who it came from. */
export function ticketFiles(messages: Message[]): TicketFile[] {
  return messages.flatMap((message) => {
    const author = message.author.type === "system" ? "the helpdesk" : message.author.name ?? message.author.email ?? "unknown";
    const from = message.internal ? `a note by ${author}` : author;
    return message.attachments.map((file) => ({ file, from }));
  });
}

/** A disclosure listing the ticket's files as checkboxes: opening it moves focus to the first,
 * Escape or Done closes it and returns focus to its button. */
export function ForwardPicker(props: { files: TicketFile[]; picked: string[]; onPick: (id: string, picked: boolean) => void }) {
  const [open, setOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLFieldSetElement>(null);
  useEffect(() => {
    if (open) list.current?.querySelector("input")?.focus();
  }, [open]);
  const close = () => {
    setOpen(false);
    toggle.current?.focus();
  };
  return (
    <div class="forward-picker">
      <button
        ref={toggle}
        type="button"
        class="button button-plain"
        aria-expanded={open}
        aria-controls={open ? "forward-files" : undefined}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">📎 </span>Attach from this ticket
      </button>
      {open && (
        <fieldset
          id="forward-files"
          ref={list}
          class="forward-files"
          onKeyDown={(event) => {
            if (event.key === "Escape") close();
          }}
        >
          <legend>Files on this ticket</legend>
          <ul class="plain-list">
            {props.files.map(({ file, from }) => (
              <li key={file.id}>
                <label>
                  <input
                    type="checkbox"
                    checked={props.picked.includes(file.id)}
                    onChange={(event) => props.onPick(file.id, event.currentTarget.checked)}
                  />{" "}
                  {file.name}{" "}
                  <span class="muted">
                    ({fileSize(file.size)}, from {from})
                  </span>
                </label>
              </li>
            ))}
          </ul>
          <Button onClick={close}>Done</Button>
        </fieldset>
      )}
    </div>
  );
}
