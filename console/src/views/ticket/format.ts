// How the ticket view writes sizes and people.

import type { Message } from "../../api/client";

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function authorName(author: Message["author"]): string {
  if (author.type === "system") return "Helpdesk";
  return author.name ? `${author.name} <${author.email ?? ""}>` : author.email ?? "Unknown";
}
