import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  catalogRegions,
  forwardedRegions,
  forwardRegions,
  matchesPattern,
  unforwardRegions,
} from '../lib/forwarding/forwarding.js';
import type { Recipe } from '../lib/recipe/schema.js';
import type { ResolvedRecipe } from '../lib/state.js';

/**
 * What `serverless deploy` creates in AWS, made in the emulator instead: the event bus, the wait
 * table, the builder's role, instance profile and security group; and what a fresh account
 * already has but the emulator lacks: the default VPC's route to its internet gateway. Idempotent.
 */
export interface LocalStack {
  busName: string;
  tableName: string;
  instanceProfile: string;
  securityGroupId: string;
}

// IAM, SQS and KMS are setup-only (the handlers never call them) and are imported when first used:
// loading a client's module costs tens of milliseconds before the first line of a bake.

const names = {
  bus: 'ami-bake',
  table: 'ami-bake-waits',
  profile: 'ami-bake-builder',
  group: 'ami-bake-builder',
};

/**
 * `forwardRegions`: the catalog's distribution regions, whose EC2 image events the stack forwards
 * to this region's default bus (the Ec2EventForwarding custom resource, same core).
 */
export async function provisionLocalStack(
  region: string,
  forwardRegions: readonly string[] = [],
): Promise<LocalStack> {
  const cfg = { region, maxAttempts: 1 };
  // Independent resources: made side by side, the setup costs its slowest part, not their sum.
  const [, , , securityGroupId] = await Promise.all([
    ignore(
      new EventBridgeClient(cfg).send(new CreateEventBusCommand({ Name: names.bus })),
      'ResourceAlreadyExistsException',
    ),
    waitTable(cfg),
    builderProfile(cfg),
    builderNetwork(new EC2Client(cfg)),
    provisionForwarding(region, forwardRegions),
  ]);
  return {
    busName: names.bus,
    tableName: names.table,
    instanceProfile: names.profile,
    securityGroupId,
  };
}

/** The local stack's name: the forwarding rules' prefix and stack tag, as STACK_NAME is deployed. */
const LOCAL_STACK = 'ami-bake-local';

async function forwardingSpec(homeRegion: string) {
  const { Arn } = await new EventBridgeClient({ region: homeRegion, maxAttempts: 1 }).send(
    new DescribeEventBusCommand({ Name: 'default' }),
  );
  if (!Arn) throw new Error(`the emulator has no default event bus in ${homeRegion}`);
  const account = Arn.split(':')[4];
  // The emulator does not check the role EventBridge would assume; its name is what AWS would see.
  return {
    homeRegion,
    stack: LOCAL_STACK,
    homeBusArn: Arn,
    roleArn: `arn:aws:iam::${account}:role/${LOCAL_STACK}-Ec2EventForwardingRole`,
  };
}

const regionalEvents = (region: string) => new EventBridgeClient({ region, maxAttempts: 1 });

/** Locally the recipe is the catalog: the regions the deployed stack would forward for it. */
export function forwardRegionsOf(recipe: ResolvedRecipe): string[] {
  return catalogRegions([{ file: 'recipe.yml', recipe }]);
}

/** The rules Ec2EventForwarding puts when the stack is deployed, put in the emulator by the same core. */
export async function provisionForwarding(homeRegion: string, regions: readonly string[]): Promise<string[]> {
  if (regions.every((r) => r === homeRegion)) return [];
  return forwardRegions(regions, await forwardingSpec(homeRegion), { events: regionalEvents });
}

/** Removes them (as deleting the stack would): a test shows what a region without forwarding does. */
export async function removeForwarding(homeRegion: string, regions: readonly string[]): Promise<string[]> {
  return unforwardRegions(regions, { homeRegion, stack: LOCAL_STACK }, { events: regionalEvents });
}

/**
 * Which EC2 events of other regions reach the home default bus, read from the emulator's rules:
 * the local runner delivers another region's event to resumeWait only when this says it would be
 * forwarded, as in AWS. Read once per bake (the rules change only when the stack does).
 */
export async function localForwarding(homeRegion: string, regions: readonly string[]) {
  // Rules that cannot be read (a fault injected on EventBridge) count as absent: the reconciler
  // still answers those waits, as it would for a region without forwarding.
  const forwarded = await forwardingSpec(homeRegion)
    .then((spec) => forwardedRegions(regions, spec, { events: regionalEvents }))
    .catch(() => new Map<string, Record<string, unknown>>());
  return {
    regions: [...forwarded.keys()],
    forwards(event: { region: string }): boolean {
      const pattern = forwarded.get(event.region);
      return pattern !== undefined && matchesPattern(pattern, event as unknown as Record<string, unknown>);
    },
  };
}

async function waitTable(cfg: { region: string; maxAttempts: number }): Promise<void> {
  const db = new DynamoDBClient(cfg);
  const created = await ignore(
    db.send(
      new CreateTableCommand({
        TableName: names.table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'resource', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'resource', KeyType: 'HASH' }],
      }),
    ),
    'ResourceInUseException',
  );
  if (created) {
    await db.send(
      new UpdateTimeToLiveCommand({
        TableName: names.table,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
  }
}

async function builderProfile(cfg: { region: string; maxAttempts: number }): Promise<void> {
  const { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } =
    await import('@aws-sdk/client-iam');
  const iam = new IAMClient(cfg);
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  await ignore(
    iam.send(
      new CreateRoleCommand({ RoleName: names.profile, AssumeRolePolicyDocument: JSON.stringify(trust) }),
    ),
    'EntityAlreadyExists',
  );
  const profile = await ignore(
    iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: names.profile })),
    'EntityAlreadyExists',
  );
  if (profile)
    await iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: names.profile, RoleName: names.profile }),
    );
}

/** The default VPC's way out, then the builder's security group in it. */
async function builderNetwork(ec2: EC2Client): Promise<string> {
  await defaultVpcInternetRoute(ec2);
  return securityGroup(ec2);
}

/**
 * A fresh AWS account's default VPC has an internet gateway and a 0.0.0.0/0 route to it in its
 * main route table; the emulator's has neither. ResolveRecipe checks the builder's way out
 * (lib/network/egress.ts), so the local default VPC is made to look like AWS's.
 */
async function defaultVpcInternetRoute(ec2: EC2Client): Promise<void> {
  const vpcId = await defaultVpcId(ec2);
  const { InternetGateways = [] } = await ec2.send(
    new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
  );
  let gatewayId = InternetGateways[0]?.InternetGatewayId;
  if (!gatewayId) {
    const { InternetGateway } = await ec2.send(new CreateInternetGatewayCommand({}));
    gatewayId = InternetGateway?.InternetGatewayId;
    if (!gatewayId) throw new Error('CreateInternetGateway returned no id');
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }));
  }
  const { RouteTables = [] } = await ec2.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'association.main', Values: ['true'] },
      ],
    }),
  );
  const main = RouteTables[0];
  if (!main?.RouteTableId) throw new Error('the emulator default VPC has no main route table');
  if (main.Routes?.some((r) => r.DestinationCidrBlock === '0.0.0.0/0')) return;
  await ec2.send(
    new CreateRouteCommand({
      RouteTableId: main.RouteTableId,
      DestinationCidrBlock: '0.0.0.0/0',
      GatewayId: gatewayId,
    }),
  );
}

async function defaultVpcId(ec2: EC2Client): Promise<string> {
  const { Vpcs = [] } = await ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  const vpcId = Vpcs[0]?.VpcId;
  if (!vpcId) throw new Error('the emulator has no default VPC');
  return vpcId;
}

/** A KMS alias the recipe names, in the region it must exist in. */
export interface RecipeKey {
  region: string;
  alias: string;
  keyId: string;
  created: boolean;
}

/**
 * The customer-managed keys a recipe names by alias (`distribution.kmsKeyIds`, and builder volume
 * keys in the build region), created in the emulator where missing, as an account owner creates
 * them once before sharing encrypted images (docs/recipes.md#sharing-encrypted-images). Key ids
 * and ARNs cannot be created under a chosen name: they are left alone, and ResolveRecipe reports
 * them if missing. Idempotent.
 */
export async function provisionRecipeKeys(
  recipe: Pick<Recipe, 'builder' | 'distribution'>,
  buildRegion: string,
): Promise<RecipeKey[]> {
  const wanted = new Map<string, { region: string; alias: string }>();
  const want = (region: string, key: string | undefined) => {
    if (key?.startsWith('alias/') && !key.startsWith('alias/aws/'))
      wanted.set(`${region} ${key}`, { region, alias: key });
  };
  for (const [region, key] of Object.entries(recipe.distribution.kmsKeyIds)) want(region, key);
  for (const volume of [recipe.builder.volumes.root, ...recipe.builder.volumes.ebs]) {
    if (volume?.encrypted) want(buildRegion, volume.kmsKeyId);
  }
  const keys: RecipeKey[] = [];
  if (wanted.size === 0) return keys;
  const { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } = await import(
    '@aws-sdk/client-kms'
  );
  for (const { region, alias } of wanted.values()) {
    const kms = new KMSClient({ region, maxAttempts: 1 });
    const existing = await ignore(kms.send(new DescribeKeyCommand({ KeyId: alias })), 'NotFoundException');
    const existingId = existing?.KeyMetadata?.KeyId;
    if (existingId) {
      keys.push({ region, alias, keyId: existingId, created: false });
      continue;
    }
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({
        Description: `ami-bake local: ${alias} for shared images`,
        KeyUsage: 'ENCRYPT_DECRYPT',
      }),
    );
    const keyId = KeyMetadata?.KeyId;
    if (!keyId) throw new Error(`CreateKey in ${region} returned no key id`);
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    keys.push({ region, alias, keyId, created: true });
  }
  return keys;
}

/** No inbound rules: nothing needs to reach the builder. Outbound open so the bootstrap can download. */
async function securityGroup(ec2: EC2Client): Promise<string> {
  const vpcId = await defaultVpcId(ec2);
  const { SecurityGroups = [] } = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [names.group] },
        { Name: 'vpc-id', Values: [vpcId] },
      ],
    }),
  );
  const existing = SecurityGroups[0]?.GroupId;
  if (existing) return existing;
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: names.group,
      Description: 'ami-bake builder: no inbound',
      VpcId: vpcId,
    }),
  );
  if (!GroupId) throw new Error('CreateSecurityGroup returned no id');
  await ignore(
    ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    ),
    'InvalidPermission.Duplicate',
  );
  return GroupId;
}

async function ignore<T>(promise: Promise<T>, errorName: string): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if ((error as Error).name.replace(/Exception$/, '') === errorName.replace(/Exception$/, ''))
      return undefined;
    throw error;
  }
}

/** An EventBridge rule → SQS queue that records what the bake publishes, as a subscriber would. */
export interface EventTap {
  read(): Promise<{ 'detail-type': string; source: string; detail: Record<string, unknown> }[]>;
  remove(): Promise<void>;
}

export async function tapEvents(
  region: string,
  busName: string,
  id: string,
  pattern: Record<string, unknown>,
): Promise<EventTap> {
  const cfg = { region, maxAttempts: 1 };
  const {
    CreateQueueCommand,
    DeleteMessageBatchCommand,
    DeleteQueueCommand,
    GetQueueAttributesCommand,
    ReceiveMessageCommand,
    SQSClient,
  } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient(cfg);
  const bridge = new EventBridgeClient(cfg);
  const name = `ami-bake-tap-${id}`.slice(0, 64);
  const queue = async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { QueueUrl, Attributes };
  };
  const [{ QueueUrl, Attributes }] = await Promise.all([
    queue(),
    bridge.send(
      new PutRuleCommand({ Name: name, EventBusName: busName, EventPattern: JSON.stringify(pattern) }),
    ),
  ]);
  await bridge.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: busName,
      Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }],
    }),
  );
  return {
    async read() {
      const events = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return events;
        events.push(...Messages.map((m) => JSON.parse(m.Body ?? '{}')));
        // Read once: a second read returns only what arrived since.
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    },
    async remove() {
      const rule = async () => {
        await bridge.send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ['queue'] }));
        await bridge.send(new DeleteRuleCommand({ Name: name, EventBusName: busName }));
      };
      await Promise.all([rule(), sqs.send(new DeleteQueueCommand({ QueueUrl }))]);
    },
  };
}
