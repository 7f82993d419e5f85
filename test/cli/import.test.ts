import crypto from 'node:crypto';
import { PasswordHasher } from '../../src/security/password-hasher.js';
import { OPERATOR } from '../../src/application/actor.js';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { cli as runInProcess, inStore } from '../support/cli.js';
import { Browser } from '../support/browser.js';
import { REDIRECT_URI, discover, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { startTestInstance, tempDir } from '../support/twofold.js';

const cli = (dataDir: string, argv: string[], stdin = '') => runInProcess(dataDir, argv, { stdin });

async function withOrgs(): Promise<string> {
  const dir = tempDir();
  await cli(dir, ['org', 'create', 'city', '--name', 'City']);
  await cli(dir, ['org', 'create', 'county', '--name', 'County']);
  return dir;
}

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
const ab64 = (buffer: Buffer) => b64(buffer).replace(/\+/g, '.');

/** Each supported PHC format, made with the real libraries, for the password "<format> password". */
function phcHashes(): Record<string, string> {
  const salt = crypto.randomBytes(16);
  return {
    argon2id: '',
    scrypt: `$scrypt$ln=14,r=8,p=1$${b64(salt)}$${b64(crypto.scryptSync('scrypt password', salt, 32, { N: 2 ** 14, r: 8, p: 1 }))}`,
    'pbkdf2-sha256': `$pbkdf2-sha256$29000$${ab64(salt)}$${ab64(crypto.pbkdf2Sync('pbkdf2-sha256 password', salt, 29000, 32, 'sha256'))}`,
    bcrypt: bcrypt.hashSync('bcrypt password', 10).replace(/^\$2a\$/, '$2b$'),
  };
}

describe('twofold user import and member export', () => {
  it('imports CSV, then exports the members as CSV and JSON Lines (round trip)', async () => {
    const dir = await withOrgs();
    fs.writeFileSync(path.join(dir, 'staff.csv'), [
      'email,name,password,orgs,site_admin',
      'ada@city.test,"Lovelace, Ada",first long password,city:owner;county,true',
      'bob@city.test,Bob,second long password,city,',
      '',
    ].join('\n'));
    const result = await cli(dir, ['user', 'import', 'staff.csv']);
    expect(result.status).toBe(0);
    expect(result.out).toStrictEqual(['Created 2 users, updated 0, skipped 0 that already exist; 0 lines failed.']);

    const csv = await cli(dir, ['member', 'export', 'city']);
    expect(csv.out[0]!.split('\n')).toStrictEqual([
      'email,name,role,two_factor,strongest_factor,recovery_codes_remaining,security_keys,last_sign_in_at,setup_deadline',
      'ada@city.test,"Lovelace, Ada",owner,not enrolled,,0,0,,',
      'bob@city.test,Bob,member,not enrolled,,0,0,,',
    ]);
    const jsonl = (await cli(dir, ['member', 'export', 'county', '--format', 'jsonl'])).out[0]!.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(jsonl).toStrictEqual([{ email: 'ada@city.test', name: 'Lovelace, Ada', role: 'member', two_factor: 'not enrolled', strongest_factor: '', recovery_codes_remaining: 0, security_keys: 0, last_sign_in_at: '', setup_deadline: '' }]);
    // No hashes in the report.
    expect(csv.out[0]!).not.toContain('$argon2');


    // Round trip: the export, fed back as an import into an empty store, exports the same members.
    const exported = (await cli(dir, ['member', 'export', 'city', '--format', 'jsonl'])).out[0]!.split('\n').map((line) => JSON.parse(line) as { email: string; name: string; role: string });
    const roundTrip = tempDir();
    await cli(roundTrip, ['org', 'create', 'city', '--name', 'City']);
    fs.writeFileSync(path.join(roundTrip, 'back.jsonl'), exported.map((member) => JSON.stringify({ email: member.email, name: member.name, password: 'round trip password', orgs: [`city:${member.role}`] })).join('\n'));
    const back = await cli(roundTrip, ['user', 'import', 'back.jsonl']);
    expect(back.out).toStrictEqual(['Created 2 users, updated 0, skipped 0 that already exist; 0 lines failed.']);
    expect((await cli(roundTrip, ['member', 'export', 'city'])).out[0]).toBe(csv.out[0]);
  });

  it('keeps existing password hashes of every supported format, verifies them at sign-in, and upgrades them', async () => {
    const dir = await withOrgs();
    const hashes = phcHashes();
    hashes.argon2id = await argon2.hash('argon2id password', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const lines = Object.entries(hashes).map(([format, hash]) => JSON.stringify({ email: `${format}@city.test`, password_hash: hash, orgs: ['city'] }));
    fs.writeFileSync(path.join(dir, 'moved.jsonl'), lines.join('\n'));
    const imported = await cli(dir, ['user', 'import', 'moved.jsonl']);
    expect(imported.status).toBe(0);

    // The import above wrote to this DATA_DIR's embedded store; the app must read the same one.
    const twofold = await startTestInstance({ DATA_DIR: dir, MONGODB_URI: '' });
    try {
      await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
      const rp = await discover(twofold.url, 'app');
      for (const format of Object.keys(hashes)) {
        const email = `${format}@city.test`;
        const wrong = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), email, 'not the password');
        const right = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), email, `${format} password`);
        const upgraded = (await twofold.store.users.findByEmail(email))!.passwordHash!;
        // A wrong password is refused, the right one signs in, and the hash is re-made with argon2id at the current parameters.
        expect({ format, wrong: wrong.status, right: right.url, upgraded }).toStrictEqual({
          format,
          wrong: 401,
          right: expect.toStartWith(REDIRECT_URI),
          upgraded: expect.stringMatching(/^\$argon2id\$v=19\$/),
        });
        expect(upgraded).toContain('m=19456');
        expect(upgraded).toContain('t=2');
        expect(new PasswordHasher(twofold.config.passwordHash).needsRehash(upgraded)).toBe(false);
      }
    } finally {
      await twofold.close();
    }
  });

  it('is idempotent, updates memberships only with --update, and writes nothing in a dry run', async () => {
    const dir = await withOrgs();
    const file = path.join(dir, 'staff.jsonl');
    fs.writeFileSync(file, [JSON.stringify({ email: 'ada@city.test', password: 'first long password', orgs: ['city'] })].join('\n'));
    const dry = await cli(dir, ['user', 'import', 'staff.jsonl', '--dry-run']);
    expect(dry.out).toStrictEqual(['Dry run, nothing written: would create 1 user, updated 0, skipped 0 that already exist; 0 lines failed.']);
    expect(await inStore(dir, (store) => store.users.count())).toBe(0);

    await cli(dir, ['user', 'import', 'staff.jsonl']);
    const before = await inStore(dir, async (store) => JSON.stringify(await store.users.findByEmail('ada@city.test')));
    const second = await cli(dir, ['user', 'import', 'staff.jsonl']);
    expect(second.status).toBe(0);
    expect(second.out).toStrictEqual(['Created 0 users, updated 0, skipped 1 that already exist (--update adds their memberships); 0 lines failed.']);
    expect(second.err).toStrictEqual(['line 1: ada@city.test already exists; skipped']);
    // Nothing changed.
    expect(await inStore(dir, async (store) => JSON.stringify(await store.users.findByEmail('ada@city.test')))).toBe(before);

    fs.writeFileSync(file, JSON.stringify({ email: 'ada@city.test', password: 'another long password', orgs: ['county:owner'] }));
    const update = await cli(dir, ['user', 'import', 'staff.jsonl', '--update']);
    expect(update.out).toStrictEqual(['Created 0 users, updated 1, skipped 0 that already exist; 0 lines failed.']);
    await inStore(dir, async (store) => {
      const ada = await store.users.findByEmail('ada@city.test');
      // The password is not replaced by an update.
      expect(JSON.stringify(ada)).toBe(before);
      const county = await store.organizations.findBySlug('county');
      expect((await store.memberships.find(county!.id, ada!.id))?.role).toBe('owner');
    });
  });

  it('reports every bad line with its number and reason, imports the good ones, and fails', async () => {
    const dir = await withOrgs();
    const csv = [
      'email,name,password,password_hash,orgs,site_admin',
      'good@city.test,Good,long enough password,,city,',
      'not-an-email,X,long enough password,,,',
      'nopw@city.test,X,,,,',
      'both@city.test,X,long enough password,$2b$10$abcdefghijklmnopqrstuu1234567890123456789012345678901,,',
      'hash@city.test,X,,$md5$whatever,,',
      'org@city.test,X,long enough password,,atlantis,',
      'short@city.test,X,short,,,',
      'admin@city.test,X,long enough password,,,maybe',
      'good@city.test,Again,long enough password,,,',
      'too,many,fields,here,x,y,z',
      'fine@city.test,Fine,long enough password,,county:owner,yes',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'mixed.csv'), csv);
    const result = await cli(dir, ['user', 'import', 'mixed.csv']);
    expect(result.status).toBe(1);
    expect(result.err).toStrictEqual([
      'line 3: "not-an-email" is not a valid email address',
      'line 4: give "password" or "password_hash"',
      'line 5: give "password" or "password_hash", not both',
      'line 6: "password_hash" is not a supported hash (argon2id, scrypt, pbkdf2-sha256 or bcrypt, in PHC string format)',
      'line 7: unknown organization "atlantis"',
      'line 8: the password must have at least 8 characters',
      'line 9: "site_admin" must be true or false',
      'line 10: good@city.test is already on line 2',
      'line 11: it has 7 fields where the header has 6',
    ]);
    expect(result.out).toStrictEqual(['Created 2 users, updated 0, skipped 0 that already exist; 9 lines failed.']);
    expect(await inStore(dir, (store) => store.users.count())).toBe(2);

    const jsonl = ['{"email":"a@city.test","password":"long enough password"}', 'not json', '[1,2]', '{"email":"b@city.test","password":"long enough password","orgs":"city","colour":"red"}', '{"email":"c@city.test","password":"long enough password","orgs":[42]}'].join('\n');
    const fromStdin = await cli(dir, ['user', 'import', '-', '--format', 'jsonl'], jsonl);
    expect(fromStdin.err).toStrictEqual([
      'line 2: it is not a JSON object',
      'line 3: it is not a JSON object',
      'line 4: unknown field "colour"',
      'line 5: "orgs" must be a list of slug or slug:owner',
    ]);
    expect(fromStdin.status).toBe(1);
    const unknownFormat = await cli(dir, ['user', 'import', '-']);
    expect(unknownFormat.status).toBe(2);
    expect(unknownFormat.err).toStrictEqual(['twofold: Say --format csv or --format jsonl (the file name does not tell).']);
    const missing = await cli(dir, ['user', 'import', 'nowhere.csv']);
    expect(missing.err).toStrictEqual(['twofold: Cannot read nowhere.csv.']);
  });

  it('imports what spreadsheets save: a byte order mark, ";" and CRLF, quoted line breaks; a stray quote is one bad line', async () => {
    const dir = await withOrgs();
    fs.writeFileSync(path.join(dir, 'excel.csv'), [
      '\uFEFFemail;name;password;orgs',
      'ada@city.test;"Lovelace; Ada";first long password;"city:owner;county"',
      'bob@city.test;Bob;"second long password,',
      'over two lines";city',
      'carl@city.test;Carl "the" Clerk;third long password;city',
      'dora@city.test;Dora;fourth long password;county',
      '',
    ].join('\r\n'));
    const result = await cli(dir, ['user', 'import', 'excel.csv']);
    expect(result.err).toStrictEqual(['line 5: a field has a quote but does not start with one; quote the whole field and write a quote inside it as ""']);
    expect(result.out).toStrictEqual(['Created 3 users, updated 0, skipped 0 that already exist; 1 line failed.']);
    expect(result.status).toBe(1);
    await inStore(dir, async (store) => {
      expect((await store.users.findByEmail('ada@city.test'))?.name).toBe('Lovelace; Ada');
      expect((await store.users.findByEmail('bob@city.test'))?.name).toBe('Bob');
      expect(await store.users.findByEmail('carl@city.test')).toBeNull();
      const county = await store.organizations.findBySlug('county');
      expect(await store.memberships.listByOrganization(county!.id)).toHaveLength(2);
    });
  });

  it('imports nothing with --all-or-nothing when a line is bad', async () => {
    const dir = await withOrgs();
    fs.writeFileSync(path.join(dir, 'staff.csv'), 'email,password\nok@city.test,long enough password\nbad,long enough password\n');
    const result = await cli(dir, ['user', 'import', 'staff.csv', '--all-or-nothing']);
    expect(result.status).toBe(1);
    expect(result.err).toStrictEqual(['line 3: "bad" is not a valid email address']);
    expect(result.out[0]!).toMatch(/^Nothing written \(--all-or-nothing\): would have created 0 users/);
    expect(await inStore(dir, (store) => store.users.count())).toBe(0);
  });

  it('imports 10 000 users with pre-hashed passwords without error', async () => {
    const dir = await withOrgs();
    const hash = await argon2.hash('shared long password', { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const rows = Array.from({ length: 10_000 }, (_, i) => `user${i}@city.test,User ${i},"${hash}",${i % 2 ? 'city' : 'city;county'}`);
    fs.writeFileSync(path.join(dir, 'big.csv'), ['email,name,password_hash,orgs', ...rows].join('\n'));
    const result = await cli(dir, ['user', 'import', 'big.csv']);
    expect(result.status).toBe(0);
    expect(result.out).toStrictEqual(['Created 10000 users, updated 0, skipped 0 that already exist; 0 lines failed.']);
    await inStore(dir, async (store) => {
      expect(await store.users.count()).toBe(10_000);
      const county = await store.organizations.findBySlug('county');
      expect(await store.memberships.listByOrganization(county!.id)).toHaveLength(5_000);
    });
  });
});
