import type { QueuedMessage } from '../campaigns/batch-leases.repository.js';
import type { MessageOutcome } from '../campaigns/campaign-batches.repository.js';
import { MessageTemplate } from '../recipients/message-template.js';
import type { OutgoingSms } from './sms-sender.js';

/**
 * Turns a batch's queued messages into the SMS to send, or into an outcome without a call (suppressed →
 * skipped, missing variable → failed). A campaign's text is parsed once, not per batch: templates are kept
 * per campaign until it ends (`forget`), and re-parsed if its text changed.
 */
export class MessageRenderer {
  private readonly templates = new Map<string, MessageTemplate>();

  /** Suppressed numbers and texts with a missing variable get their outcome without a call. */
  render(campaignId: string, text: string, queued: QueuedMessage[]): { outgoing: OutgoingSms[]; settled: MessageOutcome[] } {
    const template = this.template(campaignId, text);
    const outgoing: OutgoingSms[] = [];
    const settled: MessageOutcome[] = [];
    for (const m of queued) {
      if (m.suppressed) {
        settled.push({ seq: m.seq, status: 'skipped', errorCode: 'SUPPRESSED' });
        continue;
      }
      const rendered = template.render(m.variables);
      if ('missing' in rendered) settled.push({ seq: m.seq, status: 'failed', errorCode: 'MISSING_VARIABLE', errorMessage: rendered.missing.join(', ') });
      else outgoing.push({ id: m.id, seq: m.seq, phone: m.phone, text: rendered.text });
    }
    return { outgoing, settled };
  }

  /** The campaign ended: its template is not needed again. */
  forget(campaignId: string): void {
    this.templates.delete(campaignId);
  }

  private template(campaignId: string, text: string): MessageTemplate {
    let t = this.templates.get(campaignId);
    if (!t || t.source !== text) {
      t = MessageTemplate.parse(text);
      this.templates.set(campaignId, t);
    }
    return t;
  }
}
