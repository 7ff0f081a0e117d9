import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function ContactsView(_: ViewProps) {
  return <PageHeader title="ContactsView" />;
}
