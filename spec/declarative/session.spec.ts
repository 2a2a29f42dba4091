import * as path from 'node:path';
import { buildSession } from '../../lib/cli/session';

const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'declarative', 'network.yaml');

describe('the CLI session with network files', () => {
  it('builds a network file onto the session network through its Lua runtime', async () => {
    const session = await buildSession([EXAMPLE], {});
    try {
      expect(Object.keys(session.network.edges())).toEqual(['tick_printer', 'ticker_500ms', 'filter_2s', 'forwarder1', 'forwarder2']);
    } finally {
      await session.close();
    }
  });

  it('collects the substituted values in the secrets list it was given (what run hands its logger)', async () => {
    const secrets: string[] = [];
    const file = path.join(__dirname, 'fixtures', 'env-network.yaml');
    const session = await buildSession([file], { env: { DECL_MARK: 'a-long-mark' }, secrets });
    await session.close();
    expect(secrets).toEqual(['a-long-mark']);
  });

  it('--allow-exec provides the service exec nodes look up; without it there is none', async () => {
    const allowed = await buildSession([], { allowExec: true });
    const plain = await buildSession([], {});
    try {
      expect(allowed.network.service('tributary.allow-exec')).toBe(true);
      expect(plain.network.service('tributary.allow-exec')).toBeUndefined();
    } finally {
      await allowed.close();
      await plain.close();
    }
  });
});
