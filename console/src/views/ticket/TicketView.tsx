import type { ViewProps } from "../../app";
import { PageHeader } from "../../ui/components";

export function TicketView({ ticketId }: ViewProps & { ticketId: string }) {
  return <PageHeader title={ticketId} />;
}
