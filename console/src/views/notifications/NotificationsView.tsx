// Which mails about tickets this agent gets, kind by kind; the mails themselves link here.

import { useState } from "preact/hooks";
import { Button, Loading, PageHeader, ProblemAlert, SavedStatus, fieldProblem, humanize } from "../../ui/components";
import { useAction, useLoad } from "../../ui/hooks";
import { KINDS, choicesOf, onOff, preferences, saveChoices, type Choice, type Kind, type Preferences } from "./notificationsApi";
import "./notifications.css";

const CHOICES: Choice[] = ["default", "on", "off"];

export function NotificationsView() {
  const loaded = useLoad(preferences, []);
  return (
    <section>
      <PageHeader title="Notifications" />
      <p>
        Answering a notification mail adds your answer to the ticket as an internal note, or replies to the client when
        its first line is <code>#public</code>.
      </p>
      <ProblemAlert error={loaded.error} />
      {loaded.data ? <PreferencesForm preferences={loaded.data} /> : !loaded.error && <Loading what="Loading your notifications" />}
    </section>
  );
}

function PreferencesForm(props: { preferences: Preferences }) {
  // What the API last said, so "Default (on)" and what the agent gets follow each save.
  const [shown, setShown] = useState(props.preferences);
  const [choices, setChoices] = useState(() => choicesOf(props.preferences));
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setShown(await saveChoices(choices));
    setSaved(true);
  });
  const choose = (kind: Kind, choice: Choice) => {
    setChoices({ ...choices, [kind]: choice });
    setSaved(false);
  };
  return (
    <form
      aria-labelledby="notifications-form-title"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h2 id="notifications-form-title">Mails to {shown.email}</h2>
      {KINDS.map(({ kind, label, explanation }) => (
        <fieldset key={kind} class="notification-kind" aria-describedby={`notify-${kind}-about notify-${kind}-now`}>
          <legend>{label}</legend>
          <p id={`notify-${kind}-about`} class="field-hint">
            {explanation}
          </p>
          <div class="notification-choices">
            {CHOICES.map((choice) => (
              <label key={choice} class="notification-choice">
                <input
                  type="radio"
                  name={`notify-${kind}`}
                  checked={choices[kind] === choice}
                  onChange={() => choose(kind, choice)}
                />
                {choice === "default" ? `Default (${onOff(shown.defaults[kind])})` : humanize(choice)}
              </label>
            ))}
          </div>
          <p id={`notify-${kind}-now`} class="notification-now">
            {shown.enabled[kind] ? "You get these mails." : "You do not get these mails."}
          </p>
          {fieldProblem(save.error, kind) && <p class="field-error">{fieldProblem(save.error, kind)}</p>}
        </fieldset>
      ))}
      <ProblemAlert error={save.error} />
      <div class="actions">
        <SavedStatus saved={saved} />
        <Button type="submit" tone="primary" busy={save.busy}>
          Save
        </Button>
      </div>
    </form>
  );
}
