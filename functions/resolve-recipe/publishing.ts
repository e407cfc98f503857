import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { SsmSend } from '../../lib/aws/ssm.js';
import { ARCHITECTURE_TOKEN, type Recipe } from '../../lib/recipe/schema.js';
import { DISTRIBUTE_TAG, fromTags } from '../../lib/tags.js';

export interface PublishingProblem {
  path: string;
  message: string;
}
type TemplateProblem = PublishingProblem;

/**
 * The recipe's parameter for this architecture, where it exists already, holds an image (data type
 * aws:ec2:image): SSM refuses to change a parameter's data type to or from aws:ec2:image, which
 * DistributeImage would only find out after the whole bake. A parameter that does not exist yet is
 * fine. One call per region, none without `distribution.ssmParameter`.
 */
export async function checkParameter(
  recipe: Pick<Recipe, 'distribution'>,
  architecture: string,
  buildRegion: string,
  ssm: (region: string) => SsmSend,
): Promise<PublishingProblem[]> {
  const template = recipe.distribution.ssmParameter;
  if (!template) return [];
  const regions = [...new Set([buildRegion, ...recipe.distribution.regions])];
  const names = [template.replaceAll(ARCHITECTURE_TOKEN, architecture)];
  const found = await Promise.all(
    regions.flatMap((region) =>
      names.map(async (name) => {
        try {
          const { Parameter } = await ssm(region).send(new GetParameterCommand({ Name: name }));
          if (Parameter?.DataType === 'aws:ec2:image') return undefined;
          return {
            path: 'distribution.ssmParameter',
            message: `${name} in ${region} exists with data type ${Parameter?.DataType ?? 'text'}; SSM cannot change it to aws:ec2:image: delete it or name another`,
          };
        } catch (error) {
          if ((error as Error).name === 'ParameterNotFound') return undefined;
          throw error;
        }
      }),
    ),
  );
  return found.filter((p): p is PublishingProblem => p !== undefined);
}

/**
 * Every launch template the recipe distributes to exists in every region the image will be in, and
 * its owner let this stack version it (the `ami-bake:distribute` tag its IAM condition requires):
 * better to refuse the recipe now than to fail in DistributeImage after the whole bake. No call
 * when the recipe names no template.
 */
export async function checkLaunchTemplates(
  recipe: Pick<Recipe, 'distribution'>,
  buildRegion: string,
  ec2: (region: string) => Ec2Send,
  stack: string,
): Promise<TemplateProblem[]> {
  const templates = recipe.distribution.launchTemplates ?? [];
  if (templates.length === 0) return [];
  const regions = [...new Set([buildRegion, ...recipe.distribution.regions])];
  const names = [...new Set(templates.map((t) => t.name))];
  const found = await Promise.all(
    regions.flatMap((region) =>
      names.map(async (name) => {
        const index = templates.findIndex((t) => t.name === name);
        const path = `distribution.launchTemplates.${index}.name`;
        try {
          const { LaunchTemplates = [] } = await ec2(region).send(
            new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }),
          );
          const owner = fromTags(LaunchTemplates[0]?.Tags)[DISTRIBUTE_TAG];
          if (LaunchTemplates.length === 0)
            return { path, message: `launch template ${name} does not exist in ${region}` };
          if (owner !== stack) {
            return {
              path,
              message: `launch template ${name} in ${region} must be tagged ${DISTRIBUTE_TAG}=${stack} to let this stack add versions to it`,
            };
          }
          return undefined;
        } catch (error) {
          if ((error as Error).name.startsWith('InvalidLaunchTemplateName')) {
            return { path, message: `launch template ${name} does not exist in ${region}` };
          }
          throw error;
        }
      }),
    ),
  );
  return found.filter((p): p is TemplateProblem => p !== undefined);
}
