// Entry for running the broker on its own: `node -r ./tools/register.cjs tools/cli/broker-main.ts --port 0`.
import { brokerCommand } from './broker';

brokerCommand(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { console.error(e); process.exitCode = 1; },
);
