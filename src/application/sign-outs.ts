import { GIVE_UP_AFTER_MS } from '../mail/retry-policy.js';
import type { NewLogoutNotice, OidcPayload, Store } from '../store/types.js';

/** An application a session signed in to, under the session id it was told (`sid`). */
export interface SignedInApplication {
  readonly clientId: string;
  readonly sid: string;
}

/** The applications a stored oidc-provider session signed in to, from its `authorizations`. */
export function applicationsOf(session: OidcPayload): SignedInApplication[] {
  const authorizations = (session.authorizations ?? {}) as Record<string, { sid?: unknown }>;
  return Object.entries(authorizations).flatMap(([clientId, { sid }]) => (typeof sid === 'string' ? [{ clientId, sid }] : []));
}

/**
 * Ending a person's sessions, and telling the applications they were signed in to (docs/rules.md,
 * "People leave"). Every way a session ends — signing out, "sign out every other session", a new
 * password from a reset link, an admin's Disable 2FA, suspension and deletion — comes here, so that
 * each application registered with a back-channel logout URI gets a logout token. What to send is
 * recorded in the store before the sessions are destroyed; the server's worker sends it, retries it,
 * and a restart loses none (src/provider/back-channel-logout.ts).
 */
export class SignOuts {
  readonly #listeners = new Set<(ids: readonly string[]) => void>();

  constructor(private readonly store: Pick<Store, 'oidc' | 'clients' | 'logoutNotices'>) {}

  /**
   * Ends every session of the account but `exceptSessionId`, with the grants, codes and tokens made
   * in them (and every other token of the account: admin API tokens, refresh tokens); returns how
   * many sessions ended.
   */
  async endSessions(accountId: string, exceptSessionId?: string): Promise<number> {
    const sessions = (await this.store.oidc.sessionsOf(accountId)).filter((session) => session.id !== exceptSessionId);
    await this.tellApplications(accountId, sessions.flatMap((session) => applicationsOf(session.payload)));
    return this.store.oidc.endSessionsOf(accountId, exceptSessionId);
  }

  /**
   * Records a logout notice for each of these sessions at an application that takes them (one with a
   * back-channel logout URI); at most one per session and application, however often this is called.
   */
  async tellApplications(accountId: string, applications: readonly SignedInApplication[]): Promise<void> {
    const listening = new Map<string, boolean>();
    for (const { clientId } of applications) {
      if (!listening.has(clientId)) listening.set(clientId, Boolean((await this.store.clients.find(clientId))?.backchannelLogoutUri));
    }
    const notices: NewLogoutNotice[] = applications.filter(({ clientId }) => listening.get(clientId)).map(({ clientId, sid }) => ({ clientId, accountId, sid }));
    if (notices.length === 0) return;
    const now = new Date();
    const ids = await this.store.logoutNotices.record(notices, now, new Date(now.getTime() + GIVE_UP_AFTER_MS));
    if (ids.length > 0) for (const listener of this.#listeners) listener(ids);
  }

  /** Calls `listener` with the ids of the notices recorded, so that this process's worker sends them at once. */
  onRecorded(listener: (ids: readonly string[]) => void): void {
    this.#listeners.add(listener);
  }
}
