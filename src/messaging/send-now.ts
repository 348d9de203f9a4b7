import type { BatchContext, QueuedMessage } from '../campaigns/batch-leases.repository.js';
import { isOpen, nextOpening } from '../guard-rails/send-window.js';
import { zoneOfRecipient } from '../guard-rails/recipient-zone.js';

export interface SendNow {
  /** May go out now. */
  now: QueuedMessage[];
  /** Waiting for their send window: the earliest instant one of them may go (null: none waits for one). */
  nextOpening: Date | null;
  /** Some wait behind a canary still pending (no time: the canary's verdict lets them go). */
  heldByCanary: boolean;
}

/** When `m`'s send window opens next, in its recipient's zone; null while it is open at `at`. */
function waitsUntil(m: Pick<QueuedMessage, 'phone' | 'variables'>, window: NonNullable<BatchContext['send_window']>, at: Date, defaultZone: string): number | null {
  const zone = zoneOfRecipient(m.phone, m.variables, defaultZone);
  return isOpen(window, zone, at) ? null : nextOpening(window, zone, at).getTime();
}

/**
 * Which of a batch's queued messages may be handed to Mitto at `at`: not behind a pending canary (the
 * messages from its boundary on), and inside their send window in the recipient's zone. The rest stay
 * queued; the batch is released until the earliest window opening (docs/ARCHITECTURE.md, "Guard rails").
 */
export function sendNow(messages: QueuedMessage[], ctx: Pick<BatchContext, 'send_window' | 'canary_state' | 'canary_until_seq'>, at: Date, defaultZone: string): SendNow {
  const window = ctx.send_window;
  const boundary = ctx.canary_state === 'pending' ? ctx.canary_until_seq : null;
  if (!window && boundary === null) return { now: messages, nextOpening: null, heldByCanary: false };
  const now: QueuedMessage[] = [];
  let next: number | null = null;
  let heldByCanary = false;
  for (const m of messages) {
    if (boundary !== null && m.seq >= boundary) {
      heldByCanary = true;
      continue;
    }
    const opens = window ? waitsUntil(m, window, at, defaultZone) : null;
    if (opens === null) now.push(m);
    else if (next === null || opens < next) next = opens;
  }
  return { now, nextOpening: next === null ? null : new Date(next), heldByCanary };
}

/** For a call about to go out (single flow, later in a batch): when its window opens again, if it closed meanwhile. */
export function closedWindow(messages: readonly Pick<QueuedMessage, 'phone' | 'variables'>[], ctx: Pick<BatchContext, 'send_window'>, at: Date, defaultZone: string): Date | null {
  const window = ctx.send_window;
  if (!window) return null;
  let next: number | null = null;
  for (const m of messages) {
    const opens = waitsUntil(m, window, at, defaultZone);
    if (opens !== null && (next === null || opens < next)) next = opens;
  }
  return next === null ? null : new Date(next);
}
