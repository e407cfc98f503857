import { CreateTagsCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { TAG, TESTED } from '../../lib/tags.js';
import type { TestRecord } from '../../lib/workflow/states.js';

export interface TerminateTestDeps {
  ec2: Ec2Send;
  now: () => Date;
}

export interface TerminateTestInput {
  /** The new image in the build region and its snapshots (WaitForImage). */
  imageReady: { imageId: string; snapshotIds: string[] };
  /** LaunchTest's result. */
  instance: { instanceId: string; instanceType: string; at: string };
  /** WaitForTest's answer: only a passed test gets here (a failed one fails the Map). */
  outcome: { exitCode: number; logTail?: string; at: string };
}

/**
 * Ends a passed test instance and records the pass on the image and its snapshots. The tag is
 * written by each passed instance; a later failure of another type fails the bake, and Cleanup
 * removes the image with its tag. Copies are made only after every test passed, and CopyImage tags
 * them with the same value at creation.
 */
export async function terminateTest(input: TerminateTestInput, deps: TerminateTestDeps): Promise<TestRecord> {
  const { instance, outcome, imageReady } = input;
  await deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.instanceId] }));
  await deps.ec2.send(
    new CreateTagsCommand({
      Resources: [imageReady.imageId, ...imageReady.snapshotIds],
      Tags: [{ Key: TAG.tested, Value: TESTED }],
    }),
  );
  const secondsToDone = Math.max(
    0,
    Math.round((Date.parse(outcome.at) - Date.parse(instance.at)) / 100) / 10,
  );
  return {
    instanceType: instance.instanceType,
    instanceId: instance.instanceId,
    outcome: 'passed',
    exitCode: outcome.exitCode,
    ...(outcome.logTail ? { logTail: outcome.logTail } : {}),
    secondsToDone,
    at: deps.now().toISOString(),
  };
}
