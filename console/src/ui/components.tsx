// The console's small set of building blocks. Every control has a visible label; state is said in
// words as well as colour; dialogs are native <dialog> (focus stays inside, Escape closes).

import type { ButtonHTMLAttributes, ComponentChildren, JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ApiError, SlaState, Status, Priority } from "../api/client";
import { CheckIcon, StopIcon, WarningIcon } from "./icons";

export function ProblemAlert({ error }: { error: ApiError | null | undefined }) {
  if (!error) return null;
  const { problem } = error;
  return (
    <div class="alert alert-error" role="alert">
      <strong>{problem.title}</strong>
      {problem.detail && problem.detail !== problem.title && <p>{problem.detail}</p>}
      {problem.errors && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Notice({ children, tone = "info" }: { children: ComponentChildren; tone?: "info" | "warning" | "success" }) {
  return (
    <div class={`alert alert-${tone}`} role="status">
      {children}
    </div>
  );
}

/** "Saved" once a form is saved. The region stays in the page, empty until then, so that screen
 * readers announce the word when it appears. */
export function SavedStatus({ saved }: { saved: boolean }) {
  return (
    <span class="saved-status" role="status" aria-live="polite">
      {saved ? "Saved" : ""}
    </span>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

type FieldProps = { label: string; hint?: string; children: ComponentChildren; inline?: boolean; error?: string };

/** A label around its control: the label names it for screen readers and clicks focus it.
 * `error` is the API's word on this field (a 422), shown under it. */
export function Field({ label, hint, children, inline, error }: FieldProps) {
  return (
    <label class={inline ? "field field-inline" : "field"}>
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="field-hint">{hint}</span>}
      {error && <span class="field-error">{error}</span>}
    </label>
  );
}

/** What a 422 says about one field, named by its dotted path (`targets.urgent.first_response_minutes`);
 * the API may put the body's location in front of it. */
export function fieldProblem(error: ApiError | null | undefined, field: string): string | undefined {
  const found = error?.problem.errors?.find((e) => e.field === field || e.field.endsWith(`.${field}`));
  return found?.message;
}

export function Select<T extends string>(
  props: {
    label: string;
    value: T;
    options: readonly (T | { value: T; label: string })[];
    onChange: (value: T) => void;
    disabled?: boolean;
    inline?: boolean;
  },
) {
  return (
    <Field label={props.label} inline={props.inline}>
      <select
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as T)}
      >
        {props.options.map((option) => {
          const { value, label } = typeof option === "string" ? { value: option, label: humanize(option) } : option;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </Field>
  );
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & { tone?: "primary" | "danger" | "plain"; busy?: boolean };

export function Button({ tone = "plain", busy, children, disabled, type, ...rest }: ButtonProps) {
  return (
    <button
      {...rest}
      type={(type as "button" | "submit" | undefined) ?? "button"}
      class={`button button-${tone}`}
      disabled={Boolean(disabled) || busy}
      aria-busy={busy ? "true" : undefined}
    >
      {children}
    </button>
  );
}

export function humanize(value: string): string {
  const text = value.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const SLA_LABELS: Record<SlaState, string> = {
  ok: "On track",
  at_risk: "At risk",
  breached: "Breached",
  met: "Met",
};
const SLA_ICONS: Record<SlaState, (() => JSX.Element) | null> = {
  ok: null,
  at_risk: WarningIcon,
  breached: StopIcon,
  met: CheckIcon,
};

/** The SLA state in words, with an icon and a colour; never colour alone. */
export function SlaBadge({ state }: { state: SlaState | null | undefined }) {
  if (!state) return null;
  const Icon = SLA_ICONS[state];
  return (
    <span class={`badge sla-${state}`} data-sla={state}>
      {Icon && <Icon />} SLA: {SLA_LABELS[state]}
    </span>
  );
}

export function StatusBadge({ status }: { status: Status }) {
  return <span class={`badge status-${status}`}>{humanize(status)}</span>;
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  return <span class={`badge priority-${priority}`}>{humanize(priority)}</span>;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  const date = new Date(value);
  return (
    <time dateTime={value} title={date.toISOString()}>
      {dateFormat.format(date)}
    </time>
  );
}

/** A modal dialog: opens when rendered, closes on Escape or Cancel, focus is kept inside. */
export function Dialog({
  title,
  children,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dialog-title" onClose={onClose}>
      <h2 id="dialog-title">{title}</h2>
      {children}
    </dialog>
  );
}

/** A question before something that cannot be undone. */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
  error,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  error?: ApiError | null;
}) {
  return (
    <Dialog title={title} onClose={onCancel}>
      {children}
      <ProblemAlert error={error} />
      <div class="actions">
        <Button onClick={onCancel}>Cancel</Button>
        <Button tone="danger" busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children && <div class="page-actions">{children}</div>}
    </header>
  );
}

/** The next page of a list the API pages by cursor, when there is one. */
export function LoadMore({ more, loading }: { more: (() => Promise<void>) | null; loading: boolean }) {
  if (!more) return null;
  return (
    <div class="actions">
      <Button busy={loading} onClick={() => void more()}>
        Show more
      </Button>
    </div>
  );
}
