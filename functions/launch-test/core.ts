import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { clientToken } from '../../lib/aws/client-token.js';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { wrapUserData } from '../../lib/bootstrap/wrapper.js';
import { reportingInstance } from '../../lib/launch/reporting-instance.js';
import type { BakeContext, ResolvedRecipe, TestTarget } from '../../lib/state.js';
import { lineageTags, TAG } from '../../lib/tags.js';

export interface LaunchTestDeps {
  ec2: Ec2Send;
  instanceProfile: string;
  securityGroupId?: string;
  now: () => Date;
}

export interface LaunchTestInput {
  test: TestTarget;
  recipe: Pick<ResolvedRecipe, 'bootstrap' | 'builder' | 'test'>;
  context: BakeContext;
  /** The new image, available in the build region (WaitForImage). */
  image: { imageId: string; region: string };
  /** The builder: its type is the test's when the recipe lists none and sized it by requirements. */
  builder?: { instanceType?: string };
}

/**
 * Launches one test instance from the new image. Its user data is the recipe's test script in the
 * bootstrap's wrapper, so it reports exactly as the builder does: it tags itself with the outcome
 * and log tail and powers off (shutdown means stop), and WaitForTest waits for that. It has the
 * builder's network, security group and instance profile (the profile lets an instance tag only
 * itself with the result keys), and the bake's tags plus role `test`, so Cleanup and the sweeper
 * find it whatever happens to this execution. Its volumes are the image's (encrypted like them,
 * deleted with the instance).
 */
export async function launchTest(input: LaunchTestInput, deps: LaunchTestDeps) {
  const { recipe, context, image } = input;
  const instanceType = input.test.instanceType ?? input.builder?.instanceType;
  if (!instanceType) throw new Error('test: no instance type listed, and the builder reported none');
  if (!recipe.test) throw new Error('test: the recipe has no test block');
  const { builder } = recipe;
  const tags = lineageTags(context, {
    Name: `ami-bake test ${context.recipeName} ${context.shortId} ${instanceType}`,
    ...builder.tags,
    [TAG.role]: 'test',
  });
  const userData = wrapUserData({
    platform: recipe.bootstrap.platform,
    script: recipe.test.script,
    bakeId: context.bakeId,
  });
  try {
    const { Instances = [] } = await deps.ec2.send(
      new RunInstancesCommand({
        ImageId: image.imageId,
        InstanceType: instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        // One token per bake and type: a retried invocation gets the first instance back.
        ClientToken: clientToken('test', context.bakeId, instanceType),
        ...reportingInstance(builder, context, userData, tags, deps),
      }),
    );
    const instanceId = Instances[0]?.InstanceId;
    if (!instanceId) throw new Error('RunInstances returned no instance');
    return { instanceId, instanceType, region: image.region, at: deps.now().toISOString() };
  } catch (error) {
    // The Map's failure is all that reaches Bake Failed: the message names the type. The name
    // stays, because Retry and Catch match on it.
    if (error instanceof Error) error.message = `test on ${instanceType}: ${error.message}`;
    throw error;
  }
}
