/**
 * The documentation site (docs/, VitePress) builds, and every internal link
 * of the built pages leads to a page that exists and, when it names an
 * anchor, to an element with that id. VitePress itself fails the build on a
 * link to a missing page (ignoreDeadLinks: false); anchors are checked here.
 *
 * The build runs with VOIX_DOCS_MERMAID=0 (diagrams left as code blocks):
 * bundling Mermaid adds about 20 s and changes no link. About 8 s on the
 * development machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(REPO, 'docs');
const VITEPRESS = path.join(REPO, 'node_modules/vitepress/bin/vitepress.js');

interface BuiltPage {
  readonly file: string;
  readonly ids: ReadonlySet<string>;
  readonly hrefs: readonly string[];
}

let outDir: string;
let pages: Map<string, BuiltPage>;
let buildOutput = '';

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'assets' ? [] : htmlFiles(full);
    return entry.name.endsWith('.html') ? [full] : [];
  });
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function readPage(file: string): BuiltPage {
  const html = readFileSync(file, 'utf8');
  const ids = new Set([...html.matchAll(/\sid="([^"]*)"/g)].map((match) => decodeEntities(match[1] ?? '')));
  const hrefs = [...html.matchAll(/<a\s[^>]*?href="([^"]*)"/g)].map((match) => decodeEntities(match[1] ?? ''));
  return { file, ids, hrefs };
}

/** The built file a site path (with or without .html, a folder's index) stands for. */
function builtFile(sitePath: string): string {
  const relative = decodeURIComponent(sitePath).replace(/^\//, '');
  if (relative === '' || relative.endsWith('/')) return path.join(outDir, relative, 'index.html');
  return path.join(outDir, relative.endsWith('.html') ? relative : `${relative}.html`);
}

/** Site paths of the Markdown pages of docs/ (every one must be reachable from the sidebar). */
function markdownPages(dir: string, prefix = '/'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    if (entry.isDirectory()) return markdownPages(path.join(dir, entry.name), `${prefix}${entry.name}/`);
    if (!entry.name.endsWith('.md') || entry.name === 'README.md') return [];
    return entry.name === 'index.md' ? [prefix] : [`${prefix}${entry.name.replace(/\.md$/, '.html')}`];
  });
}

beforeAll(async () => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'voix-docs-site-'));
  const run = await promisify(execFile)(process.execPath, [VITEPRESS, 'build', 'docs', '--outDir', outDir], {
    cwd: REPO,
    env: { ...process.env, VOIX_DOCS_MERMAID: '0', NO_COLOR: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  buildOutput = `${run.stdout}${run.stderr}`;
  pages = new Map(htmlFiles(outDir).map((file) => [file, readPage(file)]));
}, 120_000);

afterAll(() => {
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

describe('documentation site', () => {
  it('builds every page of docs/', () => {
    expect(buildOutput).toMatch(/build complete/);
    for (const sitePath of markdownPages(DOCS)) expect(existsSync(builtFile(sitePath)), sitePath).toBe(true);
  });

  it('has no internal link to a missing page or anchor', () => {
    const broken: string[] = [];
    for (const page of pages.values()) {
      const from = path.relative(outDir, page.file);
      for (const href of page.hrefs) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue; // external: https:, mailto:
        const [target = '', anchor] = href.split('#', 2);
        const file = target === '' ? page.file : builtFile(target.startsWith('/') ? target : path.posix.join(path.posix.dirname(`/${from}`), target));
        const linked = pages.get(file);
        if (linked === undefined) {
          if (!existsSync(file)) broken.push(`${from}: ${href} (no page)`);
          continue;
        }
        if (anchor !== undefined && anchor !== '' && !linked.ids.has(decodeURIComponent(anchor))) broken.push(`${from}: ${href} (no anchor)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('reaches every page, the generated ones and the ADRs included, from the sidebar', () => {
    const home = pages.get(path.join(outDir, 'index.html'));
    expect(home).toBeDefined();
    // The sidebar is rendered on every page but the home page (layout: home hides it): read it from a plain page.
    const sidebarPage = pages.get(path.join(outDir, 'introduction.html'));
    expect(sidebarPage).toBeDefined();
    const html = readFileSync(sidebarPage?.file ?? '', 'utf8');
    const sidebar = /<aside class="VPSidebar[\s\S]*?<\/aside>/.exec(html)?.[0] ?? '';
    const linked = new Set([...sidebar.matchAll(/href="([^"#]*)/g)].map((match) => path.relative(outDir, builtFile(decodeEntities(match[1] ?? '')))));
    const expected = markdownPages(DOCS).map((sitePath) => path.relative(outDir, builtFile(sitePath)));
    expect(expected).toEqual(expect.arrayContaining(['plan-de-test.html', 'reference-configuration.html', 'adr/0001-retransmission-2xx-dans-la-transaction.html']));
    if (existsSync(path.join(DOCS, 'performances.md'))) expect(expected).toContain('performances.html');
    expect(expected.filter((file) => !linked.has(file))).toEqual([]);
  });
});
