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
/** On a launch template: the stack whose DistributeImage may add versions to it (lib/tags.ts). */
const DISTRIBUTE_TAG = 'ami-bake:distribute';

const sub = (s) => ({ 'Fn::Sub': s });
const ec2Arn = (type) => sub(`arn:\${AWS::Partition}:ec2:*:\${AWS::AccountId}:${type}/*`);
// Images and snapshots have no account in their ARN.
const INSTANCE = ec2Arn('instance');
const VOLUME = ec2Arn('volume');
const NETWORK_INTERFACE = ec2Arn('network-interface');
const SPOT_REQUEST = ec2Arn('spot-instances-request');
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
  // A Spot builder's persistent request is cancelled before its instance is terminated, or EC2
  // would launch another (lib/cleanup/builders.ts); only requests carrying this stack's tag.
  const cancelSpot = onOwn('CancelOwnSpotRequests', ['ec2:CancelSpotInstanceRequests'], SPOT_REQUEST);
  const remove = [
    cancelSpot,
    onOwn('TerminateOwnInstances', ['ec2:TerminateInstances'], INSTANCE),
    // Lifting the protection FinalizeImage set (image.deregistrationProtection) comes first.
    onOwn('DeregisterOwnImages', ['ec2:DisableImageDeregistrationProtection', 'ec2:DeregisterImage'], IMAGE),
    onOwn('DeleteOwnSnapshots', ['ec2:DeleteSnapshot'], SNAPSHOT),
  ];
  const cleanup = [
    describe('DescribeInstances', 'DescribeImages', 'DescribeSnapshots', 'DescribeSpotInstanceRequests'),
    ...remove,
  ];
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
        // distribution.launchTemplates exist and are opted in, in every target region.
        'DescribeLaunchTemplates',
      ),
      // builder.requirements: which types fit (read-only, no resource-level permissions in EC2).
      allow('SizeBuilder', ['ec2:GetInstanceTypesFromInstanceRequirements'], '*'),
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
      // builder.spot: the persistent Spot request RunInstances creates, tagged with this stack.
      allow('LaunchOwnSpotRequests', ['ec2:RunInstances'], SPOT_REQUEST, ownRequest),
      // The first Spot launch in a fresh account creates EC2 Spot's service-linked role, with the
      // caller's permission (AuthFailure.ServiceLinkedRoleCreationNotPermitted otherwise): only that role.
      allow(
        'CreateSpotServiceLinkedRole',
        ['iam:CreateServiceLinkedRole'],
        sub(
          'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot',
        ),
        { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } },
      ),
      tagAtCreation('TagAtLaunch', 'RunInstances', [INSTANCE, VOLUME, SPOT_REQUEST]),
      ...ec2UsesKeys,
    ],
    registerWait: [...checkWaits, waitTable('PutItem', 'DeleteItem')],
    resumeWait: [...checkWaits, waitTable('GetItem', 'DeleteItem')],
    reconcileWaits: [
      ...checkWaits,
      waitTable('Scan', 'DeleteItem'),
      // Whether a bake whose wait ran out of budget is still running (the BakesOverBudget metric).
      allow('ReadBakeStatus', ['states:DescribeExecution'], executionsArn),
    ],
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
    finalizeImage: [
      onOwn(
        'ShareDeprecateProtectOwnImages',
        ['ec2:ModifyImageAttribute', 'ec2:EnableImageDeprecation', 'ec2:EnableImageDeregistrationProtection'],
        IMAGE,
      ),
      // Create-volume permission for the accounts the image is shared with (createVolumePermission).
      onOwn('ShareOwnSnapshots', ['ec2:ModifySnapshotAttribute'], SNAPSHOT),
    ],
    // Parameters only under /ami-bake/ (the recipe schema requires it), and only launch templates
    // their owner tagged `ami-bake:distribute` = this stack: a template is not the stack's own
    // resource, so its owner opts it in (ResolveRecipe checks the tag before a bake starts).
    // DescribeImages: SSM checks an aws:ec2:image value with the caller's permissions.
    distributeImage: [
      describe('DescribeImages', 'DescribeLaunchTemplates'),
      allow(
        'WriteOwnParameters',
        ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
        sub('arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/ami-bake/*'),
      ),
      allow(
        'VersionOptedInLaunchTemplates',
        ['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate', 'ec2:DeleteLaunchTemplateVersions'],
        ec2Arn('launch-template'),
        { StringEquals: { [`aws:ResourceTag/${DISTRIBUTE_TAG}`]: stack } },
      ),
    ],
    terminateBuilder: [
      describe('DescribeInstances', 'DescribeSpotInstanceRequests'),
      cancelSpot,
      onOwn('TerminateOwnBuilders', ['ec2:TerminateInstances'], INSTANCE),
    ],
    // Test instances: only from this stack's images (the one being tested), only tagged as this
    // stack's test instances, IMDSv2; the builder's network, groups and instance profile.
    launchTest: [
      allow('LaunchOwnTestInstances', ['ec2:RunInstances'], INSTANCE, {
        StringEquals: {
          [`aws:RequestTag/${STACK_TAG}`]: stack,
          'aws:RequestTag/ami-bake:role': 'test',
          'ec2:MetadataHttpTokens': 'required',
        },
      }),
      allow('LaunchFromOwnImages', ['ec2:RunInstances'], IMAGE, ownResource),
      // The volumes come from the image's snapshots, encrypted like them.
      allow('LaunchEncryptedVolumes', ['ec2:RunInstances'], VOLUME, {
        'Fn::If': ['AllowUnencryptedVolumes', { Ref: 'AWS::NoValue' }, { Bool: { 'ec2:Encrypted': 'true' } }],
      }),
      allow(
        'LaunchIntoNetworks',
        ['ec2:RunInstances'],
        [NETWORK_INTERFACE, ec2Arn('subnet'), ec2Arn('security-group')],
      ),
      allow(
        'PassBuilderRole',
        ['iam:PassRole'],
        { 'Fn::GetAtt': ['BuilderRole', 'Arn'] },
        { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      ),
      tagAtCreation('TagAtLaunch', 'RunInstances', [INSTANCE, VOLUME]),
      ...ec2UsesKeys,
    ],
    // Ends a passed test instance and records the pass: the one tag a role may add to an existing
    // resource, only that key and value, only on this stack's images and snapshots.
    terminateTest: [
      onOwn('TerminateOwnTestInstances', ['ec2:TerminateInstances'], INSTANCE),
      allow('RecordPassedTest', ['ec2:CreateTags'], [IMAGE, SNAPSHOT], {
        StringEquals: {
          [`aws:ResourceTag/${STACK_TAG}`]: stack,
          'aws:RequestTag/ami-bake:tested': 'passed',
        },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['ami-bake:tested'] },
      }),
    ],
    cleanup: [
      ...cleanup,
      // A request with several architectures stops its children that still run (lib/bakes/members.ts).
      allow('StopRequestMembers', ['states:StopExecution'], executionsArn),
    ],
    cleanupEnded: [
      ...cleanup,
      allow('ReadEndedBakes', ['states:DescribeExecution', 'states:GetExecutionHistory'], executionsArn),
      putEvents,
    ],
    startBake: [
      ...start,
      // Lambda's on-failure destination for starts that failed on the asynchronous paths
      // (resources/operations.yml): the function's role sends it.
      allow('DeadLetterFailedStarts', ['sqs:SendMessage'], {
        'Fn::GetAtt': ['StartBakeDeadLetterQueue', 'Arn'],
      }),
    ],
    api: [
      readParameters,
      // DescribeLaunchTemplateVersions and Auto Scaling: POST /recipes/{name}/retire checks uses.
      describe(
        'DescribeImages',
        'DescribeInstances',
        'DescribeSnapshots',
        'DescribeLaunchTemplateVersions',
        // A cancel of a Spot bake cancels its Spot requests before terminating its builder.
        'DescribeSpotInstanceRequests',
      ),
      allow(
        'ReadAutoScaling',
        ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLaunchConfigurations'],
        '*',
      ),
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
    // Retention: reads what could still use an image (all read-only, none takes a resource), and
    // removes only images and snapshots that carry this stack's tag. It never tags, and never turns
    // deregistration protection off. lib/retention/, docs/recipes.md#retention.
    retireImages: [
      describe('DescribeImages', 'DescribeInstances', 'DescribeLaunchTemplateVersions'),
      allow(
        'ReadAutoScaling',
        ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLaunchConfigurations'],
        '*',
      ),
      // The recipe's distribution.ssmParameter, which recipes may name only under /ami-bake/.
      allow(
        'ReadPublishedParameters',
        ['ssm:GetParameter'],
        sub('arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/ami-bake/*'),
      ),
      onOwn('DeregisterOwnImages', ['ec2:DeregisterImage'], IMAGE),
      onOwn('DeleteOwnSnapshots', ['ec2:DeleteSnapshot'], SNAPSHOT),
      putEvents,
    ],
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
                // X-Ray active tracing (lib/tracer.ts); these actions take no resource.
                allow('WriteTraces', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], '*'),
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
