// The local stack's clock: SLA targets, warnings and breaches happen without waiting for them.

import { useState } from "preact/hooks";
import type { ViewProps } from "../../app";
import { Button, Field, Loading, PageHeader, ProblemAlert, fieldProblem } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { advanceClock } from "./localApi";
import "./local.css";

const STEPS = [
  { label: "+15 min", minutes: 15 },
  { label: "+1 h", minutes: 60 },
  { label: "+1 day", minutes: 24 * 60 },
];

const clockFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

export function ClockView({ config }: ViewProps) {
  const read = useLoad(() => advanceClock(config, 0), [config]);
  const [now, setNow] = useState<string>();
  const [minutes, setMinutes] = useState("30");
  const move = useAction(async (by: number) => setNow(await advanceClock(config, by)));
  const shown = now ?? read.data;

  return (
    <section>
      <PageHeader title="Clock (local)" />
      <p class="muted">
        Every service of the local stack reads this clock. Moving it on lets the SLA sweep find targets that came due.
        It only goes forward.
      </p>
      <ProblemAlert error={read.error} />
      <div class="card clock-card">
        <h2>The stack's time</h2>
        <p class="clock-now" aria-live="polite">
          {shown ? <time dateTime={shown}>{clockFormat.format(new Date(shown))}</time> : <Loading what="Reading the clock" />}
        </p>
        <div class="clock-steps" role="group" aria-label="Move the clock on">
          {STEPS.map((step) => (
            <Button key={step.minutes} busy={move.busy} onClick={() => void move.run(step.minutes)}>
              {step.label}
            </Button>
          ))}
        </div>
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void move.run(Number(minutes));
          }}
        >
          <Field label="Minutes to move on" inline error={fieldProblem(move.error, "advance_minutes")}>
            <input type="number" min={0} step={1} required value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />
          </Field>
          <Button type="submit" tone="primary" busy={move.busy}>
            Move the clock
          </Button>
        </form>
        <ProblemAlert error={move.error} />
      </div>
    </section>
  );
}
