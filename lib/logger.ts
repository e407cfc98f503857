import { Logger } from '@aws-lambda-powertools/logger';

/** The one structured logger. Handlers append the bake id; task tokens and user data are never logged. */
export const logger = new Logger({ serviceName: 'ami-bake' });
