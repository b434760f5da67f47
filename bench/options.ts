// What every scenario gets from the runner.

export interface BenchOptions {
  quick: boolean;
  /** RabbitMQ (AMQP 0-9-1) */
  amqpUrl: string;
  /** where scenarios note anything wrong they saw (agent errors, lost events, cleanup failures) */
  problems: string[];
  /** raw figures behind the rows, for --json */
  details: Record<string, unknown>;
  /** progress lines (stderr) */
  log: (msg: string) => void;
}

export const AMQP_URL = process.env.VIRTBUS_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
