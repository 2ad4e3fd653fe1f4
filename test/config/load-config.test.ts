import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicSettings } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('applies documented defaults with an empty environment', () => {
    const c = loadConfig({ env: {} });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(10010);
    expect(c.timeoutMs).toBe(0);
    expect(c.bodyLimit).toBe(1048576);
    expect(c.upstreams).toHaveLength(1);
    expect(c.upstreams[0]).toMatchObject({ kind: 'ollama', url: 'http://127.0.0.1:11434' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads env and lets flags override env', () => {
    const c = loadConfig({
      env: { SUTAZAI_PORT: '9000', SUTAZAI_HOST: '0.0.0.0', OLLAMA_URL: 'http://10.0.0.1:11434' },
      argv: ['--port', '9100'],
    });
    expect(c.port).toBe(9100);
    expect(c.host).toBe('0.0.0.0');
    expect(c.upstreams[0]?.url).toBe('http://10.0.0.1:11434');
  });

  it('parses upstream lists from env and repeatable flags', () => {
    const fromEnv = loadConfig({
      env: { SUTAZAI_UPSTREAMS: 'ollama=http://a:11434, openai=http://b:8080/v1/' },
    });
    expect(fromEnv.upstreams.map((u) => [u.kind, u.url])).toEqual([
      ['ollama', 'http://a:11434'],
      ['openai', 'http://b:8080/v1'],
    ]);
    const fromFlags = loadConfig({
      env: { SUTAZAI_UPSTREAMS: 'ollama=http://ignored:1' },
      argv: ['--upstream', 'openai=http://127.0.0.1:8080/v1', '--upstream', 'ollama=http://127.0.0.1:11434'],
    });
    expect(fromFlags.upstreams.map((u) => u.kind)).toEqual(['openai', 'ollama']);
    expect(new Set(fromFlags.upstreams.map((u) => u.id)).size).toBe(2);
  });

  it('reports every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({
        env: { SUTAZAI_PORT: 'abc', SUTAZAI_TIMEOUT_MS: '-5', SUTAZAI_CACHE_MODE: 'sometimes' },
        argv: ['--upstream', 'grpc=http://x'],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toContain('SUTAZAI_PORT');
    expect(problems).toContain('SUTAZAI_TIMEOUT_MS');
    expect(problems).toContain('SUTAZAI_CACHE_MODE');
    expect(problems).toContain('grpc=http://x');
  });

  it('rejects a bad upstream kind and a bad URL, naming them', () => {
    expect(() => loadConfig({ env: {}, argv: ['--upstream', 'grpc=http://x'] })).toThrow(/KIND=URL/);
    expect(() => loadConfig({ env: {}, argv: ['--upstream', 'ollama=not a url'] })).toThrow(/not an http/);
  });

  it('rejects unknown flags', () => {
    expect(() => loadConfig({ env: {}, argv: ['--prot', '1'] })).toThrow(ConfigError);
  });

  it('never shows secrets in public settings', () => {
    const c = loadConfig({
      env: {
        SUTAZAI_UPSTREAM_API_KEY: 'sk-secret',
        REDIS_URL: 'redis://:pw@127.0.0.1:6379',
        SUTAZAI_UPSTREAMS: 'openai=http://user:pass@127.0.0.1:8080/v1',
      },
    });
    const s = JSON.stringify(publicSettings(c));
    expect(s).not.toContain('sk-secret');
    expect(s).not.toContain(':pw@');
    expect(s).not.toContain('pass@');
    expect(publicSettings(c).upstreamApiKey).toBe('[set]');
  });
});
