import type { Accounts } from './account.js';
import { type Ec2State, handleEc2 } from './ec2.js';
import { awsError, credentialScope, ec2Error, type Reply } from './ec2-query.js';
import type { Ec2Model } from './model.js';
import type { CallRecord, FaultRule, Profile } from './profiles.js';
import type { FaultRules, Throttle } from './rules.js';
import type { Incoming, Upstream } from './server.js';

export interface Layer {
  upstream: Upstream;
  model: Ec2Model;
  accounts: Accounts;
  faults: FaultRules;
  throttle: Throttle;
  state: Ec2State;
  profile(): Profile;
  record(call: CallRecord): void;
}

/** Every call: recorded, throttled (EC2), faulted by rule, then forwarded with EC2's behaviour. */
export async function handle(layer: Layer, req: Incoming): Promise<Reply | 'drop'> {
  const { region, service } = credentialScope(req.headers.authorization);
  const json = req.headers['x-amz-target'] !== undefined;
  const form = json ? undefined : formOf(req);
  const action = json
    ? String(req.headers['x-amz-target']).split('.').pop() || ''
    : (form?.get('Action') ?? req.method);
  const call: CallRecord = { service, action, region, status: 0, at: Date.now() };
  layer.record(call);

  if (service === 'ec2' && !layer.throttle.take(layer.profile(), region, action)) {
    call.fault = 'throttled';
    return answered(call, ec2Error(503, 'RequestLimitExceeded', 'Request limit exceeded.'));
  }
  const rule = layer.faults.match(service, action, region, form);
  if (rule) call.fault = rule.effect;
  const error = () => awsError(service, json, rule?.error ?? { code: 'InternalError', status: 500 });
  switch (rule?.effect) {
    case 'error-before':
      return answered(call, error());
    case 'drop-before':
      return 'drop';
    case 'failed-entry':
      return answered(call, failedEntries(req, rule));
    case 'delay':
      await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
      break;
  }
  const forwardAs = (params: URLSearchParams) =>
    layer.upstream.send(req.method, req.path, req.headers, params.toString());
  const reply =
    service === 'ec2' && form
      ? await handleEc2({
          region,
          action,
          params: form,
          forward: forwardAs,
          upstream: layer.upstream,
          model: layer.model,
          accounts: layer.accounts,
          profile: layer.profile,
          state: layer.state,
        })
      : await layer.upstream.send(req.method, req.path, req.headers, req.body);
  if (rule?.effect === 'drop-after') return 'drop';
  if (rule?.effect === 'error-after') return answered(call, error());
  return answered(call, reply);
}

function answered(call: CallRecord, reply: Reply): Reply {
  call.status = reply.status;
  return reply;
}

function formOf(req: Incoming): URLSearchParams | undefined {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.includes('x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(req.body.toString('utf8'));
}

/** PutEvents answered 200 with every entry failed, as EventBridge does when it sheds load. */
function failedEntries(req: Incoming, rule: FaultRule): Reply {
  let count = 1;
  try {
    count = Math.max(1, (JSON.parse(req.body.toString()) as { Entries?: unknown[] }).Entries?.length ?? 1);
  } catch {
    // not JSON: one failed entry
  }
  const code = rule.error?.code ?? 'ThrottlingException';
  const message = rule.error?.message ?? `injected fault: ${code}`;
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({
      FailedEntryCount: count,
      Entries: Array.from({ length: count }, () => ({ ErrorCode: code, ErrorMessage: message })),
    }),
  };
}
