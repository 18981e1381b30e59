export * from './processor';
