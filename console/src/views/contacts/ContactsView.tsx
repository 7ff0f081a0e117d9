// Finding a contact: search by name or address prefix, exact address or phone; the search lives in
// the URL, so Back returns to the same results. Any agent may add a contact.

import { useState } from "preact/hooks";
import type { ViewProps } from "../../app";
import type { Contact } from "../../api/client";
import { href } from "../../router";
import { Button, Field, LoadMore, Loading, PageHeader, ProblemAlert, Select, fieldProblem } from "../../ui/components";
import { usePaged } from "../../ui/hooks";
import { contactTitle, SEARCH_BY, searchContacts, type SearchBy } from "./contactApi";
import { NewContactDialog } from "./NewContactDialog";
import "./contacts.css";

export function ContactsView({ route }: ViewProps) {
  const by = (route.query.get("by") as SearchBy | null) ?? "q";
  const text = route.query.get("text") ?? "";
  const [typed, setTyped] = useState(text);
  const [typedBy, setTypedBy] = useState<SearchBy>(by);
  const [creating, setCreating] = useState(false);
  const results = usePaged((cursor) => searchContacts(by, text, cursor), [by, text]);

  const search = (event: Event) => {
    event.preventDefault();
    const query = new URLSearchParams({ by: typedBy, text: typed.trim() });
    location.hash = href("contacts").slice(1) + "?" + query.toString();
  };

  return (
    <section>
      <PageHeader title="Contacts">
        <Button tone="primary" onClick={() => setCreating(true)}>
          New contact
        </Button>
      </PageHeader>
      <form class="inline-form contact-search" role="search" aria-label="Contacts" onSubmit={search}>
        <Select label="Search by" value={typedBy} options={SEARCH_BY} onChange={setTypedBy} inline />
        <Field label="Search contacts" inline error={fieldProblem(results.error, typedBy)}>
          <input type="search" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <Button type="submit">Search</Button>
      </form>
      <ProblemAlert error={results.error} />
      {results.loading && results.items.length === 0 ? (
        <Loading what="Searching" />
      ) : (
        <ContactTable contacts={results.items} searched={Boolean(text)} />
      )}
      <LoadMore more={results.more} loading={results.loading} />
      {creating && <NewContactDialog onClose={() => setCreating(false)} />}
    </section>
  );
}

function ContactTable({ contacts, searched }: { contacts: Contact[]; searched: boolean }) {
  if (contacts.length === 0) return <p class="muted">{searched ? "No contact matches." : "No contacts yet."}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Primary address</th>
          <th scope="col">Organisation</th>
          <th scope="col">Phone</th>
          <th scope="col">Tags</th>
        </tr>
      </thead>
      <tbody>
        {contacts.map((contact) => (
          <tr key={contact.id}>
            <td>
              <a href={href("contacts", contact.id)}>{contactTitle(contact)}</a>
            </td>
            <td>{contact.primary_email ?? <span class="muted">none</span>}</td>
            <td>{contact.organisation}</td>
            <td>{contact.phone}</td>
            <td>
              {contact.tags.map((tag) => (
                <span key={tag} class="badge tag">
                  {tag}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
