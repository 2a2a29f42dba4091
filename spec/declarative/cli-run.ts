// Runs the `tributary` command from the sources (ts-node, transpile only), for specs that
// need a real process: stdin, stdout, exit codes, environment.
import { main } from '../../lib/cli/program';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
