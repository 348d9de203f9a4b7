import { statusesAllowing, type CampaignAction, type CampaignStatus } from './campaign-state.js';

/**
 * The state machine as SQL fragments, for the conditional `UPDATE campaigns SET status = …` statements.
 * Literals rather than parameters: the text of a prepared statement stays one constant per statement,
 * and the planner sees the values. The values are the state machine's own constants, never input.
 */
export function statusLiteral(status: CampaignStatus): string {
  if (!/^[a-z]+$/.test(status)) throw new Error(`not a campaign status: ${status}`);
  return `'${status}'`;
}

/** `column = 'a'`, or `column IN ('a', 'b')`: the statuses `action` may start from. */
export function statusAllows(column: string, action: CampaignAction): string {
  const statuses = statusesAllowing(action).map(statusLiteral);
  return statuses.length === 1 ? `${column} = ${statuses[0]}` : `${column} IN (${statuses.join(', ')})`;
}
