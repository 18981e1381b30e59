import { jvmArgs } from './configure';

describe('jvmArgs', () => {
  test('tests get the quick-start JVM: client JIT only and the serial collector', () => {
    const args = jvmArgs('/k');
    expect(args).toEqual(expect.arrayContaining(['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx512m']));
    expect(args).toContain('-Dlog4j.configuration=file:/k/log4j.properties');
  });

  test('a steady broker keeps the JVM defaults (tiered JIT up to C2, G1) and a larger heap', () => {
    const args = jvmArgs('/k', 'steady');
    expect(args.some((a) => a.startsWith('-XX:TieredStopAtLevel') || a === '-XX:+UseSerialGC')).toBe(false);
    expect(args).toContain('-Xmx1g');
    expect(args).toContain('-Dlog4j.configuration=file:/k/log4j.properties');
  });
});
