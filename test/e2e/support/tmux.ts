/**
 * A private tmux server for end-to-end tests of the TUI: programs run in its windows as a person
 * would start them; keys go in with send-keys and screens are read with capture-pane. Its socket
 * is in a temp dir of its own, so a test never touches anyone else's tmux.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Waits are generous (a busy 2-core machine starts a tsx process in seconds, not milliseconds);
 * they bound a failure, a passing run never waits them out.
 */
export const WAIT_MS = 30_000;
/** Between looks at a screen: each look starts a tmux client, and a tight loop of them would take
 * the CPU from the TUIs it waits for. */
const POLL_MS = 100;

/**
 * The environment of a person's shell, not of this test: node:test's NODE_TEST_CONTEXT would
 * turn the child node processes into test-runner children, and CI variables make ink print only
 * the final frame (it assumes a log, not a terminal). The tmux server copies the environment of
 * the first client.
 */
const SHELL_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      k !== "NODE_TEST_CONTEXT" &&
      k !== "CI" &&
      k !== "CONTINUOUS_INTEGRATION" &&
      !k.startsWith("CI_"),
  ),
);

/** Polls `check` until it is true; fails after `ms`, saying `what` (read then). */
export async function until(check: () => boolean, what: () => string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export class Tmux {
  /** the temp dir: the socket, and files the test's programs write */
  readonly dir = mkdtempSync(join(tmpdir(), "parley-tui-e2e-"));
  private readonly socket = join(this.dir, "tmux.sock");

  /** Starts the tmux server with one session of `width` x `height`, its first window `window`. */
  constructor(
    window: string,
    size: { width: number; height: number },
    private readonly session = "e2e",
  ) {
    this.run(
      "new-session",
      ...["-d", "-s", session, "-n", window, "-x", String(size.width), "-y", String(size.height)],
    );
    // Keep a window whose program exited, with its last screen (for a failure's message).
    this.run("set-option", "-g", "-w", "remain-on-exit", "on");
  }

  run(...args: string[]): string {
    return execFileSync("tmux", ["-S", this.socket, ...args], {
      encoding: "utf8",
      env: SHELL_ENV,
    });
  }

  target(window: string): string {
    return `${this.session}:${window}`;
  }

  /** The visible screen. */
  screen(window: string): string {
    return this.run("capture-pane", "-p", "-t", this.target(window));
  }

  async shows(window: string, text: string, ms = WAIT_MS): Promise<void> {
    await until(
      () => this.screen(window).includes(text),
      () => `"${text}" in window ${window}; screen:\n${this.screen(window)}`,
      ms,
    );
  }

  /**
   * Whether the program in `window` reads its terminal key by key (ink's raw mode). Before that,
   * the tty's line editing gets the keys: Ctrl-U erases its line buffer, Enter becomes a line
   * feed, and nothing reaches the program before a line is complete. A screen can be drawn
   * before ink switches, so a test that types must wait for this too.
   */
  rawMode(window: string): boolean {
    const tty = this.run("display-message", "-p", "-t", this.target(window), "#{pane_tty}").trim();
    try {
      const modes = execFileSync("stty", ["-F", tty, "-a"], { encoding: "utf8" });
      return /(^|\s)-icanon(\s|$)/.test(modes);
    } catch {
      return false; // the pane is gone (its program died): the wait fails, showing the screen
    }
  }

  /** Waits until `window` shows `text` and its TUI reads keys. */
  async ready(window: string, text: string): Promise<void> {
    await this.shows(window, text);
    await until(
      () => this.rawMode(window),
      () => `raw mode in window ${window}; screen:\n${this.screen(window)}`,
    );
  }

  /** How many times `text` is on the screen of `window`. */
  count(window: string, text: string): number {
    return this.screen(window).split(text).length - 1;
  }

  /** Sends keys by tmux's names (C-u, Enter...). */
  keys(window: string, ...keys: string[]): void {
    this.run("send-keys", "-t", this.target(window), ...keys);
  }

  /** Types `text` literally, then Enter. */
  type(window: string, text: string): void {
    this.run("send-keys", "-t", this.target(window), "-l", text);
    this.keys(window, "Enter");
  }

  private statusFile(window: string): string {
    return join(this.dir, `${window}.status`);
  }

  /**
   * Starts parley-tui with `args` in a new window. The shell then writes the TUI's exit status
   * to a file: neither what it prints (tmux may handle the pane's exit before its last output,
   * and the screen shows only "Pane is dead") nor tmux's pane_dead (tmux 3.3a now and then
   * misses a pane's exit when two of its panes exit within a moment) is reliable.
   */
  startTui(window: string, args: string): void {
    this.run(
      "new-window",
      ...["-d", "-c", process.cwd(), "-t", this.session, "-n", window],
      `${process.execPath} --import tsx clients/tui/main.tsx ${args}; echo $? > ${this.statusFile(window)}`,
    );
  }

  /** Waits for the TUI in `window` to exit and returns its exit status. */
  async exitStatus(window: string): Promise<string> {
    // The shell creates the file, then writes the status and a newline.
    const file = this.statusFile(window);
    const read = (): string => (existsSync(file) ? readFileSync(file, "utf8") : "");
    await until(
      () => read().endsWith("\n"),
      () => `parley-tui to exit in window ${window}; screen:\n${this.screen(window)}`,
    );
    return read().trim();
  }

  /**
   * Stops every program in its windows, then the tmux server, and removes the dir. kill-server
   * alone only sends SIGHUP, which a Parley server takes as "reload" and survives: each pane's
   * process group gets SIGTERM first.
   */
  close(): void {
    try {
      for (const pid of this.run("list-panes", "-a", "-F", "#{pane_pid}").split("\n")) {
        if (!/^\d+$/.test(pid.trim())) continue;
        try {
          process.kill(-Number(pid.trim()), "SIGTERM");
        } catch {
          // that pane's programs are already gone
        }
      }
    } catch {
      // no tmux server left
    }
    try {
      this.run("kill-server");
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
