// Channels: the departments' inbound addresses, how they answer and what they quarantine.

import { useState } from "preact/hooks";
import { api, call, idempotencyKey, onlyChanged, type Department, type Schemas } from "../../api/client";
import { Button, Field, Loading, ProblemAlert, Select, fieldProblem } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";

type Channel = Schemas["ChannelOut"];
type ChannelDraft = Schemas["ChannelIn"];

const NEW_CHANNEL: ChannelDraft = {
  address: "",
  department_id: "",
  signature: "",
  acknowledge: false,
  acknowledge_template: "",
  quarantine_spam: true,
};

export function ChannelsSection() {
  const channels = useLoad(() => call(api().GET("/channels")), []);
  const departments = useLoad(() => call(api().GET("/departments")), []);
  // The channel being edited, or "new"; one form at a time.
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const done = () => {
    setEditing(null);
    void channels.reload();
  };
  return (
    <div class="settings-section">
      <div class="row-actions">
        <Button tone="primary" onClick={() => setEditing("new")}>
          New channel
        </Button>
      </div>
      {editing && (
        <ChannelForm
          key={editing === "new" ? "new" : editing.id}
          channel={editing === "new" ? null : editing}
          departments={departments.data?.items ?? []}
          onDone={done}
          onCancel={() => setEditing(null)}
        />
      )}
      <h2>Channels</h2>
      <ProblemAlert error={channels.error} />
      {!channels.data && channels.loading && <Loading what="Loading channels" />}
      {channels.data?.items.length === 0 && <p class="muted">No channels yet: mail to no known address opens tickets without a department.</p>}
      {channels.data && channels.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Address</th>
              <th scope="col">Department</th>
              <th scope="col">Acknowledges new tickets</th>
              <th scope="col">Spam</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {channels.data.items.map((channel) => (
              <tr key={channel.id}>
                <td>{channel.address}</td>
                <td>{departments.data?.items.find((d) => d.id === channel.department_id)?.name ?? channel.department_id}</td>
                <td>{channel.acknowledge ? "Yes" : "No"}</td>
                <td>{channel.quarantine_spam ? "Quarantined" : "Let through"}</td>
                <td>
                  <Button onClick={() => setEditing(channel)}>
                    Edit<span class="visually-hidden"> {channel.address}</span>
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ChannelForm(props: {
  channel: Channel | null;
  departments: Department[];
  onDone: () => void;
  onCancel: () => void;
}) {
  const { channel } = props;
  const [draft, setDraft] = useState<ChannelDraft>(() =>
    channel
      ? {
          address: channel.address,
          department_id: channel.department_id,
          signature: channel.signature ?? "",
          acknowledge: channel.acknowledge,
          acknowledge_template: channel.acknowledge_template ?? "",
          quarantine_spam: channel.quarantine_spam,
        }
      : { ...NEW_CHANNEL, department_id: props.departments[0]?.id ?? "" },
  );
  const edit = (change: Partial<ChannelDraft>) => setDraft({ ...draft, ...change });
  const save = useAction(async () => {
    const body = { ...draft, signature: draft.signature || null, acknowledge_template: draft.acknowledge_template || null };
    if (channel) {
      await call(api().PATCH("/channels/{channel_id}", { params: { path: { channel_id: channel.id } }, body: onlyChanged(body) }));
    } else {
      await call(api().POST("/channels", { params: { header: idempotencyKey() }, body }));
    }
    props.onDone();
  });
  const title = channel ? `Edit ${channel.address}` : "New channel";
  return (
    <form
      class="settings-card"
      aria-labelledby="channel-form-title"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h3 id="channel-form-title">{title}</h3>
      <Field label="Address" hint="Mail to it (and to its +tag forms) opens tickets." error={fieldProblem(save.error, "address")}>
        <input type="email" required value={draft.address} onInput={(e) => edit({ address: e.currentTarget.value })} />
      </Field>
      <Select
        label="Department"
        value={draft.department_id}
        options={props.departments.map((d) => ({ value: d.id, label: d.archived ? `${d.name} (archived)` : d.name }))}
        onChange={(department_id) => edit({ department_id })}
      />
      {fieldProblem(save.error, "department_id") && <p class="field-error">{fieldProblem(save.error, "department_id")}</p>}
      <Field label="Signature" hint="Added under every reply sent from this address." error={fieldProblem(save.error, "signature")}>
        <textarea rows={3} value={draft.signature ?? ""} onInput={(e) => edit({ signature: e.currentTarget.value })} />
      </Field>
      <label class="check">
        <input type="checkbox" checked={draft.acknowledge} onChange={(e) => edit({ acknowledge: e.currentTarget.checked })} />
        Acknowledge the mail that opens a ticket
      </label>
      {draft.acknowledge && (
        <Field
          label="Acknowledgement"
          hint="{number} and {subject} are filled in."
          error={fieldProblem(save.error, "acknowledge_template")}
        >
          <textarea rows={4} value={draft.acknowledge_template ?? ""} onInput={(e) => edit({ acknowledge_template: e.currentTarget.value })} />
        </Field>
      )}
      <label class="check">
        <input type="checkbox" checked={draft.quarantine_spam} onChange={(e) => edit({ quarantine_spam: e.currentTarget.checked })} />
        Quarantine mail SES calls spam
      </label>
      <ProblemAlert error={save.error} />
      <div class="actions">
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button type="submit" tone="primary" busy={save.busy}>
          {channel ? "Save channel" : "Create channel"}
        </Button>
      </div>
    </form>
  );
}
