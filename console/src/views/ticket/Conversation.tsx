// The conversation, oldest first. Bodies are text: a mail's HTML is never put into the page, only
// into a sandboxed frame of its own when the agent asks to see it as sent.

import type { Message } from "../../api/client";
import { DateTime, humanize } from "../../ui/components";
import { authorName, fileSize } from "./format";
import { LockIcon } from "../../ui/icons";
import { useEffect, useRef, useState } from "preact/hooks";
import { MailHtml } from "./MailHtml";
import { fileLink, type Delivery } from "./ticketApi";

const AUTHOR_KINDS: Record<string, string> = { client: "Client", agent: "Agent", system: "Helpdesk" };

/** `found`: the message a search found its words in, shown marked and scrolled to. */
export function Conversation({ messages, found }: { messages: Message[]; found?: string | null }) {
  if (messages.length === 0) return <p class="muted">No messages yet.</p>;
  return (
    <ol class="conversation" aria-label="Conversation">
      {messages.map((message) => (
        <li key={message.id}>
          <MessageItem message={message} found={message.id === found} />
        </li>
      ))}
    </ol>
  );
}

function MessageItem({ message, found }: { message: Message; found: boolean }) {
  const kind = message.internal ? "internal" : message.author.type;
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (found) ref.current?.scrollIntoView({ block: "center" });
  }, [found]);
  // Text first: it reads at its own length in the conversation and fetches nothing, where the
  // formatted mail is a fixed-height frame that asks for a link per inline image.
  const [formatted, setFormatted] = useState(false);
  const label = `${message.internal ? "Internal note" : AUTHOR_KINDS[message.author.type] ?? "Message"} from ${authorName(message.author)}`;
  return (
    <article ref={ref} class={`message message-${kind}${found ? " message-found" : ""}`} aria-label={label}>
      <header class="message-header">
        {found && <span class="badge found-label">Found by your search</span>}
        {message.internal ? (
          <span class="note-label">
            <LockIcon /> Internal note
          </span>
        ) : (
          <span class={`author-kind author-${message.author.type}`}>
            {AUTHOR_KINDS[message.author.type] ?? humanize(message.author.type)}
          </span>
        )}
        <strong class="message-author">{authorName(message.author)}</strong>
        <span class="muted">
          <DateTime value={message.created_at} />
        </span>
        {message.html && (
          <button type="button" class="link-button message-view" onClick={() => setFormatted(!formatted)}>
            {formatted ? "Show text" : "Show formatted"}
          </button>
        )}
      </header>
      {formatted && message.html ? (
        <MailHtml message={message} html={message.html} title={`${label}, as sent`} />
      ) : (
        <div class="message-body">{message.body}</div>
      )}
      {message.attachments.length > 0 && (
        <ul class="message-files" aria-label="Attachments">
          {message.attachments.map((file) => (
            <li key={file.key}>
              <span aria-hidden="true">📎 </span>
              <DownloadButton ticketId={message.ticket_id} file={file} />{" "}
              <span class="muted">({fileSize(file.size)})</span>
            </li>
          ))}
        </ul>
      )}
      {message.attachments_omitted > 0 && (
        <p class="muted">{message.attachments_omitted} more files of this mail were too many to keep.</p>
      )}
      {!message.internal && message.author.type === "agent" && <DeliveryList delivery={message.delivery} />}
    </article>
  );
}

type File = Message["attachments"][number];

/** The file's name; a click asks for a fresh link and follows it, which downloads the file. */
function DownloadButton({ ticketId, file }: { ticketId: string; file: File }) {
  const [problem, setProblem] = useState<string | null>(null);
  const download = async () => {
    setProblem(null);
    try {
      const link = await fileLink(ticketId, file.id);
      window.location.assign(link.url);
    } catch {
      setProblem("Could not fetch it; try again.");
    }
  };
  return (
    <>
      <button type="button" class="link-button" onClick={download} aria-label={`Download ${file.name}`}>
        {file.name}
      </button>
      {problem && (
        <span class="field-error" role="alert">
          {" "}
          {problem}
        </span>
      )}
    </>
  );
}

const DELIVERY_WORDS: Record<Delivery["state"], string> = {
  sent: "Sent",
  delivered: "Delivered",
  bounced: "Bounced",
  failed: "Failed",
  complained: "Complained",
};
const DELIVERY_ICONS: Record<Delivery["state"], string> = {
  sent: "➜",
  delivered: "✓",
  bounced: "⛔",
  failed: "⛔",
  complained: "⚠",
};

/** What became of a reply, per recipient, in words. */
function DeliveryList({ delivery }: { delivery: Message["delivery"] }) {
  const recipients = Object.entries(delivery);
  if (recipients.length === 0) return <p class="delivery muted">Sending…</p>;
  return (
    <ul class="delivery" aria-label="Delivery">
      {recipients.map(([address, report]) => (
        <li key={address} class={`delivery-${report.state}`}>
          <span aria-hidden="true">{DELIVERY_ICONS[report.state]} </span>
          {DELIVERY_WORDS[report.state]}
          {report.detail && (report.state === "bounced" || report.state === "failed") && `: ${report.detail}`}
          {" to "}
          {address} <span class="muted">(<DateTime value={report.at} />)</span>
        </li>
      ))}
    </ul>
  );
}

/** A reply still on its way: the view looks again until every recipient's fate is known. */
export function awaitingDelivery(messages: Message[]): boolean {
  return messages.some(
    (message) =>
      !message.internal &&
      message.author.type === "agent" &&
      (Object.keys(message.delivery).length === 0 || Object.values(message.delivery).some((d) => d.state === "sent")),
  );
}
