import type { FastifyRequest } from 'fastify';
import { AppError } from '../infra/lib/errors.ts';
import { authMode } from './hardening.ts';

/**
 * One place for every route's query string (docs/api-contract.md, "List filters"): a parameter
 * the route does not declare is refused with 422 naming it, instead of being ignored — a typo in
 * a filter would otherwise return the unfiltered list. The declared names are the route
 * schema's `querystring` properties; a route without one takes no query parameters. The docs
 * UI's own static routes are left alone (they are not part of the API).
 */
const declared = new WeakMap<object, ReadonlySet<string>>();

function declaredNames(req: FastifyRequest): ReadonlySet<string> {
  const schema = req.routeOptions.schema as { querystring?: { properties?: Record<string, unknown> } } | undefined;
  const key = schema ?? req.routeOptions;
  let names = declared.get(key);
  if (!names) {
    names = new Set(Object.keys(schema?.querystring?.properties ?? {}));
    declared.set(key, names);
  }
  return names;
}

export function refuseUnknownQueryParams(req: FastifyRequest): void {
  if (req.routeOptions.url === undefined || (authMode(req) === 'none' && req.routeOptions.url.startsWith('/docs'))) return;
  const query = req.query as Record<string, unknown> | null | undefined;
  if (!query || typeof query !== 'object') return;
  const names = declaredNames(req);
  for (const name of Object.keys(query)) {
    if (!names.has(name)) {
      const allowed = [...names];
      // The name is the caller's text: shown as is only when it looks like a parameter name.
      const shown = /^[A-Za-z0-9_.[\]-]{1,64}$/.test(name) ? name : JSON.stringify(name.slice(0, 64));
      throw new AppError(
        'INVALID_PARAMETERS',
        `${shown}: unknown query parameter (${allowed.length > 0 ? `this route takes ${allowed.join(', ')}` : 'this route takes none'})`,
      );
    }
  }
}
