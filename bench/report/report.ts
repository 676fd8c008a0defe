/**
 * The report of `npm run bench` (bench/all.ts): the figures of each
 * workload read from its raw JSON, every one beside its peer's with the
 * voix/peer ratio, and the issue's aims. The Markdown is in French (user
 * documentation); bench/report/page.ts makes docs/performances.md and its
 * plots from the same figures.
 */
export interface WorkloadRun {
  readonly name: string;
  readonly command: string;
  readonly exitCode: number;
  readonly seconds: number;
  /** The workload's own --json output (null when it wrote none). */
  readonly data: unknown;
  readonly output: string;
}

export interface BenchReport {
  readonly command: string;
  readonly date: string;
  readonly host: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly kernel: string;
    readonly os: string;
    readonly node: string;
    readonly voix: string;
    readonly sipp: string;
  };
  readonly prepareSeconds: number;
  readonly totalSeconds: number;
  readonly workloads: readonly WorkloadRun[];
}

/** One figure of voix beside a peer's. `better` says which way is better for voix. */
export interface Comparison {
  readonly workload: string;
  readonly figure: string;
  readonly unit: string;
  readonly voix: number | null;
  readonly peer: string;
  readonly peerValue: number | null;
  readonly better: 'higher' | 'lower';
  /** A bound rather than a figure (a generator fell behind). */
  readonly note?: string;
  /** The smallest difference the measure can tell (same unit): under it, voix and its peer are level, whatever their ratio. */
  readonly resolution?: number;
}

/** Whether voix does worse than its peer by more than the measure can tell. */
export function isBehind(c: Comparison): boolean {
  if (c.voix === null || c.peerValue === null || c.voix < 0 || c.peerValue < 0) return false;
  const worse = c.better === 'higher' ? c.voix < c.peerValue : c.voix > c.peerValue;
  return worse && (c.resolution === undefined || Math.abs(c.voix - c.peerValue) >= c.resolution);
}

/** An aim of the issue, reported honestly: met, not met, or not measured. */
export interface Aim {
  readonly aim: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface Figures {
  readonly comparisons: Comparison[];
  readonly aims: Aim[];
  /** Extra Markdown tables per workload (French). */
  readonly sections: Array<{ readonly workload: string; readonly title: string; readonly markdown: string }>;
}

/** voix / peer; none when a value is missing, or when either is below zero or the peer's is zero (a difference under the noise, not a figure to divide). */
export function ratioOf(c: Comparison): number | null {
  return c.voix !== null && c.peerValue !== null && c.voix >= 0 && c.peerValue > 0 ? c.voix / c.peerValue : null;
}

/** A number the French way: decimal comma, thin spaces between thousands. */
export function fr(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/d';
  const [whole, fraction] = Math.abs(value).toFixed(digits).split('.');
  const grouped = (whole ?? '0').replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return `${value < 0 ? '−' : ''}${grouped}${fraction === undefined ? '' : `,${fraction}`}`;
}

const workloadData = <T>(report: BenchReport, name: string): T | null => (report.workloads.find((w) => w.name === name)?.data ?? null) as T | null;

interface RegisterData {
  results: Array<{ name: string; version: string; best: { rate: number; achieved: number; cpuUsPerRegistration?: number } | null; lowerBound: boolean }>;
}
interface CallSetupData {
  results: Array<{ name: string; version: string; best: number | null; bestCpuMsPerCall?: number | null; lowerBound: boolean; delays: { rate: number; p50: number; p95: number; p99: number; runs?: unknown[] } | null }>;
}
interface IvrStep {
  server: string;
  calls: number;
  streams: number;
  deltaP50Us: number;
  deltaP99Us: number;
  deltaMaxUs: number;
  jitterMedianMs: number;
  jitterP99Ms: number;
  lossPercent: number;
  cpuPercent: number;
  sippFailed: number;
  windows: unknown[];
}
interface IvrData {
  results: IvrStep[];
  versions: string[];
  repeat: number;
  windowSeconds: number;
}
interface SrtpData {
  paths: Array<{ name: string; protect: number; unprotect: number; costVsLibsrtp: { protect: number; unprotect: number } }>;
  versions: { libsrtp: string };
}
interface DialerData {
  /** Windows each run was cut into (dialer-pacing.ts --windows): figures are their medians. */
  windows?: number;
  seconds?: number;
  results: Array<{ server?: 'voix' | 'asterisk'; rate: number; calls: number; achieved: number; intervals: { p1: number; p50: number; p99: number }; maxPerSecond: number; cpuMsPerCall: number; valid: boolean }>;
}

const NAMES: Record<string, string> = { asterisk: 'Asterisk', kamailio: 'Kamailio', rtpengine: 'rtpengine', libsrtp2: 'libsrtp2' };
const peerName = (name: string): string => NAMES[name] ?? name;

function registerFigures(data: RegisterData | null, out: Figures): void {
  if (data === null) return;
  const voix = data.results.find((r) => r.name === 'voix');
  for (const peer of data.results.filter((r) => r.name !== 'voix')) {
    out.comparisons.push({
      workload: 'register',
      figure: 'enregistrements/s tenus (digest, UDP)',
      unit: '/s',
      voix: voix?.best?.rate ?? null,
      peer: peerName(peer.name),
      peerValue: peer.best?.rate ?? null,
      better: 'higher',
      ...(voix?.lowerBound === true || peer.lowerBound ? { note: 'borne basse : SIPp a pris du retard' } : {}),
    });
    if (voix?.best?.cpuUsPerRegistration !== undefined && peer.best?.cpuUsPerRegistration !== undefined) {
      out.comparisons.push({ workload: 'register', figure: 'CPU du serveur par enregistrement, au débit tenu', unit: 'µs', voix: voix.best.cpuUsPerRegistration, peer: peerName(peer.name), peerValue: peer.best.cpuUsPerRegistration, better: 'lower', note: 'chacun à son propre débit tenu' });
    }
  }
  const asterisk = data.results.find((r) => r.name === 'asterisk');
  if (voix?.best != null && asterisk?.best != null) {
    out.aims.push({ aim: 'enregistrements/s ≥ Asterisk', measured: `${fr(voix.best.rate)} contre ${fr(asterisk.best.rate)} (×${fr(voix.best.rate / asterisk.best.rate, 2)})`, met: voix.best.rate >= asterisk.best.rate });
  } else out.aims.push({ aim: 'enregistrements/s ≥ Asterisk', measured: 'non mesuré', met: null });
}

function callSetupFigures(data: CallSetupData | null, out: Figures): void {
  if (data === null) return;
  const voix = data.results.find((r) => r.name === 'voix');
  for (const peer of data.results.filter((r) => r.name !== 'voix')) {
    const note = voix?.lowerBound === true || peer.lowerBound ? { note: 'borne basse : SIPp a pris du retard' } : {};
    out.comparisons.push({ workload: 'call-setup', figure: 'appels établis/s tenus', unit: '/s', voix: voix?.best ?? null, peer: peerName(peer.name), peerValue: peer.best, better: 'higher', ...note });
    if (voix?.bestCpuMsPerCall != null && peer.bestCpuMsPerCall != null) {
      out.comparisons.push({ workload: 'call-setup', figure: 'CPU du serveur par appel établi, au débit tenu', unit: 'ms', voix: voix.bestCpuMsPerCall, peer: peerName(peer.name), peerValue: peer.bestCpuMsPerCall, better: 'lower', note: 'chacun à son propre débit tenu' });
    }
    // Runs before 2026-11-27 evening measured the delays once.
    const runs = voix?.delays?.runs?.length ?? 1;
    const repeated = runs > 1 ? { note: `médianes de ${runs} passages, chacun sur un serveur tout juste démarré` } : {};
    for (const p of ['p50', 'p95', 'p99'] as const) {
      out.comparisons.push({ workload: 'call-setup', figure: `délai d'établissement (SRD) ${p}, à 80 % du débit tenu`, unit: 'ms', voix: voix?.delays?.[p] ?? null, peer: peerName(peer.name), peerValue: peer.delays?.[p] ?? null, better: 'lower', ...repeated });
    }
  }
  const asterisk = data.results.find((r) => r.name === 'asterisk');
  if (voix?.best != null && asterisk?.best != null) {
    out.aims.push({ aim: 'appels/s ≥ 2 × Asterisk', measured: `${fr(voix.best)} contre ${fr(asterisk.best)} (×${fr(voix.best / asterisk.best, 2)})`, met: voix.best >= 2 * asterisk.best });
  } else out.aims.push({ aim: 'appels/s ≥ 2 × Asterisk', measured: 'non mesuré', met: null });
}

function ivrFigures(data: IvrData | null, out: Figures): void {
  if (data === null) return;
  const steps = [...new Set(data.results.map((r) => r.calls))].sort((a, b) => a - b);
  const verdicts: string[] = [];
  let allMet: boolean | null = true;
  for (const calls of steps) {
    const voix = data.results.find((r) => r.server === 'voix' && r.calls === calls);
    const asterisk = data.results.find((r) => r.server === 'asterisk' && r.calls === calls);
    const note = asterisk !== undefined && asterisk.sippFailed > 0 ? { note: `Asterisk : ${asterisk.sippFailed} appels SIPp en échec, ${asterisk.streams} flux sur ${calls}` } : {};
    out.comparisons.push({ workload: 'ivr', figure: `SVI, ${calls} appel${calls > 1 ? 's' : ''} : |Δ−20 ms| p99`, unit: 'µs', voix: voix?.deltaP99Us ?? null, peer: 'Asterisk', peerValue: asterisk?.deltaP99Us ?? null, better: 'lower', ...note });
    out.comparisons.push({ workload: 'ivr', figure: `SVI, ${calls} appel${calls > 1 ? 's' : ''} : gigue RFC 3550 p99 entre flux`, unit: 'ms', voix: voix?.jitterP99Ms ?? null, peer: 'Asterisk', peerValue: asterisk?.jitterP99Ms ?? null, better: 'lower', ...note });
    out.comparisons.push({ workload: 'ivr', figure: `SVI, ${calls} appel${calls > 1 ? 's' : ''} : CPU du serveur`, unit: '%', voix: voix?.cpuPercent ?? null, peer: 'Asterisk', peerValue: asterisk?.cpuPercent ?? null, better: 'lower' });
    if (voix === undefined || asterisk === undefined) {
      allMet = null;
      continue;
    }
    const met = voix.deltaP99Us <= asterisk.deltaP99Us && voix.jitterP99Ms <= asterisk.jitterP99Ms;
    if (!met && allMet !== null) allMet = false;
    verdicts.push(`${calls} : ${met ? 'oui' : 'non'} (|Δ−20 ms| p99 ×${fr(voix.deltaP99Us / asterisk.deltaP99Us, 2)}, gigue p99 ×${fr(voix.jitterP99Ms / asterisk.jitterP99Ms, 2)})`);
  }
  out.aims.push({ aim: 'gigue p99 du SVI ≤ Asterisk à chaque N', measured: verdicts.join(' ; ') || 'non mesuré', met: verdicts.length === 0 ? null : allMet });
  const voixMedian100 = data.results.find((r) => r.server === 'voix' && r.calls === 100)?.jitterMedianMs;
  if (voixMedian100 !== undefined) out.aims.push({ aim: 'gigue médiane par flux < 0,2 ms à 100 flux (issue du SVI)', measured: `${fr(voixMedian100, 3)} ms`, met: voixMedian100 < 0.2 });

  const rows = data.results.map((r) => `| ${r.server === 'voix' ? 'voix' : 'Asterisk'} | ${r.calls} | ${r.streams} | ${fr(r.deltaP50Us)} | ${fr(r.deltaP99Us)} | ${fr(r.deltaMaxUs)} | ${fr(r.jitterMedianMs, 3)} | ${fr(r.jitterP99Ms, 3)} | ${fr(r.lossPercent, 3)} | ${fr(r.cpuPercent, 1)} | ${r.sippFailed} |`);
  out.sections.push({
    workload: 'ivr',
    title: 'Lecture de messages (SVI) : détail',
    markdown: [
      `Médianes de ${data.repeat} fenêtres de ${data.windowSeconds} s par palier (chaque fenêtre est dans le JSON).`,
      '',
      '| serveur | appels | flux vus | \\|Δ−20 ms\\| p50 µs | p99 µs | max µs | gigue médiane ms | gigue p99 ms | pertes % | CPU % | appels SIPp en échec |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n'),
  });
}

function srtpFigures(data: SrtpData | null, out: Figures): void {
  if (data === null) return;
  const libsrtp = data.paths.find((p) => p.name === 'libsrtp2');
  const voix = data.paths.find((p) => p.name === 'voix-srtp-session');
  if (voix !== undefined && libsrtp !== undefined) {
    for (const op of ['protect', 'unprotect'] as const) {
      out.comparisons.push({ workload: 'srtp', figure: `SRTP ${op === 'protect' ? 'protection' : 'déprotection'}, paquets/s sur un thread`, unit: '/s', voix: voix[op], peer: 'libsrtp2', peerValue: libsrtp[op], better: 'higher' });
    }
    const worst = Math.max(voix.costVsLibsrtp.protect, voix.costVsLibsrtp.unprotect);
    out.aims.push({ aim: 'coût SRTP par paquet ≤ 1,5 × celui de libsrtp2', measured: `×${fr(voix.costVsLibsrtp.protect, 2)} (protection), ×${fr(voix.costVsLibsrtp.unprotect, 2)} (déprotection)`, met: worst <= 1.5 });
  } else out.aims.push({ aim: 'coût SRTP par paquet ≤ 1,5 × celui de libsrtp2', measured: 'non mesuré', met: null });
  out.sections.push({
    workload: 'srtp',
    title: 'SRTP par paquet : détail',
    markdown: ['| chemin | protection paquets/s | coût / libsrtp2 | déprotection paquets/s | coût / libsrtp2 |', '|---|---:|---:|---:|---:|', ...data.paths.map((p) => `| ${p.name} | ${fr(p.protect)} | ${fr(p.costVsLibsrtp.protect, 2)} | ${fr(p.unprotect)} | ${fr(p.costVsLibsrtp.unprotect, 2)} |`)].join('\n'),
  });
}

function dialerFigures(data: DialerData | null, out: Figures): void {
  if (data === null) return;
  const results = data.results.map((r) => ({ ...r, server: r.server ?? 'voix' }));
  for (const rate of [...new Set(results.map((r) => r.rate))]) {
    const voix = results.find((r) => r.server === 'voix' && r.rate === rate);
    const asterisk = results.find((r) => r.server === 'asterisk' && r.rate === rate);
    if (asterisk === undefined) continue;
    const error = (r: typeof voix): number | null => (r === undefined ? null : 100 * Math.abs(r.achieved / rate - 1));
    // One call more or less in the span the rate is read over (a window, or the run) is the finest step of this figure.
    const span = data.seconds === undefined ? asterisk.calls / rate : data.seconds / (data.windows ?? 1);
    const resolution = 100 / (rate * span);
    const level = Math.abs((error(voix) ?? 0) - (error(asterisk) ?? 0)) < resolution;
    out.comparisons.push({ workload: 'dialer', figure: `automate à ${rate} appels/s : écart du débit obtenu au débit réglé`, unit: '%', voix: error(voix), peer: 'Asterisk (fichiers d’appel)', peerValue: error(asterisk), better: 'lower', resolution, ...(level ? { note: `à égalité : l’écart entre les deux est sous un appel sur ${fr(rate * span)} (${fr(resolution, 2)} %)` } : {}) });
    out.comparisons.push({ workload: 'dialer', figure: `automate à ${rate} appels/s : intervalle entre départs p99`, unit: 'ms', voix: voix?.intervals.p99 ?? null, peer: 'Asterisk (fichiers d’appel)', peerValue: asterisk.intervals.p99, better: 'lower' });
    out.comparisons.push({ workload: 'dialer', figure: `automate à ${rate} appels/s : CPU du serveur par appel`, unit: 'ms', voix: voix?.cpuMsPerCall ?? null, peer: 'Asterisk (fichiers d’appel)', peerValue: asterisk.cpuMsPerCall, better: 'lower' });
  }
  out.sections.push({
    workload: 'dialer',
    title: "Cadence de l'automate d'appels",
    markdown: [
      `Départ d'un appel : son premier INVITE sur le trunk (capture). Asterisk : un fichier d'appel par ligne du même CSV, déposé dans son spool au rythme réglé par le banc (Asterisk n'a pas de cadenceur).${(data.windows ?? 1) > 1 && data.seconds !== undefined ? ` Chaque passage de ${data.seconds} s est découpé en ${data.windows} fenêtres de ${fr(data.seconds / (data.windows ?? 1))} s : chaque chiffre est la médiane des fenêtres (le nombre d'appels est celui du passage).` : ''}`,
      '',
      '| serveur | débit réglé /s | appels | débit obtenu /s | obtenu / réglé | intervalles p1 / p50 / p99 ms | au plus en 1 s | CPU par appel ms | valide |',
      '|---|---:|---:|---:|---:|---|---:|---:|---|',
      ...results.map((r) => `| ${r.server === 'voix' ? 'voix' : 'Asterisk'} | ${r.rate} | ${r.calls} | ${fr(r.achieved, 3)} | ${fr(r.achieved / r.rate, 4)} | ${fr(r.intervals.p1)} / ${fr(r.intervals.p50)} / ${fr(r.intervals.p99)} | ${r.maxPerSecond} | ${fr(r.cpuMsPerCall, 2)} | ${r.valid ? 'oui' : 'non'} |`),
    ].join('\n'),
  });
  const mine = results.filter((r) => r.server === 'voix');
  const worst = mine.length === 0 ? null : Math.max(...mine.map((r) => Math.abs(r.achieved / r.rate - 1)));
  out.aims.push({ aim: "automate : débit obtenu à 2 % du débit réglé (issue de l'automate)", measured: worst === null ? 'non mesuré' : `écart le plus grand ${fr(worst * 100, 2)} %`, met: worst === null ? null : worst <= 0.02 });
}


interface RelayRatio {
  peer: string;
  /** The voix it was compared with: 'voix' (the media engine alone) or 'voix-server' (the whole server); absent from older runs. */
  voix?: string;
  highestGoodStep: { voix: number | null; peer: number | null; ratio: number | null; voixLowerBound: boolean; peerLowerBound: boolean };
  atCommonStep: {
    calls: number;
    /** Good runs each figure is the median of (relay.ts --confirm); absent before it. */
    runs?: { voix: number; peer: number };
    cpuUsPerPacket: { voix: number; peer: number; ratio: number };
    stateKbPerCall?: { voix: number; peer: number; ratio: number };
    rssKbPerCall?: { voix: number; peer: number; ratio: number };
  } | null;
}
interface RelayData {
  bench: 'relay' | 'relay-sipp';
  mode: 'plain' | 'srtp';
  outcomes: Array<{ relay?: string; server?: string; version: string; lastGood: number | null; stoppedBecause: string }>;
  ratios: RelayRatio[];
}

const RELAY_TITLES: Record<string, string> = {
  relay: 'relais RTP : moteur média de voix, serveur voix complet, rtpengine, Asterisk',
  'relay-srtp': 'relais SRTP sur les deux branches : moteur média de voix, serveur voix complet, Asterisk',
  'relay-sipp': 'appels relayés par le serveur complet (SIPp → serveur → SIPp, RTP)',
  'relay-sipp-srtp': 'appels SRTP relayés par le serveur complet',
};

function relayFigures(name: string, data: RelayData | null, out: Figures): void {
  if (data === null) return;
  const bound = (lower: boolean): string => (lower ? 'borne basse (dernier palier bon ou non concluant)' : '');
  for (const r of data.ratios) {
    // rtpengine is compared with voix's media engine alone; Asterisk with the whole voix server (relay.ts's voix-server).
    const srtp = data.mode === 'srtp' ? 'SRTP' : 'RTP';
    const title = data.bench === 'relay-sipp' ? `${srtp} relayé, serveur complet entre deux SIPp` : r.peer === 'rtpengine' ? `${srtp} relayé, moteur média de voix seul` : `${srtp} relayé, serveur complet`;
    const note = [bound(r.highestGoodStep.voixLowerBound) && `voix : ${bound(true)}`, bound(r.highestGoodStep.peerLowerBound) && `${peerName(r.peer)} : ${bound(true)}`].filter(Boolean).join(' ; ');
    out.comparisons.push({ workload: name, figure: `${title} : appels simultanés tenus (pertes ≤ 0,1 %, gigue moyenne ≤ 5 ms)`, unit: 'appels', voix: r.highestGoodStep.voix, peer: peerName(r.peer), peerValue: r.highestGoodStep.peer, better: 'higher', ...(note === '' ? {} : { note }) });
    const common = r.atCommonStep;
    if (common !== null) {
      const runs = common.runs === undefined ? '' : `médianes de ${common.runs.voix} et ${common.runs.peer} passages bons`;
      out.comparisons.push({ workload: name, figure: `${title} : CPU par paquet relayé à ${common.calls} appels`, unit: 'µs', voix: common.cpuUsPerPacket.voix, peer: peerName(r.peer), peerValue: common.cpuUsPerPacket.peer, better: 'lower', ...(runs === '' ? {} : { note: runs }) });
      const memory = common.stateKbPerCall ?? common.rssKbPerCall;
      const kind =
        common.stateKbPerCall === undefined
          ? 'mémoire résidente par appel'
          : r.voix === 'voix-server'
            ? 'mémoire anonyme (RssAnon) du processus après le palier moins avant, par appel, pour l’un comme pour l’autre'
            : 'état par appel (tas V8 après ramasse-miettes pour voix, mémoire anonyme pour le pair)';
      const noise = memory !== undefined && memory.voix < 0 ? 'voix : la mémoire a baissé pendant le palier, l’écart est sous le bruit de mesure (pas de rapport)' : '';
      const notes = [kind, runs, noise].filter(Boolean).join(' ; ');
      if (memory !== undefined) out.comparisons.push({ workload: name, figure: `${title} : mémoire par appel à ${common.calls} appels`, unit: 'Kio', voix: memory.voix, peer: peerName(r.peer), peerValue: memory.peer, better: 'lower', note: notes });
    }
  }
  const rows = data.outcomes.map((o) => `| ${o.relay ?? o.server ?? '?'} | ${relayInFrench(o.version)} | ${o.lastGood ?? 'aucun'} | ${cell(o.stoppedBecause === '' ? 'tous les paliers bons' : relayInFrench(o.stoppedBecause).replace(/(\d)\.(\d)/g, '$1,$2'))} |`);
  const title = RELAY_TITLES[name] ?? name;
  out.sections.push({ workload: name, title: `${title[0]?.toUpperCase() ?? ''}${title.slice(1)}`, markdown: ['| relais / serveur | version | palier bon le plus haut (appels) | arrêt |', '|---|---|---:|---|', ...rows].join('\n') });
  if (name === 'relay-srtp' || name === 'relay-sipp-srtp') {
    const asterisk = data.ratios.find((r) => r.peer === 'asterisk');
    if (asterisk !== undefined && asterisk.highestGoodStep.voix !== null && asterisk.highestGoodStep.peer !== null) {
      out.aims.push({ aim: 'appels SRTP simultanés ≥ Asterisk', measured: `${fr(asterisk.highestGoodStep.voix)} contre ${fr(asterisk.highestGoodStep.peer)}`, met: asterisk.highestGoodStep.voix >= asterisk.highestGoodStep.peer });
    }
  }
}

export function figuresOf(report: BenchReport): Figures {
  const out: Figures = { comparisons: [], aims: [], sections: [] };
  registerFigures(workloadData<RegisterData>(report, 'register'), out);
  callSetupFigures(workloadData<CallSetupData>(report, 'call-setup'), out);
  ivrFigures(workloadData<IvrData>(report, 'ivr'), out);
  srtpFigures(workloadData<SrtpData>(report, 'srtp'), out);
  dialerFigures(workloadData<DialerData>(report, 'dialer'), out);
  for (const name of ['relay', 'relay-srtp', 'relay-sipp', 'relay-sipp-srtp']) relayFigures(name, workloadData<RelayData>(report, name), out);
  if (!out.aims.some((a) => a.aim === 'appels SRTP simultanés ≥ Asterisk')) out.aims.push({ aim: 'appels SRTP simultanés ≥ Asterisk', measured: 'non mesuré (pas de SRTP relayé par Asterisk dans ce passage)', met: null });
  return out;
}

const minutes = (seconds: number): string => `${fr(seconds / 60, 1)} min`;

/** Text inside a Markdown table cell: a bare | would end the cell. */
export const cell = (text: string): string => text.replace(/\|/g, '\\|');

/**
 * The relay bench's verdicts and version notes (bench/relay.ts, English in
 * its JSON and its own report) in French for the page: the phrases it
 * writes, numbers kept; a phrase not listed stays as written.
 */
const RELAY_PHRASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/(\d+) calls: bad \(/g, '$1 appels : mauvais ('],
  [/(\d+) calls: invalid \(/g, '$1 appels : non concluant ('],
  [/, after (\d+) tries: inconclusive beyond/g, ', après $1 essais : rien de concluant au-delà'],
  [/mean jitter ([\d.]+) ms > ([\d.]+) ms/g, 'gigue moyenne $1 ms > $2 ms'],
  [/loss ([\d.]+)% > ([\d.]+)%/g, 'pertes $1 % > $2 %'],
  [/relay thread saturated \((\d+)% of its core\)/g, 'thread de relais saturé ($1 % de son cœur)'],
  [/(\d+) of (\d+) SRTP packets checked failed/g, '$1 paquets SRTP vérifiés sur $2 en échec'],
  [/no SRTP packet checked/g, 'aucun paquet SRTP vérifié'],
  [/dumpcap dropped (\d+) packets/g, 'dumpcap a perdu $1 paquets'],
  [/native UDP addon/g, 'module UDP natif'],
  [/native SRTP crypto/g, 'chiffrement SRTP natif'],
  [/TypeScript SRTP crypto/g, 'chiffrement SRTP en TypeScript'],
  [/; /g, ' ; '],
];

export function relayInFrench(text: string): string {
  return RELAY_PHRASES.reduce((out, [pattern, french]) => out.replace(pattern, french), text);
}

/** Decimals a comparison's values are shown with; percentages under 1 (the dialer's pacing error) get more, or both sides read 0,0 %. */
export function digitsOf(c: Comparison): number {
  if (c.unit === 'ms') return 2;
  if (c.unit === '%') return Math.max(Math.abs(c.voix ?? 0), Math.abs(c.peerValue ?? 0)) < 1 ? 3 : 1;
  return 0;
}

export function comparisonTable(comparisons: readonly Comparison[]): string {
  const lines = ['| mesure | voix | pair | valeur du pair | voix / pair | meilleur si | remarque |', '|---|---:|---|---:|---:|---|---|'];
  for (const c of comparisons) {
    const digits = digitsOf(c);
    const ratio = ratioOf(c);
    lines.push(`| ${cell(c.figure)} | ${fr(c.voix, digits)} ${c.unit} | ${c.peer} | ${fr(c.peerValue, digits)} ${c.unit} | ${ratio === null ? 'n/d' : fr(ratio, 2)} | ${c.better === 'higher' ? 'plus haut' : 'plus bas'} | ${cell(c.note ?? '')} |`);
  }
  return lines.join('\n');
}

export function aimsTable(aims: readonly Aim[]): string {
  const verdict = (met: boolean | null): string => (met === null ? 'non mesuré' : met ? 'atteint' : '**non atteint**');
  return ['| objectif | mesuré | verdict |', '|---|---|---|', ...aims.map((a) => `| ${cell(a.aim)} | ${cell(a.measured)} | ${verdict(a.met)} |`)].join('\n');
}

export function writeMarkdownReport(report: BenchReport, jsonName: string): string {
  const figures = figuresOf(report);
  const m = report.machine;
  const lines = [
    `# Mesures côte à côte du ${report.date.slice(0, 10)} (${report.host})`,
    '',
    `Commande : \`${report.command}\` — données brutes : [\`${jsonName}\`](${jsonName}).`,
    '',
    `Machine : ${m.cpu}, ${m.cores} cœurs, ${m.memoryGiB} Gio, ${m.os}, Linux ${m.kernel}, Node.js ${m.node}, ${m.sipp}. voix ${m.voix}.`,
    `Durée : ${minutes(report.totalSeconds)} en tout, dont ${minutes(report.prepareSeconds)} de préparation.`,
    '',
    '## Objectifs',
    '',
    aimsTable(figures.aims),
    '',
    '## Toutes les mesures, voix contre ses pairs',
    '',
    'Rapport voix / pair : au-dessus de 1, voix a la valeur la plus haute (meilleur pour un débit, moins bon pour un délai, une gigue ou un CPU).',
    '',
    comparisonTable(figures.comparisons),
    '',
  ];
  for (const section of figures.sections) lines.push(`## ${section.title}`, '', section.markdown, '');
  lines.push('## Charges', '', '| charge | commande | durée | code de sortie |', '|---|---|---:|---:|');
  for (const w of report.workloads) lines.push(`| ${w.name} | \`${w.command}\` | ${minutes(w.seconds)} | ${w.exitCode} |`);
  lines.push('', 'La sortie complète de chaque charge (tableaux par palier, versions des pairs) est dans le JSON, champ `output`.', '');
  return lines.join('\n');
}
