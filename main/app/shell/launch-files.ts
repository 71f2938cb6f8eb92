// Files the OS asks the app to open (macOS `open-file`: a double-clicked .db, a file dropped on
// the Dock icon) can arrive before the app is ready, when no window can open yet: they wait here
// and open first; without any, the command line's file or else the demo database opens.
export class LaunchFiles {
  #pending: string[] | null = [];

  /** An `open-file` event: the path to open now, or null when it waits for `ready`. */
  opened(path: string): string | null {
    if (this.#pending === null) return path;
    if (!this.#pending.includes(path)) this.#pending.push(path);
    return null;
  }

  /** The app is ready: the files to open at launch, in order (empty when there is none). */
  ready(commandLineFile: string | null): string[] {
    const files = this.#pending ?? [];
    this.#pending = null;
    return commandLineFile && !files.includes(commandLineFile) ? [commandLineFile, ...files] : files;
  }
}
