// The queue's filters and sort, each a labelled control. Choices apply at once; the tag applies
// on Enter or when the field is left, and what was typed stays in the field whatever the answer.

import { useEffect, useState } from "preact/hooks";
import { PRIORITIES, type Agent, type Department, type Priority, type SlaState } from "../../api/client";
import { Button, Field, Select, SLA_LABELS } from "../../ui/components";
import { isFiltered, NO_FILTERS, SLA_STATES, sortOf, type QueueFilters, type Sort } from "./filters";

type Option = { value: string; label: string };

const SORT_LABELS: Record<Sort, string> = {
  updated: "Last updated",
  created: "Newest first",
  sla_due: "SLA due soonest",
};

/** The options of a list, with the current value kept even when it is not among them (a shared
 * link naming a department or agent this console does not list). */
function keeping(current: string, options: Option[]): Option[] {
  return !current || options.some((option) => option.value === current)
    ? options
    : [...options, { value: current, label: current }];
}

function departmentOptions(departments: Department[], admin: boolean, current: string): Option[] {
  return keeping(current, [
    { value: "", label: admin ? "All departments" : "All my departments" },
    ...departments.map((d) => ({ value: d.id, label: d.archived ? `${d.name} (archived)` : d.name })),
    { value: "none", label: "No department" },
  ]);
}

function assigneeOptions(agents: Agent[], current: string): Option[] {
  const named = agents
    .filter((agent) => agent.status !== "disabled")
    .map((agent) => ({ value: agent.email, label: agent.name ? `${agent.name} (${agent.email})` : agent.email }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return keeping(current, [
    { value: "", label: "Anyone" },
    { value: "me", label: "Me" },
    { value: "none", label: "Nobody (unassigned)" },
    ...named,
  ]);
}

export function FilterBar(props: {
  filters: QueueFilters;
  departments: Department[]; // the ones the agent works in (every one for admins)
  admin: boolean;
  agents: Agent[];
  onChange: (changed: Partial<QueueFilters>) => void;
}) {
  const { filters, onChange } = props;
  const [tag, setTag] = useState(filters.tag);
  useEffect(() => setTag(filters.tag), [filters.tag]);
  const applyTag = () => {
    if (tag.trim() !== filters.tag) onChange({ tag: tag.trim() });
  };
  const sortFixed = Boolean(filters.assignee);

  return (
    <form
      class="queue-filters"
      role="search"
      aria-label="Filter tickets"
      onSubmit={(event) => {
        event.preventDefault();
        applyTag();
      }}
    >
      <Select
        inline
        label="Department"
        value={filters.department}
        options={departmentOptions(props.departments, props.admin, filters.department)}
        onChange={(department) => onChange({ department })}
      />
      <Select
        inline
        label="Assignee"
        value={filters.assignee}
        options={assigneeOptions(props.agents, filters.assignee)}
        onChange={(assignee) => onChange({ assignee })}
      />
      <Select<Priority | "">
        inline
        label="Priority"
        value={filters.priority}
        options={[{ value: "", label: "Any" }, ...PRIORITIES]}
        onChange={(priority) => onChange({ priority })}
      />
      <Select<SlaState | "">
        inline
        label="SLA"
        value={filters.sla}
        options={[{ value: "", label: "Any" }, ...SLA_STATES.map((state) => ({ value: state, label: SLA_LABELS[state] }))]}
        onChange={(sla) => onChange({ sla })}
      />
      <Field inline label="Tag">
        <input
          type="search"
          value={tag}
          size={12}
          onInput={(event) => setTag(event.currentTarget.value)}
          onChange={applyTag}
        />
      </Field>
      <Field inline label="Sort by" hint={sortFixed ? "By last update when an assignee is chosen" : undefined}>
        <select
          value={sortOf(filters)}
          disabled={sortFixed}
          onChange={(event) => onChange({ sort: event.currentTarget.value as Sort })}
        >
          {Object.entries(SORT_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      {isFiltered(filters) && (
        <Button onClick={() => onChange(NO_FILTERS)}>Clear filters</Button>
      )}
    </form>
  );
}
