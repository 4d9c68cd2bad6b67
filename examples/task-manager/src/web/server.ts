import { fileURLToPath } from 'node:url';

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1d2430; background: #f5f6f8; }
  body { margin: 0; }
  header { display: flex; gap: 1rem; align-items: center; padding: .75rem 1.25rem; background: #fff; border-bottom: 1px solid #dde1e7; }
  header h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
  nav button, header button, select { font: inherit; padding: .3rem .7rem; border: 1px solid #c9ced6; border-radius: 6px; background: #fff; cursor: pointer; }
  nav button.active { background: #1d2430; color: #fff; }
  main { padding: 1.25rem; }
  .live { margin-left: auto; font-size: .85rem; padding: .15rem .5rem; border-radius: 999px; }
  .live.on { background: #d8f5e0; color: #17693a; } .live.off { background: #fde7c8; color: #8a4b00; }
  .board { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1rem; }
  .column { background: #eceef2; border-radius: 10px; padding: .75rem; }
  .column h2 { font-size: .95rem; margin: 0 0 .5rem; } .column ul, .feed, .timeline { list-style: none; margin: 0; padding: 0; }
  .card { background: #fff; border-radius: 8px; padding: .6rem .7rem; margin-bottom: .5rem; box-shadow: 0 1px 2px #0002; display: flex; flex-direction: column; gap: .2rem; }
  .card.critical, .row.critical .bar { border-left: 4px solid #d64545; }
  .meta, small { color: #667085; font-size: .8rem; }
  .timeline .row { display: grid; grid-template-columns: 18rem 1fr; align-items: center; gap: 1rem; padding: .35rem 0; border-bottom: 1px solid #e4e7ec; }
  .track { position: relative; height: 1rem; background: #eceef2; border-radius: 4px; }
  .bar { position: absolute; top: 0; bottom: 0; background: #5b8def; border-radius: 4px; }
  .row.critical .bar { background: #d64545; }
  .feed li { background: #fff; padding: .6rem .8rem; border-radius: 8px; margin-bottom: .4rem; }
  .ops { display: grid; grid-template-columns: repeat(2, 1fr); gap: 1rem; } .ops section { background: #fff; padding: .75rem 1rem; border-radius: 10px; }
  .ops h2 { font-size: .95rem; margin: 0 0 .5rem; } td { padding: .1rem .75rem .1rem 0; }
  .empty, .loading { color: #667085; font-style: italic; } .error { background: #fde2e2; color: #8f1d1d; padding: .6rem 1rem; border-radius: 8px; }
  .login { max-width: 22rem; margin: 10vh auto; background: #fff; padding: 1.5rem; border-radius: 12px; display: flex; flex-direction: column; gap: .75rem; box-shadow: 0 2px 8px #0002; }
  .login input { display: block; width: 100%; margin-top: .25rem; padding: .45rem; font: inherit; box-sizing: border-box; }
  .login button { padding: .5rem; font: inherit; }
`;

/** The page's HTML: a shell the script fills in. */
export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Task manager · relaybus</title><style>${STYLE}</style></head>
<body><div id="app"><p class="loading">Loading…</p></div><script type="module" src="/app.js"></script></body></html>`;

let bundle: Promise<string> | undefined;

/**
 * The page's script, bundled once with esbuild (on first request): `page.ts` and the ws-bridge browser client. The
 * workspace packages resolve to their sources, as everywhere in this example.
 */
export function pageScript(): Promise<string> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      conditions: ['@relaybus/source', 'browser'],
    });
    return result.outputFiles[0]?.text ?? '';
  })();
  return bundle;
}
