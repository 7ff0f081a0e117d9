// The console's home: the tickets of one status, filtered and sorted as the URL says, with the
// number of tickets per status on the tabs. It looks for new tickets every `poll_seconds` and
// says how many arrived, without moving focus. Tickets selected by their checkboxes can be changed
// together; what happened is said in a polite live region, and the selection clears.

import { useEffect, useMemo, useState } from "preact/hooks";
import type { ViewProps } from "../../app";
import { humanize, LoadMore, Loading, PageHeader, ProblemAlert, Button } from "../../ui/components";
import { useInterval, useLoad } from "../../ui/hooks";
import { BulkToolbar } from "./BulkToolbar";
import { FilterBar } from "./FilterBar";
import { filtersFrom, isFiltered, queryOf, type QueueFilters } from "./filters";
import { fetchAgents, fetchCounts, fetchDepartments } from "./queueApi";
import { PANEL_ID, StatusTabs, tabId } from "./StatusTabs";
import { ticketLinkId, TicketTable, type Names } from "./TicketTable";
import { useTicketList } from "./useTicketList";
import "./queue.css";

export function QueueView({ config, session, route }: ViewProps) {
  const filters = filtersFrom(route.query);
  const show = (changed: Partial<QueueFilters>) => {
    const query = queryOf({ ...filters, ...changed }).toString();
    location.hash = `/${route.parts.map(encodeURIComponent).join("/")}${query ? `?${query}` : ""}`;
  };

  const list = useTicketList(filters);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [bulkOutcome, setBulkOutcome] = useState("");
  // A selection belongs to the list it was made in: other filters show other tickets.
  const listKey = queryOf(filters).toString();
  useEffect(() => setSelected(new Set()), [listKey]);
  const select = (ids: string[], picked: boolean) => {
    // A new selection clears the last outcome, so the next one is announced even when it reads the same.
    setBulkOutcome("");
    setSelected((now) => {
      const next = new Set(now);
      for (const id of ids) {
        if (picked) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  };
  const selectedTickets = list.tickets.filter((ticket) => selected.has(ticket.id));
  // The names and counts wait for the first rows: the server answers the list sooner alone.
  const [rowsFirst, setRowsFirst] = useState(true);
  const departments = useLoad(() => (rowsFirst ? Promise.resolve(undefined) : fetchDepartments()), [rowsFirst]);
  const agents = useLoad(() => (rowsFirst ? Promise.resolve(undefined) : fetchAgents()), [rowsFirst]);
  // An agent's queue is their departments' (admins see every one) and, where they may, the
  // tickets without a department: the counts of a queue they may not see answer 404.
  const mine = useMemo(
    () =>
      (departments.data ?? []).filter((d) => session.admin || d.members.includes(session.email.toLowerCase())),
    [departments.data, session],
  );
  const everyQueue = departments.data ? [...mine.map((d) => d.id), "none"] : [];
  const queues = rowsFirst ? [] : filters.department ? [filters.department] : everyQueue;
  const counts = useLoad(() => (queues.length ? fetchCounts(queues) : Promise.resolve(undefined)), [queues.join()]);

  const refresh = () => {
    void list.refresh();
    void counts.reload();
  };
  useInterval(refresh, config.poll_seconds);

  useEffect(() => {
    if (!rowsFirst || !(list.loaded || list.error)) return;
    // The budget test reads this mark: the first page of rows is on screen and usable.
    if (list.loaded) performance.mark("queue-interactive");
    setRowsFirst(false);
  }, [list.loaded, list.error]);

  const names: Names = useMemo(
    () => ({
      departments: new Map((departments.data ?? []).map((d) => [d.id, d.name])),
      agents: new Map((agents.data ?? []).map((a) => [a.email, a.name ?? a.email])),
    }),
    [departments.data, agents.data],
  );

  const more = list.more;
  const showMore = more
    ? async () => {
        // Focus goes to the first ticket added, so the keyboard goes on where the list did.
        const first = await more();
        if (first) document.getElementById(ticketLinkId(first))?.focus();
      }
    : null;

  return (
    <>
      <PageHeader title="Queue">
        <Button onClick={refresh}>Refresh</Button>
      </PageHeader>
      <FilterBar
        filters={filters}
        departments={mine}
        admin={session.admin}
        agents={agents.data ?? []}
        onChange={show}
      />
      <ProblemAlert error={list.error ?? counts.error} />
      <StatusTabs selected={filters.status} counts={counts.data} onSelect={(status) => show({ status })} />
      {counts.data && isFiltered({ ...filters, department: "" }) && (
        <p class="queue-secondary">Tab numbers count every ticket of the chosen departments, other filters aside.</p>
      )}
      <div role="tabpanel" id={PANEL_ID} aria-labelledby={tabId(filters.status)}>
        <div class="queue-summary">
          <p>
            {list.loaded &&
              `Showing ${list.tickets.length} ${list.tickets.length === 1 ? "ticket" : "tickets"}${more ? ", more below" : ""}`}
          </p>
          <p class="queue-news" role="status" aria-live="polite">
            {list.news}
          </p>
        </div>
        <p class="queue-bulk-outcome" role="status" aria-live="polite">
          {bulkOutcome}
        </p>
        {selectedTickets.length > 0 && (
          <BulkToolbar
            tickets={selectedTickets}
            agents={agents.data ?? []}
            departments={departments.data ?? []}
            me={session.email}
            onDone={(outcome) => {
              setBulkOutcome(outcome);
              setSelected(new Set());
              refresh();
            }}
            onClear={() => setSelected(new Set())}
          />
        )}
        {!list.loaded && !list.error && <Loading what="Loading tickets" />}
        {list.loaded && list.tickets.length === 0 && (
          <p class="queue-empty">
            {isFiltered(filters)
              ? "No tickets match these filters."
              : `No ${humanize(filters.status).toLowerCase()} tickets.`}
          </p>
        )}
        {list.tickets.length > 0 && (
          <TicketTable
            tickets={list.tickets}
            names={names}
            newIds={list.newIds}
            selected={selected}
            onSelect={select}
          />
        )}
        <LoadMore more={showMore} loading={list.loadingMore} />
      </div>
    </>
  );
}
