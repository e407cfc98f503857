import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { SsmSend } from '../../lib/aws/ssm.js';
import { DistributionFailedError, TRANSIENT_AWS_ERRORS } from '../../lib/errors.js';
import { ARCHITECTURE_TOKEN } from '../../lib/recipe/schema.js';
import type { Distributed, ResolvedRecipe } from '../../lib/state.js';
import { type BakedImage, bakedImages, type ImagesState } from '../../lib/workflow/images.js';

export interface DistributeDeps {
  ec2: (region: string) => Ec2Send;
  ssm: (region: string) => SsmSend;
  now: () => Date;
}

export type DistributeInput = ImagesState & {
  bakeId: string;
  recipe: Pick<ResolvedRecipe, 'distribution'>;
};

export type { Distributed };

/** A change made, and how to take it back. */
type Undo = { what: string; undo: () => Promise<void> };

/**
 * Points the recipe's SSM parameter and launch templates at the bake's images, in every region an
 * image is in and per architecture (bakedImages). A recipe that distributes nothing makes no AWS
 * call. If any change fails, every change already made is taken back (the previous parameter
 * value, the new template versions and defaults) before the state fails, so Cleanup removing the
 * images leaves nothing pointing at them.
 */
export async function distributeImage(input: DistributeInput, deps: DistributeDeps): Promise<Distributed> {
  const { ssmParameter, launchTemplates = [] } = input.recipe.distribution;
  const images = bakedImages(input);
  const done: Undo[] = [];
  const result: Distributed = { parameters: [], launchTemplates: [], at: '' };
  try {
    if (ssmParameter) {
      await settled(
        images.map((image) => writeParameter(image, parameterName(ssmParameter, image), deps, done, result)),
      );
    }
    for (const template of launchTemplates) {
      const chosen = imagesFor(template, images);
      await settled(chosen.map((image) => newVersion(image, template, input.bakeId, deps, done, result)));
    }
  } catch (error) {
    const problems = await undoAll(done);
    const e = error as Error;
    // Everything was taken back: a transient error is retried by the state, from a clean start.
    if (problems.length === 0 && (TRANSIENT_AWS_ERRORS as readonly string[]).includes(e.name)) throw error;
    const restored =
      problems.length === 0
        ? 'everything it had changed was restored'
        : `NOT restored: ${problems.join('; ')}`;
    throw new DistributionFailedError(`${e.message}; ${restored}`, { cause: error });
  }
  result.at = deps.now().toISOString();
  return result;
}

export function parameterName(template: string, image: Pick<BakedImage, 'architecture'>): string {
  return template.replaceAll(ARCHITECTURE_TOKEN, image.architecture);
}

type TemplateTarget = NonNullable<DistributeInput['recipe']['distribution']['launchTemplates']>[number];

/** A template's architecture's images; without one, the recipe's only architecture. */
function imagesFor(template: TemplateTarget, images: BakedImage[]): BakedImage[] {
  const architectures = [...new Set(images.map((i) => i.architecture))];
  const wanted = template.architecture ?? (architectures.length === 1 ? architectures[0] : undefined);
  if (!wanted) {
    throw new DistributionFailedError(
      `launch template ${template.name}: name its architecture (${architectures.join(', ')}): the recipe bakes several`,
    );
  }
  return images.filter((i) => i.architecture === wanted);
}

async function writeParameter(
  image: BakedImage,
  name: string,
  deps: DistributeDeps,
  done: Undo[],
  result: Distributed,
): Promise<void> {
  const ssm = deps.ssm(image.region);
  const step = <T>(what: string, call: () => Promise<T>) => named(`${what} ${name} in ${image.region}`, call);
  const previous = await step('reading parameter', async () => {
    try {
      return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') return undefined;
      throw error;
    }
  });
  // aws:ec2:image: SSM checks the image exists (with this role's ec2:DescribeImages) after answering.
  await step('writing parameter', () =>
    ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: image.imageId,
        Type: 'String',
        DataType: 'aws:ec2:image',
        Overwrite: true,
      }),
    ),
  );
  done.push({
    what: `parameter ${name} in ${image.region}`,
    undo: async () => {
      if (previous === undefined) await ssm.send(new DeleteParameterCommand({ Name: name }));
      else
        await ssm.send(
          new PutParameterCommand({
            Name: name,
            Value: previous,
            Type: 'String',
            DataType: 'aws:ec2:image',
            Overwrite: true,
          }),
        );
    },
  });
  result.parameters.push({
    region: image.region,
    architecture: image.architecture,
    name,
    imageId: image.imageId,
    ...(previous === undefined ? {} : { previous }),
  });
}

/**
 * A new version from the template's default version ($Default, not $Latest: what launches use
 * today, not a version someone staged without making it the default), with only the image changed.
 */
async function newVersion(
  image: BakedImage,
  template: TemplateTarget,
  bakeId: string,
  deps: DistributeDeps,
  done: Undo[],
  result: Distributed,
): Promise<void> {
  const ec2 = deps.ec2(image.region);
  const { name } = template;
  const step = <T>(what: string, call: () => Promise<T>) =>
    named(`${what} launch template ${name} in ${image.region}`, call);
  const created = await step('adding a version to', () =>
    ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: name,
        SourceVersion: '$Default',
        VersionDescription: `ami-bake ${bakeId}`.slice(0, 255),
        LaunchTemplateData: { ImageId: image.imageId },
      }),
    ),
  );
  const version = created.LaunchTemplateVersion?.VersionNumber ?? 0;
  done.push({
    what: `version ${version} of launch template ${name} in ${image.region}`,
    undo: async () => {
      const answer = await ec2.send(
        new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateName: name, Versions: [String(version)] }),
      );
      const refused = answer.UnsuccessfullyDeletedLaunchTemplateVersions?.[0];
      if (refused) throw new Error(`${refused.ResponseError?.Code}: ${refused.ResponseError?.Message}`);
    },
  });
  if (template.setDefault) {
    const { LaunchTemplates = [] } = await step('reading', () =>
      ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] })),
    );
    const before = LaunchTemplates[0]?.DefaultVersionNumber;
    await step('setting the default version of', () =>
      ec2.send(
        new ModifyLaunchTemplateCommand({ LaunchTemplateName: name, DefaultVersion: String(version) }),
      ),
    );
    done.push({
      what: `the default version of launch template ${name} in ${image.region}`,
      undo: async () => {
        await ec2.send(
          new ModifyLaunchTemplateCommand({ LaunchTemplateName: name, DefaultVersion: String(before) }),
        );
      },
    });
  }
  result.launchTemplates.push({
    region: image.region,
    architecture: image.architecture,
    name,
    imageId: image.imageId,
    version,
    isDefault: template.setDefault === true,
  });
}

/** Runs a call; its error keeps its name (the ASL's retriers match it) and says what was being done. */
async function named<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const e = error as Error;
    e.message = `${what}: ${e.name}: ${e.message}`;
    throw e;
  }
}

/** Waits for every region (so all their changes are known before any is undone), then fails with the first error. */
async function settled(calls: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(calls)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Takes back every change, newest first (a default version before the version itself). */
async function undoAll(done: Undo[]): Promise<string[]> {
  const problems: string[] = [];
  for (const { what, undo } of [...done].reverse()) {
    try {
      await undo();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  return problems;
}
