import type { Accounts } from './account.js';
import { create, runInstances } from './create.js';
import { describe } from './describe.js';
import { ec2Error, listParam, type Reply, xmlReply } from './ec2-query.js';
import { ImageLifecycle } from './image-lifecycle.js';
import { InstanceTypeCatalog } from './instance-types.js';
import { LaunchTemplateVersions } from './launch-templates.js';
import { type Ec2Model, INSTANCE_STATE_CODES, type InstanceState } from './model.js';
import type { Profile } from './profiles.js';
import type { Upstream } from './server.js';
import { instanceIdsOf, SpotRequests } from './spot.js';
import { child, escapeXml, parseXml, select, serializeXml, setText, text } from './xml.js';

/** What the layer remembers across EC2 calls besides the model. */
export interface Ec2State {
  tokens: Map<string, { fingerprint: string; reply: Promise<Reply> }>;
  namesInFlight: Set<string>;
  consoles: Map<string, string>;
  /** Every resource created upstream (idempotent repeats create nothing and are not listed). */
  created: CreatedRecord[];
  /** Deprecation and deregistration protection per image (moto lacks both); made on first use. */
  lifecycle?: ImageLifecycle;
  /** Deleted launch template versions (moto lacks DeleteLaunchTemplateVersions); made on first use. */
  launchTemplates?: LaunchTemplateVersions;
  /** GetInstanceTypesFromInstanceRequirements (moto lacks it), from moto's own type data; made on first use. */
  instanceTypes?: InstanceTypeCatalog;
  /** Spot requests of Spot launches (moto makes none); made on first use. */
  spot?: SpotRequests;
}

export interface CreatedRecord {
  kind: 'instance' | 'image';
  region: string;
  id: string;
  action: string;
  /** The `ami-bake:bake-id` tag given at creation, if any. */
  bakeId?: string;
  at: number;
}

export function newEc2State(): Ec2State {
  return { tokens: new Map(), namesInFlight: new Set(), consoles: new Map(), created: [] };
}

export interface Ec2Context {
  region: string;
  action: string;
  params: URLSearchParams;
  /** Sends these params to moto with the caller's own headers. */
  forward(params: URLSearchParams): Promise<Reply>;
  upstream: Upstream;
  model: Ec2Model;
  accounts: Accounts;
  profile(): Profile;
  state: Ec2State;
}

/** One EC2 call, with the behaviour moto lacks. */
export async function handleEc2(ctx: Ec2Context): Promise<Reply> {
  const hidden = notYetVisible(ctx);
  if (hidden) return hidden;
  ctx.state.lifecycle ??= new ImageLifecycle(ctx.upstream);
  ctx.state.launchTemplates ??= new LaunchTemplateVersions(ctx.upstream);
  ctx.state.instanceTypes ??= new InstanceTypeCatalog(ctx.upstream);
  ctx.state.spot ??= new SpotRequests();
  const modelled =
    ctx.state.spot.handle(ctx.region, ctx.action, ctx.params) ??
    (await ctx.state.lifecycle.handle(ctx.region, ctx.action, ctx.params)) ??
    (await ctx.state.launchTemplates.handle(ctx.region, ctx.action, ctx.params, ctx.forward)) ??
    (await ctx.state.instanceTypes.handle(ctx.region, ctx.action, ctx.params));
  if (modelled) return modelled;
  const answered = (await create(ctx)) ?? (await describe(ctx.action, ctx));
  if (answered) return answered;
  const { durations } = ctx.profile();
  switch (ctx.action) {
    case 'StopInstances':
      return stopInstances(ctx, ctx.state.spot, durations.instanceStop);
    case 'StartInstances':
      return changeInstances(
        ctx,
        ['pending', 'stopping', 'shutting-down'],
        'pending',
        'running',
        durations.instanceLaunch,
      );
    case 'TerminateInstances':
      return alreadyTerminated(ctx) ?? terminateInstances(ctx, durations.instanceTerminate);
    case 'ModifyImageAttribute':
      return (await ctx.accounts.shareError(ctx.region, ctx.params)) ?? ctx.forward(ctx.params);
    case 'ModifySnapshotAttribute':
      return (await ctx.accounts.snapshotShareError(ctx.region, ctx.params)) ?? ctx.forward(ctx.params);
    case 'GetConsoleOutput':
      return consoleOutput(ctx);
    default:
      return ctx.forward(ctx.params);
  }
}

/** Eventual consistency: a new id named in a call answers NotFound until its window has passed. */
function notYetVisible(ctx: Ec2Context): Reply | undefined {
  for (const [name, id] of ctx.params) {
    const region = name === 'SourceImageId' ? (ctx.params.get('SourceRegion') ?? ctx.region) : ctx.region;
    if (!/^(InstanceId|ImageId|ResourceId)(\.\d+)?$|^SourceImageId$/.test(name)) continue;
    if (!ctx.model.invisible(region, id)) continue;
    return id.startsWith('i-')
      ? ec2Error(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`)
      : ec2Error(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
  }
  return undefined;
}

/**
 * Stop/Start/Terminate: refused in the states EC2 refuses, then the intermediate state at once
 * and the final one after the profile's duration (moto's instance is already final).
 */
async function changeInstances(
  ctx: Ec2Context,
  refusedIn: InstanceState[],
  via: InstanceState,
  to: InstanceState,
  awsSeconds: number,
): Promise<Reply> {
  const ids = listParam(ctx.params, 'InstanceId');
  for (const id of ids) {
    const state = ctx.model.instanceState(ctx.region, id);
    if (state && refusedIn.includes(state)) {
      return ec2Error(
        400,
        'IncorrectInstanceState',
        `The instance '${id}' is not in a state from which it can be ${ctx.action === 'StartInstances' ? 'started' : 'stopped'}.`,
      );
    }
  }
  const before = new Map(ids.map((id) => [id, ctx.model.instanceState(ctx.region, id)]));
  const reply = await ctx.forward(ctx.params);
  if (reply.status !== 200) return reply;
  const doc = parseXml(reply.body.toString());
  for (const item of select(doc.root, 'instancesSet/item')) {
    const id = text(child(item, 'instanceId')) ?? '';
    const previous = (before.get(id) ?? text(select(item, 'previousState/name')[0])) as
      | InstanceState
      | undefined;
    // Already there or on the way: EC2 changes nothing and sends no second event.
    if (previous !== to && previous !== via && previous !== 'terminated') {
      ctx.model.changed(ctx.region, id, via, to, awsSeconds);
    }
    const now = ctx.model.instanceState(ctx.region, id);
    setState(child(item, 'currentState'), now);
    setState(child(item, 'previousState'), previous);
  }
  return xmlReply(200, serializeXml(doc));
}

/** Stops; EC2 refuses a Spot instance that may not stop, and disables the request of one that does. */
async function stopInstances(ctx: Ec2Context, spot: SpotRequests, awsSeconds: number): Promise<Reply> {
  const ids = listParam(ctx.params, 'InstanceId');
  const refused = spot.stopError(ctx.region, ids);
  if (refused) return refused;
  const reply = await changeInstances(ctx, ['pending'], 'stopping', 'stopped', awsSeconds);
  if (reply.status === 200) spot.stopped(ctx.region, ids);
  return reply;
}

/** Terminates; a persistent Spot request that was not cancelled launches a new instance (spot.ts). */
async function terminateInstances(ctx: Ec2Context, awsSeconds: number): Promise<Reply> {
  const reply = await changeInstances(ctx, [], 'shutting-down', 'terminated', awsSeconds);
  if (reply.status !== 200) return reply;
  await ctx.state.spot?.terminated(ctx, listParam(ctx.params, 'InstanceId'), async (params) =>
    instanceIdsOf(await runInstances(ctx, params, true)),
  );
  return reply;
}

/**
 * TerminateInstances is idempotent in EC2: terminating a terminated instance again (a retry after
 * a lost response) answers its state. moto instead fails on the instance's deleted network
 * interface, so the layer answers for instances its model already saw end.
 */
function alreadyTerminated(ctx: Ec2Context): Reply | undefined {
  const ids = listParam(ctx.params, 'InstanceId');
  const states = ids.map((id) => ctx.model.instanceState(ctx.region, id));
  if (ids.length === 0 || !states.every((s) => s === 'terminated' || s === 'shutting-down')) return undefined;
  const items = ids.map((id, i) => {
    const state = states[i] as InstanceState;
    const code = INSTANCE_STATE_CODES[state];
    const st = `<code>${code}</code><name>${state}</name>`;
    return `<item><instanceId>${escapeXml(id)}</instanceId><currentState>${st}</currentState><previousState>${st}</previousState></item>`;
  });
  return xmlReply(
    200,
    `<?xml version="1.0" encoding="UTF-8"?>\n<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ami-bake-layer</requestId><instancesSet>${items.join('')}</instancesSet></TerminateInstancesResponse>`,
  );
}

function setState(element: ReturnType<typeof child>, state: InstanceState | undefined): void {
  if (!element || !state || !(state in INSTANCE_STATE_CODES)) return;
  setText(element, 'code', String(INSTANCE_STATE_CODES[state]));
  setText(element, 'name', state);
}

/** The played builder's serial console, base64 as EC2 returns it, instead of moto's canned log. */
async function consoleOutput(ctx: Ec2Context): Promise<Reply> {
  const reply = await ctx.forward(ctx.params);
  const written = ctx.state.consoles.get(`${ctx.region}/${ctx.params.get('InstanceId')}`);
  if (reply.status !== 200 || written === undefined) return reply;
  const doc = parseXml(reply.body.toString());
  setText(doc.root, 'output', Buffer.from(written, 'utf8').toString('base64'));
  setText(doc.root, 'timestamp', new Date().toISOString());
  return xmlReply(200, serializeXml(doc));
}
