import cliProgress from 'cli-progress';
import type { EpochMetrics, StepProgress, TrainHooks } from '../train/node/train.js';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** One line per epoch, the same on a terminal and in logs. */
export function epochLine(m: EpochMetrics, epochs: number): string {
  return (
    `epoch ${m.epoch}/${epochs}  train loss ${m.trainLoss.toFixed(4)} acc ${pct(m.trainAccuracy)}  ` +
    `val loss ${m.valLoss.toFixed(4)} acc ${pct(m.valAccuracy)}  ` +
    `${Math.round(m.examplesPerSecond)} ex/s  ${m.seconds.toFixed(1)} s`
  );
}

/**
 * Progress hooks: a bar per epoch on a terminal (steps, loss, accuracy, examples/s, ETA), plain
 * lines per epoch otherwise, nothing when quiet.
 */
export function progressHooks(options: {
  quiet: boolean;
  stream?: NodeJS.WriteStream;
}): Pick<TrainHooks, 'onStart' | 'onStep' | 'onEpoch' | 'log'> & { stop(): void } {
  const stream = options.stream ?? process.stdout;
  const tty = Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | null = null;
  let epochs = 0;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  if (options.quiet) {
    return { stop() {}, log() {} };
  }
  return {
    onStart(info) {
      epochs = info.epochs;
    },
    onStep(p: StepProgress) {
      if (!tty) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format:
              'epoch {epoch}/{epochs} |{bar}| {value}/{total} steps | loss {loss} | acc {acc} | {eps} ex/s | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.stepsPerEpoch, p.stepInEpoch - 1, {
          epoch: p.epoch,
          epochs,
          loss: '-',
          acc: '-',
          eps: '-',
        });
      }
      bar.update(p.stepInEpoch, {
        loss: p.loss.toFixed(4),
        acc: pct(p.accuracy),
        eps: Math.round(p.examplesPerSecond),
      });
    },
    onEpoch(m: EpochMetrics) {
      stopBar();
      stream.write(epochLine(m, epochs) + '\n');
    },
    log(line: string) {
      stopBar();
      stream.write(line + '\n');
    },
    stop: stopBar,
  };
}
