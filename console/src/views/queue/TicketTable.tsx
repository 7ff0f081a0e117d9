// The queue's rows, rendered plainly from one page of tickets and two name lists. A ticket at
// risk or breached stands out by its row's colour and says so in words (its SLA badge). Each row has
// a checkbox for bulk changes, and the header one that selects every row shown. The table scrolls
// sideways in its own region when a screen is too narrow for it.

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

export function TicketTable(props: {
  tickets: Ticket[];
  names: Names;
  newIds: ReadonlySet<string>;
  selected: ReadonlySet<string>;
  onSelect: (ids: string[], picked: boolean) => void;
}) {
  const { tickets, selected, onSelect } = props;
  const picked = tickets.filter((ticket) => selected.has(ticket.id)).length;
  return (
    <div class="queue-table-scroll" role="region" aria-label="Tickets">
      <table class="queue-table">
        <thead>
          <tr>
            <th scope="col" class="queue-pick">
              <input
                type="checkbox"
                aria-label="Select all on this page"
                checked={picked > 0 && picked === tickets.length}
                indeterminate={picked > 0 && picked < tickets.length}
                onChange={(e) => onSelect(tickets.map((ticket) => ticket.id), e.currentTarget.checked)}
              />
            </th>
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
          {tickets.map((ticket) => (
            <TicketRow
              key={ticket.id}
              ticket={ticket}
              names={props.names}
              isNew={props.newIds.has(ticket.id)}
              picked={selected.has(ticket.id)}
              onPick={(checked) => onSelect([ticket.id], checked)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TicketRow(props: {
  ticket: Ticket;
  names: Names;
  isNew: boolean;
  picked: boolean;
  onPick: (checked: boolean) => void;
}) {
  const { ticket, names, isNew } = props;
  const state = ticket.sla.state;
  const flagged = state === "at_risk" || state === "breached";
  return (
    <tr class={flagged ? `row-${state}` : undefined}>
      <td class="queue-pick">
        <input
          type="checkbox"
          aria-label={`Select ${ticket.number}: ${ticket.subject}`}
          checked={props.picked}
          onChange={(e) => props.onPick(e.currentTarget.checked)}
        />
      </td>
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
      <td class="queue-person">
        {ticket.requester.name ?? ticket.requester.email}
        {ticket.requester.name && <div class="queue-secondary">{ticket.requester.email}</div>}
      </td>
      <td>
        <StatusBadge status={ticket.status} />
      </td>
      <td>
        <PriorityBadge priority={ticket.priority} />
      </td>
      <td class="queue-person">
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
