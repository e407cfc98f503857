import * as z from 'zod';

/** What a callback wait is waiting for. */
export const WAIT_KINDS = ['instance-stopped', 'image-available'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

/** The payload registerWait receives from a `.waitForTaskToken` state. */
export const waitRequestSchema = z.object({
  taskToken: z.string().min(1),
  kind: z.enum(WAIT_KINDS),
  bakeId: z.string(),
  region: z.string(),
  resourceId: z.string(),
  budgetSeconds: z.number().int().min(1),
});
export type WaitRequest = z.infer<typeof waitRequestSchema>;

/** A stored wait: one per resource, so an EC2 event finds its token with one GetItem. */
export interface WaitRecord extends WaitRequest {
  resource: string;
  registeredAt: string;
  deadline: string;
  /** DynamoDB TTL (epoch seconds): records of waits nobody answered disappear a day after their budget. */
  expiresAt: number;
}

export type Verdict =
  | { status: 'pending' }
  | { status: 'success'; output: Record<string, unknown> }
  | { status: 'failure'; error: string; cause: string };

export function resourceKey(kind: WaitKind, region: string, resourceId: string): string {
  return `${kind}#${region}#${resourceId}`;
}
