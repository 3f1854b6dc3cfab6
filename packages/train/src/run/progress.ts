/**
 * Training progress: a cli-progress bar with loss, rate and ETA on a TTY; plain, parseable lines otherwise (CI logs),
 * at most one every `plainEverySeconds`; nothing at all when quiet.
 */
import cliProgress from 'cli-progress';

export interface ProgressSink {
  /** Starts a phase of `total` units (e.g. the optimizer steps of an epoch). */
  start(label: string, total: number, done?: number): void;
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

  start(label: string, total: number, done = 0): void {
    this.stop();
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${label} [{bar}] {value}/{total} | loss {loss} | {rate} step/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.started = Date.now();
    this.startDone = done;
    this.bar.start(total, done, { loss: '-', rate: '-' });
  }

  private started = 0;
  private startDone = 0;

  update(done: number, info: { loss?: number }): void {
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? ((done - this.startDone) / secs).toFixed(2) : '-';
    this.bar?.update(done, { loss: info.loss === undefined ? '-' : info.loss.toFixed(4), rate });
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
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly everySeconds: number,
  ) {}

  start(label: string, total: number, done = 0): void {
    this.label = label;
    this.total = total;
    this.started = Date.now();
    this.startDone = done;
    this.lastPrint = this.started;
  }

  update(done: number, info: { loss?: number }): void {
    const now = Date.now();
    if (done < this.total && now - this.lastPrint < this.everySeconds * 1000) return;
    this.lastPrint = now;
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? (done - this.startDone) / secs : 0;
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    const loss = info.loss === undefined ? '-' : info.loss.toFixed(4);
    this.stream.write(
      `${this.label} ${done}/${this.total} loss ${loss} ${rate.toFixed(2)} step/s eta ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '-'}\n`,
    );
  }

  stop(): void {}

  line(text: string): void {
    this.stream.write(`${text}\n`);
  }
}
