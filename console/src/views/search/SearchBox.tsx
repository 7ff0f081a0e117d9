// The header's ticket search, on every view: `/` focuses it, Enter shows the results, and while
// typing a few tickets are suggested in a list under it (the ARIA 1.2 combobox: the arrow keys
// choose one, Enter opens it, Escape closes the list, and Escape again leaves the field).

import { useEffect, useRef, useState } from "preact/hooks";
import { hitLink, searchLink, searchTickets, SUGGESTIONS, type SearchHit } from "./searchApi";
import "./search.css";

const DEBOUNCE_MS = 250;
const MIN_CHARS = 2;
const LISTBOX_ID = "search-suggestions";

export function SearchBox({ current }: { current: string }) {
  const [typed, setTyped] = useState(current);
  const [suggestions, setSuggestions] = useState<SearchHit[]>([]);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const latest = useRef(0); // only the newest request's answer is shown

  useEffect(() => setTyped(current), [current]);
  useEffect(() => {
    const focusOnSlash = (event: KeyboardEvent) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      if (inTextField(event.target) || document.querySelector("dialog[open]")) return;
      event.preventDefault();
      input.current?.focus();
    };
    addEventListener("keydown", focusOnSlash);
    return () => {
      removeEventListener("keydown", focusOnSlash);
      clearTimeout(timer.current);
    };
  }, []);

  const close = () => {
    clearTimeout(timer.current);
    latest.current++;
    setSuggestions([]);
    setActive(-1);
  };
  // The list shown stays until the next one comes (no flicker while typing), but nothing in it
  // is chosen: Enter then searches what was typed.
  const suggest = (text: string) => {
    const q = text.trim();
    if (q.length < MIN_CHARS) return close();
    clearTimeout(timer.current);
    const run = ++latest.current;
    setActive(-1);
    timer.current = setTimeout(() => {
      searchTickets(q, null, SUGGESTIONS).then(
        (page) => run === latest.current && setSuggestions(page.items),
        // A query the API refuses (too many words) suggests nothing; Enter shows why.
        () => run === latest.current && setSuggestions([]),
      );
    }, DEBOUNCE_MS);
  };
  const open = (hit: SearchHit) => {
    close();
    setTyped("");
    input.current?.blur(); // as after following a link: the ticket's view takes over
    location.hash = hitLink(hit).slice(1);
  };
  const submit = (event: Event) => {
    event.preventDefault();
    close();
    location.hash = searchLink(typed.trim()).slice(1);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const count = suggestions.length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      setActive((active + 1) % count);
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      setActive(active <= 0 ? count - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0 && active < count) {
      event.preventDefault();
      open(suggestions[active]);
    } else if (event.key === "Escape") {
      if (count) close();
      else input.current?.blur();
    }
  };

  const expanded = suggestions.length > 0;
  return (
    <form class="top-search" role="search" aria-label="Tickets" onSubmit={submit}>
      <input
        ref={input}
        type="text"
        role="combobox"
        aria-label="Search tickets"
        aria-keyshortcuts="/"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={LISTBOX_ID}
        aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
        placeholder="Search tickets ( / )"
        autocomplete="off"
        value={typed}
        onInput={(event) => {
          setTyped(event.currentTarget.value);
          suggest(event.currentTarget.value);
        }}
        onKeyDown={onKeyDown}
        onBlur={close}
      />
      <ul id={LISTBOX_ID} class="suggestions" role="listbox" aria-label="Suggested tickets" hidden={!expanded}>
        {suggestions.map((hit, index) => (
          <li
            key={hit.ticket.id}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            class="suggestion"
            // Pressing keeps the focus in the field (its blur would close the list before the click).
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => open(hit)}
          >
            <span class="suggestion-number">{hit.ticket.number}</span> {hit.ticket.subject}
            <span class="suggestion-requester"> {hit.ticket.requester.name ?? hit.ticket.requester.email}</span>
          </li>
        ))}
      </ul>
      <span class="visually-hidden" role="status">
        {expanded ? `${suggestions.length} suggested: arrow keys to choose, Enter to open.` : ""}
      </span>
    </form>
  );
}

function optionId(index: number): string {
  return `search-suggestion-${index}`;
}

/** Where `/` is a character being typed rather than the shortcut. */
function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.matches("textarea, select, input:not([type=checkbox], [type=radio], [type=button], [type=submit])");
}
