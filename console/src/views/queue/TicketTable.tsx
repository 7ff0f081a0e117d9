// The queue's rows, rendered plainly from one page of tickets and two name lists. A ticket at
// risk or breached stands out by its row's colour and says so in words (its SLA badge).

import type { Ticket } from "../../api/client";
import { href } from "../../router";
import { DateTime, PriorityBadge, SlaBadge, StatusBadge } from "../../ui/components";

export interface Names {
  departments: ReadonlyMap<string, string>; // id → name
  agents: ReadonlyMap<string, string>; // email → name
}

/** The ticket's next SLA deadline: first response until it is given, then resolution. */
function slaDue(ticket: Ticket): string | null {
  const { first_response_due_at: firstResponse, resolution_due_at: resolution } = ticket.sla;
  const pending = [ticket.first_response_at ? null : firstResponse, resolution].filter(
    (due): due is string => Boolean(due),
  );
  if (pending.length === 0) return null;
  return pending.reduce((soonest, due) => (Date.parse(due) < Date.parse(soonest) ? due : soonest));
}

export function ticketLinkId(ticketId: string): string {
  return `queue-ticket-${ticketId}`;
}

export function TicketTable(props: { tickets: Ticket[]; names: Names; newIds: ReadonlySet<string> }) {
  return (
    <div class="queue-table-scroll">
      <table class="queue-table">
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Subject</th>
            <th scope="col">Requester</th>
            <th scope="col">Status</th>
            <th scope="col">Priority</th>
            <th scope="col">Assignee</th>
            <th scope="col">Department</th>
            <th scope="col">Updated</th>
            <th scope="col">SLA due</th>
          </tr>
        </thead>
        <tbody>
          {props.tickets.map((ticket) => (
            <TicketRow key={ticket.id} ticket={ticket} names={props.names} isNew={props.newIds.has(ticket.id)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TicketRow({ ticket, names, isNew }: { ticket: Ticket; names: Names; isNew: boolean }) {
  const state = ticket.sla.state;
  const flagged = state === "at_risk" || state === "breached";
  return (
    <tr class={flagged ? `row-${state}` : undefined}>
      <td class="queue-number">{ticket.number}</td>
      <td class="queue-subject">
        <a id={ticketLinkId(ticket.id)} href={href("tickets", ticket.id)}>
          {ticket.subject}
        </a>
        {isNew && <span class="badge queue-new">New</span>}
        {ticket.tags.length > 0 && (
          <ul class="queue-tags" aria-label="Tags">
            {ticket.tags.map((tag) => (
              <li key={tag}>{tag}</li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {ticket.requester.name ?? ticket.requester.email}
        {ticket.requester.name && <div class="queue-secondary">{ticket.requester.email}</div>}
      </td>
      <td>
        <StatusBadge status={ticket.status} />
      </td>
      <td>
        <PriorityBadge priority={ticket.priority} />
      </td>
      <td>
        {ticket.assignee ? (
          (names.agents.get(ticket.assignee) ?? ticket.assignee)
        ) : (
          <span class="queue-secondary">Unassigned</span>
        )}
      </td>
      <td>
        {ticket.department_id ? (
          (names.departments.get(ticket.department_id) ?? ticket.department_id)
        ) : (
          <span class="queue-secondary">No department</span>
        )}
      </td>
      <td class="queue-when">
        <DateTime value={ticket.updated_at} />
      </td>
      <td class="queue-when">
        <DateTime value={slaDue(ticket)} />
        {state && state !== "ok" && (
          <div>
            <SlaBadge state={state} />
          </div>
        )}
      </td>
    </tr>
  );
}
