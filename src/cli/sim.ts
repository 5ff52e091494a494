import { Command } from 'commander';
import { parseDecimal, parseWhole } from './numbers.js';
import { ConfigError } from '../errors.js';
import { DATE_PRECISIONS, FAULT_KINDS, SIM_DEFAULTS, type DatePrecision, type FaultKind, type SimKnobs, type SimOptions } from '../sim/types.js';

export interface SimCliOptions {
  people?: string;
  seed?: string;
  port?: string;
  host?: string;
  token?: string;
  latency?: string;
  pageCap?: string;
  faultRate?: string;
  faultKinds?: string;
  slowMs?: string;
  retryAfter?: string;
  rateLimit?: string;
  messagesOrder?: string;
  activityPerList?: string;
  datePrecision?: string;
  neverWrote?: string;
  notFoundRate?: string;
}

const whole = (option: string, value: string | undefined, min: number, max: number) => parseWhole(option, value, { min, max });
const decimal = (option: string, value: string | undefined, min: number, max: number) => parseDecimal(option, value, { min, max });

/** CLI flags → simulator options; a bad value is a ConfigError naming the flag. */
export function parseSimOptions(o: SimCliOptions): SimOptions {
  const knobs: Partial<SimKnobs> = {};
  const set = <K extends keyof SimKnobs>(k: K, v: SimKnobs[K] | undefined) => {
    if (v !== undefined) knobs[k] = v;
  };
  set('latencyMs', whole('--latency', o.latency, 0, 600_000));
  set('pageCap', whole('--page-cap', o.pageCap, 1, 1_000_000_000));
  set('faultRate', decimal('--fault-rate', o.faultRate, 0, 1));
  if (o.faultKinds !== undefined) {
    const kinds = o.faultKinds.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = kinds.filter((k) => !FAULT_KINDS.includes(k as FaultKind));
    if (kinds.length === 0 || bad.length > 0) throw new ConfigError(`--fault-kinds must be a comma list of ${FAULT_KINDS.join(', ')} (got "${o.faultKinds}")`);
    knobs.faultKinds = kinds as FaultKind[];
  }
  set('slowMs', whole('--slow-ms', o.slowMs, 0, 600_000));
  set('retryAfterSeconds', whole('--retry-after', o.retryAfter, 0, 86_400));
  set('rateLimitRps', whole('--rate-limit', o.rateLimit, 1, 1_000_000_000));
  if (o.messagesOrder !== undefined) {
    if (o.messagesOrder !== 'newest' && o.messagesOrder !== 'oldest') throw new ConfigError(`--messages-order must be newest or oldest (got "${o.messagesOrder}")`);
    knobs.messagesOrder = o.messagesOrder;
  }
  set('activityPerListRequest', decimal('--activity-per-list', o.activityPerList, 0, 10_000));
  if (o.datePrecision !== undefined) {
    if (!DATE_PRECISIONS.includes(o.datePrecision as DatePrecision)) throw new ConfigError(`--date-precision must be one of ${DATE_PRECISIONS.join(', ')} (got "${o.datePrecision}")`);
    knobs.datePrecision = o.datePrecision as DatePrecision;
  }
  set('neverWrote', decimal('--never-wrote', o.neverWrote, 0, 1));
  set('notFoundRate', decimal('--not-found-rate', o.notFoundRate, 0, 1));
  if (o.host !== undefined && o.host.trim() === '') throw new ConfigError('--host must not be empty');
  if (o.token !== undefined && o.token.trim() === '') throw new ConfigError('--token must not be empty');
  const opts: SimOptions = { knobs };
  const people = whole('--people', o.people, 0, 10_000_000);
  const seed = whole('--seed', o.seed, -2_147_483_648, 4_294_967_295);
  const port = whole('--port', o.port, 0, 65_535);
  if (people !== undefined) opts.people = people;
  if (seed !== undefined) opts.seed = seed;
  if (port !== undefined) opts.port = port;
  if (o.host !== undefined) opts.host = o.host.trim();
  if (o.token !== undefined) opts.token = o.token;
  return opts;
}

/** `leeloo-sync sim`: the simulator on its own, until SIGINT/SIGTERM. */
export function simCommand(): Command {
  return new Command('sim')
    .description('run the Leeloo API simulator (seeded company, faults, rate limits, live activity) until interrupted')
    .option('--people <n>', `people in the simulated company (default ${SIM_DEFAULTS.people})`)
    .option('--seed <n>', `seed of the generated company (default ${SIM_DEFAULTS.seed})`)
    .option('--port <n>', `port to listen on; 0 picks a free one (default ${SIM_DEFAULTS.port})`)
    .option('--host <host>', `address to listen on (default ${SIM_DEFAULTS.host})`)
    .option('--token <token>', `the X-Leeloo-AuthToken clients must send (default ${SIM_DEFAULTS.token})`)
    .option('--latency <ms>', 'delay added to every answer')
    .option('--page-cap <n>', 'most items per page, whatever limit asks')
    .option('--fault-rate <x>', 'share of requests (0..1) that get a fault')
    .option('--fault-kinds <list>', `faults to draw from: ${FAULT_KINDS.join(',')}`)
    .option('--slow-ms <ms>', "delay of the 'slow' fault (default 2000)")
    .option('--retry-after <s>', "Retry-After of the '429' fault (default 1)")
    .option('--rate-limit <rps>', 'server-side limit, requests per sliding second (answered with a plain-text 429)')
    .option('--messages-order <order>', 'chat messages newest (default) or oldest first')
    .option('--activity-per-list <x>', 'random activity events applied on each list request')
    .option('--date-precision <p>', `how filter[last_message] is read: ${DATE_PRECISIONS.join(', ')} (default exact)`)
    .option('--never-wrote <x>', 'share (0..1) of people whose channels have no messages (listed only by v1 /accounts)')
    .option('--not-found-rate <x>', 'share (0..1) of person-detail and chat-history requests answered 404 although the record exists (a broken route)')
    .action(async (o: SimCliOptions) => {
      let opts: SimOptions;
      try {
        opts = parseSimOptions(o);
      } catch (err) {
        // One line and exit code 2, like the other commands' bad input (src/cli/common.ts).
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`leeloo-sync: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      const { startSimulator } = await import('../sim/index.js'); // not at the top: keeps `--help` light
      const sim = await startSimulator(opts);
      process.stdout.write(`simulator listening on ${sim.url} (token: ${sim.token}, people: ${opts.people ?? SIM_DEFAULTS.people}, seed: ${opts.seed ?? SIM_DEFAULTS.seed})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sim.close();
    });
}
