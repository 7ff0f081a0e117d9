import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function ContactView({ contactId }: ViewProps & { contactId: string }) {
  return <PageHeader title={contactId} />;
}
