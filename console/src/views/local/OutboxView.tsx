import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function OutboxView(_: ViewProps) {
  return <PageHeader title="OutboxView" />;
}
