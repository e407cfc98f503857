import type * as z from 'zod';

/**
 * A `when` for a check across fields (of the recipe or of one part): it runs unless there is a
 * problem at, above or below a field it reads, so one run reports every problem. A field that
 * failed may hold anything; one that parsed has its defaults. Unknown keys change nothing.
 */
export function whenParsed(...fields: readonly string[]): z.core.$ZodSuperRefineParams {
  const related = (a: readonly PropertyKey[], field: string) =>
    a.slice(0, field.split('.').length).every((k, i) => String(k) === field.split('.')[i]);
  return {
    when: (payload) =>
      payload.value !== null &&
      typeof payload.value === 'object' &&
      !payload.issues.some(
        (i) => i.code !== 'unrecognized_keys' && fields.some((f) => related(i.path ?? [], f)),
      ),
  };
}
