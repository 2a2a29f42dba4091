import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import { errorMessage, TributaryError } from '../../errors';
import type { NodeContext } from '../../nodes/types';
import { redact, shownUrl, urlSecrets } from '../../util/redact';
import { connectionFields, credentialFields, tlsFields } from '../fields';
import { backoffDelay, sleep, within } from '../retry';

/**
 * The default MQTT address: `TRIBUTARY_MQTT_URL`, else the local default port.
 *
 * @example
 * ```ts
 * defaultMqttUrl(); // 'mqtt://127.0.0.1:1883' when the variable is unset
 * ```
 */
export function defaultMqttUrl(): string {
  return process.env.TRIBUTARY_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
}

/** The connection options both MQTT kinds take: where, who, and TLS. */
export const mqttConnectionFields = {
  url: connectionFields.url.describe('broker URL, mqtt:// or mqtts:// (default TRIBUTARY_MQTT_URL or mqtt://127.0.0.1:1883)'),
  ...credentialFields,
  ...tlsFields,
};

/** What {@link mqttConnect} needs to know about the node's connection. */
export interface MqttLinkOptions {
  url?: string;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  clientId: string;
  /** Start a fresh session (true) or resume the broker's one for `clientId`. */
  clean: boolean;
  /** Seconds the broker keeps the session after a disconnect (MQTT 5 session expiry). */
  sessionExpiry: number;
  /** Unacked QoS 1/2 messages the broker may send at once (MQTT 5 receive maximum). */
  receiveMaximum?: number;
  /** mqtt.js's hook for incoming QoS 1/2 publishes (see `acks.ts`). */
  customHandleAcks?: IClientOptions['customHandleAcks'];
}

/** A connection of one node, kept up with back-off. */
export interface MqttLink {
  readonly client: MqttClient;
  /** The address for messages (password hidden). */
  readonly shown: string;
  /** Connections established so far: an ack belongs to the connection that received its message. */
  readonly generation: number;
  /** `text` with every secret (URL password, password, key) replaced. */
  clean(text: string): string;
  /** Resolves `true` once connected (at once if it is), `false` if the link's signal aborts first. */
  connected(): Promise<boolean>;
  /** Ends the connection: gracefully (pending acks and publishes written) within `timeout` ms, then by force. */
  close(timeout: number): Promise<void>;
}

/**
 * The mqtt client module, loaded on first use so importing Tributary does not load it.
 *
 * @example
 * ```ts
 * const client = mqttModule().connect('mqtt://127.0.0.1:1883');
 * ```
 */
export function mqttModule(): typeof import('mqtt') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
  return require('mqtt') as typeof import('mqtt');
}

/** Connections of this process not closed yet, by broker and client id: resolved once closed. */
const live = new Map<string, Promise<void>>();

function sessionKey(url: string | undefined, clientId: string): string {
  return `${shownUrl(url ?? defaultMqttUrl())} ${clientId}`;
}

/**
 * Resolves once no connection of this process with `clientId` to that broker is open or
 * closing (at once when none is). A broker that sees a second connection with a client id takes
 * the session over and drops what it had not yet read from the first one — its last acks — so a
 * restarted network resumes a session only after the previous connection's goodbye.
 *
 * @example
 * ```ts
 * await sessionClosed(o.url, 'tributary_in');
 * const link = mqttConnect(ctx, { ...o, clientId: 'tributary_in' }, signal);
 * ```
 */
export function sessionClosed(url: string | undefined, clientId: string): Promise<void> {
  return live.get(sessionKey(url, clientId)) ?? Promise.resolve();
}

/** PEM text as it is, or the contents of the file a path names. */
function pem(option: string, value: string | undefined): string | Buffer | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value);
  } catch (err) {
    throw new TributaryError('BAD_OPTION', `option '${option}': cannot read the PEM file '${value}': ${errorMessage(err)}`);
  }
}

/**
 * Connects a node to an MQTT broker (MQTT 5) and keeps it connected: every lost connection or
 * failed attempt is logged with the address (secrets hidden) and retried with exponential
 * back-off from 250ms to 10s, timed by the network's scheduler. The client's stores are kept
 * across reconnects, so publishes awaiting their ack are resent and resolve on the new
 * connection. Stops retrying once `signal` aborts.
 *
 * @example
 * ```ts
 * const link = mqttConnect(ctx, { clientId: 'tb', clean: true, sessionExpiry: 0, rejectUnauthorized: true }, signal);
 * if (await link.connected()) link.client.publish('t', 'hello');
 * ```
 */
export function mqttConnect(ctx: NodeContext, o: MqttLinkOptions, signal: AbortSignal): MqttLink {
  const url = o.url ?? defaultMqttUrl();
  const shown = shownUrl(url);
  const secrets = [...urlSecrets(url), o.password, o.key];
  const clean = (text: string) => redact(text, secrets);
  const who = `node '${ctx.name}'`;
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: o.clientId,
    clean: o.clean,
    // Reconnects are ours: back-off on the network's scheduler, stores kept.
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: 10_000,
    rejectUnauthorized: o.rejectUnauthorized,
    properties: {
      sessionExpiryInterval: o.sessionExpiry,
      ...(o.receiveMaximum !== undefined ? { receiveMaximum: o.receiveMaximum } : {}),
    },
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.ca !== undefined ? { ca: pem('ca', o.ca) } : {}),
    ...(o.cert !== undefined ? { cert: pem('cert', o.cert) } : {}),
    ...(o.key !== undefined ? { key: pem('key', o.key) } : {}),
    ...(o.customHandleAcks ? { customHandleAcks: o.customHandleAcks } : {}),
  };
  let client: MqttClient;
  try {
    client = mqttModule().connect(url, options);
  } catch (err) {
    throw new Error(`cannot connect to ${shown}: ${clean(errorMessage(err))}`);
  }
  let generation = 0;
  let attempt = 0;
  let up = false;
  let stopping = false;
  let reconnecting = false;
  const key = sessionKey(o.url, o.clientId);
  let closed: Promise<void> | undefined;
  let markGone!: () => void;
  const gone = new Promise<void>((resolve) => (markGone = resolve));
  live.set(key, gone);
  let lastError: string | undefined;
  let waiters: ((up: boolean) => void)[] = [];
  const wake = (value: boolean) => {
    const w = waiters;
    waiters = [];
    for (const r of w) r(value);
  };
  signal.addEventListener('abort', () => wake(false), { once: true });
  client.on('error', (err: Error) => {
    lastError = clean(errorMessage(err));
  });
  // A new connection begins at its CONNACK: the broker's queued messages follow it at once,
  // before mqtt.js emits 'connect' (it first resends its own stored publishes).
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'connack') generation++;
  });
  let connects = 0;
  client.on('connect', () => {
    if (connects++ > 0) ctx.logger.warn(`${who}: connected again to ${shown}`);
    attempt = 0;
    up = true;
    lastError = undefined;
    wake(true);
  });
  client.on('close', () => {
    const was = up;
    up = false;
    if (stopping || signal.aborted || reconnecting) return;
    reconnecting = true;
    const wait = backoffDelay(attempt++, { initial: 250, max: 10_000 });
    const why = lastError ?? 'connection closed';
    lastError = undefined;
    ctx.logger.warn(
      was
        ? `${who}: connection to ${shown} lost (${why}); reconnecting in ${wait}ms`
        : `${who}: cannot connect to ${shown}: ${why}; retrying in ${wait}ms`,
    );
    void sleep(ctx.scheduler, wait, signal).then(() => {
      reconnecting = false;
      if (stopping || signal.aborted) return;
      // The stores go with it: publishes awaiting their ack are resent on the new connection.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    });
  });
  return {
    client,
    shown,
    get generation() {
      return generation;
    },
    clean,
    connected() {
      if (up && client.connected) return Promise.resolve(true);
      if (signal.aborted || stopping) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => waiters.push(resolve));
    },
    close(timeout: number) {
      closed ??= (async () => {
        stopping = true;
        wake(false);
        const pending = () => Object.keys(client.outgoing).length > 0;
        // Publishes still awaiting their ack get until the timeout; then the connection goes anyway.
        if (pending() && client.connected) {
          await within(ctx.scheduler, new Promise<void>((resolve) => client.once('outgoingEmpty', () => resolve())), timeout);
        }
        const force = pending() || !client.connected;
        // Graceful: DISCONNECT after everything written, resolved when the broker closed its side.
        await within(ctx.scheduler, new Promise<void>((resolve) => client.end(force, {}, () => resolve())), timeout);
      })().finally(() => {
        if (live.get(key) === gone) live.delete(key);
        markGone();
      });
      return closed;
    },
  };
}
