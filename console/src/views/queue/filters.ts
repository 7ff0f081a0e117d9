// What the queue shows, as the hash's query keeps it (`#/?status=open&sla=breached`), so a reload
// or a shared link shows the same list. Only what differs from the defaults is written.

import {
  PRIORITIES,
  STATUSES,
  type Priority,
  type SlaState,
  type Status,
} from "../../api/client";

export const SLA_STATES = ["ok", "at_risk", "breached", "met"] as const satisfies readonly SlaState[];
export const SORTS = ["updated", "created", "sla_due"] as const;
export type Sort = (typeof SORTS)[number];

// 50 rows fill a screen several times over in one round trip; `limit` in the URL may ask for up to 100.
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

export interface QueueFilters {
  status: Status;
  department: string; // "" every department shown, "none" tickets without one, or an id
  assignee: string; // "" anyone, "me", "none" nobody, or an agent's email
  priority: Priority | "";
  sla: SlaState | "";
  tag: string;
  sort: Sort;
  limit: number;
}

export const DEFAULT_FILTERS: QueueFilters = {
  status: "open",
  department: "",
  assignee: "",
  priority: "",
  sla: "",
  tag: "",
  sort: "updated",
  limit: DEFAULT_LIMIT,
};

function oneOf<T extends string>(allowed: readonly T[], value: string | null, fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

export function filtersFrom(query: URLSearchParams): QueueFilters {
  const limit = Number(query.get("limit"));
  return {
    status: oneOf(STATUSES, query.get("status"), DEFAULT_FILTERS.status),
    department: query.get("department") ?? "",
    assignee: query.get("assignee") ?? "",
    priority: oneOf(["", ...PRIORITIES], query.get("priority"), ""),
    sla: oneOf(["", ...SLA_STATES], query.get("sla"), ""),
    tag: query.get("tag") ?? "",
    sort: oneOf(SORTS, query.get("sort"), DEFAULT_FILTERS.sort),
    limit: Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT ? limit : DEFAULT_LIMIT,
  };
}

export function queryOf(filters: QueueFilters): URLSearchParams {
  const query = new URLSearchParams();
  for (const name of Object.keys(DEFAULT_FILTERS) as (keyof QueueFilters)[]) {
    if (filters[name] !== DEFAULT_FILTERS[name]) query.set(name, String(filters[name]));
  }
  return query;
}

/** The filters beyond the status tab, cleared. */
export const NO_FILTERS = {
  department: "",
  assignee: "",
  priority: "",
  sla: "",
  tag: "",
} as const satisfies Partial<QueueFilters>;

export function isFiltered(filters: QueueFilters): boolean {
  return (Object.keys(NO_FILTERS) as (keyof typeof NO_FILTERS)[]).some((name) => filters[name] !== "");
}

/** The API lists an assignee's tickets by last update only (any other sort is a 422). */
export function sortOf(filters: QueueFilters): Sort {
  return filters.assignee ? "updated" : filters.sort;
}

/** The query of `GET /tickets` for these filters. */
export function listQuery(filters: QueueFilters, cursor: string | null) {
  return {
    status: [filters.status],
    priority: filters.priority || undefined,
    department_id: filters.department || undefined,
    assignee: filters.assignee || undefined,
    sla: filters.sla || undefined,
    tag: filters.tag.trim() || undefined,
    sort: sortOf(filters),
    limit: filters.limit,
    cursor: cursor ?? undefined,
  };
}
