import { spawn, type ChildProcess } from 'node:child_process';
import { VbnError } from '../../errors.js';

/** How to start a worker and what its errors name. */
export interface WorkerSpec {
  /** Names the implementation in every message: the file or the command. */
  owner: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Seconds each request may take before the worker is stopped. */
  timeoutSeconds: number;
  /** The one line to print when the program cannot be started at all. */
  notFound: string;
}

interface Pending {
  op: string;
  resolve: (reply: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Every worker still running, so that none outlives vbn (exit, Ctrl-C, SIGTERM). */
const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  live.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // the worker and anything it started
  } catch {
    child.kill('SIGKILL');
  }
}

/** Stops every worker at once; synchronous, so it also works in an 'exit' handler. */
export function killAllWorkers(): void {
  for (const c of [...live]) killGroup(c);
}
process.on('exit', killAllWorkers);

/** One worker process speaking JSON lines over stdin/stdout (docs/check-protocol.md). */
export class Worker {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private buffer = '';
  private stderrTail = '';
  private failure: VbnError | null = null;

  constructor(private readonly spec: WorkerSpec) {
    this.child = spawn(spec.command, spec.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: killGroup stops what it started too
      env: spec.env ?? process.env,
    });
    live.add(this.child);
    this.child.stdin!.on('error', () => {}); // a dead worker is reported by 'exit'
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    this.child.on('error', (e: NodeJS.ErrnoException) =>
      this.fail(
        e.code === 'ENOENT'
          ? new VbnError(spec.notFound)
          : new VbnError(`${spec.owner}: ${e.message}`),
      ),
    );
    // 'close', not 'exit': stdout and stderr are drained by then (the last reply, the error line).
    this.child.on('close', (code, signal) => {
      live.delete(this.child);
      const last = this.lastStderrLine();
      this.fail(
        new VbnError(
          `${spec.owner}: the worker exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`,
        ),
      );
    });
  }

  /** The last non-empty line the worker wrote to stderr. */
  lastStderrLine(): string {
    const lines = this.stderrTail.split('\n').map((l) => l.trim());
    return lines.filter((l) => l.length > 0).pop() ?? '';
  }

  private fail(e: VbnError): void {
    this.failure ??= e;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    this.pending.clear();
  }

  private onData(d: string): void {
    this.buffer += d;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.stop();
      this.fail(
        new VbnError(
          `${this.spec.owner}: the worker wrote a line that is not JSON on stdout: ${line.slice(0, 80)}`,
        ),
      );
      return;
    }
    const p = this.pending.get(reply.id as number);
    if (!p) return;
    this.pending.delete(reply.id as number);
    clearTimeout(p.timer);
    if (typeof reply.error === 'string')
      p.reject(new VbnError(`${this.spec.owner}: ${reply.error}`));
    else p.resolve(reply);
  }

  /** Sends one request and waits for its reply (or the timeout, or the worker's exit). */
  request(op: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.stop();
        reject(
          new VbnError(
            `${this.spec.owner}: the worker did not answer '${op}' within ${this.spec.timeoutSeconds} s (--worker-timeout); stopped it`,
          ),
        );
      }, this.spec.timeoutSeconds * 1000);
      this.pending.set(id, { op, resolve, reject, timer });
      this.child.stdin!.write(JSON.stringify({ id, op, ...body }) + '\n');
    });
  }

  private stop(): void {
    killGroup(this.child);
  }

  /** Closes stdin (the worker exits), then stops it if it has not after a second. */
  async close(): Promise<void> {
    const gone = this.child.exitCode !== null || this.child.signalCode !== null;
    if (gone || this.child.pid === undefined) {
      live.delete(this.child);
      return;
    }
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.stop(), 1000);
    await exited;
    clearTimeout(timer);
  }
}
