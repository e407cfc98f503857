import type { Ec2Context } from './ec2.js';
import {
  ec2Error,
  filtersOf,
  listParam,
  type Reply,
  type TagSpecification,
  tagSpecificationsOf,
  xmlReply,
} from './ec2-query.js';
import { child, escapeXml, parseXml, select, setText, text, type XmlElement } from './xml.js';

type RequestState = 'open' | 'active' | 'disabled' | 'closed' | 'cancelled' | 'failed';

interface SpotRequest {
  id: string;
  region: string;
  type: 'one-time' | 'persistent';
  interruption: 'terminate' | 'stop' | 'hibernate';
  state: RequestState;
  status: string;
  instanceId?: string;
  tags: TagSpecification['tags'];
  /** The RunInstances parameters, for the instance a persistent request launches again. */
  launch: URLSearchParams;
  createdAt: string;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/**
 * Spot requests, which moto 5.2.5 does not make for RunInstances with InstanceMarketOptions (it
 * only marks the instance `spot`, and does not show that in DescribeInstances). As EC2 does
 * ("Spot Instance requests" in the EC2 user guide):
 * - RunInstances on Spot creates a request (tagged with the `spot-instances-request`
 *   TagSpecifications), `active` with the instance;
 * - StopInstances refuses a Spot instance of a one-time request (only a persistent request with
 *   interruption behaviour `stop` may be stopped), and a stopped instance's request is `disabled`;
 * - terminating the instance of a persistent request that is not cancelled makes EC2 launch a new
 *   instance for it (here at once, with the same launch parameters and tags);
 * - CancelSpotInstanceRequests cancels (the instance keeps running); DescribeSpotInstanceRequests
 *   answers with `tag:`, `state` and `spot-instance-request-id` filters.
 */
export class SpotRequests {
  private requests = new Map<string, SpotRequest>();
  private next = 1;

  /** Called by RunInstances after moto launched `instanceIds`; no-op for on-demand launches. */
  launched(region: string, params: URLSearchParams, instanceIds: string[]): void {
    if (params.get('InstanceMarketOptions.MarketType') !== 'spot') return;
    const type =
      params.get('InstanceMarketOptions.SpotOptions.SpotInstanceType') === 'persistent'
        ? 'persistent'
        : 'one-time';
    const interruption = (params.get('InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior') ??
      'terminate') as SpotRequest['interruption'];
    const tags = tagSpecificationsOf(params)
      .filter((s) => s.resourceType === 'spot-instances-request')
      .flatMap((s) => s.tags);
    for (const instanceId of instanceIds) {
      const id = `sir-${(this.next++).toString(16).padStart(8, '0')}`;
      this.requests.set(id, {
        id,
        region,
        type,
        interruption,
        state: 'active',
        status: 'fulfilled',
        instanceId,
        tags,
        launch: params,
        createdAt: new Date().toISOString(),
      });
    }
  }

  /** EC2 refuses a persistent request that terminates on interruption, and stop on a one-time one. */
  launchError(params: URLSearchParams): Reply | undefined {
    if (params.get('InstanceMarketOptions.MarketType') !== 'spot') return undefined;
    const type = params.get('InstanceMarketOptions.SpotOptions.SpotInstanceType') ?? 'one-time';
    const interruption = params.get('InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior');
    if (type === 'one-time' && interruption && interruption !== 'terminate') {
      return ec2Error(
        400,
        'InvalidParameterCombination',
        'The interruption behavior stop or hibernate is supported only for persistent Spot requests.',
      );
    }
    return undefined;
  }

  private of(region: string, instanceId: string): SpotRequest | undefined {
    return [...this.requests.values()].find((r) => r.region === region && r.instanceId === instanceId);
  }

  /** StopInstances: a Spot instance stops only when its request is persistent and stops on interruption. */
  stopError(region: string, instanceIds: string[]): Reply | undefined {
    for (const id of instanceIds) {
      const request = this.of(region, id);
      if (request && (request.type !== 'persistent' || request.interruption !== 'stop')) {
        return ec2Error(
          400,
          'UnsupportedOperation',
          `You can't stop the Spot Instance '${id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`,
        );
      }
    }
    return undefined;
  }

  /** After StopInstances: the persistent request of a stopped instance is `disabled` until it starts. */
  stopped(region: string, instanceIds: string[]): void {
    for (const id of instanceIds) {
      const request = this.of(region, id);
      if (request?.state !== 'active') continue;
      request.state = 'disabled';
      request.status = 'instance-stopped-by-user';
    }
  }

  /**
   * After TerminateInstances: a persistent request still open, active or disabled launches a new instance
   * (EC2 fulfils it again); a cancelled or one-time request is closed with its instance.
   */
  async terminated(
    ctx: Ec2Context,
    instanceIds: string[],
    relaunch: (params: URLSearchParams) => Promise<string[]>,
  ) {
    for (const id of instanceIds) {
      const request = this.of(ctx.region, id);
      if (!request) continue;
      if (request.type === 'persistent' && ['open', 'active', 'disabled'].includes(request.state)) {
        const params = new URLSearchParams(request.launch);
        params.delete('ClientToken');
        const [next] = await relaunch(params);
        request.instanceId = next;
        request.state = next ? 'active' : 'open';
        request.status = next ? 'fulfilled' : 'pending-fulfillment';
      } else if (request.state === 'cancelled') {
        request.status = 'instance-terminated-by-user';
      } else {
        request.state = 'closed';
        request.status = 'instance-terminated-by-user';
      }
    }
  }

  /** DescribeSpotInstanceRequests and CancelSpotInstanceRequests; undefined for other actions. */
  handle(region: string, action: string, params: URLSearchParams): Reply | undefined {
    if (action === 'DescribeSpotInstanceRequests') return this.describe(region, params);
    if (action === 'CancelSpotInstanceRequests') return this.cancel(region, params);
    return undefined;
  }

  /** DescribeInstances: the instance's lifecycle and request, which moto leaves out. */
  rewriteInstance(region: string, item: XmlElement): void {
    const request = this.of(region, text(child(item, 'instanceId')) ?? '');
    if (!request) return;
    setText(item, 'instanceLifecycle', 'spot');
    setText(item, 'spotInstanceRequestId', request.id);
  }

  private describe(region: string, params: URLSearchParams): Reply {
    const ids = listParam(params, 'SpotInstanceRequestId');
    const missing = ids.find((id) => !this.requests.has(id));
    if (missing) {
      return ec2Error(
        400,
        'InvalidSpotInstanceRequestID.NotFound',
        `The spot instance request ID '${missing}' does not exist`,
      );
    }
    const filters = filtersOf(params);
    const found = [...this.requests.values()].filter(
      (r) =>
        r.region === region &&
        (ids.length === 0 || ids.includes(r.id)) &&
        filters.every((f) => f.values.includes(filterValue(r, f.name) ?? '\u0000')),
    );
    const items = found.map((r) => {
      const tags = r.tags
        .map((t) => `<item><key>${escapeXml(t.key)}</key><value>${escapeXml(t.value)}</value></item>`)
        .join('');
      return (
        `<item><spotInstanceRequestId>${r.id}</spotInstanceRequestId><type>${r.type}</type>` +
        `<state>${r.state}</state><status><code>${r.status}</code></status>` +
        `<instanceInterruptionBehavior>${r.interruption}</instanceInterruptionBehavior>` +
        `${r.instanceId ? `<instanceId>${r.instanceId}</instanceId>` : ''}` +
        `<createTime>${r.createdAt}</createTime><tagSet>${tags}</tagSet></item>`
      );
    });
    return xmlReply(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeSpotInstanceRequestsResponse xmlns="${XMLNS}"><requestId>ami-bake-layer</requestId><spotInstanceRequestSet>${items.join('')}</spotInstanceRequestSet></DescribeSpotInstanceRequestsResponse>`,
    );
  }

  private cancel(region: string, params: URLSearchParams): Reply {
    const ids = listParam(params, 'SpotInstanceRequestId');
    const missing = ids.find((id) => this.requests.get(id)?.region !== region);
    if (missing) {
      return ec2Error(
        400,
        'InvalidSpotInstanceRequestID.NotFound',
        `The spot instance request ID '${missing}' does not exist`,
      );
    }
    const items = ids.map((id) => {
      const request = this.requests.get(id) as SpotRequest;
      if (request.state === 'open' || request.state === 'active' || request.state === 'disabled') {
        request.state = 'cancelled';
        request.status = request.instanceId
          ? 'request-canceled-and-instance-running'
          : 'canceled-before-fulfillment';
      }
      return `<item><spotInstanceRequestId>${id}</spotInstanceRequestId><state>${request.state}</state></item>`;
    });
    return xmlReply(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<CancelSpotInstanceRequestsResponse xmlns="${XMLNS}"><requestId>ami-bake-layer</requestId><spotInstanceRequestSet>${items.join('')}</spotInstanceRequestSet></CancelSpotInstanceRequestsResponse>`,
    );
  }
}

function filterValue(r: SpotRequest, name: string): string | undefined {
  if (name.startsWith('tag:')) return r.tags.find((t) => t.key === name.slice(4))?.value;
  if (name === 'state') return r.state;
  if (name === 'spot-instance-request-id') return r.id;
  if (name === 'instance-id') return r.instanceId;
  if (name === 'type') return r.type;
  return undefined;
}

/** The instance ids of a RunInstances answer. */
export function instanceIdsOf(reply: Reply): string[] {
  return select(parseXml(reply.body.toString()).root, 'instancesSet/item')
    .map((item) => text(child(item, 'instanceId')) ?? '')
    .filter(Boolean);
}
