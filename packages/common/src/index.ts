export * from './config';
export * from './logger';
export * from './metrics';
export * from './delivery';
export * from './retry';
export * from './db';
export * from './ops-server';
export * from './shutdown';
