// A write refused because someone changed the ticket since this view read it (412): said plainly,
// with a way to catch up. Any other problem shows as it is.

import type { ApiError } from "../../api/client";
import { Button, ProblemAlert } from "../../ui/components";

export function WriteProblem(props: {
  error: ApiError | null;
  reload: { busy: boolean; run: () => Promise<boolean> };
  notDone: string; // what did not happen, and what the reload brings back
}) {
  if (props.error?.status !== 412) return <ProblemAlert error={props.error} />;
  return (
    <div class="alert alert-warning" role="alert">
      <strong>Someone else changed this ticket since you opened it.</strong>
      <p>{props.notDone}</p>
      <div class="actions">
        <Button tone="primary" busy={props.reload.busy} onClick={() => void props.reload.run()}>
          Reload ticket
        </Button>
      </div>
    </div>
  );
}
