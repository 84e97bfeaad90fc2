// docs/benchmarks.md: one file, one section per suite between markers, so that each suite (codec today;
// broker, fleet, wire later) rewrites only its own section and may be rerun on its own.
import * as fs from 'fs';
import * as path from 'path';
import { describeMachine, Machine } from './machine';

const HEAD = `# Sparrow benchmarks

Numbers measured by \`tools/bench\`. Each section below is written by one suite and says on which machine
and when it was measured; rerun a suite to refresh its section only.

## How to run

\`npm run bench\` builds and runs every suite and prints its tables as markdown on stdout.
\`npm run bench -- codec --runs 7\` runs one suite with 7 runs per cell. The board suite runs the library on
the real Espruino interpreter: \`ESPRUINO_BIN=PATH npm run bench:board -- --peer PATH\` (or \`sparrow bench
board --espruino PATH --peer PATH\`); without an interpreter the other suites run and it does not. Add \`--write docs/benchmarks.md\`
(or set \`SPARROW_BENCH_WRITE=docs/benchmarks.md\`) to replace that suite's section of this file.
Without a build, \`node -r ./tools/register.cjs tools/bench/index.ts codec\` runs the sources directly.
Close other busy programs first: rates are CPU-bound and a second busy process shows up in the spread.

## Method common to all suites

- Every run of every cell is a fresh Node process: it warms up, then measures one implementation on one
  workload. No run inherits JIT state or type feedback from another implementation.
- Each cell is the **median** of its runs, followed by the **min–max** range over all runs.
- A ratio is Sparrow's median divided by the reference's median (the runs are not paired).
`;

const begin = (name: string) => '<!-- bench:' + name + ':begin -->';
const end = (name: string) => '<!-- bench:' + name + ':end -->';

export function updateReport(file: string, name: string, heading: string, body: string, m: Machine): void {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : HEAD;
  const when = new Date().toISOString().slice(0, 10);
  const section = begin(name) + '\n## ' + heading + '\n\nMeasured ' + when + ' on:\n\n' + describeMachine(m) + '\n\n'
    + body.trim() + '\n' + end(name);
  const from = text.indexOf(begin(name)), to = text.indexOf(end(name));
  if (from >= 0 && to > from) text = text.slice(0, from) + section + text.slice(to + end(name).length);
  else text = text.replace(/\n*$/, '\n\n') + section + '\n';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
