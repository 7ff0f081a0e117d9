import { api, call } from "../../api/client";
import { href } from "../../router";
import { DateTime, humanize, LoadMore, Loading, ProblemAlert } from "../../ui/components";
import { usePaged } from "../../ui/hooks";
import { PAGE_SIZE } from "./contactApi";

/** Every ticket the contact raised that the agent may open, newest first. */
export function ContactTickets({ contactId }: { contactId: string }) {
  const tickets = usePaged(
    (cursor) =>
      call(
        api().GET("/contacts/{contact_id}/tickets", {
          params: { path: { contact_id: contactId }, query: { limit: PAGE_SIZE, cursor: cursor ?? undefined } },
        }),
      ),
    [contactId],
  );
  return (
    <section aria-labelledby="contact-tickets-title">
      <h2 id="contact-tickets-title">Tickets</h2>
      <ProblemAlert error={tickets.error} />
      {tickets.loading && tickets.items.length === 0 ? (
        <Loading what="Loading their tickets" />
      ) : tickets.items.length === 0 ? (
        <p class="muted">No tickets you can see.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Ticket</th>
              <th scope="col">Subject</th>
              <th scope="col">Status</th>
              <th scope="col">Department</th>
              <th scope="col">Opened</th>
            </tr>
          </thead>
          <tbody>
            {tickets.items.map((ticket) => (
              <tr key={ticket.id}>
                <td>
                  <a href={href("tickets", ticket.id)}>{ticket.number}</a>
                </td>
                <td>{ticket.subject}</td>
                <td>
                  <span class={`badge status-${ticket.status}`}>{humanize(ticket.status)}</span>
                </td>
                <td>{ticket.department_id ?? <span class="muted">None</span>}</td>
                <td>
                  <DateTime value={ticket.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore more={tickets.more} loading={tickets.loading} />
    </section>
  );
}
