// systemd unit files read the way systemd reads them, for the deploy tests:
// enough of systemd.syntax(7), systemd.exec(5) and systemd.service(5) to run
// a unit's command as systemd would, on a machine where systemd is not PID 1.
// What is not implemented here throws, so a unit that starts to use it fails
// the test instead of being run differently from how systemd would run it.

interface Assignment {
  section: string;
  key: string;
  value: string;
}

/** Splits a command line or an Environment= value into words: whitespace separates, "…" and '…' quote, \ escapes. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur = (cur ?? '') + s[++i];
    } else if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else {
      cur = (cur ?? '') + c;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} in: ${s}`);
  if (cur !== undefined) words.push(cur);
  return words;
}

/** Replaces %X specifiers from the table (%% is %); an unknown one throws. */
export function expandSpecifiers(value: string, table: Record<string, string>): string {
  return value.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    if (table[c] === undefined) throw new Error(`specifier %${c} (in '${value}') is not known to this test helper`);
    return table[c];
  });
}

export class UnitFile {
  private constructor(private readonly assignments: Assignment[]) {}

  static parse(text: string): UnitFile {
    const out: Assignment[] = [];
    let section = '';
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i].trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      // a trailing backslash joins the next line with a space; comment lines in between are dropped
      while (line.endsWith('\\') && i + 1 < lines.length) {
        const next = lines[++i].trim();
        if (!next.startsWith('#') && !next.startsWith(';')) line = `${line.slice(0, -1)} ${next}`;
      }
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        section = header[1];
        continue;
      }
      const eq = line.indexOf('=');
      if (eq < 0 || !section) throw new Error(`line ${i + 1} is neither a section nor an assignment: ${line}`);
      out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
    }
    return new UnitFile(out);
  }

  /** Unit files plus drop-ins: later assignments come after (and may reset) earlier ones. */
  with(dropIn: UnitFile): UnitFile {
    return new UnitFile([...this.assignments, ...dropIn.assignments]);
  }

  has(section: string, key: string): boolean {
    return this.assignments.some((a) => a.section === section && a.key === key);
  }

  /** A list setting: every assignment in order, an empty one resetting the list. */
  all(section: string, key: string): string[] {
    let list: string[] = [];
    for (const a of this.assignments) {
      if (a.section !== section || a.key !== key) continue;
      list = a.value === '' ? [] : [...list, a.value];
    }
    return list;
  }

  /** A single-value setting: the last assignment (undefined: none). */
  get(section: string, key: string): string | undefined {
    const found = this.assignments.filter((a) => a.section === section && a.key === key);
    return found.length ? found[found.length - 1].value : undefined;
  }
}

/** KEY=VALUE lines of an EnvironmentFile= (comments with # or ;, optional quotes around the value). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an assignment in the environment file: ${line}`);
    const v = m[2].trim();
    env[m[1]] = /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
  }
  return env;
}

/** What systemd would run for [Service]: the command and the environment the unit itself sets. */
export interface ServiceCommand {
  argv: string[];
  /** Environment= (specifiers expanded), then the EnvironmentFile= files, which override it */
  env: Record<string, string>;
  user?: string;
  group?: string;
  supplementaryGroups: string[];
  /** the EnvironmentFile= paths, '-' (missing is fine) stripped */
  environmentFiles: Array<{ path: string; optional: boolean }>;
}

/**
 * The service's ExecStart= as argv, with its environment. readFile reads an
 * EnvironmentFile (undefined: it does not exist). Only what the unit uses is
 * supported: one ExecStart without a prefix (-@:+!) or $VARIABLE.
 */
export function serviceCommand(
  unit: UnitFile,
  specifiers: Record<string, string>,
  readFile: (path: string) => string | undefined,
): ServiceCommand {
  const execStart = unit.all('Service', 'ExecStart');
  if (execStart.length !== 1) throw new Error(`expected one ExecStart=, found ${execStart.length}`);
  if (/^[-@:+!]/.test(execStart[0])) throw new Error(`ExecStart= prefixes are not supported here: ${execStart[0]}`);
  if (execStart[0].includes('$')) throw new Error(`ExecStart= variables are not supported here: ${execStart[0]}`);
  const argv = splitWords(expandSpecifiers(execStart[0], specifiers));
  const env: Record<string, string> = {};
  for (const line of unit.all('Service', 'Environment')) {
    for (const word of splitWords(expandSpecifiers(line, specifiers))) {
      const eq = word.indexOf('=');
      if (eq <= 0) throw new Error(`Environment= word without a name: ${word}`);
      env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  const environmentFiles = unit.all('Service', 'EnvironmentFile').map((v) => {
    const optional = v.startsWith('-');
    return { path: expandSpecifiers(optional ? v.slice(1) : v, specifiers), optional };
  });
  for (const f of environmentFiles) {
    const text = readFile(f.path);
    if (text === undefined) {
      if (!f.optional) throw new Error(`EnvironmentFile ${f.path} is missing: systemd would not start the unit`);
      continue;
    }
    Object.assign(env, parseEnvironmentFile(text));
  }
  return {
    argv,
    env,
    user: unit.get('Service', 'User'),
    group: unit.get('Service', 'Group'),
    supplementaryGroups: unit.all('Service', 'SupplementaryGroups').flatMap((v) => splitWords(v)),
    environmentFiles,
  };
}
