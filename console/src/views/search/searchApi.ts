// Ticket search as the console uses it: pages of hits, the link to the results of a query, and a
// snippet's marked words split out so that the client's text is only ever rendered as text.

import { api, call, type Schemas } from "../../api/client";
import { href } from "../../router";
import type { Page } from "../../ui/hooks";

export type SearchHit = Schemas["SearchHitOut"];

export const PAGE_SIZE = 20;
export const SUGGESTIONS = 5;
// Each call reads one slice of the index, so a page may come back short or empty while more may
// follow; a few slices per page fill it without reading the whole index for a rare word.
const SLICES_PER_PAGE = 5;

/** Up to `limit` hits from `cursor` on, following the cursor over short pages. */
export async function searchTickets(q: string, cursor: string | null, limit = PAGE_SIZE): Promise<Page<SearchHit>> {
  const items: SearchHit[] = [];
  let next = cursor;
  for (let slice = 0; slice < SLICES_PER_PAGE; slice++) {
    const query = { q, limit: limit - items.length, cursor: next ?? undefined };
    const page = await call(api().GET("/search", { params: { query } }));
    items.push(...page.items);
    next = page.next_cursor ?? null;
    if (!next || items.length >= limit) break;
  }
  return { items, next_cursor: next };
}

export function searchLink(q: string): string {
  return href("search") + "?" + new URLSearchParams({ q }).toString();
}

/** The ticket a hit opens, at the message the words were found in when there is one. */
export function hitLink(hit: SearchHit): string {
  const ticket = href("tickets", hit.ticket.id);
  return hit.message_id ? `${ticket}?${new URLSearchParams({ message: hit.message_id }).toString()}` : ticket;
}

export interface SnippetPart {
  text: string;
  marked: boolean;
}

// The API wraps only whole words in `**`; any other asterisks are the client's own.
const MARKED = /\*\*([\p{L}\p{N}\p{M}_]+)\*\*/gu;

export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const match of snippet.matchAll(MARKED)) {
    if (match.index > at) parts.push({ text: snippet.slice(at, match.index), marked: false });
    parts.push({ text: match[1], marked: true });
    at = match.index + match[0].length;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), marked: false });
  return parts;
}

export const MATCHED_IN: Record<SearchHit["matched_in"], string> = {
  subject: "Subject",
  number: "Number",
  requester: "Requester",
  tags: "Tags",
  message: "Message",
};
