// Half-written replies and notes, per ticket, in local storage: they survive a reload, an expired
// session and a stale write, and go when sent.

export interface Draft {
  body: string;
  visibility: "public" | "internal";
}

const key = (ticketId: string) => `helpdesk.draft.${ticketId}`;

export function loadDraft(ticketId: string): Draft | null {
  try {
    const raw = localStorage.getItem(key(ticketId));
    return raw ? (JSON.parse(raw) as Draft) : null;
  } catch {
    return null;
  }
}

export function saveDraft(ticketId: string, draft: Draft): void {
  if (draft.body) localStorage.setItem(key(ticketId), JSON.stringify(draft));
  else localStorage.removeItem(key(ticketId));
}

export function dropDraft(ticketId: string): void {
  localStorage.removeItem(key(ticketId));
}
