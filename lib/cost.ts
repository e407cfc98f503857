/**
 * What a bake costs to run, estimated from what the bake itself knows: its state transitions,
 * its Lambda invocations and the builder's running time. us-east-1 list prices (sources in
 * PRICE_SOURCES); other regions differ by a few percent. The bench (bench/cost.ts) measures the
 * same quantities from a local run; this estimate is what the BakeCost metric reports in AWS.
 */
export const PRICES = {
  transition: 0.025 / 1000,
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  customEvent: 1 / 1e6,
  dynamoWrite: 0.625 / 1e6,
  dynamoRead: 0.125 / 1e6,
  kmsRequest: 0.03 / 10_000,
};

export const PRICE_SOURCES = {
  transition: 'https://aws.amazon.com/step-functions/pricing/',
  lambda: 'https://aws.amazon.com/lambda/pricing/',
  instances: 'https://aws.amazon.com/ec2/pricing/on-demand/',
};

/**
 * On-demand Linux prices per hour in us-east-1 of the types builders commonly use. A type not
 * listed is priced at nothing and the estimate says so (`instancePriced: false`); the metric is
 * an estimate for trends and alarms, not a bill.
 */
export const INSTANCE_HOURLY_USD: Readonly<Record<string, number>> = {
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't4g.micro': 0.0084,
  't4g.small': 0.0168,
  't4g.medium': 0.0336,
  't4g.large': 0.0672,
  'm5.large': 0.096,
  'm6i.large': 0.096,
  'm7i.large': 0.1008,
  'm6g.large': 0.077,
  'm7g.large': 0.0816,
  'c5.large': 0.085,
  'c6i.large': 0.085,
  'c7i.large': 0.08925,
  'c6g.large': 0.068,
  'c7g.large': 0.0725,
};

/** Lambda memory of the pipeline's functions (serverless.yml provider.memorySize). */
export const LAMBDA_MEMORY_MB = 256;
/** A pipeline Lambda's typical billed duration, measured locally (docs/performance.md, cost). */
export const LAMBDA_TYPICAL_SECONDS = 0.1;

export interface BakeUsage {
  transitions: number;
  invocations: number;
  builderSeconds: number;
  instanceType?: string;
}

export interface BakeCost {
  usd: number;
  transitions: number;
  lambdaGbSeconds: number;
  builderSeconds: number;
  /** False when the builder's type is not in INSTANCE_HOURLY_USD: the instance part is missing. */
  instancePriced: boolean;
}

export function estimateBakeCost(usage: BakeUsage): BakeCost {
  const lambdaGbSeconds = usage.invocations * (LAMBDA_MEMORY_MB / 1024) * LAMBDA_TYPICAL_SECONDS;
  const hourly = usage.instanceType ? INSTANCE_HOURLY_USD[usage.instanceType] : undefined;
  const usd =
    usage.transitions * PRICES.transition +
    usage.invocations * PRICES.lambdaRequest +
    lambdaGbSeconds * PRICES.lambdaGbSecond +
    // EC2 bills Linux per second with a 60-second minimum.
    (hourly ?? 0) * (Math.max(60, usage.builderSeconds) / 3600);
  return {
    usd: Math.round(usd * 1e6) / 1e6,
    transitions: usage.transitions,
    lambdaGbSeconds: Math.round(lambdaGbSeconds * 1000) / 1000,
    builderSeconds: Math.round(usage.builderSeconds),
    instancePriced: hourly !== undefined,
  };
}
