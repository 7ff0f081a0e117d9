// The mails about tickets every agent gets unless they chose otherwise on their Notifications page.

import { useState } from "preact/hooks";
import { href } from "../../router";
import { Button, Loading, ProblemAlert, SavedStatus, fieldProblem } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { KINDS, preferences, saveDefaults, type Kinds } from "../notifications/notificationsApi";

export function NotificationsSection() {
  const loaded = useLoad(preferences, []);
  if (loaded.error) return <ProblemAlert error={loaded.error} />;
  if (!loaded.data) return <Loading what="Loading the defaults" />;
  return <DefaultsForm defaults={loaded.data.defaults} />;
}

function DefaultsForm(props: { defaults: Kinds }) {
  const [defaults, setDefaults] = useState(props.defaults);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    await saveDefaults(defaults);
    setSaved(true);
  });
  return (
    <form
      class="settings-section"
      aria-labelledby="notification-defaults-title"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h2 id="notification-defaults-title">Mails agents get by default</h2>
      <p>
        These apply to every agent for each kind they have not turned on or off on their own{" "}
        <a href={href("notifications")}>notifications page</a>.
      </p>
      {KINDS.map(({ kind, label, explanation }) => (
        <div key={kind} class="settings-card notification-default">
          <label class="check">
            <input
              type="checkbox"
              role="switch"
              checked={defaults[kind]}
              aria-describedby={`default-${kind}-about`}
              onChange={(e) => {
                setDefaults({ ...defaults, [kind]: e.currentTarget.checked });
                setSaved(false);
              }}
            />
            {label}
          </label>
          <p id={`default-${kind}-about`} class="field-hint">
            {explanation}
          </p>
          {fieldProblem(save.error, kind) && <p class="field-error">{fieldProblem(save.error, kind)}</p>}
        </div>
      ))}
      <ProblemAlert error={save.error} />
      <div class="actions">
        <SavedStatus saved={saved} />
        <Button type="submit" tone="primary" busy={save.busy}>
          Save defaults
        </Button>
      </div>
    </form>
  );
}
