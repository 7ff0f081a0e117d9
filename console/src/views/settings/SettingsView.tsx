import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function SettingsView(_: ViewProps) {
  return <PageHeader title="SettingsView" />;
}
