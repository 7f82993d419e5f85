/*
 * The records the application layer hands to pages, the API and the command line. They are the
 * store's shapes; upper layers import them from here so that nothing above this layer depends on the
 * store module.
 */
export type {
  AuditEvent,
  Client,
  Federation,
  MembershipInvitation,
  Organization,
  Role,
  User,
} from '../store/types.js';
export type { TwoFactorMode } from '../../config/index.js';
