import type { NodeKind } from '../nodes/registry';
import type { OptionSpec } from '../nodes/options';

/** Prose per connector family: what the registry cannot say in one sentence. */
const FAMILIES: { title: string; kinds: string[]; intro: string }[] = [
  {
    title: 'HTTP out: webhook, Slack, Telegram',
    kinds: ['webhook', 'slack', 'telegram'],
    intro:
      'An event is acked only after a 2xx answer. Network errors, timeouts, 408/425/429 and 5xx are retried with exponential ' +
      'back-off (`backoff`, doubling, capped at `maxBackoff`; `Retry-After` is honoured up to the cap), timers taken from the ' +
      "network's scheduler. Other 4xx answers are not retried. When an event fails for good it is handed to `deadLetter` " +
      '(acked once that resolves) or, without one, nacked with an `HttpDeliveryError` (status, attempts, URL): the source then ' +
      'redelivers or dead-letters it (a NATS `maxDeliver`, an AMQP dead-letter exchange, `respond: "acked"` on `http_source`). ' +
      'Secrets never appear in messages: the Telegram token is shown as `<redacted>`, a Slack URL as its host, a webhook URL without its query string.',
  },
  {
    title: 'HTTP in',
    kinds: ['http_source'],
    intro:
      'POST JSON (one event, or one per array element) or NDJSON (one event per line) to `path`. Answers: 202 `{"accepted": n}` ' +
      'once the events are in the network; with `respond: "acked"` 200 once every event was acked, 500 if one was nacked, 504 after ' +
      '`ackTimeout`; 400 with the reason for malformed bodies, bodies over `maxBodySize` (also once decompressed), bodies not ' +
      'valid in their charset and events nested deeper than `maxDepth` (nothing from such a request is emitted); 401 without the ' +
      'bearer token; 408 for headers or a body that trickle past `headersTimeout`/`bodyTimeout`; 415 for a content type, charset ' +
      'or content encoding it cannot read (it reads gzip, deflate and br bodies, any charset the platform decodes, and JSON sent ' +
      "as `text/plain` or curl's default form type); 503 (with `Retry-After`) past `maxInFlight`; 503 for every request once the network is stopping. " +
      '`healthPath` answers 200 while running and 503 while stopping. The server closes when the network stops, after answering ' +
      'the requests still waiting for their acks.',
  },
  {
    title: 'NATS and JetStream',
    kinds: ['nats_source', 'nats_sink'],
    intro:
      'With `stream`, `nats_source` is a JetStream durable pull consumer: a message is acked only once its event was settled ' +
      'downstream, a nack redelivers it (after `nackDelay`: 1s by default, doubling per redelivery up to `ackWait`, so a failing ' +
      'message does not spin), a message not acked within `ackWait` is redelivered, and at most ' +
      '`maxInFlight` events are open. Restarting with the same `durable` resumes after the last ack, so a crash loses nothing ' +
      '(at-least-once: make consumers idempotent, or set `msgId` on the sink for JetStream de-duplication). A server killed before ' +
      'it saved its consumer state delivers messages again whose acks it had received: the source remembers the last 65,536 ' +
      'it acked and acks those again without processing them (logged). Without `stream` it ' +
      'is a core subscription (at most once). A message that cannot be decoded becomes an error event; if that event is nacked, ' +
      'the message is terminated (`term()`), never redelivered. `nats_sink` publishes through JetStream and acks after the stream stored the message. ' +
      'The first connection is retried with back-off (each failure logged with the address); afterwards the client reconnects on its own. ' +
      'On `stop()` the source stops fetching, waits up to `closeTimeout` for in-flight events, then drains the connection.',
  },
  {
    title: 'RabbitMQ (AMQP 0-9-1)',
    kinds: ['amqp_source', 'amqp_sink'],
    intro:
      '`amqp_source` consumes a queue with `prefetch` unacked messages at most; a message is acked once its event was settled, ' +
      'a nack requeues it (at once: RabbitMQ has no redelivery delay, so set `requeue: false` with a dead-letter exchange for ' +
      "events that fail for good) or, with `requeue: false`, rejects it to the queue's dead-letter exchange. A message that " +
      'cannot be decoded becomes an error event; if that event is nacked, the message is rejected without requeue (to the ' +
      'dead-letter exchange, if any). A lost connection or a closed channel is ' +
      're-established with back-off; the broker redelivers what was unacked. `amqp_sink` publishes `mandatory` on a confirm channel and acks an event ' +
      'once the broker confirmed it; a message the broker returns as unroutable is nacked ("unroutable: exchange X, key Y"). ' +
      'Passwords in URLs are shown as `***`.',
  },
  {
    title: 'Redis: streams and pub/sub',
    kinds: ['redis_stream_source', 'redis_stream_sink', 'redis_pubsub_source', 'redis_pubsub_sink'],
    intro:
      '`redis_stream_source` reads a stream through a consumer group (created with `MKSTREAM` if missing, from `start`) with ' +
      '`XREADGROUP … BLOCK`, and `XACK`s an entry only once its event was settled downstream; at most `maxInFlight` events are ' +
      'open. A nacked entry stays in the pending list: after `nackDelay` (doubling per retry, capped at `claimIdle`) it is ' +
      'claimed back with `XCLAIM` and emitted again. At start and after a reconnect the consumer first re-reads its own ' +
      'pending list, so restarting with the same `consumer` name resumes at once; entries pending longer than `claimIdle` with ' +
      'any consumer of the group (one that died, or was renamed) are taken over with `XAUTOCLAIM`; keep `claimIdle` above the ' +
      'longest processing time, or another live consumer takes over entries still being worked on. At least once: make ' +
      'handlers idempotent. Reads block on a connection of their own; acks, claims and wake-ups (`CLIENT UNBLOCK`, so a ' +
      'retry or a stop does not wait for `block` to pass) use a second one. An entry without the payload `field`, or one that fails to decode, becomes an error event naming ' +
      'stream and id, and is acked even if that event is nacked (redelivery cannot fix it). `redis_stream_sink` `XADD`s (with ' +
      '`MAXLEN ~` when `maxLen` is set) and acks after the reply; an error Redis answers (`WRONGTYPE` for a key that is not a ' +
      'stream) nacks at once, a lost connection is retried. Pub/sub is at most once: Redis keeps nothing for a subscriber, so ' +
      'messages published while the source is disconnected or not yet subscribed are lost, and `redis_pubsub_sink` acks once ' +
      'Redis took the message, listeners or not. Connections reconnect with back-off (250ms doubling to 10s), each failure ' +
      'logged with the address; passwords (`password`, or in the URL) never appear in a message.',
  },
  {
    title: 'MQTT',
    kinds: ['mqtt_source', 'mqtt_sink'],
    intro:
      'MQTT 5 (Mosquitto, EMQX, HiveMQ …). `mqtt_source` subscribes to one or more topic filters (`+` one level, `#` the rest) ' +
      'in a persistent session (`clientId`, default `tributary_<node name>`, kept by the broker `sessionExpiry` after a ' +
      'disconnect; one process per client id at a time). For QoS 1 and 2 the broker ack (PUBACK, PUBREC) is sent only once the ' +
      'event settled downstream, so what a crash or a dropped connection left unacked is redelivered when the session comes back ' +
      '(at least once; QoS 2 gives no exactly-once here). A network restarted in the same process resumes the session only once ' +
      'the previous connection with that client id closed (a broker taking a session over drops the acks it has not read yet). ' +
      'Messages published while no session subscribed are not kept: MQTT keeps ' +
      'messages for subscriptions only, so run the source once (or create the session) before relying on it. MQTT has no negative ' +
      'ack and a broker redelivers only on a new connection, so a nacked event is emitted again by the source after `nackDelay` ' +
      '(doubling up to 30s) with its broker ack still held; after `maxDeliver` attempts the message is acked and an error logged. ' +
      '`maxInFlight` is the receive maximum asked of the broker, and the client reads no further packet while that many events are ' +
      'open. A payload that does not decode becomes an error event naming the topic, acked whatever becomes of it. QoS 0 is at ' +
      'most once. Events carry `mqtt-topic`, `mqtt-qos`, `mqtt-retain` (`mqtt-dup` on a redelivery) and the user properties as headers. ' +
      '`mqtt_sink` acks an event once the broker acknowledged the publish (QoS 1 and 2) or it was written (QoS 0); a publish in ' +
      'flight when the connection drops is resent after the reconnect. MQTT has no "unroutable": a message nobody subscribed to is ' +
      'accepted and dropped by the broker (use `retain` to keep the last one per topic). A topic holding a wildcard is nacked ' +
      'without being sent (a broker drops the connection over it). Connections are retried with back-off from 250ms to 10s; ' +
      'passwords (in the URL or `password`) and keys never appear in messages.',
  },
  {
    title: 'Files and standard streams',
    kinds: ['file_source', 'file_sink', 'stdin_source', 'stdout_sink'],
    intro:
      'Sources read line by line (a CSV record may span lines inside quotes) and pause while `maxInFlight` events are unsettled; ' +
      'the end of input completes the source. A line that does not parse, or is not valid UTF-8, becomes an error event naming the ' +
      'file and line. A CSV header with a blank or repeated column name fails the node. ' +
      'Sinks append, batching the events that arrive during a write, and ack once the write succeeded.',
  },
];

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function optionRow(name: string, spec: OptionSpec): string {
  const type = spec.enum ? spec.enum.map((v) => `"${v}"`).join(' | ') : spec.type;
  const def = spec.required ? '**required**' : spec.default === undefined ? '' : `\`${JSON.stringify(spec.default)}\``;
  const min = spec.min !== undefined ? ` (min ${spec.min}${spec.type === 'duration' ? 'ms' : ''})` : '';
  return `| \`${name}\` | ${cell(type)} | ${def} | ${cell(spec.description)}${min} |`;
}

function section(kind: NodeKind<any>): string {
  const lua = `tb.create_${kind.name}(name${kind.positional.map((p) => `, ${p}`).join('')})`;
  const lines = [
    `### ${kind.name}`,
    '',
    `${kind.summary}`,
    '',
    `- Role: ${kind.role}`,
    `- TypeScript: \`connectors.${camel(kind.name)}({ … })\` or \`net.create('${kind.name}', name, { … })\``,
    `- Lua: \`${lua}\` or \`tb.create_${kind.name}(name, { … })\``,
    '',
    '| option | type | default | description |',
    '|---|---|---|---|',
    ...Object.entries(kind.options).map(([n, s]) => optionRow(n, s)),
    '',
    '```ts',
    kind.example,
    '```',
  ];
  if (kind.luaExample) lines.push('', '```lua', kind.luaExample, '```');
  return lines.join('\n');
}

/**
 * Renders the connector catalogue page (docs/connectors.md) from node kinds: one section per
 * connector with its summary, options table (from the schema), TypeScript and Lua examples,
 * grouped by family with the delivery semantics of each. Pure: same kinds, same text.
 *
 * @example
 * ```ts
 * fs.writeFileSync('docs/connectors.md', renderConnectorDocs(connectorKinds));
 * ```
 */
export function renderConnectorDocs(kinds: readonly NodeKind<any>[]): string {
  const byName = new Map(kinds.map((k) => [k.name, k]));
  const used = new Set<string>();
  const parts = [
    '# Connectors',
    '',
    '<!-- Generated from the node registry by renderConnectorDocs (lib/connectors/docs.ts); do not edit.',
    '     Regenerate: TRIBUTARY_UPDATE_DOCS=1 npx jest spec/connectors/docs.spec.ts -->',
    '',
    'Connectors put Tributary between real systems: HTTP in and out, Slack and Telegram alerts, NATS JetStream, RabbitMQ, MQTT, Redis, files ' +
      'and standard streams. Each is a node kind in the registry, so it is built the same way from TypeScript ' +
      '(`connectors.*`, `net.create`) and from Lua (`tb.create_<kind>`), and its options are validated with errors naming the ' +
      'node kind and option. Client libraries (nats, amqplib, mqtt, ioredis) are loaded only when a network starts such a node.',
    '',
    'Delivery: sources that need acknowledgement attach a delivery handle to each event; it is settled when the event was ' +
      'handled downstream (a sink wrote it, a filter dropped it), and only then is the message acked to the broker. ' +
      'Sinks ack after their write succeeded and nack with the reason when it failed. `stop()` drains: sources stop taking ' +
      'messages, in-flight events finish, acks are flushed, connections close.',
    '',
  ];
  for (const fam of FAMILIES) {
    const members = fam.kinds.map((n) => byName.get(n)).filter((k): k is NodeKind<any> => k !== undefined);
    if (members.length === 0) continue;
    parts.push(`## ${fam.title}`, '', fam.intro, '');
    for (const k of members) {
      used.add(k.name);
      parts.push(section(k), '');
    }
  }
  const rest = kinds.filter((k) => !used.has(k.name));
  if (rest.length) {
    parts.push('## Other connectors', '');
    for (const k of rest) parts.push(section(k), '');
  }
  return parts.join('\n').replace(/\n+$/, '\n');
}
