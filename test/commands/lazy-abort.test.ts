// A command's abort hands out a real AbortSignal whenever it is asked for:
// before the abort (then aborted with it) or after (already aborted).
import { LazyAbort } from '../../src/commands/lazy-abort';

test('a signal taken before the abort is aborted by it, listeners called once', () => {
  const a = new LazyAbort();
  const s = a.signal;
  expect(a.aborted).toBe(false);
  expect(s.aborted).toBe(false);
  const heard = jest.fn();
  s.addEventListener('abort', heard);
  a.abort();
  expect(a.aborted).toBe(true);
  expect(s.aborted).toBe(true);
  expect(a.signal).toBe(s);
  a.abort();
  expect(heard).toHaveBeenCalledTimes(1);
});

test('a signal first asked for after the abort is already aborted', () => {
  const a = new LazyAbort();
  a.abort();
  expect(a.aborted).toBe(true);
  expect(a.signal.aborted).toBe(true);
});

test('an abort nobody took the signal of is still seen as aborted', () => {
  const a = new LazyAbort();
  expect(a.aborted).toBe(false);
  a.abort();
  expect(a.aborted).toBe(true);
});
