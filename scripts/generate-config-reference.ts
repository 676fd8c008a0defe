/**
 * Writes the French configuration reference (docs/reference-configuration.md)
 * from the same source as schema/voix-config.schema.json: the zod schema in
 * src/config/schema.ts, read through its generated JSON Schema. Run after
 * changing the schema:
 *
 *   npm run docs:config
 *
 * test/unit/config/reference-doc.test.ts fails while the committed copy
 * differs, and loads the complete example below with the real loader.
 *
 * Only what a JSON Schema cannot say is written here by hand: the rules
 * between sibling keys (CONDITIONAL_REQUIREMENTS), plain words for regular
 * expressions (PATTERN_WORDS) and the example. Each names a key path that
 * must exist, or generation stops.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderConfigJsonSchema } from '../src/config/schema.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REFERENCE_PATH = 'docs/reference-configuration.md';

/** The subset of JSON Schema that z.toJSONSchema writes for the voix schema. */
interface JsonSchemaNode {
  readonly title?: string;
  readonly description?: string;
  readonly type?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchemaNode;
  readonly propertyNames?: JsonSchemaNode;
  readonly items?: JsonSchemaNode;
  readonly anyOf?: readonly JsonSchemaNode[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly pattern?: string;
}

/** One documented key. `path` is written the way error messages write it, with `[]` for "each element". */
interface KeyRow {
  readonly path: string;
  readonly type: string;
  readonly values: string;
  readonly defaultValue: string;
  readonly required: string;
  readonly description: string;
}

/**
 * Requirements that depend on sibling keys (the schema's superRefine rules):
 * a JSON Schema lists these keys as optional, but voix refuses a file that
 * leaves them out in these cases.
 */
const CONDITIONAL_REQUIREMENTS: Readonly<Record<string, string>> = {
  'server.listen.tls.certificate': 'avec `key`',
  'server.listen.tls.key': 'avec `certificate`',
  'users[].password': 'oui, ou `ha1_md5` / `ha1_sha256`',
  'users[].ha1_md5': 'à la place de `password`',
  'users[].ha1_sha256': 'à la place de `password`',
  'inbound_routes[].destination': 'sans `time_condition`',
  'inbound_routes[].open': 'avec `time_condition`',
  'inbound_routes[].closed': 'avec `time_condition`',
  'trunks[].username': 'oui',
  'trunks[].password': 'oui',
};

/** Regular expressions of the schema in plain words; one missing here is shown as is. */
const PATTERN_WORDS: Readonly<Record<string, string>> = {
  '^[^"\\\\\\r\\n]+$': 'sans guillemet, barre oblique inverse ni saut de ligne',
  '^\\d{2,10}$': '2 à 10 chiffres',
  '^[0-9a-fA-F]{32}$': '32 chiffres hexadécimaux',
  '^[0-9a-fA-F]{64}$': '64 chiffres hexadécimaux',
  '^\\+?[0-9]{2,20}$': '2 à 20 chiffres, « + » permis en tête',
  '^\\+?[0-9]{3,20}$': '3 à 20 chiffres, « + » permis en tête',
  '^\\+[1-9][0-9]{5,14}$': 'forme E.164 : « + » puis 6 à 15 chiffres, le premier non nul',
  '^[A-Z]{2}$': 'deux lettres majuscules',
  '^[0-9]{1,3}$': '1 à 3 chiffres',
  '^[0-9]{2,8}$': '2 à 8 chiffres',
  '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$': '1 à 40 lettres, chiffres, « - » ou « _ », en commençant par une lettre ou un chiffre',
  '^[a-z][a-z0-9_-]{0,39}$': '1 à 40 lettres minuscules, chiffres, « - » ou « _ », en commençant par une lettre',
  '^[^\\s@:;<>"]+$': 'sans espace, « @ », « : », « ; », « < », « > » ni guillemet',
};

/**
 * The complete example, one entry per top-level key, in the schema's order.
 * Each section of the reference shows its own part; the whole is shown at
 * the end and the test loads it with parseConfig (no error, no warning).
 */
const EXAMPLE_SECTIONS: ReadonlyArray<readonly [string, string]> = [
  [
    'server',
    `server:
  domain: voix.example.com
  aliases: [pbx.example.com]
  public_address: 203.0.113.10      # derrière un NAT
  data_dir: /var/lib/voix
  log_level: info
  listen:
    udp: false                      # UDP désactivé
    tcp: { address: 0.0.0.0, port: 5060 }
    tls:
      port: 5061
      certificate: /etc/voix/tls/fullchain.pem
      key: /etc/voix/tls/privkey.pem`,
  ],
  [
    'registrar',
    `registrar:
  min_expires: 60
  max_expires: 3600
  default_expires: 600`,
  ],
  [
    'auth',
    `auth:
  algorithms: [SHA-256, MD5]
  nonce_lifetime: 300`,
  ],
  [
    'users',
    `users:
  - extension: "1001"
    name: Alice Martin
    password: "Tournesol-Bleu-1001"
    permission: national            # fixes, mobiles et numéros spéciaux
    forward:
      no_answer: "0612345678"       # son portable, après 25 s de sonnerie
      no_answer_after: 25
    caller_id:
      number: "+33123456789"
  - extension: "1002"
    name: Bernard Dupont
    # HA1 = MD5 / SHA-256 de "1002:voix.example.com:motdepasse"
    ha1_md5: 72f6291ea2becdb92ee1a783ee5f73bd
    ha1_sha256: e4f8353b909951cfcc461d5ee80e476c4740a2fcf7aabe1754dc6a57e0de90c1
    transports: [tls, tcp]
    max_contacts: 2
    permission: commercial
  - extension: "1003"
    name: Camille Lefèvre
    password: "Lavande-Verte-1003"
    forward:
      busy: "2000"                  # le groupe Accueil`,
  ],
  [
    'media',
    `media:
  port_min: 10000
  port_max: 20000
  workers: 0`,
  ],
  [
    'calls',
    `calls:
  ring_timeout: 60
  session_expires: 1800
  min_se: 90`,
  ],
  [
    'security',
    `security:
  ban:
    max_failures: 5
    window: 60
    duration: 900
  sdes_over_plaintext: false`,
  ],
  [
    'permission_classes',
    `permission_classes:
  commercial: [internal, national, mobile, special, international]`,
  ],
  [
    'numbering_plan',
    `numbering_plan:
  region: FR`,
  ],
  [
    'groups',
    `groups:
  - number: "2000"
    name: Accueil
    strategy: in_order
    members: ["1002", "1003"]
    ring_time: 15
    fallback: "1001"`,
  ],
  [
    'time_conditions',
    `time_conditions:
  bureau:
    weekly:
      mon-fri: ["08:30-12:00", "14:00-18:00"]
      sat: ["09:00-12:00"]
    closed: ["2026-12-24 12:00-18:00", "2026-08-03..2026-08-21"]`,
  ],
  [
    'inbound_routes',
    `inbound_routes:
  - did: "0123456789"               # forme nationale, lue comme +33123456789
    time_condition: bureau
    open: "2000"
    closed: "1001"
  - did: "+33123456780"
    trunk: operateur
    destination: "1003"`,
  ],
  [
    'outbound_routes',
    `outbound_routes:
  - name: france
    match: "+33[1-79]XXXXXXXX"      # fixes, mobiles et 09, écrits en E.164
    trunk: operateur
  - name: international             # tous les autres numéros ; la classe de droits décide
    match: "+[1-9]."
    trunk: operateur`,
  ],
  [
    'trunks',
    `trunks:
  - name: operateur
    host: sip.operateur.example
    username: "0123456789"
    password: "mot-de-passe-operateur"
    caller_id: "+33123456789"
    inbound_addresses: [198.51.100.0/24]
    max_calls: 4`,
  ],
];

/** Where the examples point editors at the schema: from a file in a folder next to schema/, like examples/. */
const SCHEMA_COMMENT = '# yaml-language-server: $schema=../schema/voix-config.schema.json';

const MINIMAL_EXAMPLE = `${SCHEMA_COMMENT}
server:
  domain: voix.example.com
users:
  - extension: "1001"
    password: "Tournesol-Bleu-1001"
`;

export function completeExample(): string {
  return `${SCHEMA_COMMENT}\n${EXAMPLE_SECTIONS.map(([, text]) => text).join('\n')}\n`;
}

const TYPE_NAMES: Readonly<Record<string, readonly [singular: string, plural: string]>> = {
  string: ['texte', 'textes'],
  integer: ['entier', 'entiers'],
  number: ['nombre', 'nombres'],
  boolean: ['booléen', 'booléens'],
  array: ['liste', 'listes'],
  object: ['objet', 'objets'],
};

function code(value: string): string {
  return `\`${value}\``;
}

/** `a`, `b` ou `c` */
function alternatives(values: readonly unknown[]): string {
  const shown = values.map((v) => code(String(v)));
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} ou ${shown[shown.length - 1] ?? ''}`;
}

/** parmi `a`, `b`, `c` */
function among(values: readonly unknown[]): string {
  return `parmi ${values.map((v) => code(String(v))).join(', ')}`;
}

/** « liste de textes », « liste d’objets ». */
function of(word: string): string {
  return /^[aeiouéèêh]/i.test(word) ? `d’${word}` : `de ${word}`;
}

function isRecordNode(node: JsonSchemaNode): node is JsonSchemaNode & { additionalProperties: JsonSchemaNode } {
  return typeof node.additionalProperties === 'object';
}

function typeName(node: JsonSchemaNode, plural = false): string {
  if (node.anyOf !== undefined) return [...new Set(node.anyOf.map((branch) => typeName(branch, plural)))].join(' ou ');
  if (node.const !== undefined) return code(String(node.const));
  const names = TYPE_NAMES[node.type ?? ''];
  if (names === undefined) throw new Error(`no French name for JSON Schema type ${String(node.type)}`);
  const word = plural ? names[1] : names[0];
  if (node.type === 'array' && node.items !== undefined) return `${word} ${of(typeName(node.items, true))}`;
  if (isRecordNode(node) && node.properties === undefined) return `${word} (clé → ${typeName(node.additionalProperties)})`;
  return word;
}

function patternWords(pattern: string): string {
  return PATTERN_WORDS[pattern] ?? `motif ${code(pattern)}`;
}

/** Bounds and allowed values, in words; nested lists and maps say which level they are about. */
function constraints(node: JsonSchemaNode): string[] {
  const out: string[] = [];
  if (node.enum !== undefined) out.push(alternatives(node.enum));
  if (node.minimum !== undefined && node.maximum !== undefined) out.push(`de ${node.minimum} à ${node.maximum}`);
  else if (node.minimum !== undefined) out.push(`au moins ${node.minimum}`);
  else if (node.maximum !== undefined) out.push(`au plus ${node.maximum}`);
  if (node.minLength !== undefined && node.maxLength !== undefined) out.push(`${node.minLength} à ${node.maxLength} caractères`);
  else if (node.minLength === 1) out.push('non vide');
  else if (node.minLength !== undefined) out.push(`au moins ${node.minLength} caractères`);
  else if (node.maxLength !== undefined) out.push(`au plus ${node.maxLength} caractères`);
  if (node.pattern !== undefined) out.push(patternWords(node.pattern));
  if (node.minItems !== undefined) out.push(node.minItems === 1 ? 'au moins un élément' : `au moins ${node.minItems} éléments`);
  if (node.maxItems !== undefined) out.push(`au plus ${node.maxItems} éléments`);
  if (node.uniqueItems === true) out.push('sans doublon');
  if (node.items !== undefined && node.items.properties === undefined) {
    const inner = constraints(node.items);
    if (node.items.enum !== undefined) out.push(among(node.items.enum), ...inner.slice(1));
    else if (inner.length > 0) out.push(`chaque élément : ${inner.join(', ')}`);
  }
  if (node.propertyNames?.pattern !== undefined) out.push(`clés : ${patternWords(node.propertyNames.pattern)}`);
  if (isRecordNode(node) && node.additionalProperties.properties === undefined) {
    const inner = constraints(node.additionalProperties);
    if (inner.length > 0) out.push(`valeurs : ${inner.join(', ')}`);
  }
  return out;
}

function formatDefault(node: JsonSchemaNode): string {
  const value = node.default;
  if (value === undefined) return '—';
  if (typeof value === 'string') return code(value);
  if (Array.isArray(value)) return code(`[${value.map((v) => (typeof v === 'string' && /^[A-Za-z0-9.-]+$/.test(v) ? v : JSON.stringify(v))).join(', ')}]`);
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return isRecordNode(node) ? `${code('{}')} (aucune entrée)` : `${code('{}')} (valeurs par défaut de ses clés)`;
  return code(JSON.stringify(value));
}

/** The object forms of a node: itself, or each object branch of `false | { … }` and `{ text } | { file }`. */
function objectsOf(node: JsonSchemaNode): JsonSchemaNode[] {
  if (node.properties !== undefined) return [node];
  return (node.anyOf ?? []).filter((branch) => branch.properties !== undefined);
}

function describeNode(node: JsonSchemaNode): string {
  const parts = [node.description ?? ''];
  const item = node.items;
  // Item descriptions read as a sentence of their own: « Un compte SIP : … ».
  if (item?.description !== undefined) parts.push(item.description);
  return parts.filter((p) => p !== '').join(' ');
}

function collectRows(node: JsonSchemaNode, path: string, out: KeyRow[]): void {
  const objects = objectsOf(node);
  for (const object of objects) {
    const required = new Set(object.required ?? []);
    // With several forms (`{ text } | { file }`), a key is required in its own form only.
    const requiredText = objects.length > 1 ? 'oui, dans cette forme' : 'oui';
    for (const [key, child] of Object.entries(object.properties ?? {})) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (out.some((row) => row.path === childPath)) continue;
      out.push({
        path: childPath,
        type: typeName(child),
        values: constraints(child).join(' ; '),
        defaultValue: formatDefault(child),
        required: CONDITIONAL_REQUIREMENTS[childPath] ?? (required.has(key) ? requiredText : 'non'),
        description: describeNode(child),
      });
      collectRows(child, childPath, out);
    }
  }
  if (node.items !== undefined) collectRows(node.items, `${path}[]`, out);
  if (isRecordNode(node) && node.additionalProperties.properties !== undefined) {
    const entryPath = `${path}.<nom>`;
    const entry = node.additionalProperties;
    out.push({
      path: entryPath,
      type: typeName(entry),
      values: constraints(entry).join(' ; '),
      defaultValue: formatDefault(entry),
      required: 'non',
      description: describeNode(entry),
    });
    collectRows(entry, entryPath, out);
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function table(rows: readonly KeyRow[]): string[] {
  return [
    '| Clé | Type | Valeurs admises | Défaut | Obligatoire | Description |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${code(r.path)} | ${cell(r.type)} | ${cell(r.values || '—')} | ${cell(r.defaultValue)} | ${cell(r.required)} | ${cell(r.description)} |`),
  ];
}

function yamlBlock(text: string): string[] {
  return ['```yaml', text.replace(/\n$/, ''), '```'];
}

function loadSchema(): JsonSchemaNode {
  return JSON.parse(renderConfigJsonSchema()) as JsonSchemaNode;
}

function checkHandWrittenPaths(root: JsonSchemaNode, rows: readonly KeyRow[]): void {
  const paths = new Set(rows.map((r) => r.path));
  for (const path of Object.keys(CONDITIONAL_REQUIREMENTS)) {
    if (!paths.has(path)) throw new Error(`CONDITIONAL_REQUIREMENTS names ${path}, which the schema does not have`);
  }
  const topLevel = Object.keys(root.properties ?? {});
  const exampleKeys = EXAMPLE_SECTIONS.map(([key]) => key);
  const unknown = exampleKeys.filter((k) => !topLevel.includes(k));
  if (unknown.length > 0) throw new Error(`EXAMPLE_SECTIONS names ${unknown.join(', ')}, which the schema does not have`);
  const ordered = topLevel.filter((k) => exampleKeys.includes(k));
  if (ordered.join() !== exampleKeys.join()) throw new Error('EXAMPLE_SECTIONS must follow the order of the schema');
}

/** The whole of docs/reference-configuration.md. */
export function renderConfigReference(): string {
  const root = loadSchema();
  const sections = Object.entries(root.properties ?? {});
  const allRows: KeyRow[] = [];
  collectRows(root, '', allRows);
  checkHandWrittenPaths(root, allRows);
  const topRequired = new Set(root.required ?? []);
  const examples = new Map(EXAMPLE_SECTIONS);

  const lines: string[] = [
    '# Référence de la configuration',
    '',
    '> Document généré par `scripts/generate-config-reference.ts` à partir du schéma de la configuration (`src/config/schema.ts` et `src/config/schema-dialplan.ts`) : ne pas le modifier à la main. Après un changement du schéma, lancez `npm run docs:config`.',
    '',
    '## Introduction',
    '',
    'voix lit toute sa configuration dans un seul fichier YAML : le serveur, les comptes des postes, les règles d’appel et les trunks. Le chemin du fichier se donne avec `--config` (ou la variable `VOIX_CONFIG`) ; par défaut `/etc/voix/voix.yaml`.',
    '',
    'Avant de (re)démarrer voix, vérifiez le fichier :',
    '',
    '```sh',
    'voix check --config /etc/voix/voix.yaml',
    '```',
    '',
    'Chaque problème est signalé sur une ligne `fichier:ligne:colonne clé: message` (messages en anglais), et tous sont signalés en une fois. voix refuse de démarrer tant qu’il reste une erreur ; un avertissement signale une configuration valide mais probablement involontaire (par exemple deux routes sortantes qui se recouvrent).',
    '',
    'Pour la complétion et la vérification dans l’éditeur (VS Code avec l’extension YAML, ou tout éditeur qui utilise yaml-language-server), le dépôt fournit le schéma JSON `schema/voix-config.schema.json`, généré à partir de la même source que ce document. Indiquez-le sur la première ligne du fichier ; le chemin est relatif au fichier YAML (ici un fichier placé dans `examples/`) ou absolu :',
    '',
    ...yamlBlock(MINIMAL_EXAMPLE),
    '',
    'Ce fichier minimal est complet : toutes les autres clés ont une valeur par défaut.',
    '',
    '## Lire les tableaux',
    '',
    '- **Clé** : le chemin de la clé, tel que l’écrivent les messages d’erreur. `[]` désigne chaque élément d’une liste (`users[].forward.busy` : la clé `busy` de `forward` dans chaque élément de `users`) ; `<nom>` désigne un nom choisi dans le fichier (`time_conditions.<nom>.weekly`).',
    '- **Type** : texte, entier, booléen (`true` ou `false`), liste, ou objet (des clés et leurs valeurs). Un texte fait de chiffres (numéro de poste, numéro de téléphone) s’écrit entre guillemets : `"1001"`, sinon YAML le lit comme un nombre.',
    '- **Défaut** : la valeur prise quand la clé est absente. « — » : pas de valeur fixe (la description dit alors ce que fait voix).',
    '- **Obligatoire** : à l’intérieur de l’objet qui contient la clé, quand cet objet est présent. Certaines clés ne sont obligatoires que selon d’autres (« avec … », « sans … »).',
    '',
    '## Sommaire',
    '',
    ...sections.map(([key, node]) => `- [\`${key}\`](#${key}) — ${node.description ?? ''}`),
    '- [Exemple complet](#exemple-complet)',
    '',
  ];

  for (const [key, node] of sections) {
    const rows = allRows.filter((r) => r.path.startsWith(`${key}.`) || r.path.startsWith(`${key}[]`));
    lines.push(`## \`${key}\``, '', describeNode(node), '');
    const facts = [`**Type** : ${typeName(node)}`];
    const values = constraints(node);
    if (values.length > 0) facts.push(`**Valeurs admises** : ${values.join(' ; ')}`);
    facts.push(`**Défaut** : ${formatDefault(node)}`, `**Obligatoire** : ${topRequired.has(key) ? 'oui' : 'non'}`);
    lines.push(`${facts.join(' · ')}.`, '');
    if (rows.length > 0) lines.push(...table(rows), '');
    const example = examples.get(key);
    if (example !== undefined) lines.push('Exemple :', '', ...yamlBlock(example), '');
  }

  lines.push(
    '## Exemple complet',
    '',
    'Les exemples des sections ci-dessus, réunis en un fichier valide (un test le charge avec voix à chaque exécution). Les mots de passe y sont des exemples : choisissez les vôtres, d’au moins 12 caractères, ou des empreintes HA1.',
    '',
    ...yamlBlock(completeExample()),
    '',
  );
  return lines.join('\n');
}

function main(): void {
  const target = resolve(REPO_ROOT, REFERENCE_PATH);
  writeFileSync(target, renderConfigReference());
  console.log(`wrote ${target}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
