import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function QueueView(_: ViewProps) {
  return <PageHeader title="QueueView" />;
}
