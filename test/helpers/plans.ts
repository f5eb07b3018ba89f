import pg from "pg";
import { BATCH_SETTINGS, sessionOptions } from "../../shared/db/client.ts";

/** A node of a plan as auto_explain logs it (JSON, analyzed), with the fields tests read. */
export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Plan Rows": number;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Join Filter"?: number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, depth first. */
export const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/**
 * A session with the workers' settings whose every statement's plan, as run (auto_explain,
 * analyzed), is added to `plans`.
 */
export async function explainedSession(url: string, plans: PlanNode[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, options: sessionOptions(BATCH_SETTINGS) });
  client.on("notice", (notice) => {
    const at = notice.message?.indexOf("plan:") ?? -1;
    if (at >= 0) plans.push((JSON.parse(notice.message?.slice(at + 5) ?? "") as { Plan: PlanNode }).Plan);
  });
  await client.connect();
  await client.query("LOAD 'auto_explain'");
  for (const setting of [
    "log_min_duration = 0",
    "log_analyze = on",
    "log_timing = off",
    "log_format = json",
  ]) {
    await client.query(`SET auto_explain.${setting}`);
  }
  await client.query("SET client_min_messages = log");
  return client;
}
