import * as z from 'zod';
import { whenParsed } from './when-parsed.js';

/** EventBridge Scheduler `rate()`: a whole number of minutes, hours or days; singular only with 1. */
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
/** Day-of-month and day-of-week: exactly one of them must be `?` in an AWS cron expression. */
const CRON_FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;

function scheduleExpressionProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    const m = RATE.exec(expression);
    if (!m) return 'rate must be rate(N minutes|hours|days), for example rate(1 day) or rate(12 hours)';
    const n = Number(m[1]);
    const unit = m[2] ?? '';
    if (n < 1) return 'rate must be at least 1';
    if (n === 1 && unit.endsWith('s'))
      return `write rate(1 ${unit.slice(0, -1)}): the unit is singular for 1`;
    if (n > 1 && !unit.endsWith('s')) return `write rate(${n} ${unit}s): the unit is plural above 1`;
    return undefined;
  }
  if (expression.startsWith('cron(')) {
    const inner = /^cron\((.*)\)$/.exec(expression)?.[1]?.trim();
    const fields = inner ? inner.split(/\s+/) : [];
    if (fields.length !== 6)
      return `cron needs exactly 6 fields (${CRON_FIELDS.join(' ')}), got ${fields.length}; for example cron(0 3 ? * SUN *)`;
    const bad = fields.findIndex((f) => !/^[0-9A-Za-z*?,/#-]+$/.test(f));
    if (bad >= 0) return `cron field ${CRON_FIELDS[bad]} has an unexpected character: ${fields[bad]}`;
    if ((fields[2] === '?') === (fields[4] === '?'))
      return 'cron needs ? in exactly one of day-of-month and day-of-week, for example cron(0 3 ? * SUN *)';
    return undefined;
  }
  return 'must be rate(...) or cron(...), for example cron(0 3 ? * SUN *)';
}

/** IANA names as the runtime's ICU knows them; EventBridge Scheduler takes the same names. */
function timezoneProblem(timezone: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as UTC or Europe/Berlin`;
  }
  if (resolved !== timezone && resolved.toLowerCase() === timezone.toLowerCase())
    return `write the time zone as ${resolved}`;
  return undefined;
}

const scheduleFieldsParsed = whenParsed('expression', 'timezone');

export const scheduleSchema = z
  .strictObject({
    expression: z
      .string()
      .describe('rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year).'),
    timezone: z.string().default('UTC').describe('IANA time zone of a cron expression, e.g. Europe/Berlin.'),
    enabled: z.boolean().default(true).describe('false keeps the schedule in the recipe but deploys none.'),
  })
  .superRefine((s, ctx) => {
    const expression = scheduleExpressionProblem(s.expression);
    if (expression) ctx.addIssue({ code: 'custom', path: ['expression'], message: expression });
    const timezone = timezoneProblem(s.timezone);
    if (timezone) ctx.addIssue({ code: 'custom', path: ['timezone'], message: timezone });
  }, scheduleFieldsParsed);

export type Schedule = z.output<typeof scheduleSchema>;
