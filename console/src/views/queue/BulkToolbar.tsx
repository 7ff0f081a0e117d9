// What to change on every selected ticket: each field is left as it is unless one is chosen, and
// one "Apply" sends them all at once. Each ticket is changed or refused on its own; the queue says
// which in words (see `outcomeOf`).

import { useState } from "preact/hooks";
import {
  PRIORITIES,
  STATUSES,
  type Agent,
  type Department,
  type Priority,
  type Status,
  type Ticket,
} from "../../api/client";
import { Button, Field, ProblemAlert, Select } from "../../ui/components";
import { useAction } from "../../ui/hooks";
import { changeTickets, type BulkChanges, type BulkItem } from "./queueApi";

const KEEP = "";
const NOBODY = "nobody";

export function BulkToolbar(props: {
  tickets: Ticket[]; // the selected ones
  agents: Agent[];
  departments: Department[];
  me: string;
  onDone: (outcome: string) => void;
  onClear: () => void;
}) {
  const { tickets } = props;
  const [status, setStatus] = useState<Status | "">(KEEP);
  const [assignee, setAssignee] = useState(KEEP);
  const [priority, setPriority] = useState<Priority | "">(KEEP);
  const [department, setDepartment] = useState(KEEP);
  const [tag, setTag] = useState("");
  const [untag, setUntag] = useState("");
  const changes: BulkChanges = {
    ...(status && { status }),
    ...(assignee && { assignee: assignee === NOBODY ? null : assignee }),
    ...(priority && { priority }),
    ...(department && { department_id: department }),
    ...(tag.trim() && { tags_add: [tag.trim()] }),
    ...(untag.trim() && { tags_remove: [untag.trim()] }),
  };
  const chosen = Object.keys(changes).length > 0;
  const send = useAction(async () => {
    const items = await changeTickets(tickets.map((ticket) => ticket.id), changes);
    props.onDone(outcomeOf(items, tickets));
  });
  const others = props.agents
    .filter((agent) => agent.status !== "disabled" && agent.email !== props.me)
    .map((agent) => ({ value: agent.email, label: agent.name ? `${agent.name} (${agent.email})` : agent.email }))
    .sort((a, b) => a.label.localeCompare(b.label));
  // Archived departments take no new tickets.
  const destinations = props.departments
    .filter((d) => !d.archived)
    .map((d) => ({ value: d.id, label: d.name }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const count = `${tickets.length} ${tickets.length === 1 ? "ticket" : "tickets"}`;

  return (
    <form
      class="bulk-toolbar"
      aria-label="Change the selected tickets"
      onSubmit={(event) => {
        event.preventDefault();
        if (chosen && !send.busy) void send.run();
      }}
    >
      <p class="bulk-count">{count} selected</p>
      <Select<Status | "">
        inline
        label="Change status"
        value={status}
        options={[{ value: KEEP, label: "Keep" }, ...STATUSES]}
        onChange={setStatus}
      />
      <Select
        inline
        label="Assign to"
        value={assignee}
        options={[
          { value: KEEP, label: "Keep" },
          { value: props.me, label: "Me" },
          { value: NOBODY, label: "Nobody" },
          ...others,
        ]}
        onChange={setAssignee}
      />
      <Select<Priority | "">
        inline
        label="Priority"
        value={priority}
        options={[{ value: KEEP, label: "Keep" }, ...PRIORITIES]}
        onChange={setPriority}
      />
      <Select
        inline
        label="Move to department"
        value={department}
        options={[{ value: KEEP, label: "Keep" }, ...destinations]}
        onChange={setDepartment}
      />
      <TagField label="Add tag" value={tag} onChange={setTag} />
      <TagField label="Remove tag" value={untag} onChange={setUntag} />
      <Button tone="primary" type="submit" busy={send.busy} disabled={!chosen}>
        Apply to {count}
      </Button>
      <Button onClick={props.onClear}>Clear selection</Button>
      <ProblemAlert error={send.error} />
    </form>
  );
}

function TagField(props: { label: string; value: string; onChange: (value: string) => void }) {
  return (
    <Field inline label={props.label}>
      <input type="text" value={props.value} size={12} onInput={(event) => props.onChange(event.currentTarget.value)} />
    </Field>
  );
}

/** "12 changed; 1 could not be changed: TKT-0042 is closed, …" */
function outcomeOf(items: BulkItem[], tickets: Ticket[]): string {
  const numbers = new Map(tickets.map((ticket) => [ticket.id, ticket.number]));
  const changed = items.filter((item) => item.status === 200).length;
  const refused = items.flatMap((item) => {
    if (!("problem" in item)) return [];
    const number = numbers.get(item.id) ?? item.id;
    const problem = item.problem as { detail?: string; title?: string };
    const why = problem.detail ?? problem.title ?? `refused (${item.status})`;
    return [why.includes(number) ? why : `${number}: ${why}`];
  });
  const said = `${changed} changed`;
  return refused.length ? `${said}; ${refused.length} could not be changed: ${refused.join("; ")}` : said;
}
