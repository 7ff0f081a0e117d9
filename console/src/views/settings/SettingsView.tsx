// Settings, for admins: one section at a time, chosen in the sub-navigation (#/settings/<section>).

import type { ComponentType } from "preact";
import type { ViewProps } from "../../app";
import { href } from "../../router";
import { Notice, PageHeader } from "../../ui/components";
import { AgentsSection } from "./AgentsSection";
import { ChannelsSection } from "./ChannelsSection";
import { CrmSection } from "./CrmSection";
import { DepartmentsSection } from "./DepartmentsSection";
import { MailSection } from "./MailSection";
import { NotificationsSection } from "./NotificationsSection";
import { SlaSection } from "./SlaSection";
import "./settings.css";

const SECTIONS: { id: string; label: string; view: ComponentType }[] = [
  { id: "departments", label: "Departments and members", view: DepartmentsSection },
  { id: "channels", label: "Channels", view: ChannelsSection },
  { id: "sla", label: "SLA", view: SlaSection },
  { id: "mail", label: "Quarantine and held mail", view: MailSection },
  { id: "notifications", label: "Notifications", view: NotificationsSection },
  { id: "crm", label: "CRM", view: CrmSection },
  { id: "agents", label: "Agents", view: AgentsSection },
];

export function SettingsView({ session, route }: ViewProps) {
  if (!session.admin) {
    return (
      <section>
        <PageHeader title="Settings" />
        <Notice tone="warning">Only admins can change settings.</Notice>
      </section>
    );
  }
  const section = SECTIONS.find((candidate) => candidate.id === route.parts[1]) ?? SECTIONS[0]!;
  const Section = section.view;
  return (
    <section>
      <PageHeader title={`Settings: ${section.label}`} />
      <nav class="settings-nav" aria-label="Settings">
        <ul>
          {SECTIONS.map((candidate) => (
            <li key={candidate.id}>
              <a href={href("settings", candidate.id)} aria-current={candidate === section ? "page" : undefined}>
                {candidate.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <Section />
    </section>
  );
}
