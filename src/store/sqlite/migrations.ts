/**
 * Versioned schema migrations for the embedded store. `PRAGMA user_version` records how many have
 * run; each runs once, in its own transaction. Append new ones; never edit a released one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    site_admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_sign_in_at INTEGER
  );
  CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    force_two_factor INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE memberships (
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (organization_id, user_id)
  );
  CREATE INDEX memberships_by_user ON memberships (user_id);
  CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sealed_secret TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    first_party INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE oidc_models (
    model TEXT NOT NULL,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    grant_id TEXT,
    uid TEXT,
    user_code TEXT,
    expires_at INTEGER,
    PRIMARY KEY (model, id)
  );
  CREATE INDEX oidc_models_by_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_models_by_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_models_by_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX oidc_models_by_expiry ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;
  `,
  `
  ALTER TABLE oidc_models ADD COLUMN account_id TEXT;
  UPDATE oidc_models SET account_id = json_extract(payload, '$.accountId');
  CREATE INDEX oidc_models_by_account ON oidc_models (account_id) WHERE account_id IS NOT NULL;
  CREATE TABLE second_factors (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    enabled_at INTEGER NOT NULL,
    last_time_step INTEGER NOT NULL,
    recovery_key_id TEXT NOT NULL
  );
  CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES second_factors(user_id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    used_at INTEGER
  );
  CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);
  CREATE TABLE pending_enrollments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    sealed_secret TEXT,
    sealed_recovery_codes TEXT,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE attempts (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    locked_until INTEGER,
    forget_at INTEGER NOT NULL
  );
  CREATE INDEX attempts_by_forget_at ON attempts (forget_at);
  `,
  `
  CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    organization_id TEXT,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT,
    actor_email TEXT,
    target_id TEXT,
    target_email TEXT,
    ip TEXT,
    details TEXT NOT NULL
  );
  CREATE INDEX audit_events_by_organization ON audit_events (organization_id, at DESC);
  CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
  );
  `,
  `
  ALTER TABLE organizations ADD COLUMN federation TEXT;
  CREATE TABLE organization_domains (
    domain TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE
  );
  CREATE TABLE identity_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (issuer, user_id)
  );
  `,
  `
  ALTER TABLE users ADD COLUMN managed_by TEXT REFERENCES organizations(id) ON DELETE SET NULL;
  -- Accounts the federation sign-in made, or the operator made for it: no password, no site-admin
  -- rights, and one membership, in a federated organization. Every other account stays local.
  UPDATE users SET managed_by = (
    SELECT m.organization_id FROM memberships m JOIN organizations o ON o.id = m.organization_id
    WHERE m.user_id = users.id AND o.federation IS NOT NULL)
  WHERE password_hash IS NULL AND site_admin = 0
    AND (SELECT COUNT(*) FROM memberships m WHERE m.user_id = users.id) = 1;
  CREATE TABLE membership_invitations (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    invited_by TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (organization_id, user_id)
  );
  CREATE INDEX membership_invitations_by_user ON membership_invitations (user_id);
  `,
  `
  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    sealed_body TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    queued_at INTEGER NOT NULL,
    give_up_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    finished_at INTEGER
  );
  CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
  CREATE INDEX outbox_finished ON outbox (state, finished_at);
  CREATE INDEX audit_events_by_time ON audit_events (at);
  `,
  `
  ALTER TABLE organizations ADD COLUMN enforcement_started_at INTEGER;
  ALTER TABLE organizations ADD COLUMN grace_period_days INTEGER NOT NULL DEFAULT 0 CHECK (grace_period_days BETWEEN 0 AND 90);
  ALTER TABLE organizations ADD COLUMN remember_browser_days INTEGER NOT NULL DEFAULT 0 CHECK (remember_browser_days BETWEEN 0 AND 90);
  ALTER TABLE organizations ADD COLUMN apply_to TEXT NOT NULL DEFAULT 'all' CHECK (apply_to IN ('all', 'owners'));
  -- Organizations already enforcing: their start is not known, and their members were held to it at
  -- once, so the organization's creation stands in (a grace period set later gives no one more time).
  UPDATE organizations SET enforcement_started_at = created_at WHERE force_two_factor = 1;
  CREATE TABLE remembered_browsers (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX remembered_browsers_by_user ON remembered_browsers (user_id);
  CREATE TABLE deadline_reminders (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    deadline INTEGER NOT NULL,
    reminder TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, deadline, reminder)
  );
  CREATE TABLE adoption_snapshots (
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    members INTEGER NOT NULL,
    enrolled INTEGER NOT NULL,
    PRIMARY KEY (organization_id, day)
  );
  `,
  // Security keys: a second factor may have no app (its secret becomes nullable, which SQLite does
  // by rebuilding the table; the recovery codes are rebuilt first so that no cascade touches them).
  `
  CREATE TABLE second_factors_rebuilt (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed_secret TEXT,
    enabled_at INTEGER NOT NULL,
    last_time_step INTEGER NOT NULL,
    recovery_key_id TEXT NOT NULL
  );
  INSERT INTO second_factors_rebuilt SELECT user_id, sealed_secret, enabled_at, last_time_step, recovery_key_id FROM second_factors;
  CREATE TABLE recovery_codes_rebuilt (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES second_factors_rebuilt(user_id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    used_at INTEGER
  );
  INSERT INTO recovery_codes_rebuilt SELECT id, user_id, hash, used_at FROM recovery_codes ORDER BY rowid;
  DROP TABLE recovery_codes;
  DROP TABLE second_factors;
  ALTER TABLE second_factors_rebuilt RENAME TO second_factors;
  ALTER TABLE recovery_codes_rebuilt RENAME TO recovery_codes;
  CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);
  CREATE TABLE security_keys (
    credential_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES second_factors(user_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    counter INTEGER NOT NULL,
    transports TEXT NOT NULL,
    synced INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX security_keys_by_user ON security_keys (user_id);
  `,
  // The site admins' console: rotated client secrets with their grace period, back-channel logout, and
  // what oidc-provider issued to a client found by its id (to revoke it when the client is deleted).
  `
  ALTER TABLE clients ADD COLUMN previous_sealed_secret TEXT;
  ALTER TABLE clients ADD COLUMN previous_secret_expires_at INTEGER;
  ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
  ALTER TABLE oidc_models ADD COLUMN client_id TEXT;
  UPDATE oidc_models SET client_id = json_extract(payload, '$.clientId');
  CREATE INDEX oidc_models_by_client ON oidc_models (client_id) WHERE client_id IS NOT NULL;
  CREATE INDEX users_by_managed_by ON users (managed_by) WHERE managed_by IS NOT NULL;
  `,
  // People leave: suspension, erasure (which finds a person's rows by these indexes), and the queue
  // of logout tokens for the applications (whose back-channel logout URI the migration before added).
  `
  ALTER TABLE users ADD COLUMN suspended_at INTEGER;
  CREATE INDEX pending_enrollments_by_user ON pending_enrollments (user_id);
  CREATE INDEX outbox_by_recipient ON outbox (recipient);
  CREATE INDEX audit_events_by_actor ON audit_events (actor_id) WHERE actor_id IS NOT NULL;
  CREATE INDEX audit_events_by_target ON audit_events (target_id) WHERE target_id IS NOT NULL;
  CREATE TABLE logout_notices (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    queued_at INTEGER NOT NULL,
    give_up_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    finished_at INTEGER,
    UNIQUE (client_id, sid)
  );
  CREATE INDEX logout_notices_due ON logout_notices (state, next_attempt_at);
  CREATE INDEX logout_notices_finished ON logout_notices (state, finished_at);
  `,
  // Phishing-resistant sign-in and the e-mailed confirmation of a first set-up (docs/rules.md):
  // which factor an organization requires, since when keys are, and whether a first set-up needs the
  // e-mailed code (on by default, for the organizations that exist as for new ones).
  `
  ALTER TABLE organizations ADD COLUMN required_factor TEXT NOT NULL DEFAULT 'any' CHECK (required_factor IN ('any', 'security-key'));
  ALTER TABLE organizations ADD COLUMN keys_required_since INTEGER;
  ALTER TABLE organizations ADD COLUMN confirm_setup_by_email INTEGER NOT NULL DEFAULT 1 CHECK (confirm_setup_by_email IN (0, 1));
  `,
  // An organization's owners without reading its members: the challenge page of every sign-in names them.
  `
  CREATE INDEX memberships_owners ON memberships (organization_id, created_at) WHERE role = 'owner';
  `,
];
