interface Viz {
  renderString(dot: string, options: { format: string }): string;
}
/** The Graphviz (WebAssembly) instance, made once: compiling the module takes ~100 ms. */
let viz: Promise<Viz> | undefined;

/**
 * Renders Graphviz DOT to SVG with Graphviz compiled to WebAssembly (`@viz-js/viz`): no
 * system `dot` needed. A DOT error rejects with Graphviz's message.
 *
 * @example
 * ```ts
 * const svg = await dotToSvg(net.toDot());
 * fs.writeFileSync('network.svg', svg);
 * ```
 */
export async function dotToSvg(dot: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the WebAssembly module loads only when a drawing is asked for
  viz ??= (require('@viz-js/viz') as { instance(): Promise<Viz> }).instance();
  return (await viz).renderString(dot, { format: 'svg' });
}
