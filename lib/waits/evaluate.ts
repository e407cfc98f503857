import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { snapshotIdsOf } from '../aws/images.js';
import {
  type BootstrapResult,
  LOG_TAIL_TAG_KEY,
  parseConsoleResult,
  parseResultTag,
  RESULT_TAG_KEY,
} from '../bootstrap/wrapper.js';
import { fromTags, TAG } from '../tags.js';
import type { Verdict } from './types.js';

/** EC2 accepts at most 200 values per filter. */
const CHUNK = 200;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Verdicts for builder instances of one region, from one DescribeInstances call per 200 ids.
 * Filters instead of InstanceIds: one vanished id must not fail the whole batch.
 */
export async function evaluateInstances(
  ec2: Ec2Send,
  ids: readonly string[],
  now: Date,
): Promise<Map<string, Verdict>> {
  const verdicts = new Map<string, Verdict>();
  for (const batch of chunks(ids)) {
    const pages = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: batch }] }),
    );
    for (const instance of (pages.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (instance.InstanceId) verdicts.set(instance.InstanceId, await instanceVerdict(ec2, instance, now));
    }
  }
  return verdicts;
}

async function instanceVerdict(ec2: Ec2Send, instance: Instance, now: Date): Promise<Verdict> {
  const id = instance.InstanceId ?? '';
  const state = instance.State?.Name;
  const tags = fromTags(instance.Tags);
  // A test instance runs the recipe's test script through the same wrapper (TestImage): the same
  // protocol, its own error and wording, so Bake Failed names the test and the instance type.
  const test = tags[TAG.role] === 'test';
  const who = test ? `test instance ${id} (${instance.InstanceType ?? 'unknown type'})` : `builder ${id}`;
  if (state === 'terminated' || state === 'shutting-down') {
    return {
      status: 'failure',
      error: test ? 'TestFailedError' : 'BootstrapNoResultError',
      cause: `${who} was terminated before it reported a result`,
    };
  }
  if (state !== 'stopped') return { status: 'pending' };
  // The tag is the primary channel; the serial console is the fallback for a builder that could
  // not reach the EC2 API (no NAT, no VPC endpoint) but did write its result line.
  const tagged = parseResultTag(tags[RESULT_TAG_KEY]);
  const fromConsole = tagged ? undefined : await consoleResult(ec2, id);
  const result = tagged ?? fromConsole;
  if (!result) {
    return {
      status: 'failure',
      error: test ? 'TestFailedError' : 'BootstrapNoResultError',
      cause:
        `${who} stopped without reporting a result: the ${test ? 'test script' : 'bootstrap'} powered it off early, ` +
        'or the wrapper could neither tag the instance nor write to its console (check the builder instance profile)',
    };
  }
  if (result.outcome === 'success') {
    const logTail = test ? tags[LOG_TAIL_TAG_KEY] || fromConsole?.logTail : undefined;
    return {
      status: 'success',
      // What this describe saw: StopBuilder trusts it instead of describing the builder again.
      output: {
        outcome: 'success',
        exitCode: result.exitCode,
        instanceState: state,
        // A passed test's output is part of what Bake Succeeded reports.
        ...(logTail ? { logTail } : {}),
        at: now.toISOString(),
      },
    };
  }
  const tail = tags[LOG_TAIL_TAG_KEY] || (fromConsole ?? (await consoleResult(ec2, id)))?.logTail;
  return {
    status: 'failure',
    error: test ? 'TestFailedError' : 'BootstrapFailedError',
    cause: `${test ? 'test script' : 'bootstrap'} exited with code ${result.exitCode} on ${who}${tail ? `; log tail: ${tail}` : ''}`,
  };
}

async function consoleResult(ec2: Ec2Send, instanceId: string): Promise<BootstrapResult | undefined> {
  try {
    const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
    if (!Output) return undefined;
    return parseConsoleResult(Buffer.from(Output, 'base64').toString('utf8'));
  } catch {
    return undefined; // The console is a fallback and a courtesy; never the reason a wait fails.
  }
}

/** Verdicts for images of one region (sources or copies), one DescribeImages call per 200 ids. */
export async function evaluateImages(
  ec2: Ec2Send,
  region: string,
  ids: readonly string[],
  now: Date,
): Promise<Map<string, Verdict>> {
  const verdicts = new Map<string, Verdict>();
  for (const batch of chunks(ids)) {
    const { Images = [] } = await ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: batch }] }),
    );
    for (const image of Images) {
      const imageId = image.ImageId ?? '';
      const state = image.State ?? 'pending';
      if (state === 'available') {
        verdicts.set(imageId, {
          status: 'success',
          output: { region, imageId, snapshotIds: snapshotIdsOf(image), at: now.toISOString() },
        });
      } else if (state !== 'pending') {
        verdicts.set(imageId, imageFailure(region, imageId, state, image.StateReason?.Message));
      } else {
        verdicts.set(imageId, { status: 'pending' });
      }
    }
  }
  return verdicts;
}

export function imageFailure(region: string, imageId: string, state: string, reason?: string): Verdict {
  return {
    status: 'failure',
    error: 'ImageFailedError',
    cause: `image ${imageId} in ${region} is ${state}${reason ? `: ${reason}` : ''}`,
  };
}
