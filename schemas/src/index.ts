export * from './common';
export * from './events';
export * from './envelope';
export * from './topics';
export * from './validate';
export * from './router-state';
export * from './rules';
export * from './matcher';
