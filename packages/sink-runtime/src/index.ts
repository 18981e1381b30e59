export * from './ledger';
export * from './runner';
