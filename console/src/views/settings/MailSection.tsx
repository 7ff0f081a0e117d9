// Mail that waits for an admin (quarantined, or held because a machine wrote it), and a dry run
// that says what a mail would do without writing anything.

import { useState } from "preact/hooks";
import { api, call, idempotencyKey, type Schemas } from "../../api/client";
import { Button, Confirm, DateTime, LoadMore, Loading, ProblemAlert, Select, fieldProblem } from "../../ui/components";
import { useAction, useLoad, usePaged } from "../../ui/hooks";
import { DryRun } from "./DryRun";

type Waiting = Schemas["QuarantinedOut"];
type Kind = "quarantined" | "held";

export function MailSection() {
  const [kind, setKind] = useState<Kind>("quarantined");
  const [releasing, setReleasing] = useState<Waiting | null>(null);
  const mail = usePaged(
    (cursor) =>
      call(api().GET("/channels/quarantine", { params: { query: { held: kind === "held", cursor: cursor ?? undefined } } })),
    [kind],
  );
  return (
    <div class="settings-section">
      <h2>Waiting mail</h2>
      <Select
        label="Show"
        value={kind}
        options={[
          { value: "quarantined", label: "Quarantined (virus, spam, unreadable, unknown address)" },
          { value: "held", label: "Held (written by a machine, or a sender's flood)" },
        ]}
        onChange={setKind}
      />
      <ProblemAlert error={mail.error} />
      {mail.loading && mail.items.length === 0 ? (
        <Loading what="Loading mail" />
      ) : mail.items.length === 0 ? (
        <p class="muted">Nothing {kind === "held" ? "held" : "in quarantine"}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">From</th>
              <th scope="col">Subject</th>
              <th scope="col">Reason</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {mail.items.map((item) => (
              <tr key={item.id}>
                <td>
                  <DateTime value={item.received_at} />
                </td>
                <td>{item.sender}</td>
                <td>{item.subject || <span class="muted">(no subject)</span>}</td>
                <td>{item.reason}</td>
                <td>
                  {item.released_at ? (
                    <>
                      Released by {item.released_by} on <DateTime value={item.released_at} />
                    </>
                  ) : (
                    <Button onClick={() => setReleasing(item)}>
                      Release<span class="visually-hidden"> the mail from {item.sender}</span>
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore more={mail.more} loading={mail.loading} />
      {releasing && (
        <ReleaseDialog
          item={releasing}
          onClose={() => setReleasing(null)}
          onReleased={() => {
            setReleasing(null);
            void mail.reload();
          }}
        />
      )}
      <DryRun />
    </div>
  );
}

function ReleaseDialog(props: { item: Waiting; onClose: () => void; onReleased: () => void }) {
  const departments = useLoad(() => call(api().GET("/departments")), []);
  const [department, setDepartment] = useState(props.item.department_id ?? "");
  const release = useAction(async () => {
    await call(
      api().POST("/channels/quarantine/{quarantine_id}/release", {
        params: { path: { quarantine_id: props.item.id }, header: idempotencyKey() },
        body: { department_id: department || null },
      }),
    );
    props.onReleased();
  });
  const options = [
    { value: "", label: "Where it was addressed" },
    ...(departments.data?.items ?? []).filter((d) => !d.archived).map((d) => ({ value: d.id, label: d.name })),
  ];
  return (
    <Confirm
      title="Release this mail?"
      confirmLabel="Release and open a ticket"
      onConfirm={() => void release.run()}
      onCancel={props.onClose}
      busy={release.busy}
      error={release.error}
    >
      <p>
        The mail from <strong>{props.item.sender}</strong> ({props.item.subject || "no subject"}) opens its ticket, once.
        It was kept because: {props.item.reason}.
      </p>
      <Select label="Open the ticket in" value={department} options={options} onChange={setDepartment} />
      {fieldProblem(release.error, "department_id") && <p class="field-error">{fieldProblem(release.error, "department_id")}</p>}
    </Confirm>
  );
}
