// Where a command's reply goes, kept with a job so it can be sent when the job
// ends, even by the next agent run.
import type { TraceContext } from '../ops/trace';

/** What a job keeps so its reply can be addressed later, even by the next agent run (JSON: bytes as base64). */
export interface ReplyAddress {
  id: string;
  command: string;
  replyTo?: string;
  correlationId?: string;
  correlationData?: string;
  contentType: string;
  echoCorrelation: boolean;
  /** the command's trace context: its job's events and reply carry it */
  trace?: TraceContext;
}
