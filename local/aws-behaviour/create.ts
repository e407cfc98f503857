import { TAG } from '../../lib/tags.js';
import type { Ec2Context } from './ec2.js';
import {
  createTagsParams,
  ec2Error,
  ec2Params,
  type Reply,
  type TagSpecification,
  tagSpecificationsOf,
  withTagSpecifications,
} from './ec2-query.js';
import { child, parseXml, select, text } from './xml.js';

/** RunInstances, CreateImage and CopyImage as EC2 does them (the parts moto skips). */
export async function create(ctx: Ec2Context): Promise<Reply | undefined> {
  switch (ctx.action) {
    case 'RunInstances':
      return idempotent(ctx, () => runInstances(ctx, ctx.params));
    case 'CreateImage':
      return withUniqueName(ctx, () => createImage(ctx));
    case 'CopyImage':
      return idempotent(ctx, () => withUniqueName(ctx, () => copyImage(ctx)));
    default:
      return undefined;
  }
}

/**
 * RunInstances with these params; `relaunch`: EC2 fulfilling an existing persistent Spot request
 * again (local/aws-behaviour/spot.ts), which makes no new request.
 */
export async function runInstances(
  ctx: Ec2Context,
  params: URLSearchParams,
  relaunch = false,
): Promise<Reply> {
  const refused =
    (await ctx.accounts.marketplace.launchError(ctx.region, params)) ?? ctx.state.spot?.launchError(params);
  if (refused) return refused;
  const reply = await ctx.forward(params);
  if (reply.status !== 200) return reply;
  const ids: string[] = [];
  for (const item of select(parseXml(reply.body.toString()).root, 'instancesSet/item')) {
    const id = text(child(item, 'instanceId')) ?? '';
    await ctx.accounts.marketplace.launched(ctx.region, id, params.get('ImageId') ?? '');
    ctx.model.launched(ctx.region, id);
    ctx.accounts.launched(ctx.region, id, params);
    created(ctx, 'instance', id, params);
    ids.push(id);
  }
  if (!relaunch) ctx.state.spot?.launched(ctx.region, params, ids);
  return reply;
}

async function createImage(ctx: Ec2Context): Promise<Reply> {
  const specs = tagSpecificationsOf(ctx.params);
  const snapshotSpecs = specs.filter((s) => s.resourceType === 'snapshot');
  // moto answers 500 to a snapshot TagSpecification: forward the rest, tag the snapshots after.
  const params =
    snapshotSpecs.length > 0
      ? withTagSpecifications(
          ctx.params,
          specs.filter((s) => s.resourceType !== 'snapshot'),
        )
      : ctx.params;
  const reply = await ctx.forward(params);
  if (reply.status !== 200) return reply;
  const imageId = text(child(parseXml(reply.body.toString()).root, 'imageId')) ?? '';
  const snapshots = await snapshotsOf(ctx, imageId);
  await tag(ctx, snapshots, snapshotSpecs);
  ctx.model.imageCreated(ctx.region, imageId, snapshots, ctx.profile().durations.image);
  ctx.accounts.imaged(ctx.region, imageId, ctx.params.get('InstanceId') ?? '', snapshots);
  await ctx.accounts.marketplace.imaged(ctx.region, imageId, ctx.params.get('InstanceId') ?? '');
  created(ctx, 'image', imageId);
  return reply;
}

async function copyImage(ctx: Ec2Context): Promise<Reply> {
  const reply = await ctx.forward(ctx.params);
  if (reply.status !== 200) return reply;
  const imageId = text(child(parseXml(reply.body.toString()).root, 'imageId')) ?? '';
  const specs = tagSpecificationsOf(ctx.params);
  const snapshots = await snapshotsOf(ctx, imageId);
  // moto ignores CopyImage's TagSpecifications: apply them as EC2 would, at creation.
  await tag(
    ctx,
    [imageId],
    specs.filter((s) => s.resourceType === 'image'),
  );
  await tag(
    ctx,
    snapshots,
    specs.filter((s) => s.resourceType === 'snapshot'),
  );
  ctx.model.imageCreated(ctx.region, imageId, snapshots, ctx.profile().durations.copy);
  ctx.accounts.copied(ctx.region, imageId, ctx.params, snapshots);
  await ctx.accounts.marketplace.copied(
    ctx.region,
    imageId,
    ctx.params.get('SourceRegion') ?? ctx.region,
    ctx.params.get('SourceImageId') ?? '',
  );
  created(ctx, 'image', imageId);
  return reply;
}

/**
 * ClientToken per (region, action, token): a repeat gets the first answer and creates nothing;
 * the same token with other parameters is IdempotentParameterMismatch. Only successes are kept.
 */
async function idempotent(ctx: Ec2Context, work: () => Promise<Reply>): Promise<Reply> {
  const token = ctx.params.get('ClientToken');
  if (!token) return work();
  const key = `${ctx.region}/${ctx.action}/${token}`;
  const fingerprint = [...ctx.params]
    .filter(([k]) => k !== 'ClientToken')
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
  const seen = ctx.state.tokens.get(key);
  if (seen) {
    if (seen.fingerprint !== fingerprint) {
      return ec2Error(
        400,
        'IdempotentParameterMismatch',
        'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).',
      );
    }
    return seen.reply;
  }
  const reply = work();
  ctx.state.tokens.set(key, { fingerprint, reply });
  const settled = await reply.catch((e: unknown) => {
    ctx.state.tokens.delete(key);
    throw e;
  });
  if (settled.status !== 200) ctx.state.tokens.delete(key);
  return settled;
}

/** EC2 refuses a second image of the account with the same name in a region. */
async function withUniqueName(ctx: Ec2Context, work: () => Promise<Reply>): Promise<Reply> {
  const name = ctx.params.get('Name');
  if (!name) return work();
  const key = `${ctx.region}/${name}`;
  const duplicate = (id: string) =>
    ec2Error(400, 'InvalidAMIName.Duplicate', `AMI name ${name} is already in use by AMI ${id}`);
  if (ctx.state.namesInFlight.has(key)) return duplicate('(being created)');
  ctx.state.namesInFlight.add(key);
  try {
    const found = await ctx.upstream.ec2(
      ctx.region,
      ec2Params('DescribeImages', { 'Owner.1': 'self', 'Filter.1.Name': 'name', 'Filter.1.Value.1': name }),
    );
    const existing = select(parseXml(found.body.toString()).root, 'imagesSet/item/imageId')[0];
    if (existing) return duplicate(text(existing) ?? '');
    return await work();
  } finally {
    ctx.state.namesInFlight.delete(key);
  }
}

async function snapshotsOf(ctx: Ec2Context, imageId: string): Promise<string[]> {
  const reply = await ctx.upstream.ec2(ctx.region, ec2Params('DescribeImages', { 'ImageId.1': imageId }));
  return select(parseXml(reply.body.toString()).root, 'imagesSet/item/blockDeviceMapping/item/ebs/snapshotId')
    .map((e) => text(e) ?? '')
    .filter(Boolean);
}

async function tag(ctx: Ec2Context, resources: string[], specs: TagSpecification[]): Promise<void> {
  const tags = specs.flatMap((s) => s.tags);
  if (resources.length === 0 || tags.length === 0) return;
  const reply = await ctx.upstream.ec2(ctx.region, createTagsParams(resources, tags));
  if (reply.status !== 200) throw new Error(`CreateTags upstream answered ${reply.status}: ${reply.body}`);
}

function created(ctx: Ec2Context, kind: 'instance' | 'image', id: string, params = ctx.params): void {
  const bakeId = tagSpecificationsOf(params)
    .flatMap((s) => s.tags)
    .find((t) => t.key === TAG.bakeId)?.value;
  const action = params.get('Action') ?? ctx.action;
  ctx.state.created.push({ kind, region: ctx.region, id, action, bakeId, at: Date.now() });
}
