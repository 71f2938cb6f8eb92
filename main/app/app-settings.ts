// Settings of this install, kept in the data folder (settings.json): the colour scheme chosen in
// the app and the name peers see (issue 15). A missing or damaged file means the defaults.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AppSettings, ThemeChoice } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';

const THEMES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
export const MAX_NAME = 60;

/** The name peers see: what the user chose, else the host name. */
export function announcedName(s: Pick<AppSettings, 'displayName' | 'defaultName'>): string {
  return s.displayName || s.defaultName;
}

export class SettingsFile {
  constructor(
    /** the data folder; none (tests, tools): defaults, kept in memory */
    private readonly dir?: string,
    private readonly defaultName = hostname(),
  ) {}

  private memory: Partial<AppSettings> = {};

  private stored(): Partial<AppSettings> {
    if (!this.dir) return this.memory;
    try {
      const s = JSON.parse(readFileSync(join(this.dir, 'settings.json'), 'utf8'));
      return s && typeof s === 'object' ? s : {};
    } catch {
      return {};
    }
  }

  read(): AppSettings {
    const s = this.stored();
    return {
      theme: THEMES.includes(s.theme as ThemeChoice) ? (s.theme as ThemeChoice) : 'system',
      displayName: typeof s.displayName === 'string' ? s.displayName.slice(0, MAX_NAME) : '',
      defaultName: this.defaultName,
    };
  }

  update(p: { theme?: unknown; displayName?: unknown }): AppSettings {
    const next = this.read();
    if (p?.theme !== undefined) {
      if (!THEMES.includes(p.theme as ThemeChoice)) throw new ApiError('invalid-argument', `The colour scheme is one of ${THEMES.join(', ')}.`);
      next.theme = p.theme as ThemeChoice;
    }
    if (p?.displayName !== undefined) {
      if (typeof p.displayName !== 'string') throw new ApiError('invalid-argument', 'The name must be text.');
      // one line of printable text; empty means the host name again
      const name = p.displayName.replace(/\s+/g, ' ').trim();
      if (name.length > MAX_NAME) throw new ApiError('invalid-argument', `A name has at most ${MAX_NAME} characters.`);
      if (/\p{Cc}/u.test(name)) throw new ApiError('invalid-argument', 'A name cannot hold control characters.');
      next.displayName = name;
    }
    const { theme, displayName } = next;
    if (this.dir) {
      const file = join(this.dir, 'settings.json');
      writeFileSync(`${file}.tmp`, JSON.stringify({ theme, displayName }, null, 2));
      renameSync(`${file}.tmp`, file);
    } else this.memory = { theme, displayName };
    return next;
  }
}
