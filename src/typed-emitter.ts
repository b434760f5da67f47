import { EventEmitter } from 'node:events';

/** Listener map: event name -> listener signature (as BullMQ's WorkerListener). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listeners of any signature must fit (unknown[] would not, by parameter variance)
export type ListenerMap = { [event: string]: (...args: any[]) => void };

/** An EventEmitter whose event names and payloads are checked by the compiler. */
export class TypedEmitter<L extends ListenerMap> extends EventEmitter {
  override on<E extends keyof L & string>(event: E, listener: L[E]): this {
    return super.on(event, listener);
  }
  override once<E extends keyof L & string>(event: E, listener: L[E]): this {
    return super.once(event, listener);
  }
  override off<E extends keyof L & string>(event: E, listener: L[E]): this {
    return super.off(event, listener);
  }
  override emit<E extends keyof L & string>(event: E, ...args: Parameters<L[E]>): boolean {
    return super.emit(event, ...args);
  }
}
