/**
 * Failures EC2 would report that the layer does not model (an image ending `failed`), played on
 * the handlers' own clients for one bake.
 */
/**
 * Plays EC2 failing an image: DescribeImages in that region reports the bake's copy (or, in the
 * build region, its new image) as failed. Returns the undo, so later bakes of the process are unaffected.
 */
export async function simulateImageFailures(regions: string[], buildRegion: string, bakeId: string) {
  const { ec2 } = await import('../lib/aws/ec2.js');
  const { TAG } = await import('../lib/tags.js');
  const name = `simulateImageFailure-${bakeId}`;
  for (const region of regions) {
    ec2(region).middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName !== 'DescribeImagesCommand') return result;
        type Image = { State?: string; StateReason?: unknown; Tags?: { Key?: string; Value?: string }[] };
        for (const image of (result.output as { Images?: Image[] }).Images ?? []) {
          const tag = (key: string) => image.Tags?.find((t) => t.Key === key)?.Value;
          if (tag(TAG.bakeId) !== bakeId) continue;
          if (region === buildRegion || tag(TAG.sourceRegion)) {
            image.State = 'failed';
            image.StateReason = {
              Code: 'Client.SimulatedFailure',
              Message: `simulated ${region === buildRegion ? 'image' : 'copy'} failure (--simulate-copy-failure ${region})`,
            };
          }
        }
        return result;
      },
      { step: 'initialize', name },
    );
  }
  return () => {
    for (const region of regions) ec2(region).middlewareStack.remove(name);
  };
}
