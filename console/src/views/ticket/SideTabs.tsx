// The side column's SLA and history, one at a time: a tab set (arrow keys move between tabs).

import { useState } from "preact/hooks";
import type { Ticket } from "../../api/client";
import { HistoryPanel } from "./HistoryPanel";
import { SlaPanel } from "./SlaPanel";

const TABS = [
  { id: "sla", label: "SLA" },
  { id: "history", label: "History" },
] as const;
type TabId = (typeof TABS)[number]["id"];

export function SideTabs({ ticket }: { ticket: Ticket }) {
  const [shown, setShown] = useState<TabId>("sla");
  const move = (event: KeyboardEvent, index: number) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = TABS[(index + step + TABS.length) % TABS.length];
    setShown(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return (
    <section class="panel">
      <div class="tabs" role="tablist" aria-label="Ticket details">
        {TABS.map((tab, index) => (
          <button
            key={tab.id}
            id={`tab-${tab.id}`}
            type="button"
            role="tab"
            aria-selected={shown === tab.id}
            aria-controls={`panel-${tab.id}`}
            tabIndex={shown === tab.id ? 0 : -1}
            onClick={() => setShown(tab.id)}
            onKeyDown={(event) => move(event, index)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {TABS.map((tab) => (
        <div key={tab.id} id={`panel-${tab.id}`} role="tabpanel" aria-labelledby={`tab-${tab.id}`} tabIndex={0} hidden={shown !== tab.id}>
          {tab.id === "sla" ? <SlaPanel ticketId={ticket.id} version={ticket.version} /> : <HistoryPanel ticketId={ticket.id} version={ticket.version} />}
        </div>
      ))}
    </section>
  );
}
