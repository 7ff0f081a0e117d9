// The results of a ticket search: the query lives in the URL (#/search?q=…), so a reload or Back
// shows the same results. Newest ticket first, as the API answers; more by cursor.

import { useEffect } from "preact/hooks";
import type { ViewProps } from "../../app";
import { LoadMore, Loading, PageHeader, ProblemAlert, StatusBadge } from "../../ui/components";
import { usePaged } from "../../ui/hooks";
import { hitLink, MATCHED_IN, searchTickets, snippetParts, type SearchHit } from "./searchApi";
import "./search.css";

export function SearchView({ route }: ViewProps) {
  const q = route.query.get("q") ?? "";
  const results = usePaged((cursor) => searchTickets(q, cursor), [q]);
  // A new query on this same view is a new page of results: announce it as the shell does a view.
  useEffect(() => {
    document.getElementById("page-title")?.focus();
  }, [q]);
  const searching = results.loading && results.items.length === 0;
  return (
    <section>
      <PageHeader title={`Tickets matching “${q}”`} />
      <ProblemAlert error={results.error} />
      {searching ? (
        <Loading what="Searching" />
      ) : (
        !results.error && <Outcome hits={results.items} more={Boolean(results.more)} />
      )}
      {results.items.length > 0 && (
        <ol class="search-results">
          {results.items.map((hit) => (
            <li key={hit.ticket.id}>
              <Hit hit={hit} />
            </li>
          ))}
        </ol>
      )}
      <LoadMore more={results.more} loading={results.loading} />
    </section>
  );
}

/** How many were found, said to screen readers too. */
function Outcome({ hits, more }: { hits: SearchHit[]; more: boolean }) {
  const count = `${hits.length} ${hits.length === 1 ? "ticket" : "tickets"}`;
  let said: string;
  if (hits.length > 0) said = more ? `${count} shown; older ones may match too.` : `${count} found.`;
  else said = more ? "None of the newest tickets match; older ones may." : "No tickets match.";
  return (
    <p class="search-outcome" role="status">
      {said}
    </p>
  );
}

function Hit({ hit }: { hit: SearchHit }) {
  const { ticket } = hit;
  return (
    <article class="search-hit" aria-labelledby={`hit-${ticket.id}`}>
      <h2 class="search-hit-title">
        <span class="search-hit-number">{ticket.number}</span>{" "}
        <a id={`hit-${ticket.id}`} href={hitLink(hit)}>
          {ticket.subject}
        </a>
      </h2>
      <p class="search-hit-facts">
        <StatusBadge status={ticket.status} />
        <span>
          From <strong>{ticket.requester.name ?? ticket.requester.email}</strong>
          {ticket.requester.name && <span class="muted"> &lt;{ticket.requester.email}&gt;</span>}
        </span>
        <span class="muted">Matched in: {MATCHED_IN[hit.matched_in]}</span>
      </p>
      <Snippet text={hit.snippet} />
    </article>
  );
}

/** The passage that matched, its matched words marked. Built as elements: the text is a client's. */
function Snippet({ text }: { text: string }) {
  return (
    <p class="search-snippet">
      {snippetParts(text).map((part, index) => (part.marked ? <mark key={index}>{part.text}</mark> : part.text))}
    </p>
  );
}
