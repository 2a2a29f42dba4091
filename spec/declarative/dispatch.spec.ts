import * as path from 'node:path';
import { Network } from 'tributary';
import { isAggloConfig, loadNetworkText } from '../../lib/declarative/load';
import { calls } from './fixtures/agglo-translator';

const TRANSLATOR = path.join(__dirname, 'fixtures', 'agglo-translator');

describe('agglo configs are recognised and handed to the agglo translator', () => {
  it('recognises an agglo config by partitionUuid, pipelines or processDefinitions', () => {
    expect(isAggloConfig({ partitionUuid: 'a3c1' })).toBe(true);
    expect(isAggloConfig({ pipelines: [] })).toBe(true);
    expect(isAggloConfig({ processDefinitions: [] })).toBe(true);
    expect(isAggloConfig({ nodes: [], edges: [] })).toBe(false);
    expect(isAggloConfig([{ pipelines: [] }])).toBe(false);
  });

  it('builds the document the translator returns, passing it the config, the file, the environment and the agglo options', () => {
    const net = new Network();
    const text = JSON.stringify({ partitionUuid: 'p1', pipelines: [{ name: 'basic', processes: ['annotate', 'tee'] }] });
    const env = { MARK: 'x' };
    loadNetworkText(net, text, 'basic_pipeline.json', { aggloModule: TRANSLATOR, env, agglo: { input: { kind: 'stdin_source' } } });
    expect(calls.at(-1)).toEqual({
      config: { partitionUuid: 'p1', pipelines: [{ name: 'basic', processes: ['annotate', 'tee'] }] },
      file: 'basic_pipeline.json',
      env,
      input: { kind: 'stdin_source' },
    });
    expect(net.edges()).toEqual({
      input: ['basic.annotate'],
      'basic.annotate': ['basic.tee'],
      'basic.tee': ['basic.out'],
      'basic.out': [],
    });
    // The builder expands the document's references, and describe() keeps them.
    expect(net.describe('basic.out')?.options).toEqual({ indicator: '${MARK:-.}' });
  });

  it('a Tributary network with the same loader is not sent to the translator', () => {
    const before = calls.length;
    loadNetworkText(new Network(), 'nodes: [{ name: f, kind: forwarder }]\n', 'n.yaml', { aggloModule: TRANSLATOR });
    expect(calls.length).toBe(before);
  });

  it('errors in the translated document name the file and the node', () => {
    const text = JSON.stringify({ pipelines: [{ name: 'bad', processes: ['x', 'x'] }] });
    expect(() => loadNetworkText(new Network(), text, 'cfg.json', { aggloModule: TRANSLATOR })).toThrow(
      "cfg.json: node 'bad.x' is defined twice",
    );
  });

  it('a translator may return positions, so that errors in the translated document carry the config lines', () => {
    const text = '{\n  "withLines": true,\n  "pipelines": [\n    { "name": "bad", "processes": ["x",\n      "x"] }\n  ]\n}\n';
    expect(() => loadNetworkText(new Network(), text, 'cfg.json', { aggloModule: TRANSLATOR })).toThrow(
      "cfg.json:5:7: node 'bad.x' is defined twice (first at line 4)",
    );
  });

  it('without the agglo plugin, an agglo config is refused saying so', () => {
    const missing = path.join(__dirname, 'fixtures', 'no-such-translator');
    expect(() => loadNetworkText(new Network(), '{"partitionUuid": "p"}', 'cfg.json', { aggloModule: missing })).toThrow(
      'this is an agglo config (it has pipelines, processDefinitions or partitionUuid): agglo configs need the agglo plugin, which this build lacks',
    );
    const wrong = path.join(__dirname, 'fixtures', 'not-a-translator');
    expect(() => loadNetworkText(new Network(), '{"pipelines": []}', 'cfg.json', { aggloModule: wrong })).toThrow(
      `agglo configs need the agglo plugin: ${wrong} exports no aggloToDocument(config, { file, env })`,
    );
  });
});
