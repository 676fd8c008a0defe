/**
 * A small metrics registry that renders the Prometheus text exposition
 * format (version 0.0.4): counters, gauges and histograms with labels. Values
 * are kept as plain numbers in maps keyed by the label values, so recording
 * one costs a map lookup; gauges may instead be read at scrape time from a
 * collect function (current registrations, open connections…), which keeps
 * the code being measured free of any bookkeeping.
 */

export type LabelValues = Readonly<Record<string, string>>;

/** Prometheus metric and label names (the data model's grammar). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label value escaping of the text format: backslash, double quote and line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escaping: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format writes it: +Inf, -Inf, NaN, or a number. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(names: readonly string[], values: readonly string[], extra?: readonly [string, string]): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name: ${name}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new Error(`invalid label name for ${name}: ${label}`);
    }
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  /** The label values in labelNames order, and the key they are stored under. */
  protected valuesOf(labels: LabelValues | undefined): string[] {
    const values: string[] = [];
    for (const name of this.labelNames) {
      const value = labels?.[name];
      if (value === undefined) throw new Error(`${this.name}: label ${name} missing`);
      values.push(value);
    }
    return values;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`);
    out.push(`# TYPE ${this.name} ${this.type}`);
    this.renderSamples(out);
  }

  protected abstract renderSamples(out: string[]): void;
}

const KEY_SEPARATOR = '\u0000';

/** A value that only goes up (resets when the process restarts). */
export class Counter extends Metric {
  readonly type = 'counter' as const;
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  inc(labels?: LabelValues, amount = 1): void {
    if (amount < 0) throw new Error(`${this.name}: a counter cannot decrease`);
    const values = this.valuesOf(labels);
    const key = values.join(KEY_SEPARATOR);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels: values, value: amount });
    else entry.value += amount;
  }

  /** The current value for these labels (0 when never incremented). */
  get(labels?: LabelValues): number {
    return this.values.get(this.valuesOf(labels).join(KEY_SEPARATOR))?.value ?? 0;
  }

  protected renderSamples(out: string[]): void {
    if (this.labelNames.length === 0 && this.values.size === 0) out.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) out.push(`${this.name}${labelText(this.labelNames, labels)} ${formatValue(value)}`);
  }
}

export type GaugeSamples = Iterable<readonly [LabelValues, number]>;

/** A value read at scrape time from `collect`, or set by the code that knows it. */
export class Gauge extends Metric {
  readonly type = 'gauge' as const;
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly collect: (() => GaugeSamples | number) | null,
  ) {
    super(name, help, labelNames);
  }

  set(labels: LabelValues | undefined, value: number): void {
    const values = this.valuesOf(labels);
    this.values.set(values.join(KEY_SEPARATOR), { labels: values, value });
  }

  protected renderSamples(out: string[]): void {
    if (this.collect === null) {
      for (const { labels, value } of this.values.values()) out.push(`${this.name}${labelText(this.labelNames, labels)} ${formatValue(value)}`);
      return;
    }
    const collected = this.collect();
    if (typeof collected === 'number') {
      out.push(`${this.name} ${formatValue(collected)}`);
      return;
    }
    for (const [labels, value] of collected) out.push(`${this.name}${labelText(this.labelNames, this.valuesOf(labels))} ${formatValue(value)}`);
  }
}

/** Observations counted in cumulative buckets (`le`), with their sum and count. */
export class Histogram extends Metric {
  readonly type = 'histogram' as const;
  private readonly series = new Map<string, { labels: string[]; counts: Float64Array; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    /** Upper bounds, increasing; +Inf is implied. */
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i++) {
      if (!((buckets[i] ?? 0) > (buckets[i - 1] ?? 0))) throw new Error(`${name}: buckets must increase`);
    }
  }

  observe(labels: LabelValues | undefined, value: number): void {
    const values = this.valuesOf(labels);
    const key = values.join(KEY_SEPARATOR);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: values, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    // Non-cumulative here; render() accumulates.
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) {
        (entry.counts[i] as number) += 1;
        break;
      }
    }
    entry.sum += value;
    entry.count += 1;
  }

  /** Observations so far for these labels. */
  count(labels?: LabelValues): number {
    return this.series.get(this.valuesOf(labels).join(KEY_SEPARATOR))?.count ?? 0;
  }

  protected renderSamples(out: string[]): void {
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += counts[i] as number;
        out.push(`${this.name}_bucket${labelText(this.labelNames, labels, ['le', formatValue(this.buckets[i] as number)])} ${cumulative}`);
      }
      out.push(`${this.name}_bucket${labelText(this.labelNames, labels, ['le', '+Inf'])} ${count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, labels)} ${formatValue(sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, labels)} ${count}`);
    }
  }
}

/** The metrics of one process, rendered in registration order. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  /** A gauge set by its owner (`set`), or read at scrape time when `collect` is given. */
  gauge(name: string, help: string, options: { labelNames?: readonly string[]; collect?: () => GaugeSamples | number } = {}): Gauge {
    return this.add(new Gauge(name, help, options.labelNames ?? [], options.collect ?? null));
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** The text exposition format, ending with a line feed. */
  render(): string {
    const out: string[] = [];
    for (const metric of this.metrics.values()) metric.render(out);
    return out.join('\n') + '\n';
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}

/** The Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
