/** `sesflow start`'s engine: the local pipeline as a list of services. See docs/local-stack.md. */
export { ALL_EVENT_TYPES, onboardDemoTenant } from './demo-tenants';
export {
  coreServices,
  type LocalPipelineOptions,
  type RunningPipeline,
  startLocalPipeline,
} from './local-pipeline';
export type { PipelineContext, PipelineService, PipelineShared } from './service';
export { startTrafficDriver, type TrafficDriverStats } from './traffic-driver';
