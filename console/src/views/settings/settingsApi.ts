import { api, call, type Agent } from "../../api/client";

/** Every agent, all pages: a team is small enough to list whole. */
export async function allAgents(): Promise<Agent[]> {
  const agents: Agent[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(api().GET("/agents", { params: { query: { limit: 60, cursor } } }));
    agents.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return agents;
}
