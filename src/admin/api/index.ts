import Router, { type RouterContext } from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../../config/index.js';
import { requireSiteWide } from '../../application/actor.js';
import type { Application } from '../../application/index.js';
import type { User } from '../../application/types.js';
import { UserError } from '../../errors.js';
import { readBody } from '../../http/body.js';
import type { Logger } from '../../log.js';
import { ACR } from '../../policy/acr.js';
import { meetsRule } from '../../policy/second-factor.js';
import { ADMIN_SCOPE, isAdminClient } from '../../self-service/built-in-clients.js';
import { openApiDocument, OPENAPI_PATH } from './openapi.js';
import { adminApiRoutes, type ApiRoute } from './routes.js';
import { NO_BODY, validateBody } from './schema.js';

export const API_PREFIX = '/admin/api';

const ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

class ApiError extends UserError {
  constructor(readonly code: string, message: string, status: number) {
    super(message, status);
  }
}

/** RFC 9470: the token's sign-in is not strong enough for what the rule requires today. */
const INSUFFICIENT_AUTHENTICATION = 'insufficient_user_authentication';

export interface AdminApiDependencies {
  readonly config: Config;
  readonly provider: Provider;
  readonly log: Logger;
  readonly application: Pick<Application, 'organizations' | 'organizationSetup' | 'members' | 'users' | 'clients' | 'site' | 'secondFactors' | 'signIns'>;
}

/**
 * The admin actions as JSON under /admin/api (docs/rules.md, "Organization administration"), for
 * automation. Authorized by bearer access tokens that Twofold issues with the `twofold:admin` scope;
 * the same application layer as the pages decides what the token's user may do. Errors are
 * `{ error, error_description }`.
 */
export function adminApi(dependencies: AdminApiDependencies): (ctx: Context, next: Next) => Promise<void> {
  const { config, log } = dependencies;
  const routes = adminApiRouter(dependencies).routes();
  return async function serveAdminApi(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== API_PREFIX && !ctx.path.startsWith(`${API_PREFIX}/`)) return next();
    ctx.set('Cache-Control', 'no-store');
    try {
      await routes(ctx as never, async () => {
        throw new ApiError('not_found', 'There is no such admin API endpoint.', 404);
      });
    } catch (error) {
      const status = error instanceof UserError ? error.status : 500;
      if (status >= 500) log.error('admin API request failed', { path: ctx.path, error: (error as Error).stack ?? String(error) });
      ctx.status = status;
      if (status === 401) {
        const code = error instanceof ApiError ? error.code : 'invalid_token';
        const stepUp = code === INSUFFICIENT_AUTHENTICATION ? `, acr_values="${ACR.twoFactor}"` : '';
        ctx.set('WWW-Authenticate', `Bearer realm="${config.issuer}", error="${code}", scope="${ADMIN_SCOPE}"${stepUp}`);
      }
      ctx.body = {
        error: error instanceof ApiError ? error.code : ERROR_CODES[status] ?? 'server_error',
        error_description: error instanceof UserError ? error.message : 'Something went wrong on our side.',
      };
    }
  };
}

/** `/organizations/{slug}` as @koa/router writes it: `/organizations/:slug`. */
const routerPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** Whether the request carries a body at all (a DELETE or a POST without one is fine). */
const sendsBody = (ctx: Context) => Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';

/** The JSON body, or {} when none was sent; anything but JSON is a 415. */
async function readJson(ctx: Context): Promise<unknown> {
  if (!sendsBody(ctx)) return {};
  if (!ctx.is('application/json')) throw new UserError('Send the body as application/json.', 415);
  const text = await readBody(ctx);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError('The body is not valid JSON.', 400);
  }
}

/**
 * The router, built from the table of routes (./routes.ts) that the OpenAPI document is also made
 * from. Each request: the token, then who may call the route, then the body against its schema, then
 * the handler — so a caller who may not act learns nothing from a body's mistakes.
 */
export function adminApiRouter({ config, provider, application }: AdminApiDependencies): Router {
  const { organizations, secondFactors, signIns } = application;
  const router = new Router({ prefix: API_PREFIX });

  const authenticate = async (ctx: Context): Promise<User> => {
    const header = ctx.get('authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!match) throw new ApiError('invalid_token', 'Send an access token: Authorization: Bearer <token>.', 401);
    const token = await provider.AccessToken.find(match[1]!);
    if (!token || token.isExpired) throw new ApiError('invalid_token', 'The access token is not valid or has expired.', 401);
    if (!isAdminClient(token.clientId) || !String(token.scope ?? '').split(' ').includes(ADMIN_SCOPE)) {
      throw new ApiError('insufficient_scope', `The access token lacks the ${ADMIN_SCOPE} scope: make one on the admin pages (Admin API access token).`, 403);
    }
    const user = token.accountId ? await signIns.account(token.accountId) : null;
    if (!user) throw new ApiError('invalid_token', 'The access token is not valid or has expired.', 401);
    // The rule holds for tokens as for pages: one made before the rule required a second factor opens nothing.
    const acr = (token.extra as { acr?: unknown } | undefined)?.acr;
    if (!meetsRule(await secondFactors.stepFor(user, { adminArea: true }, acr))) {
      throw new ApiError(INSUFFICIENT_AUTHENTICATION, 'This token was made by a sign-in without the second factor that is required now. Sign in to the admin pages again and make a new token.', 401);
    }
    return user;
  };

  const serve = (definition: ApiRoute) => async (ctx: RouterContext) => {
    const actor = await authenticate(ctx);
    const params = ctx.params as Record<string, string>;
    if (definition.access === 'site') requireSiteWide(actor);
    if (definition.access === 'organization') await organizations.get(actor, params.slug!);
    const body = validateBody(definition.body ?? NO_BODY, await readJson(ctx));
    const answer = await definition.handler({ actor, params, query: ctx.query, body, ip: ctx.ip });
    ctx.status = definition.status;
    ctx.body = answer;
  };

  const routes = adminApiRoutes(application);
  for (const definition of routes) router.register(routerPath(definition.path), [definition.method], serve(definition));
  // The description of the routes above is public, like this README's: it holds no data.
  const document = openApiDocument(routes, config.issuer);
  router.get(OPENAPI_PATH, (ctx) => {
    ctx.body = document;
  });
  return router;
}
