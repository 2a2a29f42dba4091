import { shownUrl } from '../util/redact';
import type { ChainEntry } from './encoding';

/** A tick of the ticker as its HTTP API shows it. */
export interface TickInfo {
  index: number;
  /** Milliseconds since the epoch, on the ticker's scheduler. */
  time: number;
  digest: string;
}

/** What a substream sends to `POST /anchor`. */
export interface AnchorProof {
  substream: string;
  /** The substream's Ed25519 public key, SPKI PEM; pinned by the ticker at the first anchor. */
  publicKey: string;
  /** Consecutive entries continuing the previously anchored ones. */
  entries: ChainEntry[];
}

/** The ticker's answer to an accepted anchor. */
export interface AnchorAnswer {
  substream: string;
  from: number;
  to: number;
  /** The tick the anchor landed in. */
  tick: TickInfo;
}

async function call<T>(url: string, init: RequestInit, what: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new Error(`${what}: ticker ${shownUrl(url)} unreachable: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const reason = (body as { error?: string } | undefined)?.error ?? text.slice(0, 200);
    throw new Error(`${what}: ticker answered ${res.status}: ${reason}`);
  }
  return body as T;
}

const base = (url: string) => url.replace(/\/+$/, '');

/**
 * Sends an anchor proof; resolves once the ticker has made the tick the anchor landed in.
 * `token` is sent as `Authorization: Bearer <token>` to a ticker that asks for one.
 *
 * @example
 * ```ts
 * const { tick } = await postAnchor('http://127.0.0.1:8081', proof, undefined, process.env.TRIBUTARY_TICKER_TOKEN);
 * ```
 */
export function postAnchor(tickerUrl: string, proof: AnchorProof, signal?: AbortSignal, token?: string): Promise<AnchorAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return call<AnchorAnswer>(
    `${base(tickerUrl)}/anchor`,
    { method: 'POST', headers, body: JSON.stringify(proof), signal },
    `anchor of '${proof.substream}'`,
  );
}

/**
 * The ticker's latest tick.
 *
 * @example
 * ```ts
 * const head = await fetchHead('http://127.0.0.1:8081'); // { index, time, digest }
 * ```
 */
export function fetchHead(tickerUrl: string, signal?: AbortSignal): Promise<TickInfo> {
  return call<TickInfo>(`${base(tickerUrl)}/head`, { signal }, 'ticker head');
}
