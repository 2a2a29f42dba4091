import { definePlugin } from '../../nodes/plugin';
import { fileSink } from './sink';
import { fileSource } from './source';
import { stdinSource, stdoutSink } from './stdio';

/**
 * Files and standard streams as a plugin: `file_source`, `file_sink` (NDJSON/CSV),
 * `stdin_source` and `stdout_sink`.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [filePlugin] });
 * net.create('file_source', 'bets', { path: 'bets.ndjson' });
 * ```
 */
export const filePlugin = definePlugin({ name: 'file', kinds: [fileSource, fileSink, stdinSource, stdoutSink] });
