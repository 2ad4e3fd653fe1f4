import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `sutazai serve` in a child process, stopped once it says it is listening; its JSON log lines. */
function serveUntilListening(env: Record<string, string>): Promise<Array<{ level: number; msg: string }>> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
      cwd: ROOT,
      // Its own data dir: the embedded store's directory is locked by the process using it.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmpdir(),
        SUTAZAI_DATA_DIR: mkdtempSync(join(tmpdir(), 'sutazai-auth-notices-')),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => proc.kill('SIGTERM'), 30_000);
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('SutazAI listening')) proc.kill('SIGTERM');
    });
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { level: number; msg: string }),
      );
    });
  });
}

describe('start-up notices about authentication', { timeout: 60_000 }, () => {
  it('finding 11: auth turned off on a non-loopback address warns who can use the models and how to turn keys on', async () => {
    const lines = await serveUntilListening({ SUTAZAI_HOST: '0.0.0.0', SUTAZAI_AUTH: 'off' });
    const warn = lines.find((l) => l.msg.includes('authentication is OFF'));
    expect(warn, JSON.stringify(lines)).toBeDefined();
    expect(warn!.level).toBe(40);
    expect(warn!.msg).toContain('anyone who can reach this address can use every model');
    expect(warn!.msg).toContain('SUTAZAI_AUTH=on');
    expect(warn!.msg).toContain('sutazai keys create');
  });

  it('a non-loopback address without SUTAZAI_AUTH requires keys and says how to make the first one', async () => {
    const lines = await serveUntilListening({ SUTAZAI_HOST: '0.0.0.0' });
    const note = lines.find((l) => l.msg.includes('authentication is on'));
    expect(note, JSON.stringify(lines)).toBeDefined();
    expect(note!.level).toBe(40);
    expect(note!.msg).toContain('sutazai keys create');
    expect(lines.some((l) => l.msg.includes('authentication is OFF'))).toBe(false);
  });

  it('loopback with the default setting says nothing about keys', async () => {
    const lines = await serveUntilListening({ SUTAZAI_HOST: '127.0.0.1' });
    expect(lines.some((l) => l.msg.startsWith('SutazAI listening'))).toBe(true);
    expect(lines.some((l) => /authentication/.test(l.msg))).toBe(false);
  });
});
