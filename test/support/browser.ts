/**
 * A minimal browser for HTTP flow tests: real requests with fetch, redirects walked by hand, and a
 * cookie jar that honours cookie paths (oidc-provider scopes its interaction cookies by path).
 */
interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** Cookies belong to a host (not a port), as in a browser. */
  host: string;
}

export interface Page {
  status: number;
  url: string;
  html: string;
  headers: Headers;
}

/** Statuses whose response has no body (a Response made with one throws). */
const BODILESS_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

export class Browser {
  readonly cookies = new Map<string, StoredCookie>();

  constructor(readonly origin: string) {}

  cookieHeader(url: URL): string {
    return [...this.cookies.values()]
      .filter((cookie) => cookie.host === url.hostname)
      .filter((cookie) => url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`) || cookie.path === '/')
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private remember(response: Response, url: URL): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const pathAttribute = attributes.find((attribute) => attribute.toLowerCase().startsWith('path='));
      const cookiePath = pathAttribute ? pathAttribute.slice(5) : url.pathname.replace(/\/[^/]*$/, '') || '/';
      const expired = attributes.some((attribute) => /^expires=Thu, 01 Jan 1970/i.test(attribute)) || value === '';
      const key = `${url.hostname}|${name}|${cookiePath}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path: cookiePath, host: url.hostname });
    }
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.remember(response, target);
    // Read to its end, as a browser does: a body left unread (a redirect's, or one whose status was
    // all a test wanted) holds its connection open until the garbage collector finds the response,
    // and a Jest worker with such a socket open cannot exit.
    const body = await response.arrayBuffer();
    return new Response(BODILESS_STATUSES.has(response.status) ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /**
   * Follows redirects; stops at a page, or at a redirect that leaves this origin (unless `across`
   * lists the other origins this browser may follow, like an upstream identity provider).
   */
  async visit(url: string, init: RequestInit = {}, across: readonly string[] = []): Promise<Page> {
    let response = await this.request(url, init);
    let current = new URL(url, this.origin);
    const allowed = new Set([new URL(this.origin).origin, ...across.map((origin) => new URL(origin).origin)]);
    for (let hops = 0; hops < 30 && response.status >= 300 && response.status < 400; hops += 1) {
      const next = new URL(response.headers.get('location')!, current);
      if (!allowed.has(next.origin)) return { status: response.status, url: next.href, html: '', headers: response.headers };
      current = next;
      response = await this.request(next.href);
    }
    return { status: response.status, url: current.href, html: await response.text(), headers: response.headers };
  }

  /** Posts a form the way a browser does: urlencoded, with the page's CSRF token unless one is given. */
  async submit(page: Page, action: string, fields: Record<string, string>, across: readonly string[] = []): Promise<Page> {
    const body = new URLSearchParams({ _csrf: csrfTokenOf(page.html), ...fields });
    return this.visit(new URL(action, page.url).href, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }, across);
  }
}

export function csrfTokenOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

/** The action of the first form whose action ends with `suffix`. */
export function formAction(html: string, suffix: string): string {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
  const action = actions.find((candidate) => candidate.endsWith(suffix));
  if (!action) throw new Error(`No form posting to …${suffix} on the page:\n${html}`);
  return action;
}
