// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript's.
/**
 * Serverless variable source: `resources: - ${file(scripts/function-roles.cjs)}` in serverless.yml.
 * One IAM role per function, allowing exactly the calls that function's code makes (read from
 * functions/<name>/ and the lib modules it imports). test/config/serverless-template.test.ts holds
 * the same table as a spec, and the boundary's properties; docs/security.md, "Permission boundary",
 * explains them. Plain CommonJS, no plugin: docs/decisions/0002-one-role-per-function.md.
 *
 * The boundary is the stack tag: every resource a bake creates is tagged `ami-bake:stack` =
 * `<service>-<stage>` at creation (lib/tags.ts), the pipeline's tags can be set only at creation,
 * and every call that changes or destroys an existing resource requires this stack's value, so one
 * stage can neither touch another stage's resources nor adopt a resource by tagging it.
 */

const STACK_TAG = 'ami-bake:stack';

const sub = (s) => ({ 'Fn::Sub': s });
const ec2Arn = (type) => sub(`arn:\${AWS::Partition}:ec2:*:\${AWS::AccountId}:${type}/*`);
// Images and snapshots have no account in their ARN.
const INSTANCE = ec2Arn('instance');
const VOLUME = ec2Arn('volume');
const NETWORK_INTERFACE = ec2Arn('network-interface');
const IMAGE = sub('arn:${AWS::Partition}:ec2:*::image/*');
const SNAPSHOT = sub('arn:${AWS::Partition}:ec2:*::snapshot/*');
const ANY_KEY = sub('arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*');

const allow = (Sid, Action, Resource, Condition) => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

/** The statements, by what a function does; `stack` is this stack's tag value. */
function statementsFor({ stack, stateMachineArn, executionsArn, busArn }) {
  const ownResource = { StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: stack } };
  const ownRequest = { StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: stack } };
  // Only the Describe calls a function makes: ec2:Describe* would include
  // DescribeInstanceAttribute, which reads any instance's user data. Describes take no resource.
  const describe = (...names) =>
    allow(
      'Describe',
      names.map((n) => `ec2:${n}`),
      '*',
    );
  // EC2 uses customer-managed keys on the function's behalf (encrypted volumes, copies); a grant
  // only for an AWS resource, so the function cannot hand the key to a principal of its choosing.
  const ec2UsesKeys = [
    allow('KmsGrantsForEc2', ['kms:CreateGrant'], ANY_KEY, {
      StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    }),
    allow(
      'KmsViaEc2',
      [
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
      ],
      ANY_KEY,
      { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } },
    ),
  ];
  const tagAtCreation = (Sid, action, resources) =>
    allow(Sid, ['ec2:CreateTags'], resources, { StringEquals: { 'ec2:CreateAction': action } });
  const onOwn = (Sid, actions, resources) => allow(Sid, actions, resources, ownResource);
  const putEvents = allow('PublishBakeEvents', ['events:PutEvents'], busArn);
  const waitTable = (...actions) =>
    allow(
      'WaitTable',
      actions.map((a) => `dynamodb:${a}`),
      { 'Fn::GetAtt': ['WaitTable', 'Arn'] },
    );
  // Task tokens are authorised against the state machine that issued them.
  const settleWaits = allow(
    'AnswerWaits',
    ['states:SendTaskSuccess', 'states:SendTaskFailure'],
    stateMachineArn,
  );
  const checkWaits = [
    describe('DescribeInstances', 'DescribeImages'),
    onOwn('ReadOwnConsoles', ['ec2:GetConsoleOutput'], INSTANCE),
    settleWaits,
  ];
  const remove = [
    onOwn('TerminateOwnInstances', ['ec2:TerminateInstances'], INSTANCE),
    onOwn('DeregisterOwnImages', ['ec2:DeregisterImage'], IMAGE),
    onOwn('DeleteOwnSnapshots', ['ec2:DeleteSnapshot'], SNAPSHOT),
  ];
  const cleanup = [describe('DescribeInstances', 'DescribeImages', 'DescribeSnapshots'), ...remove];
  // Base images: AWS public parameters, or the project's own under /ami-bake/ (docs/recipes.md).
  const readParameters = allow(
    'ReadParameters',
    ['ssm:GetParameter'],
    [
      sub('arn:${AWS::Partition}:ssm:*::parameter/aws/service/*'),
      sub('arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/ami-bake/*'),
    ],
  );
  const startBakes = allow('StartBakes', ['states:StartExecution', 'states:ListExecutions'], stateMachineArn);
  const start = [
    readParameters,
    describe('DescribeImages'),
    startBakes,
    allow('ReadBakes', ['states:DescribeExecution'], executionsArn),
    putEvents,
  ];

  return {
    resolveRecipe: [
      describe(
        'DescribeImages',
        'DescribeInstanceTypes',
        'DescribeInstanceTypeOfferings',
        'DescribeRouteTables',
        'DescribeSubnets',
        'DescribeVpcEndpoints',
      ),
      readParameters,
      // Checks the recipe's keys exist, are enabled and customer-managed: metadata only.
      allow('DescribeRecipeKeys', ['kms:DescribeKey'], ANY_KEY),
    ],
    publishEvent: [putEvents],
    launchBuilder: [
      // IMDSv2 and this stack's tag on the instance, as launch-builder sets them.
      allow('LaunchOwnBuilder', ['ec2:RunInstances'], INSTANCE, {
        StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: stack, 'ec2:MetadataHttpTokens': 'required' },
      }),
      // Encrypted volumes, unless the stage was deployed for public images (which AWS refuses
      // with encrypted snapshots): the `unencryptedVolumes` parameter.
      allow('LaunchEncryptedVolumes', ['ec2:RunInstances'], VOLUME, {
        'Fn::If': ['AllowUnencryptedVolumes', { Ref: 'AWS::NoValue' }, { Bool: { 'ec2:Encrypted': 'true' } }],
      }),
      // A public IP is the recipe's choice (builder.associatePublicIp, `auto` by default): IAM
      // cannot tell an allowed one from another, so the network interface is not conditioned.
      allow(
        'LaunchFromImagesIntoNetworks',
        ['ec2:RunInstances'],
        [
          IMAGE,
          NETWORK_INTERFACE,
          ec2Arn('subnet'),
          // A recipe may name its own groups (builder.securityGroupIds).
          ec2Arn('security-group'),
        ],
      ),
      allow(
        'PassBuilderRole',
        ['iam:PassRole'],
        { 'Fn::GetAtt': ['BuilderRole', 'Arn'] },
        {
          StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        },
      ),
      tagAtCreation('TagAtLaunch', 'RunInstances', [INSTANCE, VOLUME]),
      ...ec2UsesKeys,
    ],
    registerWait: [...checkWaits, waitTable('PutItem', 'DeleteItem')],
    resumeWait: [...checkWaits, waitTable('GetItem', 'DeleteItem')],
    reconcileWaits: [...checkWaits, waitTable('Scan', 'DeleteItem')],
    stopBuilder: [describe('DescribeInstances'), onOwn('StopOwnBuilders', ['ec2:StopInstances'], INSTANCE)],
    createImage: [
      describe('DescribeImages'),
      onOwn('ImageOwnBuilders', ['ec2:CreateImage'], INSTANCE),
      // The new image and snapshots have no tags yet: the request must give them this stack's.
      allow('CreateOwnImages', ['ec2:CreateImage'], [IMAGE, SNAPSHOT], ownRequest),
      tagAtCreation('TagAtImaging', 'CreateImage', [IMAGE, SNAPSHOT]),
      ...ec2UsesKeys,
    ],
    copyImage: [
      allow('CopyIntoOwnImages', ['ec2:CopyImage'], [IMAGE, SNAPSHOT], ownRequest),
      tagAtCreation('TagAtCopy', 'CopyImage', [IMAGE, SNAPSHOT]),
      ...ec2UsesKeys,
    ],
    // Only the sharing: the waits carry each image's state and snapshots, and CreateImage and
    // CopyImage gave the recipe's tags at creation, so no role tags an existing resource.
    finalizeImage: [onOwn('ShareOwnImages', ['ec2:ModifyImageAttribute'], IMAGE)],
    terminateBuilder: [
      describe('DescribeInstances'),
      onOwn('TerminateOwnBuilders', ['ec2:TerminateInstances'], INSTANCE),
    ],
    cleanup,
    cleanupEnded: [
      ...cleanup,
      allow('ReadEndedBakes', ['states:DescribeExecution', 'states:GetExecutionHistory'], executionsArn),
      putEvents,
    ],
    startBake: start,
    api: [
      readParameters,
      describe('DescribeImages', 'DescribeInstances', 'DescribeSnapshots'),
      startBakes,
      allow(
        'ManageBakes',
        ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
        executionsArn,
      ),
      putEvents,
      // A cancel removes what the bake created (lib/bakes/cancel.ts, lib/cleanup/core.ts).
      ...remove,
    ],
    sweepLeftovers: [...cleanup, allow('ReadBakes', ['states:DescribeExecution'], executionsArn)],
    // The Ec2EventForwarding custom resource: this stack's forwarding rule, in any region, and
    // the role EventBridge uses to deliver to the home bus (docs/decisions/0004-forward-ec2-events.md).
    forwardEvents: [
      allow(
        'ManageOwnForwardingRules',
        [
          'events:PutRule',
          'events:PutTargets',
          'events:RemoveTargets',
          'events:DeleteRule',
          'events:TagResource',
        ],
        sub(`arn:\${AWS::Partition}:events:*:\${AWS::AccountId}:rule/${forwardingRuleName(stack)}`),
      ),
      allow(
        'PassForwardingRole',
        ['iam:PassRole'],
        { 'Fn::GetAtt': [FORWARDING_ROLE, 'Arn'] },
        { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
      ),
    ],
  };
}

/** The role EventBridge assumes in the other regions to put EC2 image events on the home default bus. */
const FORWARDING_ROLE = 'Ec2EventForwardingRole';
// Keep in step with lib/forwarding/forwarding.ts (forwardingRuleName).
const forwardingRuleName = (stack) => `${stack}-forward-ec2-images`;

function forwardingRole() {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sts:AssumeRole',
            // Only EventBridge acting for this account (the confused-deputy guard).
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'put-events-on-home-default-bus',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allow(
                'ForwardToHomeDefaultBus',
                ['events:PutEvents'],
                sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'),
              ),
            ],
          },
        },
      ],
    },
  };
}

const pascal = (key) => `${key.charAt(0).toUpperCase()}${key.slice(1)}`;

module.exports = async function functionRoles({ resolveVariable }) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const busName = await resolveVariable('self:custom.eventBusName');
  const stack = `${service}-${stage}`;
  const statements = statementsFor({
    stack,
    // Built from the name, not a Ref: the state machine depends on the functions (serverless.yml).
    stateMachineArn: sub(
      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${stack}`,
    ),
    executionsArn: sub(
      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stack}:*`,
    ),
    busArn: sub([
      'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${BusName}',
      { BusName: { 'Fn::If': ['CreateEventBus', { Ref: 'EventBus' }, busName] } },
    ]),
  });
  const Resources = {};
  for (const [key, own] of Object.entries(statements)) {
    Resources[`${pascal(key)}LambdaRole`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        Policies: [
          {
            PolicyName: key,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                // The log group osls creates for the function (/aws/lambda/<service>-<stage>-<key>).
                allow(
                  'WriteOwnLogs',
                  ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  sub(
                    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${stack}-${key}:*`,
                  ),
                ),
                ...own,
              ],
            },
          },
        ],
      },
    };
  }
  Resources[FORWARDING_ROLE] = forwardingRole();
  return { Resources };
};

module.exports.statementsFor = statementsFor;
