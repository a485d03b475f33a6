// A serverless plugin of this project (listed in serverless.yml), in CommonJS because serverless@3 loads plugins with
// require(). It does two things:
// - alert targets: a stage whose `custom.alerts.required` is true (prod) refuses to package or deploy without an alert
//   email or webhook, in one line; another stage without one says so and goes on.
// - blue/green alarms: each function with deploymentSettings (serverless-plugin-canary-deployments) gets an alarm on
//   the errors of the version being deployed (dimension ExecutedVersion, through the alias) and one on the alias's
//   throttles (a throttled request runs no version), and its CodeDeploy deployment rolls back when either fires.
// - JWT authorizers are set aside while serverless-plugin-canary-deployments (0.8.0) runs: it reads every HTTP API
//   authorizer's AuthorizerUri (a Lambda authorizer's), and a JWT authorizer has none, which crashes it.
// - W3005: serverless writes DependsOn entries (a function on its role, a route on its integration) that a Ref or
//   GetAtt of the same resource already implies; they are dropped from the compiled template, which means the same.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

/** The logical ids a value refers to with Ref or Fn::GetAtt (not pseudo parameters). */
function referencedIds(value, out = new Set()) {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) out.add(v);
      else if (k === 'Fn::GetAtt') out.add(Array.isArray(v) ? v[0] : String(v).split('.')[0]);
      else referencedIds(v, out);
    }
  }
  return out;
}

/** Removes DependsOn entries already implied by a Ref or GetAtt in the resource's Properties; returns how many. */
function dropImpliedDependsOn(template) {
  let dropped = 0;
  for (const resource of Object.values(template.Resources || {})) {
    if (resource.DependsOn === undefined) continue;
    const implied = referencedIds(resource.Properties);
    const list = Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn];
    const kept = list.filter((id) => !implied.has(id));
    dropped += list.length - kept.length;
    if (kept.length === 0) delete resource.DependsOn;
    else resource.DependsOn = kept;
  }
  return dropped;
}

/**
 * Adds the new-version error alarm and the alias throttle alarm of every function with deploymentSettings to the
 * template, and their names to the function's deploymentSettings.alarms (read later by the canary plugin).
 * Returns the alarm logical ids.
 */
function addDeploymentAlarms(service, naming, template, globalSettings) {
  const added = [];
  for (const name of service.getAllFunctions()) {
    const fn = service.getFunction(name);
    if (!fn.deploymentSettings) continue;
    const alias = fn.deploymentSettings.alias || globalSettings?.alias;
    const fnId = naming.getLambdaLogicalId(name);
    const versionId = Object.keys(template.Resources).find((id) => {
      const r = template.Resources[id];
      return r.Type === 'AWS::Lambda::Version' && r.Properties && r.Properties.FunctionName.Ref === fnId;
    });
    if (!alias || !versionId) continue;
    const aliasDimension = { Name: 'Resource', Value: { 'Fn::Join': [':', [{ Ref: fnId }, alias]] } };
    const alarm = (metric, what, dimensions) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: { 'Fn::Join': ['-', [{ Ref: fnId }, `deploy-${metric.toLowerCase()}`]] },
        AlarmDescription: `${what}: CodeDeploy rolls the alias ${alias} back while shifting to a new version`,
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }, aliasDimension, ...dimensions],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
      },
    });
    const errorsId = `${fnId}NewVersionErrorsAlarm`;
    const throttlesId = `${fnId}AliasThrottlesAlarm`;
    template.Resources[errorsId] = alarm('Errors', 'the new version threw', [
      { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionId, 'Version'] } },
    ]);
    template.Resources[throttlesId] = alarm('Throttles', 'invocations of the alias were throttled', []);
    fn.deploymentSettings.alarms = [...(fn.deploymentSettings.alarms || []), errorsId, throttlesId];
    added.push(errorsId, throttlesId);
  }
  return added;
}

/** The one-line refusal, or the one-line notice, for a stage's alert settings; null when a target is set. */
function alertTargetProblem(stage, alerts) {
  const email = String(alerts?.email || '');
  const webhook = String(alerts?.webhook || '');
  if (email || webhook) return null;
  const required = alerts && (alerts.required === true || alerts.required === 'true');
  const how = `pass --param="alertEmail=you@example.com" or --param="alertWebhook=https://..."`;
  return required
    ? { fatal: true, line: `stage ${stage} needs an alert target for its alarm topic: ${how}` }
    : { fatal: false, line: `stage ${stage} has no alert target: alarms and reputation alerts reach no one (${how})` };
}

class StageGuardPlugin {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = log || { warning: (m) => console.warn(m) };
    this.setAside = {};
    this.hooks = {
      'before:package:initialize': () => this.checkAlertTarget(),
      // A deploy of a package built earlier (--package): the target is the one the package was built with. Checked
      // first thing (the deploy hooks talk to AWS before anything else).
      initialize: () => {
        const [command] = this.serverless.processedInput?.commands ?? [];
        if (command === 'deploy' && this.options.package) this.checkAlertTarget(this.packagedAlertTargets());
      },
      'before:package:finalize': () => {
        const template = this.serverless.service.provider.compiledCloudFormationTemplate;
        dropImpliedDependsOn(template);
        for (const [id, r] of Object.entries(template.Resources)) {
          if (r.Type === 'AWS::ApiGatewayV2::Authorizer' && !r.Properties.AuthorizerUri) {
            this.setAside[id] = r;
            delete template.Resources[id];
          }
        }
        const service = this.serverless.service;
        addDeploymentAlarms(
          service,
          this.serverless.getProvider('aws').naming,
          template,
          service.custom?.deploymentSettings,
        );
      },
      // Runs after the canary plugin's hook of the same name (this plugin is listed after it).
      'after:aws:package:finalize:mergeCustomProviderResources': () => {
        Object.assign(this.serverless.service.provider.compiledCloudFormationTemplate.Resources, this.setAside);
        this.setAside = {};
      },
    };
  }

  /** The alert targets a package was built with: its template's parameter defaults. */
  packagedAlertTargets() {
    const file = path.resolve(this.serverless.serviceDir || '.', this.options.package, TEMPLATE_FILE);
    const parameters = JSON.parse(fs.readFileSync(file, 'utf8')).Parameters || {};
    return {
      ...this.serverless.service.custom?.alerts,
      email: parameters.AlertEmail?.Default || '',
      webhook: parameters.AlertWebhookUrl?.Default || '',
    };
  }

  checkAlertTarget(alerts = this.serverless.service.custom?.alerts) {
    const stage = this.options.stage || this.serverless.service.provider.stage;
    const problem = alertTargetProblem(stage, alerts);
    if (!problem) return;
    if (problem.fatal) throw new this.serverless.classes.Error(problem.line);
    this.log.warning(problem.line);
  }
}

module.exports = StageGuardPlugin;
module.exports.alertTargetProblem = alertTargetProblem;
module.exports.dropImpliedDependsOn = dropImpliedDependsOn;
module.exports.addDeploymentAlarms = addDeploymentAlarms;
