import type { ApiRoute } from './routes.js';

/** Where the document is served, below /admin/api. */
export const OPENAPI_PATH = '/openapi.json';

const ERROR = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR } } });

/** The answers every route may give besides its own, by who may call it. */
function errorResponses(route: ApiRoute): Record<string, unknown> {
  return {
    400: errorResponse('`invalid_request`: a body or query the route does not take, each mistake named in a sentence.'),
    401: errorResponse('`invalid_token`: no token, or not a valid one; `insufficient_user_authentication`: its sign-in no longer meets the rule (RFC 9470).'),
    403: errorResponse(route.access === 'site' ? '`forbidden`: only site admins may call it; `insufficient_scope`: not an admin API token.' : '`forbidden`: the rules refuse it; `insufficient_scope`: not an admin API token.'),
    ...(route.access === 'organization' || route.path.includes('{') ? { 404: errorResponse('`not_found`: no such organization, member or application, or not one you may manage.') } : {}),
    ...(route.method === 'GET' ? {} : {
      409: errorResponse('`conflict`: the state does not allow it (a slug taken, the last owner, a secret rotated meanwhile).'),
      413: errorResponse('`request_too_large`: a body over 64 KiB.'),
      415: errorResponse('`unsupported_media_type`: a body that is not application/json.'),
    }),
  };
}

const parametersOf = (route: ApiRoute) => [
  ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
  ...(route.query ?? []).map(({ name, schema }) => ({ name, in: 'query', required: false, description: schema.description, schema })),
];

const operationId = (route: ApiRoute) => `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, 'By-$1').split(/[/-]/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')}`;

function operation(route: ApiRoute): Record<string, unknown> {
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.access === 'site' ? 'Site console' : 'Organizations'],
    ...(parametersOf(route).length ? { parameters: parametersOf(route) } : {}),
    ...(route.body ? { requestBody: { required: route.body.required.length > 0, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: {
      [route.status]: { description: route.answers, content: { 'application/json': { schema: { type: 'object' } } } },
      ...errorResponses(route),
    },
  };
}

/**
 * The OpenAPI 3.1 description of the admin API, made from the same table of routes the router is
 * built from: each route's path, method, parameters, body schema (JSON Schema, as the router checks
 * it) and answers. Nothing here is written by hand a second time.
 */
export function openApiDocument(routes: readonly ApiRoute[], issuer: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route);
  paths[OPENAPI_PATH] = {
    get: {
      operationId: 'getOpenApiDocument',
      summary: 'This document',
      tags: ['Documentation'],
      security: [],
      responses: { 200: { description: 'The OpenAPI 3.1 description of the admin API.', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Twofold admin API',
      version: '1',
      description: 'The organization owners\' and site admins\' actions, for automation. Make a token on the admin pages (API access token); it acts as you, with exactly what you may do there, for one hour.',
    },
    servers: [{ url: `${issuer}/admin/api` }],
    security: [{ adminToken: [] }],
    tags: [
      { name: 'Organizations', description: 'What owners (and site admins) do to their organizations.' },
      { name: 'Site console', description: 'Site admins only: organizations, applications, users and the site-wide mode.' },
      { name: 'Documentation' },
    ],
    paths,
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'An access token with the twofold:admin scope, made on the admin pages.' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'error_description'],
          properties: {
            error: { type: 'string', description: 'A code: invalid_request, invalid_token, insufficient_user_authentication, insufficient_scope, forbidden, not_found, conflict, request_too_large, unsupported_media_type.' },
            error_description: { type: 'string', description: 'A sentence saying what is wrong and what to do.' },
          },
        },
      },
    },
  };
}
