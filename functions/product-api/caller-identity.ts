import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { CallerIdentitySource, type CallerIdentitySourceType } from '../../lib/product-api/contract';
import { ConfigurationError } from '../shared/config';
import { UnauthorizedError } from '../shared/errors';

/**
 * Who made a change, as API Gateway established it (never as the client claims it): the
 * construct's `authorization` decides the source. `apiKeyId` is added whenever the request
 * came with an API key, so a usage-plan client is known next to the authenticated caller.
 */
export interface Caller {
  readonly type: CallerIdentitySourceType;
  /** IAM principal ARN, Cognito `sub`, authorizer `principalId`, or API key id. */
  readonly id: string;
  readonly apiKeyId?: string;
}

export const callerSchema = z.object({
  type: z.enum([CallerIdentitySource.API_KEY, CallerIdentitySource.IAM, CallerIdentitySource.COGNITO, CallerIdentitySource.AUTHORIZER]),
  id: z.string().check(z.minLength(1), z.maxLength(2048)),
  apiKeyId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});

export function parseCallerIdentitySource(value: string): CallerIdentitySourceType {
  const sources = Object.values(CallerIdentitySource) as string[];
  if (!sources.includes(value)) throw new ConfigurationError(`CALLER_IDENTITY must be one of ${sources.join(', ')}, got '${value}'`);
  return value as CallerIdentitySourceType;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 2048 ? v : undefined);

/**
 * The caller of a request. A request without the identity its authorization must supply
 * is refused (401) rather than recorded as nobody: it means the method was reached some
 * other way than the construct set up (e.g. a method changed by hand).
 */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>, source: CallerIdentitySourceType): Caller {
  const context = event.requestContext ?? ({} as APIGatewayProxyEvent['requestContext']);
  const apiKeyId = text(context.identity?.apiKeyId);
  const authorizer = (context.authorizer ?? {}) as Record<string, any>;
  let id: string | undefined;
  switch (source) {
    case CallerIdentitySource.IAM: id = text(context.identity?.userArn); break;
    case CallerIdentitySource.COGNITO: id = text(authorizer.claims?.sub); break;
    case CallerIdentitySource.AUTHORIZER: id = text(authorizer.principalId); break;
    case CallerIdentitySource.API_KEY: id = apiKeyId; break;
  }
  if (!id) throw new UnauthorizedError(`The request carries no caller identity (${source}); changes are only accepted from identified callers`);
  return { type: source, id, ...(apiKeyId ? { apiKeyId } : {}) };
}
