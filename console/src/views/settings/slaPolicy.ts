// The SLA policy as the editor holds it (text, as typed) and as the API takes it.

import { PRIORITIES, type Priority, type Schemas } from "../../api/client";

export type Policy = Schemas["PolicyOut"];
type Rules = Schemas["PolicyRules"];

/** The editor and the history list the most pressing priority first. */
export const BY_URGENCY = [...PRIORITIES].reverse();

export const WEEKDAYS = [
  { id: "mon", label: "Monday" },
  { id: "tue", label: "Tuesday" },
  { id: "wed", label: "Wednesday" },
  { id: "thu", label: "Thursday" },
  { id: "fri", label: "Friday" },
  { id: "sat", label: "Saturday" },
  { id: "sun", label: "Sunday" },
] as const;
export type Weekday = (typeof WEEKDAYS)[number]["id"];

export interface DayHours {
  open: boolean;
  start: string;
  end: string;
}

export interface PolicyDraft {
  targets: Record<Priority, { first_response_minutes: string; resolution_minutes: string }>;
  approachingBy: "percent" | "minutes_before";
  approachingValue: string;
  pause: boolean;
  clock: Rules["clock"];
  timeZone: string;
  weekly: Record<Weekday, DayHours>;
  holidays: string;
}

export function draftOf(policy: Policy): PolicyDraft {
  const hours = policy.business_hours;
  const weekly = Object.fromEntries(
    WEEKDAYS.map(({ id }) => {
      // One interval a day is what this editor offers; the first one stands for the day.
      const first = hours?.weekly[id]?.[0];
      const weekday = id !== "sat" && id !== "sun";
      return [id, { open: first ? true : !hours && weekday, start: first?.start ?? "09:00", end: first?.end ?? "17:00" }];
    }),
  ) as Record<Weekday, DayHours>;
  return {
    targets: Object.fromEntries(
      PRIORITIES.map((priority) => [
        priority,
        {
          first_response_minutes: String(policy.targets[priority].first_response_minutes),
          resolution_minutes: String(policy.targets[priority].resolution_minutes),
        },
      ]),
    ) as PolicyDraft["targets"],
    approachingBy: policy.approaching.minutes_before ? "minutes_before" : "percent",
    approachingValue: String(policy.approaching.minutes_before ?? policy.approaching.percent ?? 75),
    pause: policy.pause_when_waiting_on_client,
    clock: policy.clock,
    timeZone: hours?.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    weekly,
    holidays: (hours?.holidays ?? []).join("\n"),
  };
}

/** Numbers as typed: a wrong one (empty, zero) goes to the API, whose 422 names the field. */
function number(text: string): number {
  return text.trim() === "" ? Number.NaN : Number(text);
}

export function rulesOf(draft: PolicyDraft): Rules {
  const targets = Object.fromEntries(
    PRIORITIES.map((priority) => [
      priority,
      {
        first_response_minutes: number(draft.targets[priority].first_response_minutes),
        resolution_minutes: number(draft.targets[priority].resolution_minutes),
      },
    ]),
  ) as Rules["targets"];
  const value = number(draft.approachingValue);
  return {
    targets,
    approaching:
      draft.approachingBy === "percent" ? { percent: value, minutes_before: null } : { minutes_before: value, percent: null },
    pause_when_waiting_on_client: draft.pause,
    clock: draft.clock,
    business_hours:
      draft.clock === "business_hours"
        ? {
            time_zone: draft.timeZone.trim(),
            weekly: Object.fromEntries(
              WEEKDAYS.filter(({ id }) => draft.weekly[id].open).map(({ id }) => [
                id,
                [{ start: draft.weekly[id].start, end: draft.weekly[id].end }],
              ]),
            ),
            holidays: draft.holidays.split(/[\s,]+/).filter(Boolean),
          }
        : null,
  };
}

/** Minutes as a person reads them: "30 min", "4 h", "1 day 2 h". */
export function duration(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes <= 0) return "—";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [days && `${days} ${days === 1 ? "day" : "days"}`, hours && `${hours} h`, rest && `${rest} min`];
  return parts.filter(Boolean).join(" ");
}
