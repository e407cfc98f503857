import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type CustomResourceRequest, forwardEvents } from '../../../functions/forward-events/core.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1'];
const clients = new Map(REGIONS.map((r) => [r, new EventBridgeClient({ region: r })]));
const mocks = new Map([...clients].map(([r, c]) => [r, mockClient(c)]));
const mock = (r: string) => mocks.get(r) as ReturnType<typeof mockClient>;
const events = (r: string) => clients.get(r) as EventBridgeClient;

const properties = (Regions: string[], Stack = 'ami-bake-ci') => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:ami-bake-ci-forwardEvents',
  Regions,
  Stack,
  HomeBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
  RoleArn: 'arn:aws:iam::123456789012:role/forward',
});

function request(overrides: Partial<CustomResourceRequest>): CustomResourceRequest {
  return {
    RequestType: 'Create',
    ResponseURL: 'https://cloudformation-custom-resource-response.s3.amazonaws.com/presigned',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/ami-bake-ci/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Ec2EventForwarding',
    ResourceProperties: properties(['us-east-1', 'eu-west-1', 'ap-southeast-2']),
    ...overrides,
  };
}

const respond = vi.fn(async () => undefined);
const deps = { events, homeRegion: 'us-east-1', respond };

beforeEach(() => {
  respond.mockClear();
  for (const m of mocks.values()) {
    m.reset();
    m.on(PutTargetsCommand).resolves({ FailedEntryCount: 0 });
  }
});

describe('forwardEvents (the Ec2EventForwarding custom resource)', () => {
  it('on create, forwards every catalog region but the home one and answers SUCCESS', async () => {
    // Act
    const response = await forwardEvents(request({}), deps);

    // Assess
    expect(response).toMatchObject({ Status: 'SUCCESS', Data: { Regions: 'eu-west-1,ap-southeast-2' } });
    expect(respond).toHaveBeenCalledWith(request({}).ResponseURL, response);
    expect(mock('eu-west-1')).toHaveReceivedCommand(PutRuleCommand);
    expect(mock('ap-southeast-2')).toHaveReceivedCommand(PutRuleCommand);
    expect(mock('us-east-1')).not.toHaveReceivedAnyCommand();
  });

  it('on update, forwards the new regions and stops forwarding the regions the catalog dropped', async () => {
    // Act
    await forwardEvents(
      request({
        RequestType: 'Update',
        PhysicalResourceId: 'ec2-event-forwarding-Ec2EventForwarding',
        ResourceProperties: properties(['eu-west-1', 'sa-east-1']),
        OldResourceProperties: properties(['eu-west-1', 'ap-southeast-2']),
      }),
      deps,
    );

    // Assess
    expect(mock('sa-east-1')).toHaveReceivedCommand(PutRuleCommand);
    expect(mock('ap-southeast-2')).toHaveReceivedCommand(DeleteRuleCommand);
    expect(mock('ap-southeast-2')).not.toHaveReceivedCommand(PutRuleCommand);
    expect(mock('eu-west-1')).not.toHaveReceivedCommand(DeleteRuleCommand);
  });

  it('on delete, removes the rules of every region and keeps the physical id', async () => {
    // Act
    const response = await forwardEvents(
      request({ RequestType: 'Delete', PhysicalResourceId: 'ec2-event-forwarding-Ec2EventForwarding' }),
      deps,
    );

    // Assess
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'ec2-event-forwarding-Ec2EventForwarding',
    });
    for (const r of ['eu-west-1', 'ap-southeast-2']) {
      expect(mock(r)).toHaveReceivedCommand(RemoveTargetsCommand);
      expect(mock(r)).toHaveReceivedCommand(DeleteRuleCommand);
    }
  });

  it('answers FAILED with the reason when a region refuses, so the stack does not hang for an hour', async () => {
    // Prepare
    mock('ap-southeast-2')
      .on(PutRuleCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    // Act
    const response = await forwardEvents(request({}), deps);

    // Assess
    expect(response).toMatchObject({ Status: 'FAILED', Reason: 'AccessDeniedException: not authorized' });
    expect(respond).toHaveBeenCalledTimes(1);
  });
});
