// Security keys and passkeys (WebAuthn) need a script. When a form marked data-webauthn ("register"
// or "authenticate") is sent without a passcode or recovery code typed in it, ask the browser to use
// a key with the options the server put in data-webauthn-options, put the key's answer in the hidden
// field and send the form — with its CSRF token, as any other form. Without this script the pages say
// what else to use.
const { browserSupportsWebAuthn, startAuthentication, startRegistration } = SimpleWebAuthnBrowser;

const NO_ANSWER = 'Your security key or passkey did not answer, or the request was cancelled. Try again, or use another way.';

if (browserSupportsWebAuthn()) {
  for (const note of document.querySelectorAll('[data-webauthn-unsupported]')) note.hidden = true;
  for (const button of document.querySelectorAll('[data-webauthn-submit]')) button.hidden = false;
  for (const form of document.querySelectorAll('form[data-webauthn]')) {
    const answer = form.querySelector('[data-webauthn-response]');
    const error = form.querySelector('[data-webauthn-error]');
    const codes = form.querySelectorAll('input[name$="passcode"], input[name$="recoveryCode"]');
    if (!answer) continue;
    form.addEventListener('submit', async (event) => {
      if (answer.value || [...codes].some((input) => input.value.trim() !== '')) return;
      event.preventDefault();
      const buttons = form.querySelectorAll('button');
      for (const button of buttons) button.disabled = true;
      try {
        const optionsJSON = JSON.parse(form.dataset.webauthnOptions);
        const result = form.dataset.webauthn === 'register' ? await startRegistration({ optionsJSON }) : await startAuthentication({ optionsJSON });
        answer.value = JSON.stringify(result);
        form.submit();
      } catch {
        for (const button of buttons) button.disabled = false;
        if (error) {
          error.textContent = NO_ANSWER;
          error.hidden = false;
        }
      }
    });
  }
}
