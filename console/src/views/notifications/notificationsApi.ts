// Which mails an agent gets about tickets: their own choice per kind, else the admins' default.

import { api, call, type Schemas } from "../../api/client";

export type Preferences = Schemas["NotificationPreferencesOut"];
export type Kinds = Schemas["NotificationKinds"];
export type Kind = keyof Kinds;
/** An agent's choice for one kind: follow the default, or their own on or off. */
export type Choice = "default" | "on" | "off";

const KIND_TEXT: Record<Kind, { label: string; explanation: string }> = {
  new_ticket: { label: "New ticket", explanation: "A ticket opened in your department and nobody has it yet." },
  client_replied: {
    label: "Client answered",
    explanation: "A client answered your ticket, or an unassigned ticket of your department.",
  },
  assigned: { label: "Assigned to you", explanation: "Someone else assigned a ticket to you." },
  sla_at_risk: { label: "SLA target near", explanation: "An SLA target of your ticket is near." },
  sla_breached: { label: "SLA target passed", explanation: "An SLA target of your ticket passed." },
};

export const KINDS = (Object.keys(KIND_TEXT) as Kind[]).map((kind) => ({ kind, ...KIND_TEXT[kind] }));

export function onOff(enabled: boolean): "on" | "off" {
  return enabled ? "on" : "off";
}

export function choicesOf(preferences: Preferences): Record<Kind, Choice> {
  return Object.fromEntries(
    KINDS.map(({ kind }) => {
      const own = preferences.own[kind];
      return [kind, typeof own === "boolean" ? onOff(own) : "default"];
    }),
  ) as Record<Kind, Choice>;
}

export function preferences(): Promise<Preferences> {
  return call(api().GET("/notifications/preferences"));
}

/** Saves the kinds set On or Off; a kind left out follows the default. (The generated type marks
 * every kind as required because each has a default.) */
export function saveChoices(choices: Record<Kind, Choice>): Promise<Preferences> {
  const own: Partial<Record<Kind, boolean>> = {};
  for (const { kind } of KINDS) {
    if (choices[kind] !== "default") own[kind] = choices[kind] === "on";
  }
  return call(api().PUT("/notifications/preferences", { body: own as Schemas["OwnNotificationsIn"] }));
}

/** What every agent gets unless they choose otherwise (admins); answers the caller's preferences. */
export function saveDefaults(defaults: Kinds): Promise<Preferences> {
  return call(api().PUT("/notifications/defaults", { body: defaults }));
}
