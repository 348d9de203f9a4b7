// Fault injection of the Mitto sandbox. Faults model what docs/mitto-api.md says a client must survive:
// 5xx, 429 with Retry-After, 503, and the ambiguous "accepted but the answer was lost" outcome.
import type { SandboxFaults } from './sandbox-types.js';

/** What happens to one send request (bulk or single). */
export type FaultDecision = 'none' | 'error500' | 'error429' | 'error503' | 'acceptThenDrop';

export class FaultPlan {
  private readonly rejected: Set<string>;
  private readonly anyRequestFault: boolean;

  constructor(
    private readonly faults: SandboxFaults,
    private readonly random: () => number,
  ) {
    this.rejected = new Set(faults.rejectDestinations);
    this.anyRequestFault =
      faults.error500Ratio + faults.error429Ratio + faults.error503Ratio + faults.acceptThenDropRatio > 0;
  }

  get retryAfterSeconds(): number {
    return this.faults.retryAfterSeconds;
  }

  /**
   * One random draw per request, mapped onto consecutive ranges, so each ratio is exactly the probability of
   * its outcome (ratios summing to more than 1 starve the later ones). No draw at all when no fault is set,
   * which keeps seeded runs reproducible when faults are toggled.
   * Assumption: a 500/429/503 means nothing was accepted (the real provider could fail after accepting; that
   * case is modelled by acceptThenDrop only).
   */
  draw(): FaultDecision {
    if (!this.anyRequestFault) return 'none';
    const f = this.faults;
    const r = this.random();
    let bound = f.error500Ratio;
    if (r < bound) return 'error500';
    if (r < (bound += f.error429Ratio)) return 'error429';
    if (r < (bound += f.error503Ratio)) return 'error503';
    return r < bound + f.acceptThenDropRatio ? 'acceptThenDrop' : 'none';
  }

  isRejectedDestination(destination: string): boolean {
    return this.rejected.size > 0 && this.rejected.has(destination);
  }
}
