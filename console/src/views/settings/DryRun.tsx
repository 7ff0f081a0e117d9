// What would this mail do? The same decision code as real mail, and nothing is written.

import { useState } from "preact/hooks";
import { api, call, type Schemas } from "../../api/client";
import { Button, Field, ProblemAlert, fieldProblem } from "../../ui/components";
import { useAction } from "../../ui/hooks";

type Simulation = Schemas["SimulationOut"];

const ACTIONS: Record<string, string> = {
  announce: "opens or continues a ticket",
  hold: "is held",
  quarantine: "is quarantined",
};

export function DryRun() {
  const [eml, setEml] = useState("");
  const [recipients, setRecipients] = useState("");
  const [result, setResult] = useState<Simulation | null>(null);
  const simulate = useAction(async () => {
    const listed = recipients.split(/[\s,;]+/).filter(Boolean);
    setResult(
      await call(api().POST("/channels/simulate", { body: { eml, recipients: listed, verdicts: {} } })),
    );
  });
  const readFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (file) setEml(await file.text());
  };
  return (
    <form
      class="settings-card"
      aria-labelledby="dry-run-title"
      onSubmit={(event) => {
        event.preventDefault();
        void simulate.run();
      }}
    >
      <h2 id="dry-run-title">Dry run</h2>
      <p class="muted">Paste a raw mail or choose an .eml file, and see what the helpdesk would do with it.</p>
      <Field label="Choose an .eml file">
        <input type="file" accept=".eml,message/rfc822,text/plain" onChange={(e) => void readFile(e.currentTarget)} />
      </Field>
      <Field label="Raw mail" error={fieldProblem(simulate.error, "eml")}>
        <textarea rows={8} class="mono" value={eml} onInput={(e) => setEml(e.currentTarget.value)} />
      </Field>
      <Field label="Recipients" hint="The envelope's addresses, separated by commas; empty: its To and Cc." error={fieldProblem(simulate.error, "recipients")}>
        <input type="text" value={recipients} onInput={(e) => setRecipients(e.currentTarget.value)} />
      </Field>
      <ProblemAlert error={simulate.error} />
      <div class="actions">
        <Button type="submit" tone="primary" busy={simulate.busy}>
          Run the dry run
        </Button>
      </div>
      {result && <Decision result={result} />}
    </form>
  );
}

function Decision({ result }: { result: Simulation }) {
  return (
    <section aria-labelledby="decision-title" aria-live="polite">
      <h3 id="decision-title">
        Decision for “{result.subject || "no subject"}” from {result.sender}
      </h3>
      <p>Threading: {result.thread}</p>
      {result.possible_follow_up_of && <p>It names ticket {result.possible_follow_up_of}, so it opens a possible follow-up of it.</p>}
      {result.automated && <p>A machine wrote it ({result.automated}): it is never answered.</p>}
      {result.outcomes.map((outcome, index) => (
        <p key={index} class="decision">
          It <strong>{ACTIONS[outcome.action] ?? outcome.action}</strong>
          {outcome.department_id ? ` in ${outcome.department_id}` : " without a department"}
          {outcome.ticket_id && `, continuing ticket ${outcome.ticket_id}`}: {outcome.reason}.{" "}
          {outcome.acknowledge ? "It would be acknowledged." : "No acknowledgement."}
        </p>
      ))}
      {result.defects.length > 0 && <p>Defects in the mail: {result.defects.join("; ")}</p>}
    </section>
  );
}
