// Security keys and passkeys (WebAuthn) need a script. When a form marked data-webauthn ("register"
// or "authenticate") is sent without a passcode or recovery code typed in it, ask the browser to use
// a key with the options the server put in data-webauthn-options, put the key's answer in the hidden
// field and send the form — with its CSRF token, as any other form. A form also marked
// data-webauthn-conditional (the sign-in page's passkey form) offers the browser's saved passkeys as
// the email field's autofill as soon as the page opens. Without this script the pages say what else to use.
const { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } = SimpleWebAuthnBrowser;

const NO_ANSWER = 'Your security key or passkey did not answer, or the request was cancelled. Try again, or use another way.';

/** Asks the key and sends the form with its answer; false when it did not answer. */
async function answerWithKey(form, answer, { autofill = false } = {}) {
  const optionsJSON = JSON.parse(form.dataset.webauthnOptions);
  const result = form.dataset.webauthn === 'register'
    ? await startRegistration({ optionsJSON })
    : await startAuthentication({ optionsJSON, useBrowserAutofill: autofill });
  answer.value = JSON.stringify(result);
  form.submit();
}

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
        await answerWithKey(form, answer);
      } catch {
        for (const button of buttons) button.disabled = false;
        if (error) {
          error.textContent = NO_ANSWER;
          error.hidden = false;
        }
      }
    });
    // A passkey picked from the autofill signs in like the button; a cancelled or unsupported
    // autofill says nothing (the person may simply type their email and password).
    if ('webauthnConditional' in form.dataset) {
      browserSupportsWebAuthnAutofill().then((supported) => (supported ? answerWithKey(form, answer, { autofill: true }) : undefined)).catch(() => undefined);
    }
  }
}
