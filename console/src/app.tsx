// The console's shell: configuration, sign-in, navigation, and the view the URL names.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { configureApi } from "./api/client";
import { auth, signOut, type Session } from "./auth/session";
import { loadConfig, type ConsoleConfig } from "./config";
import { href, useRoute, type Route } from "./router";
import { useStore } from "./store";
import { Loading } from "./ui/components";
import { SignIn } from "./views/SignIn";
import { QueueView } from "./views/queue/QueueView";
import { TicketView } from "./views/ticket/TicketView";
import { ContactsView } from "./views/contacts/ContactsView";
import { ContactView } from "./views/contacts/ContactView";
import { SettingsView } from "./views/settings/SettingsView";
import { NotificationsView } from "./views/notifications/NotificationsView";
import { OutboxView } from "./views/local/OutboxView";
import { ClockView } from "./views/local/ClockView";
import { SearchBox } from "./views/search/SearchBox";
import { SearchView } from "./views/search/SearchView";

export function App() {
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const { session, reason } = useStore(auth);
  useEffect(() => {
    loadConfig()
      .then((loaded) => {
        configureApi(loaded.api_base);
        setConfig(loaded);
      })
      .catch((error) => setFailure(String(error)));
  }, []);
  if (failure) return <p role="alert">The console could not start: {failure}</p>;
  if (!config) return <Loading what="Starting" />;
  if (!session) return <SignIn config={config} reason={reason} />;
  return <Shell config={config} session={session} />;
}

export interface ViewProps {
  config: ConsoleConfig;
  session: Session;
  route: Route;
}

function Shell(props: { config: ConsoleConfig; session: Session }) {
  const route = useRoute();
  const view = { ...props, route };
  const [section] = route.parts;
  // A new view is announced by moving focus to its heading, as a page load would.
  useEffect(() => {
    document.getElementById("page-title")?.focus();
  }, [route.parts.join("/")]);
  return (
    <div class="shell">
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Helpdesk</span>
        <SearchBox current={section === "search" ? (route.query.get("q") ?? "") : ""} />
        <span class="who">
          Signed in as <strong>{props.session.email}</strong>
          {props.session.admin && <span class="badge">Admin</span>}
        </span>
        <button type="button" class="button button-plain" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <nav class="sidebar" aria-label="Main">
        <ul>
          <NavLink to={href()} current={!section || section === "tickets"}>Queue</NavLink>
          <NavLink to={href("contacts")} current={section === "contacts"}>Contacts</NavLink>
          <NavLink to={href("notifications")} current={section === "notifications"}>Notifications</NavLink>
          {props.session.admin && (
            <NavLink to={href("settings")} current={section === "settings"}>Settings</NavLink>
          )}
          {props.config.local && (
            <>
              <NavLink to={href("local", "outbox")} current={section === "local" && route.parts[1] === "outbox"}>
                Sent mail (local)
              </NavLink>
              <NavLink to={href("local", "clock")} current={section === "local" && route.parts[1] === "clock"}>
                Clock (local)
              </NavLink>
            </>
          )}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <View {...view} />
      </main>
    </div>
  );
}

function NavLink({ to, current, children }: { to: string; current: boolean; children: ComponentChildren }) {
  return (
    <li>
      <a href={to} aria-current={current ? "page" : undefined}>
        {children}
      </a>
    </li>
  );
}

function View(props: ViewProps) {
  const [section, id] = props.route.parts;
  switch (section) {
    case undefined:
      return <QueueView {...props} />;
    case "tickets":
      return id ? <TicketView {...props} ticketId={id} /> : <QueueView {...props} />;
    case "contacts":
      return id ? <ContactView {...props} contactId={id} /> : <ContactsView {...props} />;
    case "notifications":
      return <NotificationsView />;
    case "search":
      return <SearchView {...props} />;
    case "settings":
      return <SettingsView {...props} />;
    case "local":
      return id === "clock" ? <ClockView {...props} /> : <OutboxView {...props} />;
    default:
      return <p>Nothing here. <a href={href()}>Back to the queue</a></p>;
  }
}
