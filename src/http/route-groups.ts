/**
 * The label metrics and the request log give a request: which part of Twofold answered it, by its
 * path's leading segments — never the path itself, which holds interaction, user and invitation ids.
 * The first prefix that matches a whole number of segments wins.
 */
const ROUTE_GROUPS: ReadonlyArray<readonly [prefix: string, group: string]> = [
  ['/healthz', 'healthz'],
  ['/readyz', 'readyz'],
  ['/metrics', 'metrics'],
  ['/static', 'static'],
  ['/interaction', 'interaction'],
  ['/account', 'account'],
  ['/admin/api', 'admin_api'],
  ['/admin', 'admin'],
  ['/invitation', 'invitation'],
  ['/password', 'password'],
  ['/not-me', 'not_me'],
  ['/federation', 'federation'],
  ['/demo', 'demo'],
  // oidc-provider's endpoints.
  ['/.well-known', 'discovery'],
  ['/auth', 'authorization'],
  ['/request', 'pushed_authorization'],
  ['/token/introspection', 'introspection'],
  ['/token/revocation', 'revocation'],
  ['/token', 'token'],
  ['/jwks', 'jwks'],
  ['/me', 'userinfo'],
  ['/session/end', 'end_session'],
];

export const ROUTE_GROUP_NAMES: readonly string[] = [...ROUTE_GROUPS.map(([, group]) => group), 'other'];

export function routeGroup(path: string): string {
  for (const [prefix, group] of ROUTE_GROUPS) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return group;
  }
  return 'other';
}
