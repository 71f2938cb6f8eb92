// The open tables and SQL consoles of the window, as DB tools show them in a tab bar (issue 15):
// which are open, in what order, which one is shown. A plain click on a table in the sidebar shows
// it in the tab shown (or the tab that has it already); Ctrl+click or a middle click opens a new
// tab. Each tab's own state (sort, filters, scroll, selection, a console's script) lives in its
// component, which stays mounted while another tab is shown. A foreign key's link shows its rows
// in the tab shown, as a fresh tab of the linked table starting with the link's filters.
import type { ColumnFilter } from '../shared/api.ts';

/** `filters`: what a table tab opened by a link starts with */
export type DocTab = { id: number; kind: 'table'; table: string; filters?: ColumnFilter[] } | { id: number; kind: 'query'; title: string };

export class OpenTabs {
  tabs: DocTab[] = [];
  active: number | null = null;
  private nextId = 1;
  private queries = 0;

  get current(): DocTab | null {
    return this.tabs.find((t) => t.id === this.active) ?? null;
  }

  /** Shows `table`: in a new tab, or in the tab that has it, or instead of the table shown now. */
  openTable(table: string, newTab = false): DocTab {
    if (!newTab) {
      const has = this.current?.kind === 'table' && this.current.table === table ? this.current : this.tabs.find((t) => t.kind === 'table' && t.table === table);
      if (has) return this.activate(has.id);
      return this.instead({ id: this.nextId++, kind: 'table', table });
    }
    return this.insert({ id: this.nextId++, kind: 'table', table });
  }

  /** A foreign key's link: `table` filtered to the rows it means, in place of the table shown (a tab after a console). */
  openLink(table: string, filters: ColumnFilter[]): DocTab {
    return this.instead({ id: this.nextId++, kind: 'table', table, filters });
  }

  /** The first console (`newTab`: another one). */
  openQuery(newTab = false): DocTab {
    const has = this.current?.kind === 'query' ? this.current : this.tabs.find((t) => t.kind === 'query');
    if (has && !newTab) return this.activate(has.id);
    this.queries++;
    return this.insert({ id: this.nextId++, kind: 'query', title: this.queries === 1 ? 'SQL console' : `SQL console ${this.queries}` });
  }

  /** A fresh tab in place of the table shown (its table starts with its own sort, filters and scroll), else after the tab shown. */
  private instead(tab: DocTab): DocTab {
    const at = this.tabs.findIndex((t) => t.id === this.active);
    if (at < 0 || this.tabs[at].kind !== 'table') return this.insert(tab);
    this.tabs.splice(at, 1, tab);
    return this.activate(tab.id);
  }

  private insert(tab: DocTab): DocTab {
    const at = this.tabs.findIndex((t) => t.id === this.active);
    this.tabs.splice(at < 0 ? this.tabs.length : at + 1, 0, tab);
    return this.activate(tab.id);
  }

  activate(id: number): DocTab {
    const tab = this.tabs.find((t) => t.id === id);
    if (!tab) throw new Error(`no tab ${id}`);
    this.active = id;
    return tab;
  }

  /** Closes a tab; the one shown next is its right neighbour, else its left one. */
  close(id: number): void {
    const at = this.tabs.findIndex((t) => t.id === id);
    if (at < 0) return;
    this.tabs.splice(at, 1);
    if (this.active === id) this.active = (this.tabs[at] ?? this.tabs[at - 1])?.id ?? null;
  }

  /** The tab `step` places from the shown one (wrapping), for the keyboard. */
  neighbour(id: number, step: number): DocTab | null {
    const at = this.tabs.findIndex((t) => t.id === id);
    if (at < 0 || !this.tabs.length) return null;
    return this.tabs[(((at + step) % this.tabs.length) + this.tabs.length) % this.tabs.length];
  }

  /** Tables that no longer exist lose their tabs. */
  keepTables(existing: string[]): void {
    for (const t of [...this.tabs]) if (t.kind === 'table' && !existing.includes(t.table)) this.close(t.id);
  }

  clear(): void {
    this.tabs = [];
    this.active = null;
    this.queries = 0;
  }
}
