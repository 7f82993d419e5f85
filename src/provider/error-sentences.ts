/**
 * The sentence a person sees on the error page for an OAuth/OIDC error that cannot be sent back to
 * the relying party (unknown client, unregistered redirect URI, expired sign-in, …).
 */
const SENTENCES: Record<string, string> = {
  invalid_client: 'The application that sent you here is not registered with Twofold.',
  invalid_redirect_uri: 'The application asked to send you back to an address it has not registered.',
  invalid_request: 'The application sent a sign-in request that Twofold cannot accept.',
  unauthorized_client: 'The application is not allowed to sign you in this way.',
  unsupported_response_type: 'The application asked for a kind of sign-in that Twofold does not offer.',
  access_denied: 'The sign-in was cancelled.',
  session_not_found: 'This sign-in has expired or was opened in another browser. Go back to the application and sign in again.',
  server_error: 'Something went wrong on our side. Please try again in a moment.',
};

function ensureSentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  const capitalized = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalized) ? capitalized : `${capitalized}.`;
}

export function errorSentence(error: string | undefined, description: string | undefined): string {
  const sentence = SENTENCES[error ?? ''] ?? 'The sign-in request could not be completed.';
  if (error === 'server_error' || !description) return sentence;
  return `${sentence} Details for the application's developers: ${ensureSentence(description)}`;
}
