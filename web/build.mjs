// build.mjs — bundle the kaon web front-end for embedding into the daemon.
//
//   node web/build.mjs OUTDIR [--sourcemap]
//
// Writes OUTDIR/index.html and OUTDIR/assets/* (content-hashed names, so the
// daemon can serve /assets/* as immutable while index.html is no-cache).
// The daemon only serves "/" and "/assets/*" and sends a strict CSP
// (script-src 'self'; style-src 'self'), so index.html carries no inline
// script or style: everything it needs is a hashed file under /assets/.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outArg = args.find((a) => !a.startsWith('--'));
if (!outArg) {
	console.error('usage: node web/build.mjs OUTDIR [--sourcemap]');
	process.exit(2);
}
const outDir = path.resolve(outArg);
const assetsDir = path.join(outDir, 'assets');
const sourcemap = args.includes('--sourcemap') || process.env.KAON_WEB_SOURCEMAP === '1';

// Only what this script writes is removed, never the whole OUTDIR.
await rm(assetsDir, { recursive: true, force: true });
await rm(path.join(outDir, 'index.html'), { force: true });
await mkdir(assetsDir, { recursive: true });

const entry = path.join(webDir, 'src', 'main.jsx');
const result = await esbuild.build({
	entryPoints: [entry],
	absWorkingDir: webDir,
	bundle: true,
	// The editor (CodeMirror) and the Markdown renderer are loaded with
	// import() when first used, as their own hashed chunks.
	splitting: true,
	minify: true,
	format: 'esm',
	target: 'es2020',
	platform: 'browser',
	jsx: 'automatic',
	jsxImportSource: 'preact',
	outdir: assetsDir,
	entryNames: '[name]-[hash]',
	assetNames: '[name]-[hash]',
	chunkNames: '[name]-[hash]',
	sourcemap: sourcemap ? 'linked' : false,
	legalComments: 'none',
	metafile: true,
	logLevel: 'warning',
	define: { 'process.env.NODE_ENV': '"production"' },
});

// Find the entry's JS and the CSS bundle esbuild emitted next to it.
let js = null;
let css = null;
for (const [file, out] of Object.entries(result.metafile.outputs)) {
	if (out.entryPoint && path.resolve(webDir, out.entryPoint) === entry) {
		js = file;
		css = out.cssBundle || null;
	}
}
if (!js || !css) {
	console.error('build.mjs: esbuild did not produce the main JS and CSS bundles');
	process.exit(1);
}
const assetUrl = (file) => '/assets/' + path.basename(file);

// The favicon is copied under /assets/ with a content hash like the rest.
const icon = await readFile(path.join(webDir, 'src', 'favicon.svg'));
const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
await writeFile(path.join(assetsDir, iconName), icon);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="same-origin">
<title>kaon</title>
<link rel="icon" type="image/svg+xml" href="/assets/${iconName}">
<link rel="stylesheet" href="${assetUrl(css)}">
<script type="module" src="${assetUrl(js)}"></script>
</head>
<body>
<div id="app"></div>
<noscript><p class="noscript">kaon needs JavaScript enabled in your browser.</p></noscript>
</body>
</html>
`;
await writeFile(path.join(outDir, 'index.html'), html);

const rel = (f) => path.relative(process.cwd(), path.resolve(webDir, f));
console.log(`web: ${rel(js)} ${rel(css)} ${path.relative(process.cwd(), path.join(assetsDir, iconName))}`);
