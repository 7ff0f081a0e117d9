// The CRM sync: where it stands, and a run on request.

import { useState } from "preact/hooks";
import { api, call, idempotencyKey, type Schemas } from "../../api/client";
import { href } from "../../router";
import { Button, DateTime, Loading, Notice, ProblemAlert, humanize } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";

type Status = Schemas["StatusOut"];

export function CrmSection() {
  const status = useLoad(() => call(api().GET("/crm/status")), []);
  const [full, setFull] = useState(false);
  const [queued, setQueued] = useState<string | null>(null);
  const sync = useAction(async () => {
    const answer = await call(api().POST("/crm/sync", { params: { header: idempotencyKey() }, body: { full } }));
    setQueued(answer.full ? "A full re-sync was queued." : "A sync of the changes was queued.");
    void status.reload();
  });
  if (status.error) return <ProblemAlert error={status.error} />;
  if (!status.data) return <Loading what="Loading the CRM status" />;
  if (!status.data.enabled) {
    return <Notice>No CRM is configured. Contacts are kept here only; the README says how to connect HubSpot.</Notice>;
  }
  return (
    <div class="settings-section">
      <h2>{humanize(status.data.provider ?? "CRM")}</h2>
      <SyncState status={status.data} />
      <div class="settings-card">
        <h3>Sync now</h3>
        <label class="check">
          <input type="checkbox" checked={full} onChange={(e) => setFull(e.currentTarget.checked)} />
          Read every CRM record again (a full re-sync), not only the changes
        </label>
        <Button tone="primary" busy={sync.busy} onClick={() => void sync.run()}>
          Sync now
        </Button>
        {queued && <Notice tone="success">{queued}</Notice>}
        <ProblemAlert error={sync.error} />
      </div>
    </div>
  );
}

function SyncState({ status }: { status: Status }) {
  const run = status.last_run;
  const checkpoint = status.checkpoint;
  return (
    <>
      <h3>Last run</h3>
      {run ? (
        <dl class="facts">
          <dt>Kind</dt>
          <dd>{run.kind === "full" ? "Full pass" : "Changes since the checkpoint"}</dd>
          <dt>Started</dt>
          <dd>
            <DateTime value={run.started_at} />
          </dd>
          <dt>Finished</dt>
          <dd>{run.finished_at ? <DateTime value={run.finished_at} /> : "Still running"}</dd>
          <dt>Outcome</dt>
          <dd>{humanize(run.outcome)}</dd>
          <dt>Records</dt>
          <dd>
            {run.counts.upserted} created or updated, {run.counts.deleted} deleted, {run.counts.merged} merged,{" "}
            {run.counts.unchanged} unchanged, {run.counts.ambiguous} ambiguous ({run.counts.pages} pages)
          </dd>
          {run.error && (
            <>
              <dt>Error</dt>
              <dd class="field-error">{run.error}</dd>
            </>
          )}
        </dl>
      ) : (
        <p class="muted">No run yet.</p>
      )}
      {checkpoint && (
        <>
          <h3>Checkpoint</h3>
          <dl class="facts">
            <dt>Full pass</dt>
            <dd>{humanize(checkpoint.full_pass)}</dd>
            <dt>Changes read until</dt>
            <dd>
              <DateTime value={checkpoint.changes_read_until} />
            </dd>
            {checkpoint.paused_until && (
              <>
                <dt>Paused until</dt>
                <dd>
                  <DateTime value={checkpoint.paused_until} /> (the CRM's daily limit)
                </dd>
              </>
            )}
          </dl>
        </>
      )}
      <h3>Records to settle by hand</h3>
      {status.ambiguous.length === 0 ? (
        <p class="muted">None: every record found its contact.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">CRM record</th>
              <th scope="col">Addresses</th>
              <th scope="col">Contacts holding them</th>
              <th scope="col">Seen</th>
            </tr>
          </thead>
          <tbody>
            {status.ambiguous.map((item) => (
              <tr key={item.crm_id}>
                <td>{item.crm_id}</td>
                <td>{item.emails.join(", ")}</td>
                <td>
                  <ul class="plain-list">
                    {item.contact_ids.map((id) => (
                      <li key={id}>
                        <a href={href("contacts", id)}>{id}</a>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  <DateTime value={item.seen_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
