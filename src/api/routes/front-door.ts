import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../infra/lib/errors.ts';
import { ok, sendError } from '../http.ts';

/**
 * The unsigned front door: a developer who opens the server's address in a browser or with curl
 * learns what is running and where to go next, instead of meeting a 401 for a request they could
 * not have signed. It reveals only what `/health` and `/docs` already show.
 */
export interface FrontDoorDeps {
  mode: 'sandbox' | 'production';
  version: string;
  /** This process's random id (not a secret): the CLI checks it against the data folder's server.json. */
  instanceId: string;
  /** Path of an operator/partner console when one is served, else null. */
  consolePath: () => string | null;
}

/** Weight a media range in Accept gives `type` (0 when absent); `*\/*` and `text/*` count too. */
function acceptWeight(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = 0;
  let bestSpecificity = -1;
  for (const part of accept.split(',').slice(0, 32)) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < bestSpecificity) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    bestSpecificity = specificity;
    best = Number.isFinite(weight) ? weight : 0;
  }
  return best;
}

/** HTML only when the client says it prefers it over JSON (browsers do; curl and SDKs do not). */
export function prefersHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  if (typeof accept !== 'string' || accept === '') return false;
  return acceptWeight(accept, 'text/html') > acceptWeight(accept, 'application/json');
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const frontDoorRoutes: FastifyPluginAsync<FrontDoorDeps> = async (app, { mode, version, instanceId, consolePath }) => {
  app.get('/', { config: { auth: 'none' }, schema: { hide: true } }, async (req, reply) => {
    const consoleLink = consolePath();
    const info = {
      name: 'OpenRamp',
      version,
      mode,
      instance: instanceId,
      docs: '/docs',
      openapi: '/openapi.json',
      health: '/health',
      console: consoleLink,
      signing: 'every other route needs a signed request: X-API-Key, X-Timestamp, X-Nonce, X-Signature (see /docs)',
    };
    if (!prefersHtml(req)) return ok(info);
    const links: [string, string][] = [
      ['API documentation', info.docs],
      ['OpenAPI document', info.openapi],
      ['Health', info.health],
      ...(consoleLink ? ([['Console', consoleLink]] as [string, string][]) : []),
    ];
    const items = links.map(
      ([label, href]) => `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a> <code>${escapeHtml(href)}</code></li>`,
    );
    reply.type('text/html; charset=utf-8');
    return [
      '<!doctype html>',
      '<html lang="en"><head><meta charset="utf-8"><title>OpenRamp</title></head><body>',
      `<h1>OpenRamp <small>${escapeHtml(version)}</small></h1>`,
      `<p>Running in <strong>${escapeHtml(mode)}</strong> mode.</p>`,
      `<ul>${items.join('')}</ul>`,
      `<p>${escapeHtml(info.signing)}.</p>`,
      '</body></html>',
    ].join('\n');
  });

  // Browsers ask for it on their own: answer the contract's 404 rather than an authentication error.
  app.get('/favicon.ico', { config: { auth: 'none' }, schema: { hide: true } }, async (req, reply) =>
    sendError(reply, new AppError('ROUTE_NOT_FOUND', 'no route GET /favicon.ico'), req.id),
  );
};
