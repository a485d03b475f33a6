import { loadDashboardConfig } from '../dashboards/config';
import type { PipelineService } from './pipeline/service';
import { dashboardPipelineService } from './services/dashboard';
import { emailApiPipelineService } from './services/email-api';
import { erasurePipelineService } from './services/erasure';
import { pushPipelineService } from './services/push';
import { reputationPipelineService } from './services/reputation';
import { senderAuthPipelineService } from './services/sender-auth';

/**
 * The composition root of `sesflow start`: the one place that wires the areas' services onto the local pipeline.
 * The stand-ins, resources, demo tenants, history, compaction and live traffic are local/pipeline/local-pipeline.ts's
 * `coreServices`; these start after the history and before live traffic, in this order, each reading what earlier
 * services left in the typed `ctx.shared` (local/pipeline/service.ts `PipelineShared`) and its clients:
 *
 * | service | needs | provides |
 * |---|---|---|
 * | reputation (enrich/reputation) | DynamoDB Local, kinesalite, SES simulator | `reputationPoller`, `tenantStatus` |
 * | push (enrich/push) | DynamoDB Local, kinesalite, fauxqs | `reportingReceiver`, `pushPusher`, `pushProducer` |
 * | erasure (privacy/) | the lake, DynamoDB Local, `reportingReceiver`, SES simulator | `recipientEraser` |
 * | dashboard (dashboards/) | the lake; DynamoDB Local and the SES simulator when started; `recipientEraser` | |
 * | email-api (send/) | DynamoDB Local, fauxqs, SES simulator, `planner` | `emailApi` |
 * | sender-auth (enrich/sender-auth) | DynamoDB Local, SES simulator, `endpoints.dns`, `emailApi` | `senderAuth` |
 *
 * The areas never import local/: their local services live here, under local/services/.
 */
export function areaServices(opts: { sso?: boolean } = {}): PipelineService[] {
  return [
    reputationPipelineService(),
    pushPipelineService(),
    erasurePipelineService(),
    // --sso: the dashboard signs in through the local OpenID Connect provider (local/oidc-provider) instead of keys.
    dashboardPipelineService(loadDashboardConfig(), { sso: opts.sso }),
    emailApiPipelineService(),
    senderAuthPipelineService(),
  ];
}
