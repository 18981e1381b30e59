export { specFor, projectionSpec, type Decider, type Projection, type Spec, type SpecOptions, type Then, type When } from './given';
export { mulberry32, seedOf } from './mulberry32';
