// The signed-in agent: an ID token (the user pool's, or a local dev token) and what it says.
// Kept in localStorage so a reload stays signed in; it ends when the token expires or the API
// answers 401, and the sign-in screen then says why. Drafts are kept apart (drafts.ts).

import { createStore } from "../store";

export interface Session {
  token: string;
  email: string;
  admin: boolean;
  expiresAt: number; // ms since the epoch
}

export type SignedOutReason = "signed_out" | "expired" | null;

const KEY = "helpdesk.session";
const ADMIN_GROUP = "admin";

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionOf(token: string): Session {
  const claims = claimsOf(token);
  const groups = (claims["cognito:groups"] as string[] | undefined) ?? [];
  return {
    token,
    email: String(claims.email ?? ""),
    admin: groups.includes(ADMIN_GROUP),
    expiresAt: Number(claims.exp ?? 0) * 1000,
  };
}

function stored(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    const session = raw ? (JSON.parse(raw) as Session) : null;
    return session && session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export const auth = createStore<{ session: Session | null; reason: SignedOutReason }>({
  session: stored(),
  reason: null,
});

export function signedIn(token: string): void {
  const session = sessionOf(token);
  localStorage.setItem(KEY, JSON.stringify(session));
  auth.set({ session, reason: null });
}

export function signOut(reason: SignedOutReason = "signed_out"): void {
  localStorage.removeItem(KEY);
  auth.set({ session: null, reason });
}

export function currentToken(): string | null {
  const { session } = auth.get();
  if (session && session.expiresAt <= Date.now()) {
    signOut("expired");
    return null;
  }
  return session?.token ?? null;
}
