// Departments and who is in them. A member is picked from the agents or typed as an address.

import { useState } from "preact/hooks";
import { api, call, idempotencyKey, onlyChanged, type Department, type Schemas } from "../../api/client";
import { Button, Field, Loading, ProblemAlert, fieldProblem } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { allAgents } from "./settingsApi";

export function DepartmentsSection() {
  const departments = useLoad(() => call(api().GET("/departments")), []);
  const agents = useLoad(allAgents, []);
  return (
    <div class="settings-section">
      <NewDepartmentForm onCreated={() => void departments.reload()} />
      <h2>Departments</h2>
      <ProblemAlert error={departments.error} />
      {!departments.data && departments.loading && <Loading what="Loading departments" />}
      {departments.data?.items.length === 0 && <p class="muted">No departments yet.</p>}
      <datalist id="agent-addresses">
        {agents.data?.map((agent) => <option key={agent.email} value={agent.email} />)}
      </datalist>
      <div class="cards">
        {departments.data?.items.map((department) => (
          <DepartmentCard key={department.id} department={department} onChanged={() => void departments.reload()} />
        ))}
      </div>
    </div>
  );
}

function NewDepartmentForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const create = useAction(async () => {
    await call(api().POST("/departments", { params: { header: idempotencyKey() }, body: { name: name.trim(), id: null } }));
    setName("");
    onCreated();
  });
  return (
    <form
      class="settings-card"
      aria-labelledby="new-department-title"
      onSubmit={(event) => {
        event.preventDefault();
        void create.run();
      }}
    >
      <h2 id="new-department-title">New department</h2>
      <div class="inline-form">
        <Field label="Department name" inline error={fieldProblem(create.error, "name")}>
          <input type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Button type="submit" tone="primary" busy={create.busy}>
          Create department
        </Button>
      </div>
      <ProblemAlert error={create.error} />
    </form>
  );
}

function DepartmentCard({ department, onChanged }: { department: Department; onChanged: () => void }) {
  const [name, setName] = useState(department.name);
  const [renaming, setRenaming] = useState(false);
  const [member, setMember] = useState("");
  const path = { params: { path: { department_id: department.id } } };
  const change = useAction(async (patch: { name?: string; archived?: boolean }) => {
    await call(api().PATCH("/departments/{department_id}", { ...path, body: onlyChanged<Schemas["DepartmentPatchIn"]>(patch) }));
    setRenaming(false);
    onChanged();
  });
  const add = useAction(async () => {
    await call(
      api().POST("/departments/{department_id}/members", {
        params: { path: { department_id: department.id }, header: idempotencyKey() },
        body: { email: member.trim() },
      }),
    );
    setMember("");
    onChanged();
  });
  const remove = useAction(async (email: string) => {
    await call(
      api().DELETE("/departments/{department_id}/members/{email}", {
        params: { path: { department_id: department.id, email } },
      }),
    );
    onChanged();
  });
  const titleId = `department-${department.id}`;
  return (
    <section class="card" aria-labelledby={titleId}>
      <h3 id={titleId}>
        {department.name} {department.archived && <span class="badge">Archived</span>}
      </h3>
      <p class="muted">Id: {department.id}</p>
      {renaming ? (
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void change.run({ name: name.trim() });
          }}
        >
          <Field label={`New name for ${department.name}`} inline error={fieldProblem(change.error, "name")}>
            <input type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Button type="submit" tone="primary" busy={change.busy}>
            Save name
          </Button>
          <Button onClick={() => setRenaming(false)}>Cancel</Button>
        </form>
      ) : (
        <div class="row-actions">
          <Button onClick={() => setRenaming(true)}>Rename</Button>
          <Button busy={change.busy} onClick={() => void change.run({ archived: !department.archived })}>
            {department.archived ? "Restore" : "Archive"}
          </Button>
        </div>
      )}
      <ProblemAlert error={change.error} />
      <h4>Members</h4>
      {department.members.length === 0 && <p class="muted">No members yet.</p>}
      <ul class="plain-list member-list">
        {department.members.map((email) => (
          <li key={email}>
            <span>{email}</span>
            <Button busy={remove.busy} onClick={() => void remove.run(email)}>
              Remove<span class="visually-hidden"> {email} from {department.name}</span>
            </Button>
          </li>
        ))}
      </ul>
      <ProblemAlert error={remove.error} />
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void add.run();
        }}
      >
        <Field label={`Add a member to ${department.name}`} hint="Pick an agent or type an address." inline error={fieldProblem(add.error, "email")}>
          <input type="email" required list="agent-addresses" value={member} onInput={(e) => setMember(e.currentTarget.value)} />
        </Field>
        <Button type="submit" busy={add.busy}>
          Add member
        </Button>
      </form>
      <ProblemAlert error={add.error} />
    </section>
  );
}
