import { hoppingWindow } from './hopping-window';
import { sessionWindow } from './session-window';
import { slidingWindow } from './sliding-window';
import { tumblingWindow } from './tumbling-window';

export type { TumblingWindowOptions } from './tumbling-window';
export type { HoppingWindowOptions } from './hopping-window';
export type { SlidingWindowOptions } from './sliding-window';
export type { SessionWindowOptions } from './session-window';
export type { WindowResult } from './engine';
export { LateEventError } from './operator';
export { eventTimePlugin } from './plugin';

/**
 * The event-time window factories: `eventtime.tumblingWindow()`, `eventtime.hoppingWindow()`,
 * `eventtime.slidingWindow()`, `eventtime.sessionWindow()`.
 *
 * @example
 * ```ts
 * net.add('per_minute', eventtime.tumblingWindow({ size: '1m', key: 'customer', timeField: 'placed_at' }));
 * ```
 */
export const eventtime = { tumblingWindow, hoppingWindow, slidingWindow, sessionWindow };
