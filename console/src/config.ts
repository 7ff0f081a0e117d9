// What the console needs to know about where it runs, read at start from `config.json` beside
// the app: written by the deployment in AWS, served by the local stack locally.

export interface UserPoolConfig {
  region: string;
  pool_id: string;
  client_id: string;
  // Where Cognito's API answers: null in AWS (the region's endpoint), the local stack's path there.
  endpoint: string | null;
  // SRP in AWS (the password never leaves the browser); the emulator checks passwords only in
  // the plain flow, so the local stack asks for that one.
  auth_flow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
}

export interface ConsoleConfig {
  api_base: string; // "" when the API is on the console's own address
  user_pool: UserPoolConfig | null;
  dev_tokens: boolean; // the local stack issues tokens without a password
  local: boolean; // the local stack's own views (sent mail, the clock)
  poll_seconds: number; // how often the queue looks for new tickets
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}
