import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
import { exportCampaign, startDialerLab, voixCli } from '../dialer-helpers.js';

useHarness();

it('AUTO-IMPORT-01: bad CSV files through voix campaign import: each bad row named in the report next to the file, every good contact imported exactly once', async () => {
  const lab = await startDialerLab({ campaigns: [{ name: 'import', purpose: 'customer' }] });
  const { voix } = lab;
  // Excel's French CSV: Windows-1252 with accents, ";".
  const latin = join(lab.dir, 'excel.csv');
  await writeFile(
    latin,
    Buffer.from(
      [
        'Téléphone;Prénom;Nom;Ville',
        '06 12 34 56 78;Élodie;Martin;Besançon', // 2: good
        ';Paul;Durand;Lyon', // 3: empty phone
        '12345;Jean;Petit;Lille', // 4: invalid number
        '+33 6 12 34 56 78;Élo;Dupuis;Paris', // 5: duplicate of line 2
        '07 12 34 56 79,Anne,Moreau,Nice', // 6: wrong delimiter
        '0698765432;Zoé;Lefèvre;Reims', // 7: good
      ].join('\r\n') + '\r\n',
      'latin1',
    ),
  );
  // A second file: UTF-8 with a byte order mark, ",".
  const utf8 = join(lab.dir, 'export.csv');
  await writeFile(utf8, '\uFEFFtelephone,prenom\n0698765432,Zoé\n0611223344,Léa\n');

  await voixCli(voix, ['campaign', 'import', 'import', latin]);
  await voixCli(voix, ['campaign', 'import', 'import', utf8]);
  // The same file again: nothing new.
  await voixCli(voix, ['campaign', 'import', 'import', utf8]);

  const report = await readFile(`${latin}.import-report.txt`, 'utf8');
  expect(report).toContain('line 3: rejected: empty phone number');
  expect(report).toContain('line 4: rejected: invalid phone number "12345" (region FR)');
  expect(report).toContain('line 5: duplicate: +33612345678 already imported from line 2');
  expect(report).toMatch(/line 6: rejected: 1 field, the header has 4: this line seems separated by ",", the header by ";"/);
  expect(report).toContain('6 rows read (windows-1252, delimiter ;): 2 imported, 1 duplicates, 3 rejected');
  const second = await readFile(`${utf8}.import-report.txt`, 'utf8');
  expect(second).toMatch(/line 2: duplicate: \+33698765432 already imported from line 7/);
  expect(second).toMatch(/line 3: duplicate: \+33611223344 already imported from line 3/);

  const contacts = await exportCampaign(voix, 'import');
  const rows = [...contacts.values()] as unknown as Array<{ phone: string; firstName: string | null; lastName: string | null }>;
  expect(rows.map((c) => [c.phone, c.firstName, c.lastName]).sort()).toEqual([
    ['+33611223344', 'Léa', null],
    ['+33612345678', 'Élodie', 'Martin'],
    ['+33698765432', 'Zoé', 'Lefèvre'],
  ]);
});
