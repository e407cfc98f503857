/**
 * Target 5: what one 3-region bake of recipes/example.yml costs to orchestrate, counted from a
 * local run (state transitions from the interpreter's event log, Lambda invocations and their
 * durations from the runner, API calls from the AWS-behaviour layer's records) and priced at
 * us-east-1 list prices. Compared with a polling design: a Wait + Describe loop every 15 s over
 * the AWS durations of the layer's `realistic` profile.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
// us-east-1 list prices, one home with the BakeCost metric's estimate (lib/cost.ts).
import { PRICES } from '../lib/cost.js';
import { type CallRecord, PROFILES } from '../local/aws-behaviour/index.js';
import { exampleRecipe, median, type Section, withEmulator } from './section.js';

export { PRICES };

const PRICE_ROWS = [
  [
    'Step Functions Standard',
    '$0.025 per 1,000 state transitions (retries count)',
    'https://aws.amazon.com/step-functions/pricing/',
  ],
  [
    'Lambda (arm64) duration',
    '$0.0000133334 per GB-second, billed per 1 ms',
    'https://aws.amazon.com/lambda/pricing/',
  ],
  ['Lambda requests', '$0.20 per 1M requests', 'https://aws.amazon.com/lambda/pricing/'],
  [
    'EventBridge custom events',
    '$1.00 per million (64 KB chunks); AWS service events on the default bus: free',
    'https://aws.amazon.com/eventbridge/pricing/',
  ],
  [
    'DynamoDB on-demand',
    '$0.625 per million write request units, $0.125 per million read request units',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  ],
  ['KMS requests', '$0.03 per 10,000 requests', 'https://aws.amazon.com/kms/pricing/'],
  ['EC2 API calls, SSM GetParameter (standard)', 'free', 'https://aws.amazon.com/ec2/pricing/'],
];

const POLL_SECONDS = 15;
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const DYNAMO_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);

interface Measured {
  transitions: number;
  invocations: Map<string, number[]>;
  calls: CallRecord[];
  reconcileMs: number[];
  /** Copies the bake makes (distribution regions besides the build region). */
  copies: number;
}

/** Memory per function from serverless.yml (provider default unless the function sets its own). */
function memoryMb(): { of: (fn: string) => number; reconcileRate: string } {
  const sls = parse(readFileSync('serverless.yml', 'utf8')) as {
    provider: { memorySize: number };
    functions: Record<string, { memorySize?: number; events?: { schedule?: { rate?: string } }[] }>;
  };
  const rate = sls.functions.reconcileWaits?.events?.find((e) => e.schedule)?.schedule?.rate ?? 'unknown';
  return { of: (fn) => sls.functions[fn]?.memorySize ?? sls.provider.memorySize, reconcileRate: rate };
}

/** Two bakes in one process; the second (warm containers) is the one counted. */
function measure(): Promise<Measured> {
  return withEmulator(async (emulator) => {
    const recipe = await exampleRecipe();
    const { runLocalBake, localLayer } = await import('../local/runner.js');
    const layer = await localLayer(emulator.endpoint);
    let measured: Measured | undefined;
    for (let i = 0; i < 2; i++) {
      const invocations = new Map<string, number[]>();
      const reconcileMs: number[] = [];
      const result = await runLocalBake({
        recipe,
        region: 'us-east-1',
        // The local stack's setup is not the bake's: count from the first state on.
        onProgress: (p) => {
          if (p.kind === 'state' && p.phase === 'start' && p.state === 'ResolveRecipe') layer.resetCalls();
        },
        onInvoke: (fn, ms) => {
          // The reconciler runs on its schedule whether bakes run or not: priced per stack below.
          if (fn === 'reconcileWaits') reconcileMs.push(ms);
          else invocations.set(fn, [...(invocations.get(fn) ?? []), ms]);
        },
      });
      if (result.status !== 'succeeded') throw new Error(`bake failed: ${JSON.stringify(result.failure)}`);
      const copies = recipe.distribution.regions.filter((r) => r !== 'us-east-1').length;
      measured = { transitions: result.transitions, invocations, calls: layer.calls(), reconcileMs, copies };
    }
    if (!measured) throw new Error('no bake measured');
    return measured;
  });
}

const usd = (x: number) => `$${x.toFixed(6)}`;

/** The local event tap (local/stack.ts tapEvents) is the runner's, not the pipeline's. */
const pipelineCall = (c: CallRecord) =>
  c.service !== 'sqs' && !(c.service === 'events' && c.action !== 'PutEvents');

export const costSection: Section = {
  name: 'cost',
  async run() {
    const m = await measure();
    const mem = memoryMb();
    const fns = [...m.invocations.entries()].sort(([a], [b]) => a.localeCompare(b));
    const gbSeconds = (fn: string, ms: number) => (mem.of(fn) / 1024) * (Math.ceil(ms) / 1000);
    const lambdaRows = fns.map(([fn, ms]) => {
      const gbs = ms.reduce((s, x) => s + gbSeconds(fn, x), 0);
      return { fn, count: ms.length, memory: mem.of(fn), ms: ms.reduce((a, b) => a + b, 0), gbs };
    });
    const invocations = lambdaRows.reduce((s, r) => s + r.count, 0);
    const gbs = lambdaRows.reduce((s, r) => s + r.gbs, 0);
    const byOp = new Map<string, number>();
    for (const c of m.calls.filter(pipelineCall))
      byOp.set(`${c.service} ${c.action}`, (byOp.get(`${c.service} ${c.action}`) ?? 0) + 1);
    const count = (service: string, ops: Set<string>) =>
      m.calls.filter((c) => c.service === service && ops.has(c.action)).length;
    // One request unit per call: the wait items are well under 1 KB (writes) and 4 KB (reads).
    const writes = count('dynamodb', DYNAMO_WRITES);
    const reads = count('dynamodb', DYNAMO_READS);
    const customEvents = count('events', new Set(['PutEvents']));
    const kmsRequests = m.calls.filter((c) => c.service === 'kms').length;
    const cost = {
      transitions: m.transitions * PRICES.transition,
      lambda: invocations * PRICES.lambdaRequest + gbs * PRICES.lambdaGbSecond,
      events: customEvents * PRICES.customEvent,
      dynamo: writes * PRICES.dynamoWrite + reads * PRICES.dynamoRead,
      kms: kmsRequests * PRICES.kmsRequest,
    };
    const total = cost.transitions + cost.lambda + cost.events + cost.dynamo + cost.kms;

    // Polling: each wait becomes Wait → Check (a Lambda that describes) → Choice, every 15 s.
    const d = PROFILES.realistic.durations;
    const bootstrap = 300; // the runner's realistic default (local/runner.ts bootstrapAwsSeconds)
    const copies = m.copies;
    const waits = [
      { name: 'builder (launch + bootstrap + stop)', seconds: d.instanceLaunch + bootstrap + d.instanceStop },
      { name: 'image', seconds: d.image },
      ...Array.from({ length: copies }, (_, i) => ({ name: `copy to region ${i + 2}`, seconds: d.copy })),
    ];
    const polls = waits.reduce((s, w) => s + Math.ceil(w.seconds / POLL_SECONDS), 0);
    const pollTransitions = m.transitions - waits.length + 3 * polls;
    const checkMs = median(m.invocations.get('registerWait') ?? [50]);
    const otherLambdas = lambdaRows.filter((r) => r.fn !== 'registerWait' && r.fn !== 'resumeWait');
    const pollInvocations = otherLambdas.reduce((s, r) => s + r.count, 0) + polls;
    const pollGbs = otherLambdas.reduce((s, r) => s + r.gbs, 0) + polls * gbSeconds('registerWait', checkMs);
    const pollCost =
      pollTransitions * PRICES.transition +
      pollInvocations * PRICES.lambdaRequest +
      pollGbs * PRICES.lambdaGbSecond +
      cost.events +
      cost.kms;
    const perMonthReconciles = (30 * 24 * 60) / (mem.reconcileRate.includes('1 minute') ? 1 : 2);
    const reconcileGbs = gbSeconds('reconcileWaits', median(m.reconcileMs.length ? m.reconcileMs : [50]));
    const reconcilerMonthly =
      perMonthReconciles * (PRICES.lambdaRequest + reconcileGbs * PRICES.lambdaGbSecond);

    const metTransitions = m.transitions <= 16;
    const metCost = total <= 0.0005;
    return {
      title: 'Orchestration cost',
      targets: [
        {
          name: '5. Orchestration cost: state transitions',
          goal: '≤ 16 per 3-region bake',
          figure: `${m.transitions} (polling every ${POLL_SECONDS} s: ${pollTransitions})`,
          met: metTransitions,
          reproduce: 'npm run bench -- --only cost',
        },
        {
          name: '5. Orchestration cost: per bake',
          goal: '≤ $0.0005 per 3-region bake',
          figure: `${usd(total)} (polling: ${usd(pollCost)}, ${(pollCost / total).toFixed(0)}× more)`,
          met: metCost,
          reproduce: 'npm run bench -- --only cost',
        },
      ],
      markdown: `One 3-region bake of \`recipes/example.yml\` on the \`instant\` profile, the second of two in one
process (warm handlers), counted from the run: state transitions from the interpreter's event log
(every state entered, the states of each Map iteration and every retry: what Step Functions
Standard bills), Lambda invocations and durations from the runner, API calls from the
AWS-behaviour layer's records (from ResolveRecipe on; the local stack's setup is not counted; EC2
calls include the played builder's own CreateTags/StopInstances, which are free either way).

Prices (us-east-1, list):

| Item | Price | Source |
| --- | --- | --- |
${PRICE_ROWS.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Per bake:

| Item | Count | Cost |
| --- | ---: | ---: |
| State transitions | ${m.transitions} | ${usd(cost.transitions)} |
| Lambda invocations | ${invocations} | ${usd(invocations * PRICES.lambdaRequest)} |
| Lambda GB-seconds (local durations) | ${gbs.toFixed(4)} | ${usd(gbs * PRICES.lambdaGbSecond)} |
| EventBridge custom events (PutEvents) | ${customEvents} | ${usd(cost.events)} |
| DynamoDB writes / reads (1 unit each) | ${writes} / ${reads} | ${usd(cost.dynamo)} |
| KMS requests | ${kmsRequests} | ${usd(cost.kms)} |
| **Total** | | **${usd(total)}** |

Lambda invocations (memory from serverless.yml; duration measured locally, rounded up to 1 ms per
invocation. Local durations are not Lambda's: in-process calls to a local emulator are faster than
AWS API calls from Lambda, and Lambda cold starts are not included; a 10× longer duration adds
about ${usd(9 * gbs * PRICES.lambdaGbSecond)} per bake):

| Function | Invocations | Memory (MB) | Total ms | GB-s |
| --- | ---: | ---: | ---: | ---: |
${lambdaRows.map((r) => `| ${r.fn} | ${r.count} | ${r.memory} | ${r.ms.toFixed(0)} | ${r.gbs.toFixed(4)} |`).join('\n')}

API calls by operation (the local event tap's SQS and EventBridge calls, which only the local
runner makes, are left out):

| Service | Operation | Calls |
| --- | --- | ---: |
${[...byOp.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([op, n]) => `| ${op.split(' ')[0]} | ${op.split(' ')[1]} | ${n} |`)
  .join('\n')}

The reconciler (reconcileWaits, \`${mem.reconcileRate}\`) runs whether bakes run or not, so it is a cost
of the stack, not of a bake: about ${perMonthReconciles.toLocaleString('en-US')} invocations a month, ${usd(reconcilerMonthly)} a month
at the locally measured ${median(m.reconcileMs.length ? m.reconcileMs : [50]).toFixed(0)} ms.

Polling instead (the design the event path replaces): each of the ${waits.length} waits becomes a Wait (15 s) →
Check (a Lambda that describes) → Choice loop, over the AWS durations of the \`realistic\` profile
(${waits.map((w) => `${w.name}: ${w.seconds} s`).join(', ')}): ${polls} polls, ${pollTransitions} state
transitions and ${pollInvocations} Lambda invocations (a check priced at registerWait's measured
duration), ${usd(pollCost)} per bake: ${(pollCost / total).toFixed(0)}× the event-driven bake. Polling every
60 s instead would still cost about ${usd((m.transitions - waits.length + 3 * waits.reduce((s, w) => s + Math.ceil(w.seconds / 60), 0)) * PRICES.transition)} in transitions alone, and add up to a minute of
detection lag per wait.`,
    };
  },
};
