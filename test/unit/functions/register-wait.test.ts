import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { registerWait } from '../../../functions/register-wait/core.js';
import { memoryStore, mockedSfn, waitRequest } from '../waits/fakes.js';
import { now } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const client = new EC2Client({ region: 'eu-west-1' });
const ec2 = () => client;
const { sfn, sfnMock } = mockedSfn();
const request = waitRequest('image-available', 'eu-west-1', 'ami-0copyeu00000001', { budgetSeconds: 60 });

beforeEach(() => {
  ec2Mock.reset();
  sfnMock.reset();
});

describe('registerWait', () => {
  it('stores the token under the resource and keeps waiting while the image is pending', async () => {
    // Prepare
    const { store, records } = memoryStore();
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-0copyeu00000001', State: 'pending' }] });

    // Act
    const result = await registerWait(request, { store, sfn, ec2, now });

    // Assess
    expect(result).toEqual({
      resource: 'image-available#eu-west-1#ami-0copyeu00000001',
      deadline: '2026-11-26T04:48:42.123Z',
      answered: false,
    });
    expect(records.get(result.resource)?.taskToken).toBe('token-for-ami-0copyeu00000001');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('answers at once when the resource got there before the token was stored (no event will come)', async () => {
    // Prepare
    const { store, records } = memoryStore();
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-0copyeu00000001', State: 'available' }] });

    // Act
    const result = await registerWait(request, { store, sfn, ec2, now });

    // Assess
    expect(result.answered).toBe(true);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-for-ami-0copyeu00000001',
    });
    expect(records.size).toBe(0);
  });
});
