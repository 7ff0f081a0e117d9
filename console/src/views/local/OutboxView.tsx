// Locally no mail leaves the machine: this is what the system sent (replies, acknowledgements),
// newest first; a message opens to show its text.

import { useState } from "preact/hooks";
import type { ViewProps } from "../../app";
import { Button, DateTime, Loading, PageHeader, ProblemAlert } from "../../ui/components";
import { useLoad } from "../../ui/hooks";
import { dateOf, sentMail, type SentMail } from "./localApi";
import "./local.css";

export function OutboxView({ config }: ViewProps) {
  const mail = useLoad(async () => (await sentMail(config)).reverse(), [config]);
  return (
    <section>
      <PageHeader title="Sent mail (local)">
        <Button onClick={() => void mail.reload()} busy={mail.loading}>
          Refresh
        </Button>
      </PageHeader>
      <p class="muted">Mail the local stack would have sent through SES. Nothing here left this machine.</p>
      <ProblemAlert error={mail.error} />
      {!mail.data && mail.loading && <Loading what="Loading sent mail" />}
      {mail.data?.length === 0 && <p>No mail sent yet.</p>}
      {mail.data && mail.data.length > 0 && (
        <ol class="plain-list outbox">
          {mail.data.map((message) => (
            <SentMessage key={message.file} message={message} />
          ))}
        </ol>
      )}
    </section>
  );
}

function SentMessage({ message }: { message: SentMail }) {
  const [open, setOpen] = useState(false);
  return (
    <li class="outbox-item">
      <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          <span class="outbox-subject">{message.subject || "(no subject)"}</span>
          <span class="outbox-meta">
            To {message.to ?? "nobody"} · from {message.from ?? "unknown"} · <DateTime value={dateOf(message.raw)} />
          </span>
        </summary>
        {open && (
          <div class="outbox-body">
            {message.in_reply_to && <p class="muted">In reply to {message.in_reply_to}</p>}
            <pre class="message-body">{message.text || "(no text part)"}</pre>
          </div>
        )}
      </details>
    </li>
  );
}
