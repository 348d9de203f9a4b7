/**
 * UTC offsets of IANA zones, cached as segments of constant offset between two transitions.
 *
 * The sending core asks "is this message's window open?" once per message, tens of thousands of
 * times a second, for a handful of zones. The zone rules come from the Temporal polyfill (offsets and
 * `getTimeZoneTransition`, i.e. the runtime's ICU copy of the IANA database); what is cached is the
 * answer: for each zone the segments [previous transition, next transition) with their offset. Inside
 * a segment the local wall clock is simply `instant + offset`, so after the first call a lookup is a
 * range check on the zone's last segment (or a binary search), with no date library call at all.
 */
import { Temporal } from 'temporal-polyfill';

/** Instants [start, end) in epoch milliseconds during which `zone` is `offsetMs` ahead of UTC. */
export interface OffsetSegment {
  readonly start: number;
  readonly end: number;
  readonly offsetMs: number;
}

/** Far more than the transitions of any zone over decades; guards against unbounded growth only. */
const MAX_SEGMENTS_PER_ZONE = 1_000;
/** About 600 IANA names exist; more entries mean callers pass unnormalised spellings. */
const MAX_ZONES = 2_000;

class ZoneTimeline {
  /** Disjoint, sorted by start. */
  private segments: OffsetSegment[] = [];
  private last: OffsetSegment | undefined;

  constructor(private readonly zone: string) {}

  at(ms: number): OffsetSegment {
    const last = this.last;
    if (last !== undefined && ms >= last.start && ms < last.end) return last;
    const segment = this.find(ms) ?? this.compute(ms);
    this.last = segment;
    return segment;
  }

  private find(ms: number): OffsetSegment | undefined {
    const index = this.lastStartingBy(ms);
    const segment = index >= 0 ? this.segments[index] : undefined;
    return segment !== undefined && ms < segment.end ? segment : undefined;
  }

  /** Index of the last segment whose start is <= ms (-1 if none). */
  private lastStartingBy(ms: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid].start <= ms) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private compute(ms: number): OffsetSegment {
    const ns = BigInt(ms) * 1_000_000n;
    const here = new Temporal.ZonedDateTime(ns, this.zone);
    const next = here.getTimeZoneTransition('next');
    // 'previous' looks strictly before its receiver: asked from 1 ns later it also finds a transition at `ms`.
    const previous = new Temporal.ZonedDateTime(ns + 1n, this.zone).getTimeZoneTransition('previous');
    const segment: OffsetSegment = {
      start: previous === null ? -Infinity : previous.epochMilliseconds,
      end: next === null ? Infinity : next.epochMilliseconds,
      offsetMs: here.offsetNanoseconds / 1_000_000,
    };
    if (this.segments.length >= MAX_SEGMENTS_PER_ZONE) this.segments = [];
    this.segments.splice(this.lastStartingBy(segment.start) + 1, 0, segment);
    return segment;
  }
}

const timelines = new Map<string, ZoneTimeline>();

/**
 * The offset segment of `zone` containing the instant `ms` (epoch milliseconds). `zone` must be a
 * valid IANA name (see time-zone.ts); an unknown one throws a RangeError.
 */
export function offsetSegmentAt(zone: string, ms: number): OffsetSegment {
  if (!Number.isInteger(ms)) throw new RangeError(`Invalid instant: ${ms}`);
  let timeline = timelines.get(zone);
  if (timeline === undefined) {
    timeline = new ZoneTimeline(zone);
    const probe = timeline.at(ms); // throws for an unknown zone before it is cached
    if (timelines.size >= MAX_ZONES) timelines.clear();
    timelines.set(zone, timeline);
    return probe;
  }
  return timeline.at(ms);
}
