import type { BatchLeasesRepository, LeaseRef, MarkResult } from '../campaigns/batch-leases.repository.js';
import type { SendMode } from '../campaigns/campaign-batch.entity.js';

/**
 * A held batch lease: renewed in the background while its holder works (a long Mitto call, a wait for
 * a permit, result writes retried through a database blip), and checked right before every Mitto call
 * by the write-ahead marker. Once the lease is known lost, the holder makes no further call.
 */
export class BatchLease {
  private readonly timer: NodeJS.Timeout;
  private lost = false;

  constructor(
    private readonly leases: BatchLeasesRepository,
    readonly ref: LeaseRef,
    private readonly leaseMs: number,
    /** The flow this lease sends in (recorded on the batch with every marker). */
    private readonly mode: SendMode,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  /** Marker + last check before a call of the messages with seq in [fromSeq, toSeq). */
  async markInFlight(fromSeq: number, toSeq: number): Promise<MarkResult> {
    if (this.lost) return { kind: 'lost' };
    const result = await this.leases.markInFlight(this.ref, fromSeq, toSeq, this.leaseMs, this.mode);
    if (result.kind === 'lost') this.lost = true;
    return result;
  }

  get isLost(): boolean {
    return this.lost;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    try {
      if (!(await this.leases.renew(this.ref, this.leaseMs))) this.lost = true;
    } catch {
      // The database is unreachable: the lease may run out meanwhile; the next marker write decides.
    }
  }
}
