// The SLA clock of the ticket: its targets, due times and what moved them. A new ticket's clock is
// started by an event, so a 404 at first only means "not yet".

import { DateTime, humanize, Loading, ProblemAlert, SlaBadge } from "../../ui/components";
import { useInterval, useLoad } from "../../ui/hooks";
import { loadSla, type SlaTarget } from "./ticketApi";

const STARTING_POLL_SECONDS = 3;

export function SlaPanel({ ticketId, version }: { ticketId: string; version: number }) {
  const timer = useLoad(() => loadSla(ticketId), [ticketId, version]);
  const starting = timer.error?.status === 404;
  useInterval(() => void timer.reload(), starting ? STARTING_POLL_SECONDS : 0);
  if (starting) return <p class="muted" role="status">The SLA clock is starting for this ticket…</p>;
  if (timer.error) return <ProblemAlert error={timer.error} />;
  if (!timer.data) return <Loading what="Loading the SLA" />;
  const { data } = timer;
  if (data.merged_into) return <p>Merged into another ticket: its SLA is measured there.</p>;
  return (
    <>
      <p>
        <SlaBadge state={data.state} /> {data.priority && <span class="muted">{humanize(data.priority)} priority, policy v{data.policy_version}</span>}
      </p>
      {data.targets.map((target) => (
        <Target key={target.target} target={target} />
      ))}
    </>
  );
}

function Target({ target }: { target: SlaTarget }) {
  return (
    <section class="sla-target" aria-label={humanize(target.target)}>
      <h3>
        {humanize(target.target)} <span class="badge">{humanize(target.status)}</span>
      </h3>
      <dl class="facts">
        <dt>Target</dt>
        <dd>{target.target_minutes} working minutes ({Math.round(target.elapsed_minutes)} used)</dd>
        <dt>Due</dt>
        <dd>{target.due_at ? <DateTime value={target.due_at} /> : "Paused"}</dd>
        {target.met_at && (
          <>
            <dt>Met</dt>
            <dd><DateTime value={target.met_at} /></dd>
          </>
        )}
        {target.breached_at && (
          <>
            <dt>Breached</dt>
            <dd><DateTime value={target.breached_at} /></dd>
          </>
        )}
      </dl>
      <ol class="timeline" aria-label={`${humanize(target.target)} timeline`}>
        {target.timeline.map((entry, index) => (
          <li key={`${entry.at}-${index}`}>
            <strong>{humanize(entry.event)}</strong> <DateTime value={entry.at} />
            <div class="muted">{entry.reason}</div>
          </li>
        ))}
      </ol>
    </section>
  );
}
