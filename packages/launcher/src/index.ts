export * from './services';
export * from './supervisor';
export * from './preflight';
export * from './embedded-postgres';
export * from './scale';
export * from './priority';
