import { describe, expect, it } from 'vitest';
import { ClientSignal } from '../../src/pipeline/cancel.js';

describe('ClientSignal', () => {
  it('runs each listener once, in order, with the reason set, and ignores later aborts', () => {
    const s = new ClientSignal();
    const seen: string[] = [];
    s.addEventListener('abort', () => seen.push(`a:${String(s.reason)}`));
    s.addEventListener('abort', () => seen.push(`b:${String(s.aborted)}`), { once: true });
    expect(s.aborted).toBe(false);
    s.abort('gone');
    s.abort('again');
    expect(seen).toEqual(['a:gone', 'b:true']);
    expect(s.reason).toBe('gone');
  });

  it('does not call a removed listener, nor one added after the abort', () => {
    const s = new ClientSignal();
    let calls = 0;
    const fn = () => calls++;
    s.addEventListener('abort', fn);
    s.removeEventListener('abort', fn);
    s.abort(new Error('x'));
    s.addEventListener('abort', fn);
    expect(calls).toBe(0);
    expect(s.aborted).toBe(true);
  });
});
