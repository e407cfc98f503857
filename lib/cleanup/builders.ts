import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { bakeFilter } from '../tags.js';

/**
 * The bake's builders that are not terminated or on their way, found by tag. Shared by
 * TerminateBuilder and the cleanup core, which both end them.
 */
export async function liveInstances(ec2: Ec2Send, bakeId: string): Promise<string[]> {
  const { Reservations = [] } = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        bakeFilter(bakeId),
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  return Reservations.flatMap((r) => r.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
}
