import Router, { type RouterContext } from '@koa/router';
import { readForm } from '../src/http/forms.js';
import type { InteractionDependencies } from './dependencies.js';
import { grantConsent, showConsent, submitConsent } from './consent.js';
import { finishStep, loadInteraction } from './details.js';
import { finishFederatedLogin, showLogin, submitLogin, submitPasskey } from './login.js';
import {
  continueAfterSetup,
  openAccountAfterSignIn,
  downloadRecoveryCodes,
  showLoginChallenge,
  showLoginRecoveryPage,
  showRecoveryPage,
  showSecondFactor,
  submitChallenge,
  submitGrace,
  submitLoginChallenge,
  submitLoginRecovery,
  submitRecovery,
  submitSetup,
  showSecurityKeySetup,
  resendSetupEmailCode,
  submitSecurityKeySetup,
  submitSecurityKey,
  submitLoginSecurityKey,
} from './second-factor.js';
import { skipsConsent } from '../src/provider/first-party.js';
import { ORGANIZATION_PROMPT, SECOND_FACTOR_PROMPT } from '../src/provider/interaction-policy.js';
import { showNotAMember } from './organization.js';

/**
 * The interaction pages oidc-provider sends the browser to. Every form posts under
 * /interaction/<uid>, where the interaction cookie is scoped, and every POST re-reads the
 * interaction and checks it is at the step the form belongs to.
 */
export function interactionRouter(services: InteractionDependencies): Router {
  const router = new Router({ prefix: '/interaction/:uid' });

  router.get('/', async (ctx: RouterContext) => {
    const details = await loadInteraction(services, ctx);
    switch (details.prompt.name) {
      case 'login':
        return showLogin(services, ctx, details);
      case ORGANIZATION_PROMPT:
        return showNotAMember(services, ctx, details);
      case SECOND_FACTOR_PROMPT:
        return showSecondFactor(services, ctx, details);
      case 'consent': {
        if (skipsConsent(await services.provider.Client.find(String(details.params.client_id)))) return grantConsent(services, ctx, details);
        return showConsent(services, ctx, details);
      }
      default:
        throw new Error(`No page for the interaction prompt "${details.prompt.name}".`);
    }
  });

  router.post('/login', (ctx) => submitLogin(services, ctx));
  router.post('/passkey', (ctx) => submitPasskey(services, ctx));
  router.get('/federated', (ctx) => finishFederatedLogin(services, ctx));
  router.get('/login/challenge', (ctx) => showLoginChallenge(services, ctx));
  router.post('/login/challenge', (ctx) => submitLoginChallenge(services, ctx));
  router.get('/login/recovery', (ctx) => showLoginRecoveryPage(services, ctx));
  router.post('/login/recovery', (ctx) => submitLoginRecovery(services, ctx));
  router.post('/login/security-key', (ctx) => submitLoginSecurityKey(services, ctx));
  router.post('/consent', (ctx) => submitConsent(services, ctx));
  router.post('/setup', (ctx) => submitSetup(services, ctx));
  router.post('/grace', (ctx) => submitGrace(services, ctx));
  router.get('/setup/security-key', (ctx) => showSecurityKeySetup(services, ctx));
  router.post('/setup/security-key', (ctx) => submitSecurityKeySetup(services, ctx));
  router.post('/setup/email-code', (ctx) => resendSetupEmailCode(services, ctx));
  router.get('/recovery-codes.txt', (ctx) => downloadRecoveryCodes(services, ctx));
  router.post('/continue', (ctx) => continueAfterSetup(services, ctx));
  router.post('/account', (ctx) => openAccountAfterSignIn(services, ctx));
  router.post('/challenge', (ctx) => submitChallenge(services, ctx));
  router.post('/security-key', (ctx) => submitSecurityKey(services, ctx));
  router.get('/recovery', (ctx) => showRecoveryPage(services, ctx));
  router.post('/recovery', (ctx) => submitRecovery(services, ctx));
  router.post('/abort', async (ctx) => {
    const details = await loadInteraction(services, ctx);
    await readForm(ctx);
    await finishStep(details, ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  });

  return router;
}
