// Who changed what, when: read again whenever the ticket's version moves.

import { DateTime, humanize, LoadMore, ProblemAlert } from "../../ui/components";
import { usePaged } from "../../ui/hooks";
import { loadHistory } from "./ticketApi";

export function HistoryPanel({ ticketId, version }: { ticketId: string; version: number }) {
  const history = usePaged((cursor) => loadHistory(ticketId, cursor), [ticketId, version]);
  return (
    <>
      <ProblemAlert error={history.error} />
      {!history.loading && history.items.length === 0 && <p class="muted">No changes yet.</p>}
      <ol class="history">
        {history.items.map((entry, index) => (
          <li key={`${entry.at}-${entry.field}-${index}`}>
            <strong>{humanize(entry.field)}</strong>: {shown(entry.field, entry.old)} → {shown(entry.field, entry.new)}
            <div class="muted">
              {entry.actor}, <DateTime value={entry.at} />
            </div>
          </li>
        ))}
      </ol>
      <LoadMore more={history.more} loading={history.loading} />
    </>
  );
}

/** Fields whose values are words of the API (`in_progress`), said as words. */
const WORDED = new Set(["status", "priority"]);

function shown(field: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "none";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  if (typeof value !== "string") return JSON.stringify(value);
  return WORDED.has(field) ? humanize(value) : value;
}
