import type { MqttClient } from 'mqtt';

/** The ack packet mqtt.js is about to send for an incoming QoS 1 or 2 publish. */
interface AckPacket {
  cmd: string;
  messageId?: number;
  reasonCode?: number;
}

type SendPacket = (packet: AckPacket, cb?: (err?: Error) => void, cbStorePut?: () => void) => void;

interface Held {
  generation: number;
  /** The held packet's send, once mqtt.js wanted to send it. */
  send?: () => void;
  /** Settled before mqtt.js asked to send the ack: let it through then. */
  acked: boolean;
}

/** One incoming QoS 1/2 message whose broker ack is held: `ack()` sends it, if it still may. */
export interface AckTicket {
  /** Sends the held PUBACK/PUBREC, unless the connection that received the message is gone. */
  ack(): void;
  /** Whether acking would still reach the broker on the connection that received the message. */
  readonly live: boolean;
}

/**
 * Holds the broker acks (PUBACK for QoS 1, PUBREC for QoS 2) of incoming messages until their
 * events settle, while mqtt.js goes on reading packets.
 *
 * mqtt.js offers manual acks only one message at a time (`handleMessage`/`customHandleAcks`
 * stop its packet loop until their callback runs, ping responses included), which would cap
 * events in flight at one. So the client's internal `_sendPacket` is wrapped: an ack for a
 * held message id is kept back (the packet loop continues) and written when `ack()` is
 * called. An ack belongs to the connection that received the message: after a reconnect the
 * broker redelivers unacked messages (same ids, dup flag), so a late ack of the old
 * connection is dropped rather than acking whatever now uses that id.
 *
 * @example
 * ```ts
 * const acks = new HeldAcks(client, () => link.generation);
 * const ticket = acks.hold(packet.messageId); // before mqtt.js sends the ack
 * settle = (s) => s.acked && ticket.ack();
 * ```
 */
export class HeldAcks {
  private readonly held = new Map<number, Held>();
  private readonly send: SendPacket;

  constructor(
    private readonly client: MqttClient,
    private readonly generation: () => number,
  ) {
    const internal = client as unknown as { _sendPacket?: SendPacket };
    const original = internal._sendPacket;
    if (typeof original !== 'function') {
      throw new Error('this version of the mqtt package has no _sendPacket: acks after settlement need mqtt 5');
    }
    this.send = original.bind(client);
    this.tolerateQos2Overshoot(client);
    internal._sendPacket = (packet, cb, cbStorePut) => {
      const h = (packet.cmd === 'puback' || packet.cmd === 'pubrec') && !packet.reasonCode ? this.held.get(packet.messageId!) : undefined;
      if (!h || h.acked) {
        if (h) this.held.delete(packet.messageId!);
        return this.send(packet, cb, cbStorePut);
      }
      h.send = () => this.send(packet, undefined, cbStorePut);
      // The packet loop goes on; the ack is written when the event settles.
      cb?.();
    };
  }

  /**
   * mqtt.js drops the connection when more unfinished QoS 2 messages arrive than the receive
   * maximum it advertised. With PUBRECs held, Mosquitto 2.0 sends more than that (it stops
   * counting a message at its PUBREC), and every drop redelivers what was open. The source caps
   * events in flight itself (the packet loop waits), so the client's check is widened to the
   * protocol's maximum while it runs; the advertised value stays what the node asked for.
   */
  private tolerateQos2Overshoot(client: MqttClient): void {
    const internal = client as unknown as { _receiveMaximum?: number; _trackIncomingQoS2Publish?: (...args: unknown[]) => boolean };
    const track = internal._trackIncomingQoS2Publish;
    if (typeof track !== 'function' || internal._receiveMaximum === undefined) return;
    internal._trackIncomingQoS2Publish = (...args: unknown[]) => {
      const advertised = internal._receiveMaximum;
      internal._receiveMaximum = 65_535;
      try {
        return track.apply(client, args);
      } finally {
        internal._receiveMaximum = advertised;
      }
    };
  }

  /** Holds the ack of message `messageId` (call before mqtt.js acks it). */
  hold(messageId: number): AckTicket {
    const h: Held = { generation: this.generation(), acked: false };
    this.held.set(messageId, h);
    const live = () => this.held.get(messageId) === h && h.generation === this.generation() && this.client.connected;
    return {
      get live() {
        return live();
      },
      ack: () => {
        if (!live()) {
          // The broker redelivers it on the new connection (or took it back): nothing to ack here.
          if (this.held.get(messageId) === h) this.held.delete(messageId);
          return;
        }
        if (h.send) {
          this.held.delete(messageId);
          h.send();
        } else {
          h.acked = true;
        }
      },
    };
  }

  /** Messages whose ack is held. */
  get size(): number {
    return this.held.size;
  }
}
