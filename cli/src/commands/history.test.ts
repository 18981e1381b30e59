import type { Checksum } from '@alertbus/projection';
import { tablesThatDiffer } from './history';

const sum = (tables: [string, number, string][]): Checksum => ({
  tables: tables.map(([table, rows, sha256]) => ({ table, rows, sha256 })),
  total: tables.map((t) => t[2]).join(''),
});

describe('alertbus history rebuild: a rebuild that differs names the tables', () => {
  test('only the tables whose rows differ, with both counts', () => {
    const rebuilt = sum([['incidents', 10, 'a'], ['incident_timeline', 40, 'b'], ['deliveries', 5, 'c']]);
    const live = sum([['incidents', 10, 'a'], ['incident_timeline', 41, 'x'], ['deliveries', 5, 'y']]);
    expect(tablesThatDiffer(rebuilt, live)).toBe('incident_timeline (rebuilt 40 rows, live 41), deliveries (rebuilt 5 rows, live 5)');
  });

  test('a table the live checksum lacks', () => {
    expect(tablesThatDiffer(sum([['silences', 2, 'a']]), sum([]))).toBe('silences (rebuilt 2 rows, live none)');
  });
});
