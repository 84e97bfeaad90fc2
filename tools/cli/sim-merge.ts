// `sparrow sim merge a.json b.json ...`: one fleet's report from its shards' JSON reports (`sparrow sim
// --shard i/n --json FILE`, or the pods of an Indexed Job). Exit codes: 0 every shard there and nothing
// accepted lost or pending; 1 an accepted QoS 1/2 reading lost, a QoS 2 delivered twice, or readings still
// pending at the end of a shard (PENDING); 2 bad usage or a file
// that is not a shard report of the same fleet; 3 shards missing (the figures leave out their boards).
import * as fs from 'fs';
import * as os from 'os';
import { checkShardReport, MergedReport, MergeError, mergeReports } from '../../host-sim/fleet/merge';
import { formatReport, RunReport } from '../../host-sim/fleet/report';

export const MERGE_HELP = [
  '  sparrow sim merge SHARD.json... [--json FILE|-]',
  '                           one fleet report from its shards\' --json reports: counts per QoS added, latency',
  '                           percentiles from the added histograms; exit 0 OK, 1 lost or pending, 2 bad input, 3 shards missing',
];

/** Writes a report as JSON to a file, or to stdout for "-". */
export function writeJson(file: string, report: RunReport): void {
  const text = JSON.stringify(report, null, 2) + os.EOL;
  if (file === '-') process.stdout.write(text);
  else fs.writeFileSync(file, text);
}

/** Exit code of a merged report. */
export function mergedExitCode(m: MergedReport): number {
  return m.verdict === 'OK' ? 0 : m.verdict === 'INCOMPLETE' ? 3 : 1;
}

export function mergeCommand(files: string[], values: { [k: string]: string | boolean | undefined }): number {
  const extra = Object.keys(values).filter((k) => values[k] !== undefined && k !== 'json');
  if (extra.length) return fail(`--${extra[0]} is not an option of sparrow sim merge (only --json)`);
  if (!files.length) return fail('merge wants the shards\' JSON reports: sparrow sim merge a.json b.json ...');
  const reports: RunReport[] = [];
  try {
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new MergeError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      reports.push(checkShardReport(parseReport(text, file), file));
    }
    const merged = mergeReports(reports, files);
    const json = values.json as string | undefined;
    // with the JSON on stdout, the text goes to stderr
    (json === '-' ? process.stderr : process.stdout).write(formatReport(merged, merged.verdictText) + '\n');
    if (json) writeJson(json, merged);
    return mergedExitCode(merged);
  } catch (e) {
    if (e instanceof MergeError) return fail(e.message);
    throw e;
  }
}

/**
 * A report file's JSON: the whole file, or the last report in a pod's log (`kubectl logs` mixes the
 * progress lines of stderr with the report on stdout): from its last line "{" to the next line "}".
 */
export function parseReport(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const lines = text.split(/\r?\n/), start = lines.lastIndexOf('{'), end = lines.indexOf('}', start);
    if (start < 0 || end < 0) throw new MergeError(`${name}: neither JSON nor a log with a JSON report (${(e as Error).message})`);
    try {
      return JSON.parse(lines.slice(start, end + 1).join('\n'));
    } catch (e2) {
      throw new MergeError(`${name}: the JSON report in it does not parse (${(e2 as Error).message})`);
    }
  }
}

function fail(message: string): number {
  console.error('sparrow sim merge: ' + message);
  return 2;
}
