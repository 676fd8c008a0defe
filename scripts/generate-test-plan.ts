/**
 * Writes the test plan (docs/plan-de-test.md, French) from the end-to-end
 * cases themselves and the latest vitest JSON report:
 *
 *   npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json=test/results/e2e.json
 *   npx tsx scripts/generate-test-plan.ts [--report test/results/e2e.json] [--out docs/plan-de-test.md] [--root .]
 *
 * A case is a folder test/e2e/<area>/<case>/ with a case.yaml (validated
 * here: a malformed one stops the script, naming the file and the key) and
 * one *.e2e.test.ts whose it() titles start with the case id. A case shows
 * as passed only when every one of its tests passed in the report; a case
 * not automated, or absent from the report, never does.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const E2E_DIR = 'test/e2e';
/** Folders of test/e2e that hold the harness, not cases. */
export const NOT_CASES = ['harness', 'harness-selftest'] as const;
export const DEFAULT_REPORT = 'test/results/e2e.json';
export const DEFAULT_OUTPUT = 'docs/plan-de-test.md';

/** Peers a case may need (TESTING.md); add one here when a new peer comes in. */
export const KNOWN_NEEDS = [
  'voix',
  'baresip',
  'linphone',
  'sipp',
  'tshark',
  'sipsak',
  'sipvicious',
  'openssl',
  'sox',
  'espeak-ng',
  'ffmpeg',
  'asterisk',
  'kamailio',
  'rtpengine',
  'iproute2',
  'nftables',
  'mmdebstrap',
  'sqlite3',
] as const;

/**
 * The folders of test/e2e in the plan's order, critical features first (issue 9): accounts and
 * configuration, calls and their rules, the trunk and connectivity (encryption is in calls and
 * transport), then menus, dialer, security, robustness, operations, deployment, documentation.
 * A folder not listed comes after these, by name, under its own name.
 */
export const AREAS: ReadonlyArray<readonly [folder: string, title: string]> = [
  ['registrar', 'Enregistrement des postes'],
  ['config', 'Configuration et administration des comptes'],
  ['calls', 'Appels entre postes, chiffrement compris'],
  ['rules', 'Règles d’appel : droits, horaires, groupes, renvois'],
  ['trunks', 'Opérateur (trunk SIP)'],
  ['transport', 'Connectivité : transports, TLS, maintien des connexions'],
  ['ivr', 'Menus vocaux (SVI)'],
  ['dialer', 'Automate d’appels'],
  ['security', 'Sécurité'],
  ['robustness', 'Robustesse face aux messages malformés'],
  ['operations', 'Exploitation : métriques, surcharge, arrêt'],
  ['deploy', 'Déploiement sur Debian'],
  ['docs', 'Documentation'],
];

function areaRank(folder: string): number {
  const index = AREAS.findIndex(([name]) => name === folder);
  return index === -1 ? AREAS.length : index;
}

/** The heading of an area: its title and folder, or the folder alone when it has no title. */
export function areaHeading(folder: string): string {
  const title = AREAS.find(([name]) => name === folder)?.[1];
  return title === undefined ? `Domaine \`test/e2e/${folder}/\`` : `${title} (\`test/e2e/${folder}/\`)`;
}

const ID_PATTERN = /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-[0-9]{2,}$/;

export interface TestCase {
  readonly id: string;
  readonly fonctionnalite: string;
  readonly etat_initial: string;
  readonly sequence: readonly string[];
  readonly comportement_attendu: string;
  readonly commentaires: string;
  readonly besoins: readonly string[];
  readonly tags: readonly string[];
  readonly automatise: boolean;
}

const CASE_KEYS = [
  'id',
  'fonctionnalite',
  'etat_initial',
  'sequence',
  'comportement_attendu',
  'commentaires',
  'besoins',
  'tags',
  'automatise',
] as const;

/** A case or report that cannot be read: says which file and, when known, which key. */
export class TestPlanError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | null,
    reason: string,
  ) {
    super(key === null ? `${file}: ${reason}` : `${file}: key "${key}": ${reason}`);
    this.name = 'TestPlanError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireText(raw: Record<string, unknown>, key: string, file: string, allowEmpty: boolean): string {
  const value = raw[key];
  if (typeof value !== 'string') throw new TestPlanError(file, key, value === undefined ? 'is missing' : 'must be a text (string)');
  if (!allowEmpty && value.trim().length === 0) throw new TestPlanError(file, key, 'must not be empty');
  return value.trim();
}

function requireTextList(raw: Record<string, unknown>, key: string, file: string, allowEmpty: boolean): string[] {
  const value = raw[key];
  if (value === undefined) throw new TestPlanError(file, key, 'is missing');
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string' && item.trim().length > 0)) {
    throw new TestPlanError(file, key, 'must be a list of non-empty texts');
  }
  if (!allowEmpty && value.length === 0) throw new TestPlanError(file, key, 'must not be an empty list');
  return value.map((item) => item.trim());
}

/** Checks a parsed case.yaml; throws TestPlanError naming the file and the key at fault. */
export function validateCase(raw: unknown, file: string): TestCase {
  if (!isRecord(raw)) throw new TestPlanError(file, null, 'must be a YAML mapping of the keys ' + CASE_KEYS.join(', '));
  for (const key of Object.keys(raw)) {
    if (!(CASE_KEYS as readonly string[]).includes(key)) {
      throw new TestPlanError(file, key, `is not a known key (known: ${CASE_KEYS.join(', ')})`);
    }
  }
  const id = requireText(raw, 'id', file, false);
  if (!ID_PATTERN.test(id)) throw new TestPlanError(file, 'id', `"${id}" must look like REG-UDP-01: capitals, digits and dashes, ending with a number of 2 digits or more`);
  const besoins = requireTextList(raw, 'besoins', file, true);
  const unknown = besoins.filter((need) => !(KNOWN_NEEDS as readonly string[]).includes(need));
  if (unknown.length > 0) throw new TestPlanError(file, 'besoins', `unknown peer(s) ${unknown.join(', ')} (known: ${KNOWN_NEEDS.join(', ')})`);
  const automatise = raw['automatise'];
  if (typeof automatise !== 'boolean') throw new TestPlanError(file, 'automatise', automatise === undefined ? 'is missing' : 'must be true or false');
  return {
    id,
    fonctionnalite: requireText(raw, 'fonctionnalite', file, false),
    etat_initial: requireText(raw, 'etat_initial', file, false),
    sequence: requireTextList(raw, 'sequence', file, false),
    comportement_attendu: requireText(raw, 'comportement_attendu', file, false),
    commentaires: requireText(raw, 'commentaires', file, true),
    besoins,
    tags: requireTextList(raw, 'tags', file, true),
    automatise,
  };
}

/** Titles of the it()/test() calls of a test file whose title is a literal (it.each and modifiers included). */
export function testTitles(source: string, fileName = 'case.e2e.test.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const titles: string[] = [];
  const rootName = (expression: ts.Expression): string | null => {
    if (ts.isIdentifier(expression)) return expression.text;
    if (ts.isPropertyAccessExpression(expression)) return rootName(expression.expression);
    if (ts.isCallExpression(expression)) return rootName(expression.expression);
    return null;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const name = rootName(node.expression);
      const first = node.arguments[0];
      if ((name === 'it' || name === 'test') && first !== undefined && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) {
        titles.push(first.text);
      } else if ((name === 'it' || name === 'test') && first !== undefined && ts.isTemplateExpression(first)) {
        titles.push(first.head.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return titles;
}

export interface LoadedCase {
  readonly testCase: TestCase;
  /** Folder of the case, relative to the repository root, with '/' separators. */
  readonly dir: string;
  /** test/e2e/<area>: the first folder level under test/e2e. */
  readonly area: string;
  readonly caseFile: string;
  /** The *.e2e.test.ts of the case, or null (only when not automated). */
  readonly testFile: string | null;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

async function walk(dir: string, found: { yaml: string[]; tests: string[] }): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      await walk(path, found);
    } else if (entry.name === 'case.yaml') {
      found.yaml.push(path);
    } else if (entry.name.endsWith('.e2e.test.ts')) {
      found.tests.push(path);
    }
  }
}

/** Reads and checks every case under <root>/test/e2e (harness folders excepted). */
export async function loadCases(root: string = REPO_ROOT): Promise<LoadedCase[]> {
  const e2e = join(root, E2E_DIR);
  if (!existsSync(e2e)) return [];
  const found = { yaml: [] as string[], tests: [] as string[] };
  for (const entry of await readdir(e2e, { withFileTypes: true })) {
    if (!entry.isDirectory() || (NOT_CASES as readonly string[]).includes(entry.name)) continue;
    await walk(join(e2e, entry.name), found);
  }
  const cases: LoadedCase[] = [];
  const byId = new Map<string, string>();
  const caseDirs = new Set(found.yaml.map((file) => dirname(file)));
  for (const test of found.tests) {
    if (!caseDirs.has(dirname(test))) {
      throw new TestPlanError(toPosix(relative(root, test)), null, 'end-to-end test without a case.yaml in its folder (each case is a folder with case.yaml and one *.e2e.test.ts)');
    }
  }
  for (const yamlFile of found.yaml.sort()) {
    const caseFile = toPosix(relative(root, yamlFile));
    let raw: unknown;
    try {
      raw = parseYaml(await readFile(yamlFile, 'utf8'));
    } catch (error) {
      throw new TestPlanError(caseFile, null, `is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
    }
    const testCase = validateCase(raw, caseFile);
    const previous = byId.get(testCase.id);
    if (previous !== undefined) throw new TestPlanError(caseFile, 'id', `"${testCase.id}" is already the id of ${previous}`);
    byId.set(testCase.id, caseFile);
    const dir = dirname(yamlFile);
    const tests = found.tests.filter((test) => dirname(test) === dir);
    if (tests.length > 1) throw new TestPlanError(caseFile, null, `its folder holds ${tests.length} *.e2e.test.ts files; a case has one`);
    const test = tests[0];
    if (test === undefined && testCase.automatise) {
      throw new TestPlanError(caseFile, 'automatise', 'is true but the folder holds no *.e2e.test.ts');
    }
    const testFile = test === undefined ? null : toPosix(relative(root, test));
    if (test !== undefined && testFile !== null) {
      for (const title of testTitles(await readFile(test, 'utf8'), test)) {
        if (!(title === testCase.id || title.startsWith(`${testCase.id}:`) || title.startsWith(`${testCase.id} `))) {
          throw new TestPlanError(testFile, null, `test title "${title}" must start with the case id ${testCase.id} (e.g. "${testCase.id}: …")`);
        }
      }
    }
    const relativeDir = toPosix(relative(root, dir));
    const area = relativeDir.split('/')[2] ?? relativeDir;
    cases.push({ testCase, dir: relativeDir, area, caseFile, testFile });
  }
  return cases.sort((a, b) => areaRank(a.area) - areaRank(b.area) || a.area.localeCompare(b.area) || a.testCase.id.localeCompare(b.testCase.id));
}

export type AssertionStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled';

export interface ReportAssertion {
  readonly title: string;
  readonly fullName: string;
  readonly status: AssertionStatus | string;
  readonly duration: number | null;
  readonly failureMessages: readonly string[];
}

export interface ReportFile {
  /** Path as the report has it, from test/e2e/ on ('/' separators), whatever folder the run was in. */
  readonly path: string;
  readonly status: string;
  readonly message: string;
  readonly startTime: number;
  readonly assertions: readonly ReportAssertion[];
}

export interface TestReport {
  readonly startTime: number;
  readonly files: readonly ReportFile[];
}

function fromE2e(path: string): string {
  const posix = path.split('\\').join('/');
  const index = posix.lastIndexOf(`/${E2E_DIR}/`);
  return index >= 0 ? posix.slice(index + 1) : posix;
}

/** Reads the parts of vitest's JSON report (--reporter=json) the plan uses. */
export function readReport(raw: unknown, file: string): TestReport {
  if (!isRecord(raw) || !Array.isArray(raw['testResults'])) throw new TestPlanError(file, 'testResults', 'is missing: not a vitest JSON report');
  const startTime = typeof raw['startTime'] === 'number' ? raw['startTime'] : 0;
  const files = raw['testResults'].map((entry: unknown, index): ReportFile => {
    if (!isRecord(entry) || typeof entry['name'] !== 'string' || !Array.isArray(entry['assertionResults'])) {
      throw new TestPlanError(file, `testResults[${index}]`, 'must have a name and assertionResults');
    }
    const assertions = entry['assertionResults'].map((assertion: unknown): ReportAssertion => {
      const record = isRecord(assertion) ? assertion : {};
      return {
        title: typeof record['title'] === 'string' ? record['title'] : '',
        fullName: typeof record['fullName'] === 'string' ? record['fullName'] : '',
        status: typeof record['status'] === 'string' ? record['status'] : 'unknown',
        duration: typeof record['duration'] === 'number' ? record['duration'] : null,
        failureMessages: Array.isArray(record['failureMessages']) ? record['failureMessages'].filter((m): m is string => typeof m === 'string') : [],
      };
    });
    return {
      path: fromE2e(entry['name']),
      status: typeof entry['status'] === 'string' ? entry['status'] : 'unknown',
      message: typeof entry['message'] === 'string' ? entry['message'] : '',
      startTime: typeof entry['startTime'] === 'number' ? entry['startTime'] : startTime,
      assertions,
    };
  });
  return { startTime, files };
}

export type CaseStatus = 'réussi' | 'échoué' | 'incomplet' | 'non exécuté' | 'non automatisé';

export interface CaseResult {
  readonly status: CaseStatus;
  /** When the case's file ran (ms since the epoch), or null. */
  readonly date: number | null;
  /** Sum of its tests' durations, or null. */
  readonly durationMs: number | null;
  readonly counts: Readonly<Record<string, number>>;
  /** Failed tests with the first line of their error, or the file's own error. */
  readonly failures: readonly string[];
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim().length > 0) ?? '').trim();
}

/** The latest result of a case; "réussi" only if it ran and every one of its tests passed. */
export function caseResult(loaded: LoadedCase, report: TestReport | null): CaseResult {
  const none = { date: null, durationMs: null, counts: {}, failures: [] };
  if (!loaded.testCase.automatise) return { status: 'non automatisé', ...none };
  const file = report?.files.find((candidate) => candidate.path === loaded.testFile);
  if (file === undefined) return { status: 'non exécuté', ...none };
  const counts: Record<string, number> = {};
  for (const assertion of file.assertions) counts[assertion.status] = (counts[assertion.status] ?? 0) + 1;
  const durationMs = file.assertions.reduce((sum, assertion) => sum + (assertion.duration ?? 0), 0);
  const failures = file.assertions
    .filter((assertion) => assertion.status === 'failed')
    .map((assertion) => `${assertion.title} — ${firstLine(assertion.failureMessages[0] ?? '')}`);
  const base = { date: file.startTime, durationMs, counts };
  if (file.assertions.length === 0) {
    // The file itself failed (import error, hook failure) or holds no test.
    return file.status === 'failed'
      ? { status: 'échoué', ...base, durationMs: null, failures: [firstLine(file.message) || 'le fichier de test a échoué sans exécuter de test'] }
      : { status: 'non exécuté', ...base, durationMs: null, failures: [] };
  }
  if (failures.length > 0 || file.status === 'failed') {
    return { status: 'échoué', ...base, failures: failures.length > 0 ? failures : [firstLine(file.message)] };
  }
  const passed = counts['passed'] ?? 0;
  if (passed === file.assertions.length) return { status: 'réussi', ...base, failures: [] };
  return { status: passed === 0 ? 'non exécuté' : 'incomplet', ...base, failures: [] };
}

/** Vitest test statuses in French: singular, plural. */
const FRENCH_STATUS: Readonly<Record<string, readonly [string, string]>> = {
  passed: ['réussi', 'réussis'],
  failed: ['échoué', 'échoués'],
  skipped: ['ignoré', 'ignorés'],
  pending: ['en attente', 'en attente'],
  todo: ['à écrire', 'à écrire'],
  disabled: ['désactivé', 'désactivés'],
};

const CASE_STATUS_PLURAL: Readonly<Record<CaseStatus, string>> = {
  réussi: 'réussis',
  échoué: 'échoués',
  incomplet: 'incomplets',
  'non exécuté': 'non exécutés',
  'non automatisé': 'non automatisés',
};

function plural(count: number, word: string): string {
  return `${count} ${word}${count > 1 ? 's' : ''}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace('.', ',')} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

export function formatDate(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function anchor(id: string): string {
  return id.toLowerCase();
}

function statusLabel(result: CaseResult): string {
  switch (result.status) {
    case 'réussi':
      return '✅ réussi';
    case 'échoué':
      return '❌ échoué';
    case 'incomplet':
      return '⚠️ incomplet';
    case 'non exécuté':
      return '⏸️ non exécuté';
    case 'non automatisé':
      return '📝 non automatisé';
  }
}

function countsText(result: CaseResult): string {
  return Object.entries(result.counts)
    .map(([status, count]) => {
      const words = FRENCH_STATUS[status];
      return `${count} ${words === undefined ? status : words[count > 1 ? 1 : 0]}`;
    })
    .join(', ');
}

function paragraph(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((part) => part.replace(/\s*\n\s*/g, ' ').trim())
    .join('\n\n');
}

/** The whole plan as Markdown. `reportLabel` says where the results came from. */
export function renderPlan(cases: readonly LoadedCase[], report: TestReport | null, reportLabel: string): string {
  const results = new Map(cases.map((loaded) => [loaded.testCase.id, caseResult(loaded, report)]));
  const tally = new Map<CaseStatus, number>();
  for (const result of results.values()) tally.set(result.status, (tally.get(result.status) ?? 0) + 1);
  const out: string[] = [];
  out.push('# Plan de test de voix', '');
  out.push('> Document généré par `scripts/generate-test-plan.ts` à partir des tests eux-mêmes : ne pas le modifier à la main.', '');
  out.push('## Introduction', '');
  out.push(
    'Ce plan décrit les tests de bout en bout de voix : le vrai serveur, démarré comme le ferait un utilisateur, face à de vrais logiciels SIP (baresip, SIPp, …) sur la boucle locale. ' +
      'Chaque cas de test est un dossier `test/e2e/<domaine>/<cas>/` qui contient sa description (`case.yaml`, reprise telle quelle ci-dessous), ' +
      'son test automatisé (un fichier `*.e2e.test.ts` dont chaque titre de test commence par l’identifiant du cas) et ses scripts de pairs (scénarios SIPp, …).',
    '',
    'Le résultat affiché est celui de la dernière exécution enregistrée dans le rapport de vitest. ' +
      'Un cas n’est « réussi » que si tous ses tests ont réussi lors de cette exécution. ' +
      'Un cas écrit mais pas encore automatisé est marqué « non automatisé », un cas absent du rapport « non exécuté » : ni l’un ni l’autre n’est jamais présenté comme réussi.',
    '',
  );
  out.push('## Exécuter les tests et régénérer ce document', '');
  out.push(
    'La commande de test du README installe les pairs nécessaires (paquets Debian `baresip`, `linphone-cli`, `sip-tester` pour SIPp, `sipsak`, `sipvicious`, `tshark`, `openssl`, `espeak-ng`, `ffmpeg`, `iproute2`, `nftables`, `mmdebstrap`, `sqlite3`… ; la liste complète est dans `scripts/test.sh`), compile voix, lance tous les tests, écrit leur rapport dans `test/results/vitest.json` et régénère ce document à partir de lui :',
    '',
    '```sh',
    './scripts/test.sh',
    '```',
    '',
    'Pour ne relancer que les cas de bout en bout puis régénérer le document à partir de leur seul rapport :',
    '',
    '```sh',
    'npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json=test/results/e2e.json',
    'npx tsx scripts/generate-test-plan.ts',
    '```',
    '',
    'Options du générateur : `--report <fichier JSON>` (défaut `test/results/e2e.json`) et `--out <fichier>` (défaut `docs/plan-de-test.md`).',
    '',
  );
  out.push('## Synthèse', '');
  out.push(report === null ? `Aucun rapport d’exécution (${reportLabel}) : aucun cas n’a de résultat.` : `Dernière exécution : ${formatDate(report.startTime)} (${reportLabel}).`, '');
  const order: CaseStatus[] = ['réussi', 'échoué', 'incomplet', 'non exécuté', 'non automatisé'];
  const summary = order
    .filter((status) => (tally.get(status) ?? 0) > 0)
    .map((status) => {
      const count = tally.get(status) ?? 0;
      return `${count} ${count > 1 ? CASE_STATUS_PLURAL[status] : status}`;
    })
    .join(', ');
  out.push(`${cases.length} cas${summary.length > 0 ? ` : ${summary}` : ''}.`, '');
  if (cases.length > 0) {
    out.push('| Identifiant | Fonctionnalité | Résultat | Durée |', '|---|---|---|---|');
    for (const loaded of cases) {
      const result = results.get(loaded.testCase.id);
      if (result === undefined) continue;
      const duration = result.durationMs === null ? '—' : formatDuration(result.durationMs);
      out.push(`| [${loaded.testCase.id}](#${anchor(loaded.testCase.id)}) | ${cell(loaded.testCase.fonctionnalite)} | ${statusLabel(result)} | ${duration} |`);
    }
    out.push('');
  }
  out.push('## Cas de test', '');
  out.push('Les cas sont rangés par domaine, les fonctions critiques d’abord : les comptes et leur enregistrement, les appels et leurs règles, l’opérateur et la connectivité ; puis les menus vocaux, l’automate d’appels, la sécurité, la robustesse, l’exploitation, le déploiement et la documentation.', '');
  let area: string | null = null;
  for (const loaded of cases) {
    const testCase = loaded.testCase;
    const result = results.get(testCase.id);
    if (result === undefined) continue;
    if (loaded.area !== area) {
      area = loaded.area;
      out.push(`### ${areaHeading(area)}`, '');
    }
    out.push(`<a id="${anchor(testCase.id)}"></a>`, '', `#### ${testCase.id} — ${cell(testCase.fonctionnalite)}`, '');
    out.push(`- **Identifiant** : \`${testCase.id}\``);
    out.push(`- **Fonctionnalité testée** : ${paragraph(testCase.fonctionnalite)}`);
    out.push(`- **État initial du système** : ${paragraph(testCase.etat_initial)}`);
    out.push('- **Séquence de test** :', '');
    testCase.sequence.forEach((step, index) => out.push(`   ${index + 1}. ${paragraph(step)}`));
    out.push('');
    out.push(`- **Comportement attendu** : ${paragraph(testCase.comportement_attendu)}`);
    out.push(`- **Commentaires** : ${testCase.commentaires.length > 0 ? paragraph(testCase.commentaires) : '—'}`);
    out.push(`- **Besoins** : ${testCase.besoins.length > 0 ? testCase.besoins.join(', ') : '—'}`);
    out.push(`- **Étiquettes** : ${testCase.tags.length > 0 ? testCase.tags.join(', ') : '—'}`);
    out.push(`- **Automatisé** : ${testCase.automatise ? 'oui' : 'non'}`);
    out.push(`- **Emplacement** : \`${loaded.dir}/\``);
    const details: string[] = [];
    if (result.date !== null) details.push(formatDate(result.date));
    if (result.durationMs !== null) details.push(formatDuration(result.durationMs));
    const counts = countsText(result);
    if (counts.length > 0) details.push(counts);
    out.push(`- **Dernier résultat** : ${statusLabel(result)}${details.length > 0 ? ` — ${details.join(' — ')}` : ''}`);
    for (const failure of result.failures) out.push(`   - ${cell(failure)}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export interface GenerateOptions {
  readonly root?: string;
  /** Path of the vitest JSON report, relative to root or absolute. */
  readonly reportPath?: string;
  readonly outPath?: string;
}

/** Loads the cases and the report, writes the plan; returns the Markdown. */
export async function generateTestPlan(options: GenerateOptions = {}): Promise<{ markdown: string; outPath: string; cases: number }> {
  const root = options.root ?? REPO_ROOT;
  const reportPath = resolve(root, options.reportPath ?? DEFAULT_REPORT);
  const outPath = resolve(root, options.outPath ?? DEFAULT_OUTPUT);
  const cases = await loadCases(root);
  let report: TestReport | null = null;
  const reportLabel = toPosix(relative(root, reportPath));
  if (existsSync(reportPath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(reportPath, 'utf8'));
    } catch (error) {
      throw new TestPlanError(reportLabel, null, `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    report = readReport(raw, reportLabel);
  }
  const markdown = renderPlan(cases, report, reportLabel);
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, markdown);
  return { markdown, outPath, cases: cases.length };
}

function argument(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

async function main(args: readonly string[]): Promise<number> {
  const known = new Set(['--report', '--out', '--root']);
  for (let index = 0; index < args.length; index += 2) {
    const name = args[index];
    if (name === undefined || !known.has(name)) {
      process.stderr.write(`unknown argument ${String(name)}\nusage: npx tsx scripts/generate-test-plan.ts [--report <vitest JSON>] [--out <markdown>] [--root <repository>]\n`);
      return 2;
    }
  }
  try {
    const reportPath = argument(args, '--report');
    const outPath = argument(args, '--out');
    const root = argument(args, '--root');
    const result = await generateTestPlan({
      ...(root === undefined ? {} : { root: resolve(root) }),
      ...(reportPath === undefined ? {} : { reportPath: resolve(reportPath) }),
      ...(outPath === undefined ? {} : { outPath: resolve(outPath) }),
    });
    process.stdout.write(`wrote ${result.outPath} (${plural(result.cases, 'case')})\n`);
    return 0;
  } catch (error) {
    if (error instanceof TestPlanError) {
      process.stderr.write(`test plan: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
