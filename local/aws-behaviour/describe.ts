import type { Accounts } from './account.js';
import type { Ec2State } from './ec2.js';
import { type Filter, filtersOf, type Reply, withFilters, xmlReply } from './ec2-query.js';
import { type Ec2Model, INSTANCE_STATE_CODES } from './model.js';
import { child, children, parseXml, select, serializeXml, setText, text, type XmlElement } from './xml.js';

export interface DescribeContext {
  region: string;
  params: URLSearchParams;
  forward(params: URLSearchParams): Promise<Reply>;
  model: Ec2Model;
  accounts: Accounts;
  /** The layer's own records (image lifecycle), when the call came through handleEc2. */
  state?: Pick<Ec2State, 'lifecycle' | 'spot'>;
}

/**
 * Describe* answered from the layer's model: moto's states are already final, so the modelled
 * state replaces them, ids inside the consistency window are left out, and state filters (which
 * moto would apply to its final states) are applied here to the rewritten answer instead.
 */
export async function describe(action: string, ctx: DescribeContext): Promise<Reply | undefined> {
  const spec = specs[action];
  if (!spec) return undefined;
  const all = filtersOf(ctx.params);
  const local = all.filter((f) => spec.stateFilters.includes(f.name));
  const params = spec.request?.(ctx.params, ctx) ?? ctx.params;
  const reply = await ctx.forward(local.length > 0 ? withFilters(params, diff(all, local)) : params);
  if (reply.status !== 200) return reply;
  const doc = parseXml(reply.body.toString());
  await spec.enrich?.(doc.root, ctx);
  spec.rewrite(doc.root, ctx, local);
  return xmlReply(200, serializeXml(doc));
}

interface Spec {
  stateFilters: string[];
  /** The request as moto must see it (e.g. owners moto names otherwise). */
  request?(params: URLSearchParams, ctx: DescribeContext): URLSearchParams;
  /** What the answer lacks that takes a call of its own to know. */
  enrich?(root: XmlElement, ctx: DescribeContext): Promise<void>;
  rewrite(root: XmlElement, ctx: DescribeContext, filters: Filter[]): void;
}

const specs: Record<string, Spec> = {
  DescribeInstances: {
    stateFilters: ['instance-state-name', 'instance-state-code'],
    rewrite(root, { region, model, state: layer }, filters) {
      for (const set of children(root, 'reservationSet')) {
        for (const reservation of children(set, 'item')) {
          keepItems(child(reservation, 'instancesSet'), (item) => {
            const id = text(child(item, 'instanceId')) ?? '';
            if (model.invisible(region, id)) return false;
            layer?.spot?.rewriteInstance(region, item);
            const stateElement = child(item, 'instanceState');
            const state = model.instanceState(region, id);
            if (state && stateElement) {
              setText(stateElement, 'code', String(INSTANCE_STATE_CODES[state]));
              setText(stateElement, 'name', state);
            }
            return matches(filters, {
              'instance-state-name': text(child(stateElement, 'name')),
              'instance-state-code': text(child(stateElement, 'code')),
            });
          });
        }
        keepItems(set, (reservation) => select(reservation, 'instancesSet/item').length > 0);
      }
    },
  },
  DescribeImages: {
    stateFilters: ['state'],
    request: (params, { accounts }) => accounts.marketplace.request(params),
    enrich: (root, { region, params, accounts }) => accounts.marketplace.rewrite(region, root, params),
    rewrite(root, { region, model, accounts, state: layer }, filters) {
      keepItems(child(root, 'imagesSet'), (item) => {
        const id = text(child(item, 'imageId')) ?? '';
        if (model.invisible(region, id)) return false;
        const state = model.imageState(region, id);
        if (state) setText(item, 'imageState', state);
        layer?.lifecycle?.rewrite(region, item);
        for (const ebs of select(item, 'blockDeviceMapping/item/ebs')) {
          accounts.rewrite(region, text(child(ebs, 'snapshotId')) ?? '', ebs);
        }
        return matches(filters, { state: text(child(item, 'imageState')) });
      });
    },
  },
  DescribeSnapshots: {
    stateFilters: ['status'],
    rewrite(root, { region, model, accounts }, filters) {
      keepItems(child(root, 'snapshotSet'), (item) => {
        const id = text(child(item, 'snapshotId')) ?? '';
        const state = model.snapshotState(region, id);
        if (state) {
          setText(item, 'status', state);
          if (state === 'pending') setText(item, 'progress', '0%');
        }
        accounts.rewrite(region, id, item);
        return matches(filters, { status: text(child(item, 'status')) });
      });
    },
  },
};

function keepItems(set: XmlElement | undefined, keep: (item: XmlElement) => boolean): void {
  if (!set) return;
  set.children = set.children.filter((c) => typeof c === 'string' || c.name !== 'item' || keep(c));
}

/** EC2 filter semantics: every filter must match, any of its values. */
function matches(filters: Filter[], values: Record<string, string | undefined>): boolean {
  return filters.every((f) => f.values.includes(values[f.name] ?? ''));
}

function diff(all: Filter[], remove: Filter[]): Filter[] {
  return all.filter((f) => !remove.includes(f));
}
