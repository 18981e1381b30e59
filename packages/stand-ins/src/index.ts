export * from './slack/server';
export * from './opsgenie/server';
export * from './slack/markup';
