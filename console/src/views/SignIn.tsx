// One sign-in screen: the user pool's email and password where there is a pool (in AWS, and on
// the local stack), and locally also a dev token for any address, without a password.

import { useState } from "preact/hooks";
import { signedIn, type SignedOutReason } from "../auth/session";
import type { ConsoleConfig } from "../config";
import { Button, Field, Notice } from "../ui/components";

type Step = { kind: "password" } | { kind: "new_password"; complete: (password: string) => Promise<unknown> };

export function SignIn({ config, reason }: { config: ConsoleConfig; reason: SignedOutReason }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function attempt(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  const withPassword = (event: Event) => {
    event.preventDefault();
    const pool = config.user_pool;
    if (!pool) return;
    void attempt(async () => {
      const { signInToPool } = await import("../auth/cognito");
      const answer = await signInToPool(pool, email.trim(), password);
      if (answer.kind === "signed_in") signedIn(answer.idToken);
      else
        setStep({
          kind: "new_password",
          complete: async (chosen) => {
            const done = await answer.complete(chosen);
            if (done.kind === "signed_in") signedIn(done.idToken);
          },
        });
    });
  };

  const choosePassword = (event: Event) => {
    event.preventDefault();
    if (step.kind !== "new_password") return;
    void attempt(async () => {
      await step.complete(newPassword);
    });
  };

  return (
    <main class="sign-in" id="main">
      <h1>Helpdesk</h1>
      {reason === "expired" && (
        <Notice tone="warning">Your session ended. Sign in again: your unsent drafts are kept.</Notice>
      )}
      {reason === "signed_out" && <Notice>You signed out.</Notice>}
      {error && (
        <div class="alert alert-error" role="alert">
          {error}
        </div>
      )}
      {config.user_pool && step.kind === "password" && (
        <form onSubmit={withPassword} aria-labelledby="sign-in-title">
          <h2 id="sign-in-title">Sign in</h2>
          <Field label="Email">
            <input type="email" autoComplete="username" required value={email}
              onInput={(e) => setEmail(e.currentTarget.value)} />
          </Field>
          <Field label="Password">
            <input type="password" autoComplete="current-password" required value={password}
              onInput={(e) => setPassword(e.currentTarget.value)} />
          </Field>
          <Button type="submit" tone="primary" busy={busy}>Sign in</Button>
        </form>
      )}
      {step.kind === "new_password" && (
        <form onSubmit={choosePassword} aria-labelledby="new-password-title">
          <h2 id="new-password-title">Choose your password</h2>
          <p>This is your first sign-in: choose the password you will use from now on.</p>
          <Field label="New password">
            <input type="password" autoComplete="new-password" required minLength={8} value={newPassword}
              onInput={(e) => setNewPassword(e.currentTarget.value)} />
          </Field>
          <Button type="submit" tone="primary" busy={busy}>Set password and sign in</Button>
        </form>
      )}
      {config.dev_tokens && step.kind === "password" && <DevTokenForm busy={busy} attempt={attempt} />}
    </main>
  );
}

function DevTokenForm({ busy, attempt }: { busy: boolean; attempt: (work: () => Promise<void>) => Promise<void> }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<"agent" | "admin">("agent");
  const submit = (event: Event) => {
    event.preventDefault();
    void attempt(async () => {
      const response = await fetch("local/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: email.trim(), role }),
      });
      const body = (await response.json()) as { token?: string; detail?: string };
      if (!response.ok || !body.token) throw new Error(body.detail ?? "No token was issued.");
      signedIn(body.token);
    });
  };
  return (
    <form onSubmit={submit} aria-labelledby="dev-token-title" class="dev-token">
      <h2 id="dev-token-title">Local stack: sign in with a dev token</h2>
      <p class="muted">Any address, no password. Only the local stack offers this.</p>
      <Field label="Email for the dev token">
        <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      <Field label="Role">
        <select value={role} onChange={(e) => setRole(e.currentTarget.value as "agent" | "admin")}>
          <option value="agent">Agent</option>
          <option value="admin">Admin</option>
        </select>
      </Field>
      <Button type="submit" busy={busy}>Sign in with a dev token</Button>
    </form>
  );
}
