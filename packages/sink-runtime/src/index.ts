export * from './ledger';
export * from './runner';
export * from './readiness';
export * from './producer';
export * from './settle';
