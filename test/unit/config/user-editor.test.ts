import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { PASSWORD_ALPHABET, addUser, generatePassword, setUserPassword } from '../../../src/config/user-editor.js';

/** A file as an operator writes it: aligned comments, flow lists, blank lines, a trailing section. */
const CONFIG = `# voix de l'agence
server:
  domain: voix.test             # domaine SIP
  listen:
    udp: { address: 127.0.0.1, port: 5060 }
    tcp: false
    tls: false

users:
  # L'accueil.
  - extension: "1001"
    name: Alice Martin
    password: "alice-secret-1001"   # à changer
    transports: [udp]

  - extension: "1002"           # Bruno
    password: "bruno-secret-1002"
    transports: [udp]

# Bannissement.
security:
  ban: { max_failures: 5 }
`;

const HASHED = `server:
  domain: voix.test
  realm: agence
users:
  - extension: "2001"
    ha1_md5: "${'0'.repeat(32)}"     # MD5 seulement
    transports: [udp]
`;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('addUser', () => {
  it('appends the user after the last one and leaves every other byte of the file as it was', () => {
    const edit = addUser(CONFIG, 'voix.yaml', { extension: '1003', name: 'Chloé Durand', password: 'chloe-secret-1003-xyz', transports: ['udp', 'tls'] });

    expect(edit.ok).toBe(true);
    if (!edit.ok) return;
    const entry = ['  - extension: "1003"', '    name: Chloé Durand', '    password: "chloe-secret-1003-xyz"', '    transports: [udp, tls]', ''].join('\n');
    const afterLast = CONFIG.indexOf('\n# Bannissement.');
    expect(edit.text).toBe(CONFIG.slice(0, afterLast) + entry + CONFIG.slice(afterLast));
    expect(edit.line).toBe(19);
    expect(edit.config.users.map((u) => u.extension)).toEqual(['1001', '1002', '1003']);
  });

  it('follows the indentation of the list it appends to', () => {
    const text = 'server: { domain: voix.test }\nusers:\n- extension: "1001"\n  password: "alice-secret-1001"\n';

    const edit = addUser(text, 'voix.yaml', { extension: '1002', password: 'bruno-secret-1002' });

    expect(edit.ok && edit.text).toBe(`${text}- extension: "1002"\n  password: "bruno-secret-1002"\n`);
  });

  it('creates the list under an empty users key, keeping its comment', () => {
    const text = 'server:\n  domain: voix.test\nusers: []   # personne encore\nsecurity: {}\n';

    const edit = addUser(text, 'voix.yaml', { extension: '1001', password: 'alice-secret-1001' });

    expect(edit.ok && edit.text).toBe(
      'server:\n  domain: voix.test\nusers:    # personne encore\n  - extension: "1001"\n    password: "alice-secret-1001"\nsecurity: {}\n',
    );
  });

  it('adds a users section at the end when the file has none', () => {
    const text = 'server:\n  domain: voix.test # seul';

    const edit = addUser(text, 'voix.yaml', { extension: '1001', password: 'alice-secret-1001' });

    expect(edit.ok && edit.text).toBe('server:\n  domain: voix.test # seul\nusers:\n  - extension: "1001"\n    password: "alice-secret-1001"\n');
  });

  it('quotes a name that YAML would read otherwise', () => {
    const edit = addUser(CONFIG, 'voix.yaml', { extension: '1003', name: 'yes', password: 'chloe-secret-1003-xyz' });

    expect(edit.ok && edit.config.users[2]?.displayName).toBe('yes');
  });

  it('refuses an extension already in the file, saying on which line', () => {
    const edit = addUser(CONFIG, 'voix.yaml', { extension: '1002', password: 'another-secret-1002' });

    expect(edit).toMatchObject({ ok: false, reason: expect.stringMatching(/extension 1002 already exists \(line 16\)/) });
  });

  it('refuses an edit that would not load, with the loader issues, and never repeats the password', () => {
    const edit = addUser(CONFIG, 'voix.yaml', { extension: '1003', password: 'short' });

    expect(edit.ok).toBe(false);
    if (edit.ok) return;
    expect(edit.reason).toMatch(/would make the configuration invalid/);
    expect(edit.issues).toEqual([expect.objectContaining({ path: 'users[2].password', line: 20 })]);
    expect(JSON.stringify(edit)).not.toContain('short');
  });

  it('refuses to edit a file that is already broken, with its errors', () => {
    const edit = addUser(CONFIG.replace('transports: [udp]\n\n', 'transprts: [udp]\n\n'), 'voix.yaml', { extension: '1003', password: 'chloe-secret-1003-xyz' });

    expect(edit).toMatchObject({ ok: false, reason: expect.stringMatching(/has errors already/) });
    expect(!edit.ok && edit.issues[0]?.path).toBe('users[0].transprts');
  });
});

describe('setUserPassword', () => {
  it('replaces the password value only: its comment and every other line stay', () => {
    const edit = setUserPassword(CONFIG, 'voix.yaml', '1001', 'new-alice-secret-42');

    expect(edit).toMatchObject({ ok: true, storedAs: 'password', line: 11 });
    expect(edit.ok && edit.text).toBe(CONFIG.replace('"alice-secret-1001"   # à changer', '"new-alice-secret-42"   # à changer'));
  });

  it('keeps a hashed-only user hashed: the new password becomes its HA1 with the realm, never clear text', () => {
    const edit = setUserPassword(HASHED, 'voix.yaml', '2001', 'new-secret-2001');

    expect(edit).toMatchObject({ ok: true, storedAs: 'ha1' });
    if (!edit.ok) return;
    const expected = md5('2001:agence:new-secret-2001');
    expect(edit.text).toBe(HASHED.replace(`"${'0'.repeat(32)}"`, `"${expected}"`));
    expect(edit.text).not.toContain('new-secret-2001');
    expect(edit.config.users[0]?.credentials.ha1Md5).toBe(expected);
  });

  it('refuses an unknown extension and a weak password', () => {
    expect(setUserPassword(CONFIG, 'voix.yaml', '1009', 'long-enough-secret')).toMatchObject({ ok: false, reason: expect.stringMatching(/no user with extension 1009/) });
    expect(setUserPassword(CONFIG, 'voix.yaml', '1001', 'short')).toMatchObject({ ok: false, reason: expect.stringMatching(/too weak/) });
  });

  it('the result loads with the new credentials', () => {
    const edit = setUserPassword(CONFIG, 'voix.yaml', '1002', 'brand-new-secret-1002');

    const loaded = edit.ok ? parseConfig(edit.text, 'voix.yaml') : null;
    expect(loaded?.ok && loaded.config.users[1]?.credentials.ha1Md5).toBe(md5('1002:voix.test:brand-new-secret-1002'));
  });
});

describe('generatePassword', () => {
  it('draws from the unambiguous alphabet, with every class, at the asked length', () => {
    for (let i = 0; i < 50; i++) {
      const password = generatePassword(16);
      expect(password).toHaveLength(16);
      expect([...password].every((c) => PASSWORD_ALPHABET.includes(c))).toBe(true);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[0-9]/);
    }
    expect(PASSWORD_ALPHABET).not.toMatch(/[0O1lIio]/);
  });

  it('refuses a length under 16', () => {
    expect(() => generatePassword(12)).toThrow(RangeError);
  });
});
