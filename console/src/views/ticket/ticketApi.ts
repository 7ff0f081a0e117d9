// The tickets API as the ticket view uses it: one ticket, its whole conversation, its changes.

import {
  api,
  call,
  ifMatch,
  idempotencyKey,
  onlyChanged,
  type Message,
  type Schemas,
  type Ticket,
} from "../../api/client";
import type { Page } from "../../ui/hooks";

export type TicketChange = Partial<Schemas["PatchTicketIn"]>;
export type MessageDraft = Schemas["MessageIn"];
export type Attachment = Schemas["AttachmentIn"];
export type Delivery = Schemas["DeliveryOut"];
export type HistoryEntry = Schemas["HistoryOut"];
export type SlaTimer = Schemas["TimerOut"];
export type SlaTarget = Schemas["TargetOut"];
export type ContactTicket = Schemas["ContactTicketOut"];
export type Macro = Schemas["MacroOut"];
export type MacroPreview = Schemas["PreviewOut"];

const MESSAGES_PER_PAGE = 200;

export function loadTicket(ticketId: string): Promise<Ticket> {
  return call(api().GET("/tickets/{ticket_id}", { params: { path: { ticket_id: ticketId } } }));
}

/** A short-lived link that downloads one file of the ticket (asked for on each click: it expires). */
export function fileLink(ticketId: string, attachmentId: string) {
  return call(
    api().GET("/tickets/{ticket_id}/attachments/{attachment_id}", {
      params: { path: { ticket_id: ticketId, attachment_id: attachmentId } },
    }),
  );
}

/** Every message of the ticket, oldest first, page after page. */
export async function loadMessages(ticketId: string): Promise<Message[]> {
  const messages: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(
      api().GET("/tickets/{ticket_id}/messages", {
        params: { path: { ticket_id: ticketId }, query: { limit: MESSAGES_PER_PAGE, cursor } },
      }),
    );
    messages.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return messages;
}

/** A change over the version that was read: a 412 when someone changed the ticket since. */
export function changeTicket(ticket: Ticket, change: TicketChange): Promise<Ticket> {
  return call(
    api().PATCH("/tickets/{ticket_id}", {
      params: { path: { ticket_id: ticket.id } },
      headers: ifMatch(ticket.version),
      body: onlyChanged(change),
    }),
  );
}

/** `key` is the send's idempotency key: the same for a retry of the same send. */
export function postMessage(ticketId: string, message: MessageDraft, key: string) {
  return call(
    api().POST("/tickets/{ticket_id}/messages", {
      params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": key } },
      body: message,
    }),
  );
}

export function mergeTicket(ticketId: string, into: string) {
  return call(
    api().POST("/tickets/{ticket_id}/merge", {
      params: { path: { ticket_id: ticketId }, header: idempotencyKey() },
      body: { into },
    }),
  );
}

/** The shared macros, then the caller's own, each by name. */
export async function loadMacros(): Promise<Macro[]> {
  return (await call(api().GET("/macros"))).items;
}

/** What the macro would post and change on this ticket now; nothing is written. */
export function previewMacro(ticketId: string, macroId: string): Promise<MacroPreview> {
  return call(
    api().POST("/tickets/{ticket_id}/macros/{macro_id}/preview", {
      params: { path: { ticket_id: ticketId, macro_id: macroId } },
    }),
  );
}

/** Posts the macro's text and makes its changes at once, over the version that was read (a 412
 * when someone changed the ticket since). `key` is the same for a retry of the same apply. */
export function applyMacro(ticket: Ticket, macroId: string, key: string) {
  return call(
    api().POST("/tickets/{ticket_id}/macros/{macro_id}", {
      params: { path: { ticket_id: ticket.id, macro_id: macroId }, header: { "Idempotency-Key": key } },
      headers: ifMatch(ticket.version),
      body: onlyChanged<Schemas["ApplyMacroIn"]>({}),
    }),
  );
}

export function loadHistory(ticketId: string, cursor: string | null): Promise<Page<HistoryEntry>> {
  return call(
    api().GET("/tickets/{ticket_id}/history", {
      params: { path: { ticket_id: ticketId }, query: { cursor: cursor ?? undefined } },
    }),
  );
}

export function loadSla(ticketId: string): Promise<SlaTimer> {
  return call(api().GET("/sla/tickets/{ticket_id}", { params: { path: { ticket_id: ticketId } } }));
}

export function loadContact(contactId: string) {
  return call(api().GET("/contacts/{contact_id}", { params: { path: { contact_id: contactId } } }));
}

export function loadContactTickets(contactId: string, cursor: string | null): Promise<Page<ContactTicket>> {
  return call(
    api().GET("/contacts/{contact_id}/tickets", {
      params: { path: { contact_id: contactId }, query: { cursor: cursor ?? undefined } },
    }),
  );
}

export async function loadDepartments() {
  return (await call(api().GET("/departments"))).items;
}

/** Who may take the ticket: its department's members, or every agent when it has none. */
export async function loadAssignees(departmentId: string | null): Promise<string[]> {
  if (departmentId) {
    const department = await call(
      api().GET("/departments/{department_id}", { params: { path: { department_id: departmentId } } }),
    );
    return department.members;
  }
  const agents = await call(api().GET("/agents"));
  return agents.items.filter((agent) => agent.status !== "disabled").map((agent) => agent.email);
}
