// Rows of the bench report: each agent figure next to its baseline from the
// same run, the ratio, the target and whether it is met; rendered as one
// table for people or one JSON document.

export interface Target {
  /** what the target bounds: the ratio agent/baseline, or the agent figure itself */
  of: 'ratio' | 'agent';
  op: '<=' | '>=';
  value: number;
}

export interface Row {
  /** stable key, e.g. amqp.get.p50 */
  id: string;
  figure: string;
  unit: string;
  agent?: number;
  baseline?: number;
  /** what the baseline is, e.g. "echo p50 0.41 + getInfo p50 0.01" */
  baselineLabel?: string;
  ratio?: number;
  target?: Target;
  ok?: boolean;
  /** the row could not be measured here, and why */
  skipped?: string;
  /** the scenario failed */
  error?: string;
}

export function measured(
  id: string,
  figure: string,
  unit: string,
  agent: number,
  baseline: number | undefined,
  baselineLabel: string | undefined,
  target?: Target,
): Row {
  const ratio = baseline !== undefined && baseline > 0 && Number.isFinite(agent) ? agent / baseline : undefined;
  const subject = target?.of === 'ratio' ? ratio : agent;
  const ok =
    target && subject !== undefined && Number.isFinite(subject)
      ? target.op === '<='
        ? subject <= target.value
        : subject >= target.value
      : target
        ? false
        : undefined;
  return { id, figure, unit, agent, baseline, baselineLabel, ratio, target, ok };
}

export function skipped(id: string, figure: string, reason: string): Row {
  return { id, figure, unit: '', skipped: reason };
}

export function failed(id: string, figure: string, error: string): Row {
  return { id, figure, unit: '', error, ok: false };
}

export function fmt(v: number | undefined, unit: string): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  switch (unit) {
    case 'ms':
      return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
    case 'MiB':
      return `${v.toFixed(1)} MiB`;
    case 'count':
      return String(Math.round(v));
    default:
      return `${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)} ${unit}`;
  }
}

function targetText(t: Target | undefined, unit: string): string {
  if (!t) return '—';
  const op = t.op === '<=' ? '≤' : '≥';
  if (t.of === 'ratio') return `${op} ${t.value}×`;
  if (unit === 'count') return t.op === '<=' && t.value === 0 ? '= 0' : `${op} ${t.value}`;
  return `${op} ${t.value} ${unit}`;
}

/** Two decimals, three where two would round across the target. */
function ratioText(r: Row): string {
  if (r.ratio === undefined) return '—';
  const near = r.target?.of === 'ratio' && Math.abs(r.ratio - r.target.value) < 0.01;
  return `${r.ratio.toFixed(near ? 3 : 2)}×`;
}

export function renderTable(rows: Row[], title: string): string {
  const head = ['figure', 'agent', 'baseline (same run)', 'ratio', 'target', 'ok?'];
  const cells = rows.map((r) => {
    if (r.skipped !== undefined) return [r.figure, `skipped: ${r.skipped}`, '', '', '', 'skip'];
    if (r.error !== undefined) return [r.figure, `FAILED: ${r.error}`.slice(0, 160), '', '', '', 'NO'];
    const base = r.baseline === undefined ? '—' : fmt(r.baseline, r.unit);
    return [
      r.figure,
      fmt(r.agent, r.unit),
      r.baselineLabel ? `${base} (${r.baselineLabel})` : base,
      ratioText(r),
      targetText(r.target, r.unit),
      r.ok === undefined ? '—' : r.ok ? 'yes' : 'NO',
    ];
  });
  // a skipped or failed row's message may run past its column
  const widths = head.map((h, i) =>
    Math.max(h.length, ...cells.filter((c) => !(i === 1 && c[2] === '' && c[1].length > 24)).map((c) => c[i].length)),
  );
  const line = (c: string[]) => {
    if (c[2] === '' && c[3] === '' && c[1].length > widths[1]) return `${c[0].padEnd(widths[0])} | ${c[1]}`.trimEnd();
    return c
      .map((x, i) => x.padEnd(widths[i]))
      .join(' | ')
      .trimEnd();
  };
  return [title, line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}
