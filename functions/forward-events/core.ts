import * as z from 'zod';
import {
  type ForwardingDeps,
  type ForwardingSpec,
  forwardRegions,
  unforwardRegions,
} from '../../lib/forwarding/forwarding.js';
import { logger } from '../../lib/logger.js';

/**
 * The custom resource Ec2EventForwarding (serverless.yml): CloudFormation stacks are regional,
 * so the stack's own function puts the forwarding rules in the other regions, on create and update
 * (to the regions of the packaged catalog), and removes them on update (regions dropped) and delete.
 */
const propertiesSchema = z.object({
  Regions: z.array(z.string()),
  Stack: z.string().min(1),
  HomeBusArn: z.string().startsWith('arn:'),
  RoleArn: z.string().startsWith('arn:'),
});

export const customResourceRequestSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResponseURL: z.string().url(),
  StackId: z.string(),
  RequestId: z.string(),
  LogicalResourceId: z.string(),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: z.record(z.string(), z.unknown()),
  OldResourceProperties: z.record(z.string(), z.unknown()).optional(),
});
export type CustomResourceRequest = z.infer<typeof customResourceRequestSchema>;

/** The body CloudFormation expects at ResponseURL. */
export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

export interface ForwardEventsDeps extends ForwardingDeps {
  homeRegion: string;
  respond: (url: string, body: CustomResourceResponse) => Promise<void>;
}

/** Always answers CloudFormation, FAILED with the reason included: otherwise the stack hangs for an hour. */
export async function forwardEvents(request: CustomResourceRequest, deps: ForwardEventsDeps) {
  let response: CustomResourceResponse;
  const physicalId = request.PhysicalResourceId ?? `ec2-event-forwarding-${request.LogicalResourceId}`;
  try {
    const data = await apply(request, deps);
    response = { ...ids(request), Status: 'SUCCESS', PhysicalResourceId: physicalId, Data: data };
  } catch (error) {
    const reason = `${(error as Error).name}: ${(error as Error).message}`;
    logger.error(`EC2 event forwarding ${request.RequestType} failed: ${reason}`, {
      errorName: (error as Error).name,
    });
    response = { ...ids(request), Status: 'FAILED', Reason: reason, PhysicalResourceId: physicalId };
  }
  await deps.respond(request.ResponseURL, response);
  return response;
}

async function apply(
  request: CustomResourceRequest,
  deps: ForwardEventsDeps,
): Promise<Record<string, string>> {
  const now = propertiesSchema.parse(request.ResourceProperties);
  const spec: ForwardingSpec = {
    homeRegion: deps.homeRegion,
    stack: now.Stack,
    homeBusArn: now.HomeBusArn,
    roleArn: now.RoleArn,
  };
  if (request.RequestType === 'Delete') {
    const removed = await unforwardRegions(now.Regions, spec, deps);
    logger.info('EC2 event forwarding removed', { regions: removed });
    return { Regions: removed.join(',') };
  }
  const forwarded = await forwardRegions(now.Regions, spec, deps);
  // Regions no longer in the catalog (or a renamed stage's rules) stop forwarding.
  const before = propertiesSchema.safeParse(request.OldResourceProperties);
  if (request.RequestType === 'Update' && before.success) {
    const dropped = before.data.Regions.filter((r) => !now.Regions.includes(r));
    const old = { homeRegion: deps.homeRegion, stack: before.data.Stack };
    const gone = before.data.Stack === now.Stack ? dropped : before.data.Regions;
    await unforwardRegions(gone, old, deps);
  }
  logger.info('EC2 event forwarding in place', { regions: forwarded });
  return { Regions: forwarded.join(',') };
}

function ids(r: CustomResourceRequest) {
  return { StackId: r.StackId, RequestId: r.RequestId, LogicalResourceId: r.LogicalResourceId };
}
