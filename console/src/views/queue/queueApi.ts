// The queue's calls: one page of tickets, the departments and agents whose names the rows show
// (one list each, never a call per row), and the numbers on the status tabs.

import {
  api,
  ApiError,
  call,
  idempotencyKey,
  onlyChanged,
  STATUSES,
  type Agent,
  type Department,
  type Status,
  type Schemas,
} from "../../api/client";
import { listQuery, type QueueFilters } from "./filters";

export type TicketPage = Schemas["TicketPage"];
export type StatusCounts = Record<Status, number>;
export type BulkChanges = Partial<Schemas["BulkChangesIn"]>;
export type BulkItem = Schemas["BulkChangeOut"]["items"][number];

export function fetchTicketPage(filters: QueueFilters, cursor: string | null): Promise<TicketPage> {
  return call(api().GET("/tickets", { params: { query: listQuery(filters, cursor) } }));
}

export async function fetchDepartments(): Promise<Department[]> {
  return (await call(api().GET("/departments"))).items;
}

export async function fetchAgents(): Promise<Agent[]> {
  const agents: Agent[] = [];
  let cursor: string | null = null;
  do {
    const page: Schemas["AgentPage"] = await call(
      api().GET("/agents", { params: { query: { limit: 60, cursor } } }),
    );
    agents.push(...page.items);
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return agents;
}

/** Tickets per status, summed over the queues (department ids, or `none`) the caller may see:
 * a queue that is not theirs answers 404 and adds nothing. */
export async function fetchCounts(queues: string[]): Promise<StatusCounts> {
  const answers = await Promise.all(
    queues.map((id) =>
      call(api().GET("/departments/{department_id}/counts", { params: { path: { department_id: id } } })).catch(
        (caught: unknown) => {
          if (caught instanceof ApiError && caught.status === 404) return null;
          throw caught;
        },
      ),
    ),
  );
  const total = Object.fromEntries(STATUSES.map((status) => [status, 0])) as StatusCounts;
  for (const counts of answers) {
    if (counts) for (const status of STATUSES) total[status] += counts[status];
  }
  return total;
}

/** The same changes to each ticket, each changed or refused on its own: one answer per ticket. */
export async function changeTickets(ticketIds: string[], changes: BulkChanges): Promise<BulkItem[]> {
  const answer = await call(
    api().POST("/tickets/bulk", {
      params: { header: idempotencyKey() },
      body: { ticket_ids: ticketIds, changes: onlyChanged(changes) },
    }),
  );
  return answer.items;
}
