/**
 * Training progress: a cli-progress bar with loss, rate and ETA on a TTY; plain, parseable lines otherwise (CI logs),
 * at most one every `plainEverySeconds`; nothing at all when quiet. The ETA is the whole run's (every epoch of every
 * round) when the phase says where the run stands, else the phase's.
 */
import cliProgress from 'cli-progress';

/** Where the whole run stands when a phase starts: optimizer steps done, and in all (every epoch of every round). */
export interface RunSteps {
  done: number;
  total: number;
}

export interface ProgressSink {
  /**
   * Starts a phase of `total` units (e.g. the optimizer steps of an epoch), `done` of them done already; `run`: where
   * the whole run stands, in the same units, for an ETA of the whole run.
   */
  start(label: string, total: number, done?: number, run?: RunSteps): void;
  update(done: number, info: { loss?: number }): void;
  stop(): void;
  /** A whole line (epoch summary), printed between bars. */
  line(text: string): void;
}

export interface ProgressOptions {
  mode?: 'auto' | 'bar' | 'plain' | 'quiet';
  stream?: NodeJS.WriteStream;
  plainEverySeconds?: number;
}

/**
 * Seconds left at the rate measured so far: `timed` units done in `seconds`, `remaining` to go. null before any unit
 * is timed.
 */
export function estimateEta(p: { timed: number; seconds: number; remaining: number }): number | null {
  const rate = p.seconds > 0 ? p.timed / p.seconds : 0;
  if (!(rate > 0)) return null;
  return Math.max(0, p.remaining) / rate;
}

/** `42s`, `3m05s`, `2h07m`; `-` for null. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
}

/**
 * The ETA of the whole run across phases. Timing starts with the first phase (a resumed run times what it runs), so
 * the rate includes what happens between phases (an epoch's evaluation); the units left are the run's (`RunSteps`),
 * or the phase's when a phase does not say where the run stands.
 */
class RunClock {
  private firstAt: number | null = null;
  /** Units done in the phases before the current one, since timing started. */
  private timedBefore = 0;
  private phaseDone = 0;
  private lastDone = 0;
  /** Units left in the run when the phase started. */
  private leftAtStart = 0;

  start(total: number, done: number, run: RunSteps | undefined, now: number): void {
    if (this.firstAt === null || run === undefined) {
      this.firstAt = now;
      this.timedBefore = 0;
    } else {
      this.timedBefore += this.lastDone - this.phaseDone;
    }
    this.phaseDone = done;
    this.lastDone = done;
    this.leftAtStart = run === undefined ? total - done : run.total - run.done;
  }

  /** Seconds left in the run after `done` units of the current phase. */
  eta(done: number, now: number): number | null {
    if (this.firstAt === null) return null;
    this.lastDone = done;
    return estimateEta({
      timed: this.timedBefore + (done - this.phaseDone),
      seconds: (now - this.firstAt) / 1000,
      remaining: this.leftAtStart - (done - this.phaseDone),
    });
  }
}

export function createProgress(opts: ProgressOptions = {}): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  const mode = opts.mode === undefined || opts.mode === 'auto' ? (stream.isTTY ? 'bar' : 'plain') : opts.mode;
  if (mode === 'quiet') return { start() {}, update() {}, stop() {}, line() {} };
  if (mode === 'bar') return new BarProgress(stream);
  return new PlainProgress(stream, opts.plainEverySeconds ?? 30);
}

class BarProgress implements ProgressSink {
  private bar: cliProgress.SingleBar | null = null;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(label: string, total: number, done = 0, run?: RunSteps): void {
    this.stop();
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${label} [{bar}] {value}/{total} | loss {loss} | {rate} step/s | ETA {runEta}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.started = Date.now();
    this.startDone = done;
    this.clock.start(total, done, run, this.started);
    this.bar.start(total, done, { loss: '-', rate: '-', runEta: '-' });
  }

  private started = 0;
  private startDone = 0;
  private readonly clock = new RunClock();

  update(done: number, info: { loss?: number }): void {
    const now = Date.now();
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? ((done - this.startDone) / secs).toFixed(2) : '-';
    this.bar?.update(done, {
      loss: info.loss === undefined ? '-' : info.loss.toFixed(4),
      rate,
      runEta: formatDuration(this.clock.eta(done, now)),
    });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }

  line(text: string): void {
    this.stream.write(`${text}\n`);
  }
}

class PlainProgress implements ProgressSink {
  private label = '';
  private total = 0;
  private started = 0;
  private startDone = 0;
  private lastPrint = 0;
  private readonly clock = new RunClock();
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly everySeconds: number,
  ) {}

  start(label: string, total: number, done = 0, run?: RunSteps): void {
    this.label = label;
    this.total = total;
    this.started = Date.now();
    this.startDone = done;
    this.lastPrint = this.started;
    this.clock.start(total, done, run, this.started);
  }

  update(done: number, info: { loss?: number }): void {
    const now = Date.now();
    const eta = this.clock.eta(done, now);
    if (done < this.total && now - this.lastPrint < this.everySeconds * 1000) return;
    this.lastPrint = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? (done - this.startDone) / secs : 0;
    const loss = info.loss === undefined ? '-' : info.loss.toFixed(4);
    this.stream.write(
      `${this.label} ${done}/${this.total} loss ${loss} ${rate.toFixed(2)} step/s eta ${eta === null ? '-' : `${eta.toFixed(0)}s`}\n`,
    );
  }

  stop(): void {}

  line(text: string): void {
    this.stream.write(`${text}\n`);
  }
}
