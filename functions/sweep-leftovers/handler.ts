import { ec2 } from '../../lib/aws/ec2.js';
import { sfn } from '../../lib/aws/sfn.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { loadCatalog } from '../../lib/recipe/catalog.js';
import { sfnExecutions } from '../../lib/start/executions.js';
import { sweepEventSchema, sweepLeftovers } from './core.js';
import { sweepRegions } from './regions.js';

/** Scheduled every 6 hours; `{ "dryRun": true }` by hand reports without changing anything. */
export const handler = makeHandler(sweepEventSchema, async ({ dryRun }) => {
  const c = config();
  // Without it every bake, running or succeeded, would look as if it had no execution.
  if (!c.STATE_MACHINE_ARN) throw new Error('invalid function environment: STATE_MACHINE_ARN is not set');
  const executions = sfnExecutions(sfn(c.AWS_REGION), c.STATE_MACHINE_ARN);
  const { regions, problems } = await sweepRegions(c.AWS_REGION, c.SWEEP_EXTRA_REGIONS, () =>
    loadCatalog(c.RECIPES_DIR),
  );
  const report = await sweepLeftovers(
    { regions, graceHours: c.SWEEP_GRACE_HOURS, unknownBakes: c.SWEEP_UNKNOWN_BAKES, dryRun },
    { ec2, describeExecution: executions.describe, now: () => new Date() },
  );
  return { ...report, problems: [...problems, ...report.problems] };
});
