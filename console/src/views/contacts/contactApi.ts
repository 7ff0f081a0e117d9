// The contacts API as the contact views use it: search by one of its three ways, and links that
// carry why a view was opened (a merge followed to its survivor).

import { api, ApiError, call, type Contact } from "../../api/client";
import { href } from "../../router";
import type { Page } from "../../ui/hooks";

export type SearchBy = "q" | "email" | "phone";

export const SEARCH_BY: { value: SearchBy; label: string }[] = [
  { value: "q", label: "Name or address (start of it)" },
  { value: "email", label: "Exact address" },
  { value: "phone", label: "Phone (with country code)" },
];

export const PAGE_SIZE = 25;

/** Contacts by name when `text` is empty, else those `by` finds. */
export function searchContacts(by: SearchBy, text: string, cursor: string | null): Promise<Page<Contact>> {
  const query = { limit: PAGE_SIZE, cursor: cursor ?? undefined, ...(text ? { [by]: text } : {}) };
  return call(api().GET("/contacts", { params: { query } }));
}

export function contactLink(contactId: string, mergedFrom?: string): string {
  return href("contacts", contactId) + (mergedFrom ? `?merged_from=${encodeURIComponent(mergedFrom)}` : "");
}

export function contactTitle(contact: Contact): string {
  return contact.name || contact.primary_email || contact.id;
}

/** A contact as read: itself, or (answered 308) the id of the contact it was merged into. */
export interface ContactRead {
  requested: string;
  contact?: Contact;
  mergedInto?: string;
}

export async function readContact(contactId: string): Promise<ContactRead> {
  try {
    const contact = await call(api().GET("/contacts/{contact_id}", { params: { path: { contact_id: contactId } } }));
    return { requested: contactId, contact };
  } catch (error) {
    const mergedInto = error instanceof ApiError && error.status === 308 ? error.problem.merged_into : undefined;
    if (mergedInto) return { requested: contactId, mergedInto };
    throw error;
  }
}
