/**
 * scripts/generate-test-plan.ts on a fixture tree written for each test:
 * cases passed, failed, not run and not automated; malformed descriptors.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  REPO_ROOT,
  TestPlanError,
  generateTestPlan,
  loadCases,
  testTitles,
  validateCase,
} from '../../../scripts/generate-test-plan.js';
import { makeTempDir, useHarness } from '../harness/cleanup.js';
import { runProcess } from '../harness/process.js';

useHarness();

function descriptor(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    fonctionnalite: `Fonction de ${id}`,
    etat_initial: 'voix démarré avec les comptes 1001 et 1002',
    sequence: ['démarrer baresip', 'attendre REGISTER_OK'],
    comportement_attendu: 'le téléphone est enregistré',
    commentaires: '',
    besoins: ['voix', 'baresip'],
    tags: ['registrar'],
    automatise: true,
    ...overrides,
  };
}

async function put(root: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
}

function testFile(id: string, titles: readonly string[] = ['sees REGISTER_OK']): string {
  return `import { it } from 'vitest';\n${titles.map((title) => `it('${id}: ${title}', () => {});`).join('\n')}\n`;
}

function assertion(title: string, status: string, duration: number, failure?: string): Record<string, unknown> {
  return { ancestorTitles: [], fullName: title, title, status, duration, failureMessages: failure === undefined ? [] : [failure], meta: {}, tags: [] };
}

/** A repository-like tree: four cases and a report from a run in another folder. */
async function fixture(): Promise<string> {
  const root = await makeTempDir('plan');
  await put(root, 'test/e2e/registrar/reg-udp/case.yaml', stringify(descriptor('REG-UDP-01', { commentaires: 'Le | est échappé.' })));
  await put(root, 'test/e2e/registrar/reg-udp/reg-udp.e2e.test.ts', testFile('REG-UDP-01', ['registers', 'unregisters']));
  await put(root, 'test/e2e/registrar/reg-tcp/case.yaml', stringify(descriptor('REG-TCP-01')));
  await put(root, 'test/e2e/registrar/reg-tcp/reg-tcp.e2e.test.ts', testFile('REG-TCP-01', ['registers', 'unregisters']));
  await put(root, 'test/e2e/appels/appel-tls/case.yaml', stringify(descriptor('APPEL-TLS-SRTP-01', { automatise: false })));
  await put(root, 'test/e2e/appels/appel-udp/case.yaml', stringify(descriptor('APPEL-UDP-01')));
  await put(root, 'test/e2e/appels/appel-udp/appel-udp.e2e.test.ts', testFile('APPEL-UDP-01'));
  await put(root, 'test/e2e/harness-selftest/ignored.e2e.test.ts', "it('not a case', () => {});\n");
  const file = (path: string, assertions: unknown[], status = 'passed') => ({
    name: `/somewhere/else/ci/${path}`,
    status,
    message: '',
    startTime: Date.UTC(2026, 0, 15, 9, 30),
    endTime: Date.UTC(2026, 0, 15, 9, 31),
    assertionResults: assertions,
  });
  const report = {
    startTime: Date.UTC(2026, 0, 15, 9, 29),
    success: false,
    testResults: [
      file('test/e2e/registrar/reg-udp/reg-udp.e2e.test.ts', [assertion('REG-UDP-01: registers', 'passed', 800), assertion('REG-UDP-01: unregisters', 'passed', 450)]),
      file(
        'test/e2e/registrar/reg-tcp/reg-tcp.e2e.test.ts',
        [assertion('REG-TCP-01: registers', 'passed', 500), assertion('REG-TCP-01: unregisters', 'failed', 1500, 'AssertionError: expected 403 to be 200\n    at …')],
        'failed',
      ),
    ],
  };
  await put(root, 'test/results/e2e.json', JSON.stringify(report));
  return root;
}

function section(markdown: string, id: string): string {
  const start = markdown.indexOf(`#### ${id}`);
  const end = markdown.indexOf('#### ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

describe('generateTestPlan', () => {
  it('renders every case with its fields, numbered sequence and latest result', async () => {
    const root = await fixture();

    const { markdown, outPath, cases } = await generateTestPlan({ root });

    expect(cases).toBe(4);
    expect(outPath).toBe(join(root, 'docs/plan-de-test.md'));
    expect(await readFile(outPath, 'utf8')).toBe(markdown);
    expect(markdown).toContain('Dernière exécution : 2026-01-15 09:29 UTC');
    expect(markdown).toContain('4 cas : 1 réussi, 1 échoué, 1 non exécuté, 1 non automatisé.');
    expect(markdown).toContain('| [REG-UDP-01](#reg-udp-01) | Fonction de REG-UDP-01 | ✅ réussi | 1,3 s |');
    expect(markdown).toContain('| [REG-TCP-01](#reg-tcp-01) | Fonction de REG-TCP-01 | ❌ échoué | 2,0 s |');
    expect(markdown).toContain('| [APPEL-UDP-01](#appel-udp-01) | Fonction de APPEL-UDP-01 | ⏸️ non exécuté | — |');
    expect(markdown).toContain('| [APPEL-TLS-SRTP-01](#appel-tls-srtp-01) | Fonction de APPEL-TLS-SRTP-01 | 📝 non automatisé | — |');
    const udp = section(markdown, 'REG-UDP-01');
    expect(udp).toContain('   1. démarrer baresip\n   2. attendre REGISTER_OK');
    expect(udp).toContain('- **État initial du système** : voix démarré avec les comptes 1001 et 1002');
    expect(udp).toContain('- **Commentaires** : Le | est échappé.');
    expect(udp).toContain('- **Dernier résultat** : ✅ réussi — 2026-01-15 09:30 UTC — 1,3 s — 2 réussis');
    expect(section(markdown, 'REG-TCP-01')).toContain('   - REG-TCP-01: unregisters — AssertionError: expected 403 to be 200');
    expect(section(markdown, 'APPEL-TLS-SRTP-01')).not.toContain('réussi');
    expect(markdown).not.toContain('not a case');
    // Areas in the plan's order (a known one first, one without a title after it, under its folder name), cases sorted within.
    expect(markdown.indexOf('### Enregistrement des postes (`test/e2e/registrar/`)')).toBeGreaterThan(0);
    expect(markdown.indexOf('### Enregistrement des postes (`test/e2e/registrar/`)')).toBeLessThan(markdown.indexOf('### Domaine `test/e2e/appels/`'));
    expect(markdown.indexOf('| [REG-TCP-01]')).toBeLessThan(markdown.indexOf('| [REG-UDP-01]'));
    expect(markdown.indexOf('| [REG-UDP-01]')).toBeLessThan(markdown.indexOf('| [APPEL-TLS-SRTP-01]'));
  });

  it('shows every case as not run when there is no report', async () => {
    const root = await fixture();

    const { markdown } = await generateTestPlan({ root, reportPath: 'test/results/missing.json' });

    expect(markdown).toContain('Aucun rapport d’exécution (test/results/missing.json)');
    expect(markdown).toContain('4 cas : 3 non exécutés, 1 non automatisé.');
    expect(markdown).not.toMatch(/✅/);
  });

  it('runs as a script, and fails naming the file and the key of a malformed case.yaml', async () => {
    const root = await fixture();
    await put(root, 'test/e2e/registrar/reg-bad/case.yaml', stringify(descriptor('REG-BAD-01', { sequence: 'pas une liste' })));
    await put(root, 'test/e2e/registrar/reg-bad/reg-bad.e2e.test.ts', testFile('REG-BAD-01'));
    const script = join(REPO_ROOT, 'scripts/generate-test-plan.ts');
    const tsx = join(REPO_ROOT, 'node_modules/.bin/tsx');

    const result = await runProcess(tsx, [script, '--root', root, '--out', join(root, 'out.md')], { timeoutMs: 30_000 });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('test plan: test/e2e/registrar/reg-bad/case.yaml: key "sequence": must be a list of non-empty texts');
  });
});

describe('validateCase and loadCases', () => {
  const file = 'test/e2e/x/y/case.yaml';

  it.each([
    [{ ...descriptor('REG-UDP-01'), fonctionnalite: undefined }, 'key "fonctionnalite": is missing'],
    [{ ...descriptor('REG-UDP-01'), fonctionalite: 'typo' }, 'key "fonctionalite": is not a known key'],
    [descriptor('reg-udp-1'), 'key "id": "reg-udp-1" must look like REG-UDP-01'],
    [descriptor('REG-UDP-01', { sequence: [] }), 'key "sequence": must not be an empty list'],
    [descriptor('REG-UDP-01', { automatise: 'oui' }), 'key "automatise": must be true or false'],
    [descriptor('REG-UDP-01', { besoins: ['baresipp'] }), 'key "besoins": unknown peer(s) baresipp'],
    [['a', 'list'], 'must be a YAML mapping'],
  ])('rejects %j', (raw, message) => {
    const attempt = () => validateCase(raw, file);

    expect(attempt).toThrow(TestPlanError);
    expect(attempt).toThrow(`${file}: ${message}`);
  });

  it('accepts a complete descriptor', () => {
    expect(validateCase(descriptor('APPEL-TLS-SRTP-01'), file)).toMatchObject({ id: 'APPEL-TLS-SRTP-01', automatise: true });
  });

  it('reads it() titles of a test file, it.each and modifiers included', () => {
    const source = [
      "it('A-01: one', () => {});",
      'it.skip(`A-01: two`, () => {});',
      "it.each([1, 2])('A-01: three %s', () => {});",
      "test.only('A-01: four', () => {});",
      "describe('not a test title', () => {});",
    ].join('\n');

    expect(testTitles(source)).toEqual(['A-01: one', 'A-01: two', 'A-01: three %s', 'A-01: four']);
  });

  it('refuses a title without the id, a duplicate id, and a test without case.yaml', async () => {
    const badTitle = await fixture();
    await put(badTitle, 'test/e2e/registrar/reg-udp/reg-udp.e2e.test.ts', "it('registers', () => {});\n");
    const duplicate = await fixture();
    await put(duplicate, 'test/e2e/registrar/reg-udp-bis/case.yaml', stringify(descriptor('REG-UDP-01', { automatise: false })));
    const orphan = await fixture();
    await put(orphan, 'test/e2e/registrar/lost/lost.e2e.test.ts', testFile('LOST-01'));

    const errors = await Promise.all([badTitle, duplicate, orphan].map((root) => loadCases(root).then(() => 'loaded', (error: unknown) => String(error))));

    expect(errors[0]).toContain('test/e2e/registrar/reg-udp/reg-udp.e2e.test.ts: test title "registers" must start with the case id REG-UDP-01');
    expect(errors[1]).toContain('test/e2e/registrar/reg-udp/case.yaml: key "id": "REG-UDP-01" is already the id of test/e2e/registrar/reg-udp-bis/case.yaml');
    expect(errors[2]).toContain('test/e2e/registrar/lost/lost.e2e.test.ts: end-to-end test without a case.yaml');
  });
});
