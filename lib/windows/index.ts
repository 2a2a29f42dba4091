import type { NodeKind } from '../nodes/registry';
import { window } from './window';
import { queryWindow } from './query-window';
import { timeWindow } from './time-window';
import { countWindow } from './count-window';
import { filter } from './filter';
import { aggregateWindow } from './aggregate-window';

export { WINDOW_SERVICE } from './common';
export { openWindowStore, dataSourceOptionsFromUrl, WindowStore, SerialQueue, type WindowStoreOptions } from './store';
export type { TableDeclaration, ColumnDeclaration, ColumnType, WindowTable } from './tables';
export { bindNamed, normalizeRow, toUnit, type TimeUnit, type Dialect, type SqlParams } from './sql';

export type { WindowOptions } from './window';
export type { QueryWindowOptions } from './query-window';
export type { TimeWindowOptions } from './time-window';
export type { CountWindowOptions } from './count-window';
export type { FilterOptions } from './filter';
export type { AggregateWindowOptions } from './aggregate-window';
export { parseRowExpression, parseMeasure, evaluate, RowScope, type Expr, type Aggregate } from './expression';
export type { ClearOptions } from './clear';

/**
 * The window node factories: `windows.window()`, `windows.queryWindow()`,
 * `windows.timeWindow()`, `windows.countWindow()`, `windows.filter()`, `windows.aggregateWindow()`. They need a window
 * store provided to the network under {@link WINDOW_SERVICE}.
 *
 * @example
 * ```ts
 * net.provide(WINDOW_SERVICE, await openWindowStore({ url: 'sqlite::memory:', entities: [Bet, Selection] }));
 * net.add('dedupe_liability', windows.filter({ duration: '10s' }));
 * ```
 */
export const windows = { window, queryWindow, timeWindow, countWindow, filter, aggregateWindow };

/** Node kinds of the SQL windows (the kinds of {@link windowsPlugin}). */
export const windowKinds: NodeKind<any>[] = [window, queryWindow, timeWindow, countWindow, filter, aggregateWindow].map((f) => f.kind);

export { windowsPlugin, type WindowsPluginOptions } from './plugin';
export { windowLuaExports, type WindowLuaConfig } from './lua';
