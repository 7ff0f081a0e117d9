// One tab per status with its number in words ("Open 3"): an ARIA tablist, where the arrow keys,
// Home and End move to (and show) another status, and Tab goes on to the list.

import { STATUSES, type Status } from "../../api/client";
import { humanize } from "../../ui/components";
import type { StatusCounts } from "./queueApi";

export const PANEL_ID = "queue-panel";

export function tabId(status: Status): string {
  return `queue-tab-${status}`;
}

const KEY_STEPS: Record<string, (index: number) => number> = {
  ArrowRight: (index) => (index + 1) % STATUSES.length,
  ArrowLeft: (index) => (index - 1 + STATUSES.length) % STATUSES.length,
  Home: () => 0,
  End: () => STATUSES.length - 1,
};

export function StatusTabs(props: {
  selected: Status;
  counts: StatusCounts | undefined;
  onSelect: (status: Status) => void;
}) {
  const move = (event: KeyboardEvent, index: number) => {
    const step = KEY_STEPS[event.key];
    if (!step) return;
    event.preventDefault();
    const status = STATUSES[step(index)];
    document.getElementById(tabId(status))?.focus();
    props.onSelect(status);
  };
  return (
    <div class="tabs queue-tabs" role="tablist" aria-label="Tickets by status">
      {STATUSES.map((status, index) => {
        const selected = status === props.selected;
        return (
          <button
            key={status}
            type="button"
            role="tab"
            id={tabId(status)}
            aria-selected={selected ? "true" : "false"}
            aria-controls={PANEL_ID}
            tabIndex={selected ? 0 : -1}
            onClick={() => props.onSelect(status)}
            onKeyDown={(event) => move(event, index)}
          >
            {humanize(status)}
            {/* The space keeps the accessible name "Open 3" rather than "Open3". */}
            {props.counts && <> <span class="tab-count">{props.counts[status]}</span></>}
          </button>
        );
      })}
    </div>
  );
}

