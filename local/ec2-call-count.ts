/**
 * How a local bake's EC2 calls are counted (issue 8, target 2), shared by the e2e test that pins
 * the count (test/e2e/ec2-calls.test.ts) and the benchmark that reports it (bench/ec2-calls.ts).
 */
import { PROFILES, type Profile } from './aws-behaviour/index.js';

/**
 * The played builder's calls (local/builder.ts: it reads its user data, checks its subnet's way
 * out, tags its result and stops itself). On AWS these are the instance's own calls, made with its
 * instance profile, not the pipeline's; locally they pass through the same layer, so they are
 * subtracted. The layer does not record who made a call: keep this in step with local/builder.ts.
 */
export const PLAYED_BUILDER_EC2_CALLS: Readonly<Record<string, number>> = {
  DescribeInstances: 1,
  DescribeInstanceAttribute: 1,
  DescribeSubnets: 1,
  DescribeRouteTables: 2,
  CreateTags: 1,
  StopInstances: 1,
};

/**
 * The instant profile with EC2 events a second late (AWS delivers them seconds after the change).
 * With no delay, an AMI's "available" event races registerWait's PutItem, and whether resumeWait
 * also describes the image depends on which the emulator serves first.
 */
export const COUNTING_PROFILE: Profile = {
  ...PROFILES.instant,
  name: 'instant',
  events: { delay: [1, 1], duplicateProbability: 0 },
};
