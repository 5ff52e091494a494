import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { LeelooClient } from '../../src/leeloo/client.js';
import { runCli } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/mirror.js';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env, { requireToken: true });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg.split(/[\r\n]/)).toHaveLength(1);
    return msg;
  }
  return '';
}

describe('LEELOO_API_TOKEN must be sendable as a header', () => {
  it.each([
    ['a CR', 'tok-abc\r-def'],
    ['a LF', 'tok-abc\ndef'],
    ['a trailing CRLF (an env file with Windows line ends)', 'tok-abcdef\r\n'],
    ['a control character', 'tok-abc\u0007def'],
    ['DEL', 'tok-abc\u007fdef'],
    ['a C1 control character', 'tok-abc\u0085def'],
    ['a character past Latin-1', 'tok-abc€def'],
    ['an emoji', 'tok-abc🔑def'],
  ])('refuses %s, naming the variable and never the value', (_what, token) => {
    const msg = problemsOf({ LEELOO_API_TOKEN: token, SYNC_CONCURRENCY: '0' });
    expect(msg).toMatch(/LEELOO_API_TOKEN (must not contain a line break|may contain only printable Latin-1)/);
    expect(msg).toContain('SYNC_CONCURRENCY'); // reported together with every other bad variable
    expect(msg).not.toContain('abc');
  });

  it('accepts printable Latin-1, inner spaces included', () => {
    expect(loadConfig({ LEELOO_API_TOKEN: '  tok ü"\\~ÿ  ' }, { requireToken: true }).LEELOO_API_TOKEN).toBe('tok ü"\\~ÿ');
  });

  it('the client refuses such a token too, before any request', () => {
    expect(() => new LeelooClient({ baseUrl: 'http://127.0.0.1:9', token: 'abc\r\nX-Evil: 1' })).toThrow(ConfigError);
  });

  it('the CLI exits 2 with one line naming LEELOO_API_TOKEN', async () => {
    const db = tempDbPath('ls-token-cfg-');
    try {
      const r = await runCli(['sync'], { LEELOO_API_URL: 'http://127.0.0.1:9', LEELOO_API_TOKEN: 'secret-abc\r\nX-Evil: 1', DATABASE_URL: db.path });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('LEELOO_API_TOKEN must not contain a line break');
      expect(r.stderr + r.stdout).not.toContain('secret-abc');
    } finally {
      db.cleanup();
    }
  });
});
