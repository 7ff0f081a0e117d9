// The local stack's own routes (not part of the public API, so not in its types): the mail it
// "sent" and its clock. They answer on the gateway, beside the API.

import { ApiError, type Problem } from "../../api/client";
import type { ConsoleConfig } from "../../config";

/** One mail the local SES took, as `GET /local/outbox` lists it (oldest first). */
export interface SentMail {
  message_id: string | null;
  from: string | null;
  to: string | null;
  subject: string | null;
  in_reply_to: string | null;
  text: string;
  raw: string;
  file: string;
}

async function local<T>(config: ConsoleConfig, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${config.api_base}/local/${path}`, {
      method,
      headers: body === undefined ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError({ title: "The local stack cannot be reached", status: 0, detail: String(error) });
  }
  const answer: unknown = await response.json();
  if (!response.ok) throw new ApiError({ title: response.statusText, ...(answer as Partial<Problem>), status: response.status });
  return answer as T;
}

export function sentMail(config: ConsoleConfig): Promise<SentMail[]> {
  return local<SentMail[]>(config, "GET", "outbox");
}

/** Moves the stack's clock on (0 only reads it); answers the time it is now. */
export async function advanceClock(config: ConsoleConfig, minutes: number): Promise<string> {
  const answer = await local<{ now: string }>(config, "POST", "clock", { advance_minutes: minutes });
  return answer.now;
}

/** The Date header of a raw mail, if it has one. */
export function dateOf(raw: string): string | null {
  const headers = raw.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const found = /^Date:\s*(.+)$/im.exec(headers);
  if (!found?.[1]) return null;
  const date = new Date(found[1].trim());
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
