import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { distributeImage, parameterName } from '../../../functions/distribute-image/core.js';
import { DistributionFailedError } from '../../../lib/errors.js';
import type { RecipeInput } from '../../../lib/recipe/schema.js';
import { awsError, BAKE_ID, BUILD_REGION, now, recipe, regionalEc2 } from './fixtures.js';

const REGIONS: string[] = [BUILD_REGION, 'eu-west-1'];
type Template = { versions: { n: number; imageId: string }[]; defaultVersion: number };
const IMAGES: Record<string, string> = {
  [BUILD_REGION]: 'ami-0source000000001',
  'eu-west-1': 'ami-0copyeu00000001',
};

/** Each region's parameters and launch templates, behind mocked SSM and EC2 clients that act on them. */
function fakeAws(options: { failIn?: string; failWith?: string } = {}) {
  const parameters = new Map(REGIONS.map((r) => [r, new Map<string, string>()] as const));
  const templates = new Map<string, Template>(
    REGIONS.map((r) => [r, { versions: [{ n: 1, imageId: 'ami-0old00000000001' }], defaultVersion: 1 }]),
  );
  const { ec2, mock } = regionalEc2(REGIONS);
  const ssmClients = new Map(REGIONS.map((r) => [r, new SSMClient({ region: r })] as const));
  const ssmMocks = new Map([...ssmClients].map(([r, c]) => [r, mockClient(c)] as const));
  for (const region of REGIONS) {
    const store = parameters.get(region) as Map<string, string>;
    const t = templates.get(region) as Template;
    const s = ssmMocks.get(region);
    s?.on(GetParameterCommand).callsFake(async ({ Name }) => {
      const Value = store.get(Name);
      if (Value === undefined) throw awsError('ParameterNotFound');
      return { Parameter: { Name, Value } };
    });
    s?.on(PutParameterCommand).callsFake(async ({ Name, Value }) => {
      store.set(Name, Value);
      return { Version: 1 };
    });
    s?.on(DeleteParameterCommand).callsFake(async ({ Name }) => {
      store.delete(Name);
      return {};
    });
    const m = mock(region);
    m.on(CreateLaunchTemplateVersionCommand).callsFake(async ({ LaunchTemplateData }) => {
      if (region === options.failIn) throw awsError(options.failWith ?? 'UnauthorizedOperation');
      const n = (t.versions.at(-1)?.n ?? 0) + 1;
      t.versions.push({ n, imageId: LaunchTemplateData.ImageId });
      return { LaunchTemplateVersion: { VersionNumber: n } };
    });
    m.on(DescribeLaunchTemplatesCommand).callsFake(async () => ({
      LaunchTemplates: [{ DefaultVersionNumber: t.defaultVersion }],
    }));
    m.on(ModifyLaunchTemplateCommand).callsFake(async ({ DefaultVersion }) => {
      t.defaultVersion = Number(DefaultVersion);
      return {};
    });
    m.on(DeleteLaunchTemplateVersionsCommand).callsFake(async ({ Versions = [] }) => {
      t.versions = t.versions.filter((v) => !Versions.includes(String(v.n)));
      return {
        SuccessfullyDeletedLaunchTemplateVersions: [],
        UnsuccessfullyDeletedLaunchTemplateVersions: [],
      };
    });
  }
  const ssm = (region: string) => ssmClients.get(region) as SSMClient;
  return { deps: { ec2, ssm, now }, mock, ssmMock: (r: string) => ssmMocks.get(r), parameters, templates };
}

const distribution = (extra: Partial<NonNullable<RecipeInput['distribution']>>) =>
  recipe({ distribution: { regions: [BUILD_REGION, 'eu-west-1'], ...extra } });

/** The state DistributeImage gets: the image, its wait output and the copies. */
const input = (r = recipe()) => ({
  bakeId: BAKE_ID,
  recipe: r,
  image: { imageId: IMAGES[BUILD_REGION] as string, region: BUILD_REGION, at: now().toISOString() },
  imageReady: {
    imageId: IMAGES[BUILD_REGION] as string,
    snapshotIds: ['snap-0source00000001'],
    at: now().toISOString(),
  },
  copies: [
    {
      region: 'eu-west-1',
      imageId: IMAGES['eu-west-1'] as string,
      snapshotIds: ['snap-0copyeu00000001'],
      at: now().toISOString(),
    },
  ],
});

describe('distributeImage', () => {
  it('makes no AWS call when the recipe distributes nothing', async () => {
    // Prepare
    const aws = fakeAws();

    // Act
    const result = await distributeImage(input(), aws.deps);

    // Assess
    expect(result).toEqual({ parameters: [], launchTemplates: [], at: now().toISOString() });
    for (const region of REGIONS) {
      expect(aws.mock(region).calls()).toHaveLength(0);
      expect(aws.ssmMock(region)?.calls()).toHaveLength(0);
    }
  });

  it("writes the parameter as an aws:ec2:image in every region, with that region's image", async () => {
    // Prepare: eu-west-1 already points at an older image.
    const aws = fakeAws();
    aws.parameters.get('eu-west-1')?.set('/ami-bake/web/latest', 'ami-0old00000000001');

    // Act
    const result = await distributeImage(
      input(distribution({ ssmParameter: '/ami-bake/web/latest' })),
      aws.deps,
    );

    // Assess
    for (const region of REGIONS) {
      expect(aws.parameters.get(region)?.get('/ami-bake/web/latest')).toBe(IMAGES[region]);
      expect(aws.ssmMock(region)).toHaveReceivedCommandWith(PutParameterCommand, {
        Name: '/ami-bake/web/latest',
        Type: 'String',
        DataType: 'aws:ec2:image',
        Overwrite: true,
      });
    }
    expect(result.parameters).toContainEqual({
      region: 'eu-west-1',
      architecture: 'x86_64',
      name: '/ami-bake/web/latest',
      imageId: IMAGES['eu-west-1'],
      previous: 'ami-0old00000000001',
    });
  });

  it('adds a launch template version from $Default with the image, and makes it the default only when asked', async () => {
    // Prepare
    const aws = fakeAws();

    // Act
    await distributeImage(
      input(distribution({ launchTemplates: [{ name: 'web', setDefault: true }, { name: 'web-canary' }] })),
      aws.deps,
    );

    // Assess
    for (const region of REGIONS) {
      expect(aws.mock(region)).toHaveReceivedCommandWith(CreateLaunchTemplateVersionCommand, {
        LaunchTemplateName: 'web',
        SourceVersion: '$Default',
        LaunchTemplateData: { ImageId: IMAGES[region] },
      });
      expect(aws.mock(region)).toHaveReceivedCommandExactlyOnceWith(ModifyLaunchTemplateCommand, {
        LaunchTemplateName: 'web',
        DefaultVersion: '2',
      });
    }
  });

  it('restores the parameters and removes the new versions and defaults when a region fails, then fails naming it', async () => {
    // Prepare: the build region's parameter is new, eu-west-1's had a value; eu-west-1 refuses the template.
    const aws = fakeAws({ failIn: 'eu-west-1' });
    aws.parameters.get('eu-west-1')?.set('/ami-bake/web/latest', 'ami-0old00000000001');

    // Act
    const failing = distributeImage(
      input(
        distribution({
          ssmParameter: '/ami-bake/web/latest',
          launchTemplates: [{ name: 'web', setDefault: true }],
        }),
      ),
      aws.deps,
    );

    // Assess
    await expect(failing).rejects.toThrow(DistributionFailedError);
    await expect(failing).rejects.toThrow(
      /launch template web in eu-west-1: UnauthorizedOperation.*restored/,
    );
    expect(aws.parameters.get(BUILD_REGION)?.has('/ami-bake/web/latest')).toBe(false);
    expect(aws.parameters.get('eu-west-1')?.get('/ami-bake/web/latest')).toBe('ami-0old00000000001');
    for (const region of REGIONS) {
      expect(aws.templates.get(region)).toEqual({
        versions: [{ n: 1, imageId: 'ami-0old00000000001' }],
        defaultVersion: 1,
      });
    }
  });

  it('keeps a transient error for the state to retry, once everything is restored', async () => {
    // Prepare
    const aws = fakeAws({ failIn: 'eu-west-1', failWith: 'RequestLimitExceeded' });

    // Act
    const failing = distributeImage(
      input(distribution({ ssmParameter: '/ami-bake/web/latest', launchTemplates: [{ name: 'web' }] })),
      aws.deps,
    );

    // Assess
    await expect(failing).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    expect(aws.parameters.get(BUILD_REGION)?.size).toBe(0);
  });
});

describe('parameterName', () => {
  it('puts the architecture in place of {architecture}', () => {
    expect(parameterName('/ami-bake/web/{architecture}/latest', { architecture: 'arm64' })).toBe(
      '/ami-bake/web/arm64/latest',
    );
  });
});
