// The queue's rows: the first page for the filters, more pages on demand, and a refresh of the
// first page (the poll) that keeps the pages loaded below it and says how many tickets are new.

import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiError, Ticket } from "../../api/client";
import { asApiError } from "../../ui/hooks";
import { queryOf, type QueueFilters } from "./filters";
import { fetchTicketPage, type TicketPage } from "./queueApi";

export interface TicketList {
  tickets: Ticket[];
  loaded: boolean; // the first page has arrived
  error: ApiError | null;
  newIds: ReadonlySet<string>; // the tickets the last refresh with news brought
  news: string; // what that refresh said, e.g. "2 new tickets (10:32)"
  more: (() => Promise<string | undefined>) | null; // resolves to the first added ticket's id
  loadingMore: boolean;
  refresh: () => Promise<void>;
}

interface Shown {
  tickets: Ticket[];
  cursor: string | null;
  pages: number;
}

const NOTHING: Shown = { tickets: [], cursor: null, pages: 0 };
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

/** The first page as it is now, in front of the tickets loaded below it that it does not repeat.
 * With only one page shown, the fresh page and its cursor replace it outright. */
function withFirstPage(shown: Shown, fresh: TicketPage): Shown {
  if (shown.pages <= 1) return { tickets: fresh.items, cursor: fresh.next_cursor ?? null, pages: 1 };
  const ids = new Set(fresh.items.map((ticket) => ticket.id));
  return { ...shown, tickets: [...fresh.items, ...shown.tickets.filter((ticket) => !ids.has(ticket.id))] };
}

function withNextPage(shown: Shown, next: TicketPage): Shown {
  const ids = new Set(shown.tickets.map((ticket) => ticket.id));
  const added = next.items.filter((ticket) => !ids.has(ticket.id));
  return { tickets: [...shown.tickets, ...added], cursor: next.next_cursor ?? null, pages: shown.pages + 1 };
}

export function useTicketList(filters: QueueFilters): TicketList {
  const key = queryOf(filters).toString();
  const [shown, setShown] = useState<Shown>(NOTHING);
  const [error, setError] = useState<ApiError | null>(null);
  const [newIds, setNewIds] = useState<ReadonlySet<string>>(new Set());
  const [news, setNews] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  // Answers for filters no longer shown are dropped: each change of filters starts a new run.
  const run = useRef(0);
  const latest = useRef(shown);
  latest.current = shown;

  const fetchFirst = async (announce: boolean) => {
    const current = run.current;
    try {
      const fresh = await fetchTicketPage(filters, null);
      if (current !== run.current) return;
      const before = new Set(latest.current.tickets.map((ticket) => ticket.id));
      const arrived = fresh.items.filter((ticket) => !before.has(ticket.id)).map((ticket) => ticket.id);
      if (announce && arrived.length > 0) {
        setNewIds(new Set(arrived));
        const noun = arrived.length === 1 ? "new ticket" : "new tickets";
        setNews(`${arrived.length} ${noun} (${timeFormat.format(new Date())})`);
      }
      setShown((now) => withFirstPage(now, fresh));
      setError(null);
    } catch (caught) {
      if (current === run.current) setError(asApiError(caught));
    }
  };

  useEffect(() => {
    run.current += 1;
    setShown(NOTHING);
    setError(null);
    setNewIds(new Set());
    setNews("");
    void fetchFirst(false);
  }, [key]);

  const loadMore = async (): Promise<string | undefined> => {
    const current = run.current;
    setLoadingMore(true);
    try {
      const next = await fetchTicketPage(filters, latest.current.cursor);
      if (current !== run.current) return undefined;
      const before = latest.current.tickets.length;
      const after = withNextPage(latest.current, next);
      setShown(after);
      setError(null);
      return after.tickets[before]?.id;
    } catch (caught) {
      if (current === run.current) setError(asApiError(caught));
      return undefined;
    } finally {
      setLoadingMore(false);
    }
  };

  return {
    tickets: shown.tickets,
    loaded: shown.pages > 0,
    error,
    newIds,
    news,
    more: shown.cursor ? loadMore : null,
    loadingMore,
    // A refresh before the first page arrived (it failed) is simply the first load again.
    refresh: () => fetchFirst(shown.pages > 0),
  };
}
