import { createRequire } from 'node:module';
import { type Response, Router } from 'express';

/** Redoc's standalone bundle (the whole reference renderer in one file), served from node_modules. */
const REDOC_BUNDLE = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');

/**
 * Relative URLs throughout, so the page works behind a path prefix too: from `/docs`,
 * `docs/…` is `/docs/…` and `openapi.json` is `/openapi.json`. No script is inline (the
 * content security policy allows scripts from this origin only) and nothing comes from a CDN.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>matchmaking API reference</title>
<link rel="icon" href="data:,">
<style>body { margin: 0; }</style>
</head>
<body>
<noscript>The API reference needs JavaScript; the document itself is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="redoc"></div>
<script src="docs/redoc.standalone.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

const INIT = `Redoc.init(
  'openapi.json',
  { expandResponses: '200,201', jsonSampleExpandLevel: 3, hideDownloadButton: false, pathInMiddlePanel: true },
  document.getElementById('redoc'),
);
`;

const cached = (res: Response, type: string) => res.type(type).setHeader('Cache-Control', 'public, max-age=300');

/** The API reference: `GET /docs` renders `/openapi.json` with Redoc, offline (no external request). */
export function docsRoutes(): Router {
  const router = Router();
  router.get('/docs', (req, res) => {
    // `/docs/` would resolve the page's relative URLs under /docs/docs/.
    if (req.path.endsWith('/')) return res.redirect(301, '../docs');
    cached(res, 'html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    cached(res, 'text/javascript').send(INIT);
  });
  router.get('/docs/redoc.standalone.js', (_req, res, next) => {
    // A fixed path, never the request's; pnpm keeps it under node_modules/.pnpm (a dot directory).
    res.sendFile(
      REDOC_BUNDLE,
      { dotfiles: 'allow', maxAge: '1h', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } },
      next,
    );
  });
  return router;
}
