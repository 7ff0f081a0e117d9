// Status, priority, assignee and department: each change is written at once, over the version this
// view read. Someone else's change in between is a 412, said plainly, with a way to catch up.

import { PRIORITIES, STATUSES, type Ticket } from "../../api/client";
import { ProblemAlert, Select } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { WriteProblem } from "./StaleTicket";
import { changeTicket, loadAssignees, loadDepartments, type TicketChange } from "./ticketApi";

const UNASSIGNED = "";
const NO_DEPARTMENT = "";

export function Controls(props: { ticket: Ticket; onChanged: (ticket: Ticket) => void; onReload: () => Promise<void> }) {
  const { ticket } = props;
  const departments = useLoad(loadDepartments, []);
  const assignees = useLoad(() => loadAssignees(ticket.department_id), [ticket.department_id]);
  const save = useAction(async (change: TicketChange) => props.onChanged(await changeTicket(ticket, change)));
  const reload = useAction(async () => {
    await props.onReload();
    save.clear();
  });

  const assigneeOptions = withCurrent(assignees.data ?? [], ticket.assignee);
  const departmentOptions = (departments.data ?? []).filter((d) => !d.archived || d.id === ticket.department_id);
  const busy = save.busy || reload.busy;
  return (
    <section class="panel ticket-controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Ticket</h2>
      <Select label="Status" value={ticket.status} options={STATUSES} disabled={busy} onChange={(status) => void save.run({ status })} />
      <Select label="Priority" value={ticket.priority} options={PRIORITIES} disabled={busy} onChange={(priority) => void save.run({ priority })} />
      <Select
        label="Assignee"
        value={ticket.assignee ?? UNASSIGNED}
        options={[{ value: UNASSIGNED, label: "Nobody" }, ...assigneeOptions.map((email) => ({ value: email, label: email }))]}
        disabled={busy}
        onChange={(assignee) => void save.run({ assignee: assignee || null })}
      />
      <Select
        label="Department"
        value={ticket.department_id ?? NO_DEPARTMENT}
        options={[
          ...(ticket.department_id ? [] : [{ value: NO_DEPARTMENT, label: "None" }]),
          ...departmentOptions.map((d) => ({ value: d.id, label: d.name })),
        ]}
        disabled={busy}
        onChange={(department_id) => department_id && void save.run({ department_id })}
      />
      <p class="muted version">Version {ticket.version}</p>
      <WriteProblem
        error={save.error}
        reload={reload}
        notDone="Your change was not saved. Reload the ticket to see theirs, then make yours again; what you are writing stays."
      />
      <ProblemAlert error={reload.error ?? departments.error ?? assignees.error} />
    </section>
  );
}

/** The options, and the current value too when it is not among them (an agent who left). */
function withCurrent(options: string[], current: string | null): string[] {
  return current && !options.includes(current) ? [current, ...options] : options;
}
