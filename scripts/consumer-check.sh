#!/usr/bin/env bash
# Installs the packed package into a throw-away consumer project and checks it the way a user
# meets it: the declarations compile with skipLibCheck false under three module resolutions
# (commonjs/node, node16/node16, esnext/bundler), the compiled CommonJS runs a small network,
# and an ES module gets the named exports of every subpath.
#
#   bash scripts/consumer-check.sh            # packs this checkout (npm pack runs the build)
#   CONSUMER_CHECK_KEEP=1 bash scripts/...     # keep the temp dir to look at
#
# The consumer installs with --ignore-scripts: it compiles and runs a core network only, so
# sqlite3's native build (minutes without a prebuilt binary) is not needed. The last step runs
# the documented marble tests (examples/testing/*.test.ts, unchanged) with rxjs-marbles and
# Jest; those come from this checkout's node_modules (copied or linked, never downloaded), as
# does the built sqlite3 the window example needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tributary-consumer.XXXXXX")"
if [ "${CONSUMER_CHECK_KEEP:-0}" = 1 ]; then
  echo "consumer-check: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

failures=()
step() { printf '\n-- consumer-check: %s\n' "$*"; }
fail() {
  echo "consumer-check: FAIL: $*" >&2
  failures+=("$*")
}

step "npm pack"
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
[ -f "$work/$tarball" ] || { echo "consumer-check: FAIL: npm pack produced no tarball ($tarball)" >&2; exit 1; }
tar -tzf "$work/$tarball" | sed 's#^package/##' | sort >"$work/contents.txt"
for f in package.json LICENSE README.md bin/tributary.js dist/lib/index.js dist/lib/index.d.ts \
  dist/lib/lua/index.d.ts dist/lib/windows/index.d.ts dist/lib/connectors/index.d.ts dist/lib/observe/index.d.ts dist/lib/testing/index.d.ts; do
  grep -qx "$f" "$work/contents.txt" || fail "the tarball lacks $f"
done
if grep -E '\.(js|d\.ts)\.map$|^(lib|spec|bench|examples)/' "$work/contents.txt" >/dev/null; then
  fail "the tarball ships sources, specs or source maps: $(grep -E '\.(js|d\.ts)\.map$|^(lib|spec|bench|examples)/' "$work/contents.txt" | head -5 | tr '\n' ' ')"
fi
echo "$tarball: $(wc -l <"$work/contents.txt") files"

step "consumer project"
app="$work/app"
mkdir -p "$app"
cd "$app"
cat >package.json <<'JSON'
{ "name": "tributary-consumer", "version": "1.0.0", "private": true, "license": "MIT" }
JSON
npm install --silent --ignore-scripts --prefer-offline --no-package-lock "$work/$tarball" typescript@~5.9 @types/node@20 \
  || { echo "consumer-check: FAIL: npm install of the tarball" >&2; exit 1; }

cat >main.ts <<'TS'
import { Network, nodes } from 'tributary';
import { VirtualTime } from 'tributary/testing';
// Every subpath's declarations must resolve and compile, whatever their exports are called.
import type * as lua from 'tributary/lua';
import type * as windows from 'tributary/windows';
import type * as connectors from 'tributary/connectors';
import type * as plugins from 'tributary/plugins';
import type * as observe from 'tributary/observe';

export type Subpaths = [keyof typeof lua, keyof typeof windows, keyof typeof connectors, keyof typeof plugins, keyof typeof observe];

async function main(): Promise<void> {
  const seen: number[] = [];
  const net = new Network();
  net.add('numbers', nodes.from({ items: [1, 2, 3] }));
  net.add('double', nodes.map({ fn: (n: number) => n * 2 }));
  net.add('collect', nodes.sink({ fn: (n: number) => void seen.push(n) }));
  net.link('numbers', 'double');
  net.link('double', 'collect');
  await net.start();
  const report = await net.done();
  if (JSON.stringify(seen) !== '[2,4,6]') throw new Error(`expected [2,4,6], got ${JSON.stringify(seen)}`);
  if (report.stats.collect.in !== 3) throw new Error(`expected 3 events into collect, got ${report.stats.collect.in}`);

  const t = new VirtualTime();
  const marbles = new Network({ scheduler: t.scheduler });
  marbles.add('in', t.source('-a-b-|', { a: 1, b: 2 }));
  const out = t.sink<number>();
  marbles.add('out', out.node);
  marbles.link('in', 'out');
  t.run(marbles, '10ms');
  t.expectFrames(out, '-a-b-|', { a: 1, b: 2 });

  console.log(`cjs consumer: ${JSON.stringify(seen)}, marble frames ${JSON.stringify(out.frames)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
TS

tsc="$app/node_modules/typescript/bin/tsc"
compile() {
  local module=$1 resolution=$2 out=$3
  step "tsc module=$module moduleResolution=$resolution skipLibCheck=false"
  if node "$tsc" main.ts --noEmit false --outDir "$out" --module "$module" --moduleResolution "$resolution" \
    --target ES2022 --lib ES2022 --types node --strict --skipLibCheck false --esModuleInterop \
    >"$work/tsc-$module.txt" 2>&1; then
    echo ok
  else
    cat "$work/tsc-$module.txt"
    fail "declarations do not compile with module=$module moduleResolution=$resolution ($(grep -c 'error TS' "$work/tsc-$module.txt") errors in: $(grep -oE '^[^ (]+\([0-9]+,[0-9]+\): error' "$work/tsc-$module.txt" | sed 's/(.*//' | sort -u | tr '\n' ' '))"
    return 1
  fi
}
run_cjs() {
  # tsc emits despite type errors, so the run is checked either way.
  step "run the $1 output"
  [ -f "$2/main.js" ] || { fail "tsc emitted no $2/main.js"; return; }
  node "$2/main.js" || fail "the compiled $1 consumer failed"
}
compile commonjs node out-commonjs || true
run_cjs commonjs out-commonjs
compile node16 node16 out-node16 || true
run_cjs node16 out-node16
compile esnext bundler out-bundler || true

step "ES module consumer"
cat >main.mjs <<'JS'
import { createRequire } from 'node:module';
import { Network, nodes } from 'tributary';
import { VirtualTime } from 'tributary/testing';

const require = createRequire(import.meta.url);
// Every name the CommonJS build exports must be a named export of the ES module view.
let missing = [];
for (const sub of ['tributary', 'tributary/lua', 'tributary/windows', 'tributary/connectors', 'tributary/plugins', 'tributary/observe', 'tributary/testing', 'tributary/eventstore', 'tributary/entwine', 'tributary/cluster']) {
  const esm = await import(sub);
  const names = Object.keys(require(sub)).filter((k) => k !== '__esModule' && k !== 'default');
  missing.push(...names.filter((k) => !(k in esm)).map((k) => `${sub}:${k}`));
  if (names.length === 0) missing.push(`${sub}: no exports at all`);
}
if (missing.length) throw new Error(`named exports missing in ESM: ${missing.join(', ')}`);

const seen = [];
const net = new Network();
net.add('numbers', nodes.from({ items: ['a', 'b'] }));
net.add('collect', nodes.sink({ fn: (p) => void seen.push(p) }));
net.link('numbers', 'collect');
await net.start();
await net.done();
if (seen.join() !== 'a,b') throw new Error(`expected a,b, got ${seen.join()}`);
if (typeof VirtualTime !== 'function') throw new Error('VirtualTime is not a class');
console.log(`esm consumer: ${JSON.stringify(seen)}`);
JS
node main.mjs || fail "the ES module consumer failed"

step "jest + rxjs-marbles consumer: the documented examples/testing/*.test.ts, unchanged"
# rxjs-marbles and its one runtime dependency are copied, not linked, so that they resolve the
# consumer's own rxjs (the one tributary uses), as an npm install would.
mods="$root/node_modules"
for pkg in rxjs-marbles fast-equals; do
  [ -d "$mods/$pkg" ] || { fail "$pkg is not in $mods (npm ci first)"; continue; }
  rm -rf "node_modules/$pkg" && cp -R "$(cd "$mods/$pkg" && pwd -P)" "node_modules/$pkg"
done
# The window example opens SQLite: use the checkout's built driver instead of building one.
rm -rf node_modules/sqlite3 && cp -R "$(cd "$mods/sqlite3" && pwd -P)" node_modules/sqlite3
mkdir -p node_modules/@types test
ln -sfn "$(cd "$mods/@types/jest" && pwd -P)" node_modules/@types/jest
cp "$root"/examples/testing/*.test.ts test/
cat >tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "commonjs", "moduleResolution": "node", "strict": true, "esModuleInterop": true, "skipLibCheck": false, "types": ["jest", "node"] } }
JSON
cat >jest.config.js <<JS
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts\$': [require.resolve('ts-jest', { paths: ['$root'] }), { tsconfig: '<rootDir>/tsconfig.json' }] },
};
JS
if node "$mods/jest/bin/jest.js" --config jest.config.js --ci -w 1 >"$work/jest.txt" 2>&1; then
  grep -E '^(Tests|Test Suites):' "$work/jest.txt"
  for f in test/*.test.ts; do cmp -s "$f" "$root/examples/testing/$(basename "$f")" || fail "$f differs from the documented example"; done
else
  cat "$work/jest.txt"
  fail "the documented marble tests failed in the consumer project"
fi

step "tributary test with the installed command: the scripted example's test file"
mkdir -p scripted && cp "$root/examples/scripted/network.lua" "$root/examples/scripted/network.test.lua" scripted/
if node node_modules/tributary/bin/tributary.js test scripted >"$work/tributary-test.txt" 2>&1; then
  tail -n 1 "$work/tributary-test.txt"
else
  cat "$work/tributary-test.txt"
  fail "tributary test failed in the consumer project"
fi

if [ "${#failures[@]}" -gt 0 ]; then
  printf '\nconsumer-check: %d failure(s):\n' "${#failures[@]}" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
printf '\nconsumer-check: ok\n'
