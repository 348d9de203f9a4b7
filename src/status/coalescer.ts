/**
 * Runs `task` after `trigger()`, at most once per `minIntervalMs` and never twice at once; triggers
 * that arrive meanwhile collapse into one more run. Used by the SSE stream to re-read a campaign at
 * most every 250 ms however many announcements arrive.
 */
export class Coalescer {
  private running = false;
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private lastStart = -Infinity;
  private stopped = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  trigger(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running || this.timer) return;
    const wait = this.lastStart + this.minIntervalMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.start();
      }, wait);
    } else {
      this.start();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (this.stopped || !this.dirty) return;
    this.dirty = false;
    this.running = true;
    this.lastStart = this.now();
    this.task()
      .catch(() => undefined)
      .finally(() => {
        this.running = false;
        if (this.dirty) this.trigger();
      });
  }
}
