// A serverless plugin of this project (listed in serverless.yml), in CommonJS because serverless@3 loads plugins with
// require(). It does two things:
// - alert targets: a stage whose `custom.alerts.required` is true (prod) refuses to package or deploy without an alert
//   email or webhook, in one line; another stage without one says so and goes on.
// - W3005: serverless writes DependsOn entries (a function on its role, a route on its integration) that a Ref or
//   GetAtt of the same resource already implies; they are dropped from the compiled template, which means the same.
'use strict';

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
    const check = () => this.checkAlertTarget();
    this.hooks = {
      'before:package:initialize': check,
      'before:deploy:deploy': check,
      'before:package:finalize': () => {
        dropImpliedDependsOn(this.serverless.service.provider.compiledCloudFormationTemplate);
      },
    };
  }

  checkAlertTarget() {
    const stage = this.options.stage || this.serverless.service.provider.stage;
    const problem = alertTargetProblem(stage, this.serverless.service.custom?.alerts);
    if (!problem) return;
    if (problem.fatal) throw new this.serverless.classes.Error(problem.line);
    this.log.warning(problem.line);
  }
}

module.exports = StageGuardPlugin;
module.exports.alertTargetProblem = alertTargetProblem;
module.exports.dropImpliedDependsOn = dropImpliedDependsOn;
