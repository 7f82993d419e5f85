import crypto from 'node:crypto';
import type Provider from 'oidc-provider';

/** Equal-length digests, so the comparison takes the same time whatever was sent. */
const sameSecret = (a: string, b: string) => crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest());

/**
 * oidc-provider authenticates a confidential client by comparing what it sent with the secret in its
 * metadata — the current one. After a rotation the previous secret must keep working for the grace
 * period the admin chose (docs/security-model.md, "Client secrets"), so this provider's clients
 * compare with it too when the current one does not match. oidc-provider offers no option for this:
 * its Client class is made per provider, and `compareClientSecret` is the one method its client
 * authentication calls for `client_secret_basic` and `client_secret_post`.
 */
export function acceptPreviousClientSecrets(provider: Provider, previousSecret: (clientId: string) => Promise<string | null>): void {
  const prototype = provider.Client.prototype;
  const compareCurrent = prototype.compareClientSecret;
  prototype.compareClientSecret = async function compareClientSecret(this: InstanceType<Provider['Client']>, actual: string): Promise<boolean> {
    if (await compareCurrent.call(this, actual)) return true;
    const previous = await previousSecret(this.clientId);
    return previous !== null && sameSecret(previous, actual);
  };
}
