import type { Command } from 'commander';
import { BENCHMARKS } from '../../bench/index';
import { UsageError } from '../../lib/errors';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmarks and print each figure beside its baseline')
    .argument('[names...]', `benchmarks to run (default: all): ${BENCHMARKS.map((b) => b.name).join(', ') || 'none'}`)
    .option('--quick', 'smaller inputs, for a smoke run', false)
    .action(async (names: string[], opts: { quick: boolean }) => {
      const chosen = names.length ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;
      const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
      if (unknown.length) throw new UsageError(`unknown benchmark: ${unknown.join(', ')}`);
      const log = (line: string) => process.stdout.write(`${line}\n`);
      log(`machine: ${process.platform} ${process.arch}, node ${process.version}, ${new Date().toISOString()}`);
      for (const b of chosen) {
        log(`\n== ${b.name}: ${b.description}`);
        const r = await b.run({ quick: opts.quick, log });
        for (const line of r.lines) log(line);
      }
    });
}
