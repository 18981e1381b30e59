export * from './slack/server';
export * from './opsgenie/server';
