// Entwine's public surface (docs/entwine.md): tamper-evident, partially ordered event timelines.
export * from './encoding';
export { loadPrivateKey, loadPublicKey, parsePublicKey, publicKeyPem } from './keys';
export { entwine, entwineOptions, type EntwineOptions } from './node';
export { entwinePlugin } from './plugin';
export * from './store';
export { SubstreamWriter, type SubstreamWriterOptions } from './substream';
export * from './ticker';
export * from './ticker-client';
export * from './ticker-http';
export * from './verify';
