// SLA rules: the policy in force, an editor that saves a new version, and every version so far.

import { useState } from "preact/hooks";
import { api, call, type ApiError } from "../../api/client";
import { Button, DateTime, Field, Loading, Notice, ProblemAlert, fieldProblem, humanize } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { BY_URGENCY, draftOf, duration, rulesOf, WEEKDAYS, type Policy, type PolicyDraft, type Weekday } from "./slaPolicy";

export function SlaSection() {
  const policy = useLoad(() => call(api().GET("/sla/policies")), []);
  const history = useLoad(() => call(api().GET("/sla/policies/history")), []);
  const [saved, setSaved] = useState<Policy | null>(null);
  const onSaved = (version: Policy) => {
    setSaved(version);
    void policy.reload();
    void history.reload();
  };
  return (
    <div class="settings-section">
      <ProblemAlert error={policy.error} />
      {policy.data ? (
        <>
          <p>
            In force: <strong>version {policy.data.version}</strong>
            {policy.data.version === 0 ? " (the built-in default)" : <>, saved by {policy.data.changed_by} on <DateTime value={policy.data.effective_from} /></>}.
            Saving makes a new version; it applies to open tickets from then on.
          </p>
          {saved && <Notice tone="success">Saved as version {saved.version}.</Notice>}
          <PolicyEditor key={policy.data.version} policy={policy.data} onSaved={onSaved} />
        </>
      ) : (
        <Loading what="Loading the SLA policy" />
      )}
      <PolicyHistory versions={history.data?.items} error={history.error} />
    </div>
  );
}

function PolicyEditor({ policy, onSaved }: { policy: Policy; onSaved: (saved: Policy) => void }) {
  const [draft, setDraft] = useState<PolicyDraft>(() => draftOf(policy));
  const save = useAction(async () => onSaved(await call(api().PUT("/sla/policies", { body: rulesOf(draft) }))));
  const edit = (change: Partial<PolicyDraft>) => setDraft({ ...draft, ...change });
  return (
    <form
      aria-labelledby="sla-editor-title"
      // The API judges the rules and names each wrong field; the browser's own checks would hide that.
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h2 id="sla-editor-title">Targets</h2>
      <p class="muted">In minutes of the SLA clock (60 = 1 hour, 1440 = 1 day).</p>
      <div class="targets">
        {BY_URGENCY.map((priority) => (
          <fieldset key={priority}>
            <legend>{humanize(priority)}</legend>
            {(["first_response_minutes", "resolution_minutes"] as const).map((target) => {
              const value = draft.targets[priority][target];
              return (
                <Field
                  key={target}
                  label={target === "first_response_minutes" ? "First response (minutes)" : "Resolution (minutes)"}
                  hint={duration(Number(value))}
                  error={fieldProblem(save.error, `targets.${priority}.${target}`)}
                >
                  <input
                    type="number"
                    min={1}
                    step={1}
                    value={value}
                    onInput={(e) =>
                      edit({
                        targets: { ...draft.targets, [priority]: { ...draft.targets[priority], [target]: e.currentTarget.value } },
                      })
                    }
                  />
                </Field>
              );
            })}
          </fieldset>
        ))}
      </div>
      <div class="sla-options">
        <div>
          <h2>Warnings and pauses</h2>
          <fieldset>
            <legend>A target is approaching</legend>
            <div class="inline-form">
              <label class="check">
                <input type="radio" name="approaching" checked={draft.approachingBy === "percent"} onChange={() => edit({ approachingBy: "percent" })} />
                When a share of it has elapsed
              </label>
              <label class="check">
                <input
                  type="radio"
                  name="approaching"
                  checked={draft.approachingBy === "minutes_before"}
                  onChange={() => edit({ approachingBy: "minutes_before" })}
                />
                Some minutes before it is due
              </label>
            </div>
            <Field
              label={draft.approachingBy === "percent" ? "Percent elapsed" : "Minutes before due"}
              error={fieldProblem(save.error, `approaching.${draft.approachingBy}`) ?? fieldProblem(save.error, "approaching")}
            >
              <input type="number" min={1} value={draft.approachingValue} onInput={(e) => edit({ approachingValue: e.currentTarget.value })} />
            </Field>
          </fieldset>
          <label class="check">
            <input type="checkbox" checked={draft.pause} onChange={(e) => edit({ pause: e.currentTarget.checked })} />
            Pause the clocks while a ticket waits on the client
          </label>
        </div>
        <div>
          <h2>Clock</h2>
          <fieldset>
            <legend>Which minutes count</legend>
            <label class="check">
              <input type="radio" name="clock" checked={draft.clock === "calendar"} onChange={() => edit({ clock: "calendar" })} />
              Every minute (around the clock)
            </label>
            <label class="check">
              <input type="radio" name="clock" checked={draft.clock === "business_hours"} onChange={() => edit({ clock: "business_hours" })} />
              Business hours only
            </label>
          </fieldset>
        </div>
      </div>
      {draft.clock === "business_hours" && <BusinessHoursEditor draft={draft} edit={edit} error={save.error} />}
      <ProblemAlert error={save.error} />
      <div class="actions">
        <Button onClick={() => setDraft(draftOf(policy))}>Discard changes</Button>
        <Button type="submit" tone="primary" busy={save.busy}>
          Save as a new version
        </Button>
      </div>
    </form>
  );
}

function BusinessHoursEditor(props: { draft: PolicyDraft; edit: (change: Partial<PolicyDraft>) => void; error: ApiError | null }) {
  const { draft, edit, error } = props;
  const day = (id: Weekday, change: Partial<PolicyDraft["weekly"][Weekday]>) =>
    edit({ weekly: { ...draft.weekly, [id]: { ...draft.weekly[id], ...change } } });
  return (
    <fieldset>
      <legend>Business hours</legend>
      <Field label="Time zone" hint="As in the IANA list, such as Europe/Berlin." error={fieldProblem(error, "business_hours.time_zone")}>
        <input type="text" value={draft.timeZone} onInput={(e) => edit({ timeZone: e.currentTarget.value })} />
      </Field>
      {WEEKDAYS.map(({ id, label }) => (
        <div class="weekday" key={id}>
          <label class="check">
            <input type="checkbox" checked={draft.weekly[id].open} onChange={(e) => day(id, { open: e.currentTarget.checked })} />
            {label}
          </label>
          <Field label={`${label} opens`} inline error={fieldProblem(error, `business_hours.weekly.${id}`)}>
            <input type="time" disabled={!draft.weekly[id].open} value={draft.weekly[id].start} onInput={(e) => day(id, { start: e.currentTarget.value })} />
          </Field>
          <Field label={`${label} closes`} inline>
            <input type="time" disabled={!draft.weekly[id].open} value={draft.weekly[id].end} onInput={(e) => day(id, { end: e.currentTarget.value })} />
          </Field>
        </div>
      ))}
      <Field label="Holidays" hint="Dates such as 2026-12-25, one a line." error={fieldProblem(error, "business_hours.holidays")}>
        <textarea rows={3} value={draft.holidays} onInput={(e) => edit({ holidays: e.currentTarget.value })} />
      </Field>
    </fieldset>
  );
}

function PolicyHistory({ versions, error }: { versions: Policy[] | undefined; error: ApiError | null }) {
  return (
    <section aria-labelledby="sla-history-title">
      <h2 id="sla-history-title">History</h2>
      <p class="muted">Every version, newest first; targets as first response / resolution.</p>
      <ProblemAlert error={error} />
      {!versions ? (
        <Loading what="Loading the versions" />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">From</th>
              <th scope="col">Saved by</th>
              {BY_URGENCY.map((priority) => (
                <th scope="col" key={priority}>
                  {humanize(priority)}
                </th>
              ))}
              <th scope="col">Clock</th>
            </tr>
          </thead>
          <tbody>
            {[...versions].reverse().map((version) => (
              <tr key={version.version}>
                <th scope="row">Version {version.version}</th>
                <td>
                  <DateTime value={version.effective_from} />
                </td>
                <td>{version.changed_by}</td>
                {BY_URGENCY.map((priority) => (
                  <td key={priority}>
                    {duration(version.targets[priority].first_response_minutes)} / {duration(version.targets[priority].resolution_minutes)}
                  </td>
                ))}
                <td>{version.clock === "calendar" ? "Around the clock" : `Business hours (${version.business_hours?.time_zone ?? ""})`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
