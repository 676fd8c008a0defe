/**
 * docs/performances.md and its plots (docs/performances/*.svg) from a
 * report of `npm run bench`, and that report's Markdown again beside its JSON:
 *
 *   npm run bench:page -- bench/results/<date>-<host>.json
 *
 * Every number on the page comes from that JSON; the page says which
 * report it shows, and where voix is behind its peers.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { frenchApostrophes } from './typography.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aimsTable, comparisonTable, digitsOf, figuresOf, fr, isBehind, ratioOf, writeMarkdownReport, type BenchReport, type Comparison } from './report.js';
import { barChartSvg, type BarSeries } from './svg.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COLORS: Record<string, string> = { voix: '#1b7f5f', Asterisk: '#e07b00', Kamailio: '#5a6fd6', rtpengine: '#9b59b6', libsrtp2: '#7f8c8d' };

function valueOf(comparisons: readonly Comparison[], workload: string, figure: string, side: string): number | null {
  const c = comparisons.find((x) => x.workload === workload && x.figure === figure && (side === 'voix' || x.peer === side));
  if (c === undefined) return null;
  return side === 'voix' ? c.voix : c.peerValue;
}

function seriesFor(comparisons: readonly Comparison[], workload: string, figures: readonly string[], sides: readonly string[]): BarSeries[] {
  return sides.map((side) => ({ name: side, color: COLORS[side] ?? '#333333', values: figures.map((figure) => valueOf(comparisons, workload, figure, side)) }));
}

/** Comparisons where voix does worse than its peer, worst first. */
function behind(comparisons: readonly Comparison[]): Comparison[] {
  const worse = comparisons.filter(isBehind);
  const badness = (c: Comparison): number => {
    const ratio = ratioOf(c) ?? Number.POSITIVE_INFINITY; // null only when the peer scored 0 on a lower-is-better figure
    return c.better === 'higher' ? 1 / ratio : ratio;
  };
  return worse.sort((a, b) => badness(b) - badness(a));
}

function main(): void {
  const [file, ...others] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: npm run bench:page -- bench/results/<date>-<host>.json [later-report.json ...]');
  const read = (f: string): BenchReport => JSON.parse(readFileSync(f, 'utf8')) as BenchReport;
  const base = read(file);
  // Each dated report beside its JSON, made again from it (the same as bench/all.ts wrote, with today's report code).
  for (const f of [file, ...others]) writeFileSync(f.replace(/\.json$/, '.md'), writeMarkdownReport(read(f), path.basename(f)));
  // A later report's workloads replace the first one's (a workload run again on its own, e.g. after a fix of its harness).
  const replaced: Array<{ name: string; from: string; command: string }> = [];
  let workloads = [...base.workloads];
  for (const f of others) {
    for (const w of read(f).workloads) {
      workloads = [...workloads.filter((x) => x.name !== w.name), w];
      replaced.push({ name: w.name, from: path.relative(ROOT, path.resolve(f)), command: read(f).command });
    }
  }
  const report: BenchReport = { ...base, workloads };
  const figures = figuresOf(report);
  const c = figures.comparisons;
  const plotsDir = path.join(ROOT, 'docs/performances');
  mkdirSync(plotsDir, { recursive: true });
  const plots: Array<{ file: string; alt: string }> = [];
  const plot = (name: string, alt: string, svg: string): void => {
    writeFileSync(path.join(plotsDir, name), svg);
    plots.push({ file: `performances/${name}`, alt });
  };

  const registerFigure = 'enregistrements/s tenus (digest, UDP)';
  const callFigure = 'appels établis/s tenus';
  if (c.some((x) => x.workload === 'register' || x.workload === 'call-setup')) {
    const sides = ['voix', 'Asterisk', 'Kamailio'];
    plot(
      'debits.svg',
      'Enregistrements et appels par seconde tenus, voix contre Asterisk et Kamailio',
      barChartSvg({
        title: 'Débits tenus sans échec ni retransmission (3 passages sur 3)',
        unit: 'par seconde',
        groups: ['enregistrements/s', 'appels/s'],
        series: sides.map((side) => ({
          name: side,
          color: COLORS[side] ?? '#333333',
          values: [valueOf(c, 'register', registerFigure, side), side === 'Kamailio' ? null : valueOf(c, 'call-setup', callFigure, side)],
        })),
        log: true,
        format: (v) => fr(v),
      }),
    );
  }
  const ivr = c.filter((x) => x.workload === 'ivr' && x.figure.endsWith('|Δ−20 ms| p99'));
  if (ivr.length > 0) {
    const groups = ivr.map((x) => x.figure.replace(/^SVI, /, '').replace(/ : .*$/, ''));
    plot(
      'svi-gigue.svg',
      "Écart p99 à 20 ms entre arrivées des paquets du SVI, voix contre Asterisk, selon le nombre d'appels",
      barChartSvg({ title: 'SVI : |Δ−20 ms| p99 selon les appels simultanés (plus bas est meilleur)', unit: 'µs', groups, series: seriesFor(c, 'ivr', ivr.map((x) => x.figure), ['voix', 'Asterisk']), log: true, format: (v) => fr(v) }),
    );
    const cpu = c.filter((x) => x.workload === 'ivr' && x.figure.endsWith('CPU du serveur'));
    plot(
      'svi-cpu.svg',
      "CPU du serveur pendant la lecture du SVI, voix contre Asterisk, selon le nombre d'appels",
      barChartSvg({ title: 'SVI : CPU du serveur, % d’un cœur (plus bas est meilleur)', unit: '% d’un cœur', groups, series: seriesFor(c, 'ivr', cpu.map((x) => x.figure), ['voix', 'Asterisk']), format: (v) => fr(v, 1) }),
    );
  }
  const relayed = c.filter((x) => x.workload.startsWith('relay') && x.figure.includes('appels simultanés tenus'));
  if (relayed.length > 0) {
    const workloads = [...new Set(relayed.map((x) => x.workload))];
    const labels: Record<string, string> = { relay: 'RTP, moteur seul', 'relay-srtp': 'SRTP, moteur seul', 'relay-sipp': 'RTP, serveur complet', 'relay-sipp-srtp': 'SRTP, serveur complet' };
    const peers = [...new Set(relayed.map((x) => x.peer))];
    plot(
      'relais.svg',
      'Appels simultanés relayés sans perte ni gigue excessive, voix contre ses pairs',
      barChartSvg({
        title: 'Appels relayés simultanés tenus (pertes ≤ 0,1 %, gigue ≤ 5 ms)',
        unit: 'appels',
        groups: workloads.map((w) => labels[w] ?? w),
        series: ['voix', ...peers].map((side) => ({
          name: side,
          color: COLORS[side] ?? '#333333',
          values: workloads.map((w) => {
            const x = relayed.find((r) => r.workload === w && (side === 'voix' || r.peer === side));
            return x === undefined ? null : side === 'voix' ? x.voix : x.peerValue;
          }),
        })),
        format: (v) => fr(v),
      }),
    );
  }
  const srtp = c.filter((x) => x.workload === 'srtp');
  if (srtp.length > 0) {
    plot(
      'srtp.svg',
      'Paquets SRTP par seconde sur un thread, voix contre libsrtp2',
      barChartSvg({ title: 'SRTP sur un thread, paquets de 172 octets (plus haut est meilleur)', unit: 'paquets/s', groups: ['protection', 'déprotection'], series: seriesFor(c, 'srtp', srtp.map((x) => x.figure), ['voix', 'libsrtp2']), format: (v) => `${fr(v / 1e6, 2)} M` }),
    );
  }

  const m = report.machine;
  const late = behind(c);
  const lines = [
    '# Performances',
    '',
    '<!-- Généré par `npm run bench:page -- ' + [file, ...others].map((f) => path.relative(ROOT, path.resolve(f))).join(' ') + '` : ne pas modifier à la main. -->',
    '',
    "Cette page montre le dernier passage complet du banc d'essai, où voix et les serveurs qu'il",
    'remplace ou côtoie (Asterisk 22, Kamailio 5.6, libsrtp2) font le même travail, sur la même',
    "machine, dans la même exécution. Un chiffre n'a de sens qu'à côté de celui d'un pair mesuré",
    'ainsi : chaque mesure est donnée avec son rapport voix / pair.',
    '',
    '## Reproduire',
    '',
    'Sur une machine Debian 12 ou 13 avec Node.js 20, après la deuxième commande du démarrage rapide',
    '(README) qui installe les outils des tests :',
    '',
    '```sh',
    'npm run build',
    'npm run bench          # toutes les charges, moins de 30 minutes ; écrit bench/results/<date>-<machine>.md et .json',
    'npm run bench:page -- bench/results/<date>-<machine>.json   # refait cette page et ses graphiques',
    '```',
    '',
    "Le premier passage construit les systèmes de fichiers des pairs avec `mmdebstrap` (Asterisk depuis",
    'Debian unstable, Kamailio depuis Debian 12), gardés ensuite dans `/var/cache/voix-bench`. Le serveur',
    'mesuré a le cœur 0, les générateurs de charge et les captures le cœur 1. Rien d’autre ne doit tourner',
    'sur la machine pendant le banc.',
    '',
    '## Le passage montré ici',
    '',
    `- Date : ${report.date.slice(0, 10)}, machine « ${report.host} » : ${m.cpu}, ${m.cores} cœurs, ${m.memoryGiB} Gio, ${m.os}, Linux ${m.kernel}.`,
    `- Logiciels : voix ${m.voix}, Node.js ${m.node}, ${m.sipp}.`,
    `- Durée : ${fr(report.totalSeconds / 60, 1)} min (dont ${fr(report.prepareSeconds / 60, 1)} de préparation).`,
    // Paths, not links: the site is built from docs/ alone, and bench/ is outside it.
    `- Rapport complet : \`${path.relative(ROOT, path.resolve(file)).replace(/\.json$/, '.md')}\` ; données brutes : \`${path.relative(ROOT, path.resolve(file))}\` (dans le dépôt).`,
    ...replaced.map((r) => `- La charge « ${r.name} » vient d'un passage fait à part, même machine, même jour : \`${r.command}\` (\`${r.from}\`).`),
    '- Machine virtuelle partagée : ses vCPU sont parfois privés de temps processeur quelques millisecondes ; les p99 et les maxima en portent la trace.',
    '',
    '## Objectifs',
    '',
    aimsTable(figures.aims),
    '',
    '## Où voix est derrière',
    '',
    ...(late.length === 0
      ? ['Nulle part dans ce passage.']
      : late.map((x) => `- ${x.figure} : voix ${fr(x.voix, digitsOf(x))} ${x.unit} contre ${fr(x.peerValue, digitsOf(x))} ${x.unit} pour ${x.peer} (rapport ${fr(ratioOf(x), 2)}, ${x.better === 'higher' ? 'plus haut est meilleur' : 'plus bas est meilleur'}).`)),
    '',
    '## Graphiques',
    '',
    ...plots.flatMap((p) => [`![${p.alt}](${p.file})`, '']),
    '## Toutes les mesures',
    '',
    comparisonTable(c),
    '',
  ];
  for (const section of figures.sections) lines.push(`## ${section.title}`, '', section.markdown, '');
  writeFileSync(path.join(ROOT, 'docs/performances.md'), frenchApostrophes(lines.join('\n')));
  console.log(`docs/performances.md and ${plots.length} plots written from ${file}`);
}

main();

