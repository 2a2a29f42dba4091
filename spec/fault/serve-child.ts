// The process the durable-queue crash spec kills: the real `tributary` command line (the same
// code bin/tributary.js runs), run under ts-node so the spec needs no build.
import { main } from '../../lib/cli/program';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
