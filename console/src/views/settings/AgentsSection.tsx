// The team: invite agents, disable or enable them, grant or take away admin.
// The API keeps one active admin at least (409), said next to the list.

import { useState } from "preact/hooks";
import { api, call, idempotencyKey, onlyChanged, type Agent } from "../../api/client";
import { Button, Field, LoadMore, Loading, ProblemAlert, fieldProblem, humanize } from "../../ui/components";
import { useAction, usePaged } from "../../ui/hooks";

export function AgentsSection() {
  const agents = usePaged(
    (cursor) => call(api().GET("/agents", { params: { query: { cursor: cursor ?? undefined } } })),
    [],
  );
  const change = useAction(async (agent: Agent, patch: { admin?: boolean; disabled?: boolean }) => {
    await call(api().PATCH("/agents/{email}", { params: { path: { email: agent.email } }, body: onlyChanged(patch) }));
    await agents.reload();
  });
  return (
    <div class="settings-section">
      <InviteForm onInvited={() => void agents.reload()} />
      <h2>Agents</h2>
      <ProblemAlert error={agents.error} />
      <ProblemAlert error={change.error} />
      {agents.loading && agents.items.length === 0 ? (
        <Loading what="Loading agents" />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Role</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {agents.items.map((agent) => (
              <tr key={agent.email}>
                <td>{agent.email}</td>
                <td>{agent.name}</td>
                <td>{humanize(agent.status)}</td>
                <td>{agent.admin ? "Admin" : "Agent"}</td>
                <td class="row-actions">
                  <Button busy={change.busy} onClick={() => void change.run(agent, { disabled: agent.status !== "disabled" })}>
                    {agent.status === "disabled" ? "Enable" : "Disable"}
                    <span class="visually-hidden"> {agent.email}</span>
                  </Button>
                  <Button busy={change.busy} onClick={() => void change.run(agent, { admin: !agent.admin })}>
                    {agent.admin ? "Remove admin" : "Make admin"}
                    <span class="visually-hidden"> {agent.email}</span>
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore more={agents.more} loading={agents.loading} />
    </div>
  );
}

function InviteForm({ onInvited }: { onInvited: () => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [admin, setAdmin] = useState(false);
  const invite = useAction(async () => {
    await call(
      api().POST("/agents", {
        params: { header: idempotencyKey() },
        body: { email: email.trim(), name: name.trim() || null, admin },
      }),
    );
    setEmail("");
    setName("");
    setAdmin(false);
    onInvited();
  });
  return (
    <form
      class="settings-card"
      aria-labelledby="invite-title"
      onSubmit={(event) => {
        event.preventDefault();
        void invite.run();
      }}
    >
      <h2 id="invite-title">Invite an agent</h2>
      <div class="inline-form">
        <Field label="Email" inline error={fieldProblem(invite.error, "email")}>
          <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label="Name" inline error={fieldProblem(invite.error, "name")}>
          <input type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <label class="check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} />
          Admin
        </label>
        <Button type="submit" tone="primary" busy={invite.busy}>
          Send invitation
        </Button>
      </div>
      <ProblemAlert error={invite.error} />
    </form>
  );
}
