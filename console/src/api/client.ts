// The console's only way to the helpdesk: the public API, typed from docs/openapi.json
// (`npm run types`), so a change to the API that the console does not follow fails its build.

import createClient, { type Client } from "openapi-fetch";
import { currentToken, signOut } from "../auth/session";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Ticket = Schemas["TicketOut"];
export type Message = Schemas["MessageOut"];
export type Contact = Schemas["ContactOut"];
export type Department = Schemas["DepartmentOut"];
export type Agent = Schemas["AgentOut"];
export type Counts = Schemas["services__tickets__models__CountsOut"];
export type Status = Ticket["status"];
export type Priority = Ticket["priority"];
export type SlaState = NonNullable<Schemas["SlaOut"]["state"]>;

export const STATUSES = ["open", "in_progress", "waiting_on_client", "resolved", "closed"] as const;
export const PRIORITIES = ["low", "medium", "high", "urgent"] as const;

/** An answer of RFC 9457 problem+json: what went wrong, and for invalid input which field. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
  merged_into?: string; // a 308 `contact-merged`: the contact that stays
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
  get status(): number {
    return this.problem.status;
  }
}

let client: Client<paths> | null = null;

export function configureApi(baseUrl: string): void {
  client = createClient<paths>({ baseUrl });
  client.use({
    onRequest({ request }) {
      const token = currentToken();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
    onResponse({ response }) {
      // The token expired or was revoked: back to sign-in; drafts stay in local storage.
      if (response.status === 401) signOut("expired");
      return response;
    },
  });
}

export function api(): Client<paths> {
  if (!client) throw new Error("configureApi() first");
  return client;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The answer's body, or an `ApiError` carrying its problem. */
export async function call<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (error) {
    throw new ApiError({ title: "The helpdesk cannot be reached", status: 0, detail: String(error) });
  }
  if (answer.response.ok) return answer.data as T;
  const body = answer.error as Partial<Problem> | undefined;
  throw new ApiError({
    title: body?.title ?? answer.response.statusText ?? "Request failed",
    status: answer.response.status,
    detail: body?.detail,
    errors: body?.errors,
    type: body?.type,
    merged_into: body?.merged_into,
  });
}

/** The `If-Match` header for a write over the version that was read. */
export function ifMatch(version: number): { "If-Match": string } {
  return { "If-Match": `"${version}"` };
}

/** A fresh key per user action: a retried request creates nothing twice. */
export function idempotencyKey(): { "Idempotency-Key": string } {
  return { "Idempotency-Key": crypto.randomUUID() };
}

/** A PATCH body of only the fields that change. The generated types mark every field that has a
 * default as required, but the API changes only the fields sent (and null clears one). */
export function onlyChanged<T>(fields: Partial<T>): T {
  return fields as T;
}
