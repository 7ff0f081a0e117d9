// One ticket: its conversation and composer, and beside them its controls, requester, SLA and
// history; above them its state, with the client's rating once they gave one. The ticket and its
// messages are read together; a reload keeps the composer as it is.

import { useEffect, useState } from "preact/hooks";
import type { ViewProps } from "../../app";
import type { Message, Ticket } from "../../api/client";
import { href } from "../../router";
import { Button, DateTime, Loading, PageHeader, PriorityBadge, ProblemAlert, SlaBadge, StatusBadge } from "../../ui/components";
import { useInterval, useLoad } from "../../ui/hooks";
import { CheckIcon, StopIcon } from "../../ui/icons";
import { Composer } from "./Composer";
import { ContactCard } from "./ContactCard";
import { Controls } from "./Controls";
import { awaitingDelivery, Conversation } from "./Conversation";
import { MergeDialog } from "./MergeDialog";
import { SideTabs } from "./SideTabs";
import { loadMessages, loadTicket } from "./ticketApi";
import "./ticket.css";

const DELIVERY_POLL_SECONDS = 4;

interface Shown {
  ticket: Ticket;
  messages: Message[];
}

async function loadShown(ticketId: string): Promise<Shown> {
  const ticket = await loadTicket(ticketId);
  return { ticket, messages: await loadMessages(ticket.id) };
}

export function TicketView({ ticketId, route, session }: ViewProps & { ticketId: string }) {
  const loaded = useLoad(() => loadShown(ticketId), [ticketId]);
  const [shown, setShown] = useState<Shown>();
  const [merging, setMerging] = useState(false);
  useEffect(() => setShown(loaded.data), [loaded.data]);
  // Replies are reported delivered (or bounced) a little after they are sent: look again till then.
  useInterval(
    () => {
      if (!shown) return;
      void loadMessages(shown.ticket.id).then((messages) => setShown((current) => current && { ...current, messages }));
    },
    shown && awaitingDelivery(shown.messages) ? DELIVERY_POLL_SECONDS : 0,
  );

  if (loaded.error?.status === 404) {
    return (
      <>
        <PageHeader title="Ticket not found" />
        <p>This ticket does not exist or you may not see it.</p>
        <p>
          <a href={href()}>Back to the queue</a>
        </p>
      </>
    );
  }
  if (!shown) {
    return loaded.error ? <ProblemAlert error={loaded.error} /> : <Loading what="Loading the ticket" />;
  }
  const { ticket, messages } = shown;
  const setTicket = (next: Ticket) => setShown((current) => current && { ...current, ticket: next });
  return (
    <article class="ticket-view">
      <PageHeader title={`${ticket.number}: ${ticket.subject}`}>
        {!ticket.merged_into && <Button onClick={() => setMerging(true)}>Merge into…</Button>}
      </PageHeader>
      <TicketSummary ticket={ticket} />
      {ticket.merged_into && <MergedNotice into={ticket.merged_into} />}
      <div class="two-columns">
        <div class="ticket-main">
          <h2 class="visually-hidden">Conversation</h2>
          <Conversation messages={messages} found={route.query.get("message")} />
          {!ticket.merged_into && (
            <Composer
              key={ticket.id}
              ticket={ticket}
              messages={messages}
              me={session.email}
              onPosted={(posted) => setShown({ ticket: posted.ticket, messages: [...messages, posted.message] })}
              onReload={loaded.reload}
            />
          )}
        </div>
        <aside class="ticket-side" aria-label="Ticket details">
          <Controls ticket={ticket} onChanged={setTicket} onReload={loaded.reload} />
          <ContactCard ticket={ticket} />
          <SideTabs ticket={ticket} />
        </aside>
      </div>
      {merging && (
        <MergeDialog
          ticket={ticket}
          onMerged={(source) => {
            setMerging(false);
            setTicket(source);
          }}
          onClose={() => setMerging(false)}
        />
      )}
    </article>
  );
}

function TicketSummary({ ticket }: { ticket: Ticket }) {
  return (
    <p class="ticket-summary">
      <StatusBadge status={ticket.status} />
      <PriorityBadge priority={ticket.priority} />
      <SlaBadge state={ticket.sla.state} />
      <span>
        From <strong>{ticket.requester.name ?? ticket.requester.email}</strong>
        {ticket.requester.name && <span class="muted"> &lt;{ticket.requester.email}&gt;</span>}
      </span>
      <span class="muted">
        opened <DateTime value={ticket.created_at} />
      </span>
      <span>{ticket.assignee ? `Assigned to ${ticket.assignee}` : "Not assigned"}</span>
      <PendingStep automation={ticket.automation} />
      <Rating satisfaction={ticket.satisfaction} />
    </p>
  );
}

const STEP_WORDS = {
  close: "Closes by itself",
  remind: "Client reminded",
  resolve: "Resolved by itself",
} as const;

/** What the desk will do to the ticket unless someone acts first, so nobody is surprised by it. */
function PendingStep({ automation }: { automation: Ticket["automation"] }) {
  if (!automation) return null;
  return (
    <span class="muted">
      {STEP_WORDS[automation.step]} <DateTime value={automation.due_at} />
    </span>
  );
}

/** The client's rating of the resolution, from the rating mail: said in words, the icon and colour
 * only repeat them. */
function Rating({ satisfaction }: { satisfaction: Ticket["satisfaction"] }) {
  if (!satisfaction) return null;
  const good = satisfaction.rating === "good";
  return (
    <span class="ticket-rating" role="group" aria-label="Client's rating">
      <span class={`badge ${good ? "rating-good" : "rating-bad"}`}>
        {good ? <CheckIcon /> : <StopIcon />} Rated {satisfaction.rating}
      </span>
      {satisfaction.comment && <q class="rating-comment">{satisfaction.comment}</q>}
      <span class="muted">
        on <DateTime value={satisfaction.rated_at} />
      </span>
    </span>
  );
}

function MergedNotice({ into }: { into: string }) {
  const target = useLoad(() => loadTicket(into), [into]);
  return (
    <div class="alert alert-info" role="status">
      Merged into{" "}
      <a href={href("tickets", into)}>{target.data ? `${target.data.number}: ${target.data.subject}` : into}</a>. The
      conversation continues there.
    </div>
  );
}
