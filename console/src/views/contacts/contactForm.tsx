// The fields of a contact, as typed: shared by "New contact" and "Edit". Addresses one a line
// (the first is the primary), tags separated by commas. Fields the CRM owns are read-only.

import type { ApiError, Contact, Schemas } from "../../api/client";
import { Field, fieldProblem } from "../../ui/components";

export interface ContactDraft {
  name: string;
  emails: string;
  phone: string;
  organisation: string;
  notes: string;
  tags: string;
}

type DraftField = keyof ContactDraft;

export const EMPTY_DRAFT: ContactDraft = { name: "", emails: "", phone: "", organisation: "", notes: "", tags: "" };

export function draftOf(contact: Contact): ContactDraft {
  return {
    name: contact.name ?? "",
    emails: contact.emails.join("\n"),
    phone: contact.phone ?? "",
    organisation: contact.organisation ?? "",
    notes: contact.notes ?? "",
    tags: contact.tags.join(", "),
  };
}

function listOf(text: string, separator: RegExp): string[] {
  return text.split(separator).map((item) => item.trim()).filter(Boolean);
}

/** What the API takes: lists split, empty text as null (which clears a field). */
function valuesOf(draft: ContactDraft) {
  const orNull = (text: string) => text.trim() || null;
  return {
    name: orNull(draft.name),
    emails: listOf(draft.emails, /[\s,;]+/),
    phone: orNull(draft.phone),
    organisation: orNull(draft.organisation),
    notes: draft.notes.trim() ? draft.notes : null,
    tags: listOf(draft.tags, /,/),
  };
}

export function newContactBody(draft: ContactDraft): Schemas["ContactIn"] {
  return valuesOf(draft);
}

/** Only the fields that changed: the CRM's fields are never sent unless changed (they cannot be). */
export function contactChanges(draft: ContactDraft, contact: Contact): Partial<Schemas["ContactPatchIn"]> {
  const was = draftOf(contact);
  const values = valuesOf(draft);
  const changes: Partial<Schemas["ContactPatchIn"]> = {};
  for (const field of Object.keys(was) as DraftField[]) {
    if (draft[field] !== was[field]) Object.assign(changes, { [field]: values[field] });
  }
  return changes;
}

const LABELS: Record<DraftField, string> = {
  name: "Name",
  emails: "Email addresses",
  phone: "Phone",
  organisation: "Organisation",
  notes: "Notes",
  tags: "Tags",
};
const HINTS: Partial<Record<DraftField, string>> = {
  emails: "One a line; the first is the primary address.",
  phone: "With the country code, such as +44 20 7183 8750.",
  notes: "For the team; never shown to the contact.",
  tags: "Separated by commas.",
};

export function ContactFields(props: {
  draft: ContactDraft;
  onChange: (draft: ContactDraft) => void;
  error: ApiError | null;
  readOnly?: string[];
}) {
  const control = (field: DraftField) => {
    const locked = props.readOnly?.includes(field) ?? false;
    const common = {
      value: props.draft[field],
      readOnly: locked,
      "aria-invalid": fieldProblem(props.error, field) ? ("true" as const) : undefined,
      onInput: (e: Event) =>
        props.onChange({ ...props.draft, [field]: (e.currentTarget as HTMLInputElement).value }),
    };
    return (
      <Field
        key={field}
        label={LABELS[field]}
        hint={locked ? "Managed in the CRM" : HINTS[field]}
        error={fieldProblem(props.error, field)}
      >
        {field === "emails" || field === "notes" ? (
          <textarea rows={field === "emails" ? 3 : 5} class={field === "emails" ? "short" : undefined} {...common} />
        ) : field === "phone" ? (
          <input type="tel" {...common} />
        ) : (
          <input type="text" {...common} />
        )}
      </Field>
    );
  };
  return <>{(Object.keys(LABELS) as DraftField[]).map(control)}</>;
}
