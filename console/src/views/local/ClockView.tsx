import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function ClockView(_: ViewProps) {
  return <PageHeader title="ClockView" />;
}
