import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkLaunchTemplates, checkParameter } from '../../../functions/resolve-recipe/publishing.js';
import { awsError, BUILD_REGION, recipe, regionalEc2 } from './fixtures.js';

const REGIONS = [BUILD_REGION, 'eu-west-1'];
const STACK = 'ami-bake-ci';
const distributing = recipe({
  distribution: { regions: ['eu-west-1'], launchTemplates: [{ name: 'web', setDefault: true }] },
});

describe('checkLaunchTemplates (ResolveRecipe)', () => {
  it("refuses a template missing in a target region, or not opted in to this stack's versions", async () => {
    // Prepare: in the build region it lacks the tag; eu-west-1 has no such template.
    const { ec2, mock } = regionalEc2(REGIONS);
    mock(BUILD_REGION)
      .on(DescribeLaunchTemplatesCommand)
      .resolves({ LaunchTemplates: [{ LaunchTemplateName: 'web', Tags: [{ Key: 'team', Value: 'web' }] }] });
    mock('eu-west-1')
      .on(DescribeLaunchTemplatesCommand)
      .rejects(awsError('InvalidLaunchTemplateName.NotFoundException'));

    // Act
    const problems = await checkLaunchTemplates(distributing, BUILD_REGION, ec2, STACK);

    // Assess
    expect(problems).toEqual([
      {
        path: 'distribution.launchTemplates.0.name',
        message: `launch template web in ${BUILD_REGION} must be tagged ami-bake:distribute=${STACK} to let this stack add versions to it`,
      },
      {
        path: 'distribution.launchTemplates.0.name',
        message: 'launch template web does not exist in eu-west-1',
      },
    ]);
  });

  it('accepts templates tagged for this stack in every region', async () => {
    // Prepare
    const { ec2, mock } = regionalEc2(REGIONS);
    for (const region of REGIONS) {
      mock(region)
        .on(DescribeLaunchTemplatesCommand)
        .resolves({
          LaunchTemplates: [
            { LaunchTemplateName: 'web', Tags: [{ Key: 'ami-bake:distribute', Value: STACK }] },
          ],
        });
    }

    // Act
    const problems = await checkLaunchTemplates(distributing, BUILD_REGION, ec2, STACK);

    // Assess
    expect(problems).toEqual([]);
  });

  it('makes no call when the recipe names no launch template', async () => {
    // Prepare
    const { ec2, mock } = regionalEc2(REGIONS);

    // Act
    await checkLaunchTemplates(recipe(), BUILD_REGION, ec2, STACK);

    // Assess
    expect(mock(BUILD_REGION).calls()).toHaveLength(0);
  });
});

describe('checkParameter (ResolveRecipe)', () => {
  function ssmWith(answers: Record<string, () => Promise<unknown>>) {
    const clients = new Map(REGIONS.map((r) => [r, new SSMClient({ region: r })] as const));
    for (const [region, client] of clients) {
      mockClient(client)
        .on(GetParameterCommand)
        .callsFake(answers[region] ?? (() => Promise.reject(awsError('ParameterNotFound'))));
    }
    return (region: string) => clients.get(region) as SSMClient;
  }
  const publishing = recipe({
    distribution: { regions: ['eu-west-1'], ssmParameter: '/ami-bake/web/{architecture}/latest' },
  });

  it('refuses a parameter that exists as text: SSM cannot change it to aws:ec2:image', async () => {
    // Prepare: the build region's is an image already; eu-west-1's is plain text.
    const ssm = ssmWith({
      [BUILD_REGION]: async () => ({
        Parameter: { DataType: 'aws:ec2:image', Value: 'ami-0old00000000001' },
      }),
      'eu-west-1': async () => ({ Parameter: { DataType: 'text', Value: 'hello' } }),
    });

    // Act
    const problems = await checkParameter(publishing, 'arm64', BUILD_REGION, ssm);

    // Assess
    expect(problems).toEqual([
      {
        path: 'distribution.ssmParameter',
        message:
          '/ami-bake/web/arm64/latest in eu-west-1 exists with data type text; SSM cannot change it to aws:ec2:image: delete it or name another',
      },
    ]);
  });

  it('accepts a parameter that does not exist yet', async () => {
    expect(await checkParameter(publishing, 'x86_64', BUILD_REGION, ssmWith({}))).toEqual([]);
  });
});
