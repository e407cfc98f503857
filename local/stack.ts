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
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Recipe } from '../lib/recipe/schema.js';

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

const names = {
  bus: 'ami-bake',
  table: 'ami-bake-waits',
  profile: 'ami-bake-builder',
  group: 'ami-bake-builder',
};

export async function provisionLocalStack(region: string): Promise<LocalStack> {
  const cfg = { region, maxAttempts: 1 };
  await ignore(
    new EventBridgeClient(cfg).send(new CreateEventBusCommand({ Name: names.bus })),
    'ResourceAlreadyExistsException',
  );
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
  const ec2 = new EC2Client(cfg);
  await defaultVpcInternetRoute(ec2);
  return {
    busName: names.bus,
    tableName: names.table,
    instanceProfile: names.profile,
    securityGroupId: await securityGroup(ec2),
  };
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
  const sqs = new SQSClient(cfg);
  const bridge = new EventBridgeClient(cfg);
  const name = `ami-bake-tap-${id}`.slice(0, 64);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await bridge.send(
    new PutRuleCommand({ Name: name, EventBusName: busName, EventPattern: JSON.stringify(pattern) }),
  );
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
      await bridge.send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ['queue'] }));
      await bridge.send(new DeleteRuleCommand({ Name: name, EventBusName: busName }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    },
  };
}
