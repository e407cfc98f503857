import { type CleanupReport, cleanupReportSchema } from '../state.js';

/** The report of a cleanup that removed nothing (yet), with the problems it met. */
export function emptyCleanupReport(problems: string[] = []): CleanupReport {
  return { terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems };
}

/**
 * A CleanupIncompleteError's message: the problems in words, then the whole report as JSON. The
 * message is the only part of a Lambda error that reaches the state machine (as the Cause), so
 * this is how the Bake Failed event still lists what the last, incomplete attempt removed.
 */
const MARKER = ' | report: ';

export function incompleteMessage(report: CleanupReport): string {
  return `${report.problems.join('; ')}${MARKER}${JSON.stringify(report)}`;
}

/** The report inside a CleanupIncompleteError's message, if it carries one. */
export function reportOf(message: string): CleanupReport | undefined {
  const at = message.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  try {
    const parsed = cleanupReportSchema.safeParse(JSON.parse(message.slice(at + MARKER.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
