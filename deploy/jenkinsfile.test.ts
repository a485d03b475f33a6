import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJenkinsApproval, checkJenkinsCredentials, parseBlocks } from './jenkinsfile-checks';
import { REPO_ROOT } from './serverless-cli';

const jenkinsfile = readFileSync(join(REPO_ROOT, 'Jenkinsfile'), 'utf8');

/** A pipeline with both faults of the Jenkinsfile before: credentials() on an AWS credential, approval under the
 * pipeline-wide timeout with the pipeline's agent held. */
const faulty = `
pipeline {
    agent any
    options {
        timeout(time: 90, unit: 'MINUTES')
    }
    stages {
        stage('Deploy to staging') {
            environment {
                AWS_CREDENTIALS = credentials('sesflow-aws-staging')
            }
            steps {
                sh 'npm run deploy -- --stage staging'
            }
        }
        stage('Approve prod') {
            steps {
                timeout(time: 2, unit: 'DAYS') {
                    input message: 'Deploy to prod? { not a block }', ok: 'Deploy'
                }
            }
        }
    }
}
`;

describe('the Jenkinsfile', () => {
  it('binds AWS credentials as the variables the SDK and serverless read, around every step that needs them', () => {
    expect(checkJenkinsCredentials(jenkinsfile)).toEqual([]);
  });

  it('waits for the prod approval in a stage of its own, with agent none and its own timeout', () => {
    expect(checkJenkinsApproval(jenkinsfile)).toEqual([]);
  });
});

describe('Jenkinsfile checks', () => {
  it('reads blocks through comments and strings', () => {
    const blocks = parseBlocks("// a { comment\nstage('x {') {\n  steps { sh 'echo }' }\n}\n");
    expect(blocks.map((b) => [b.name, b.header])).toEqual([
      ['stage', "stage('x {')"],
      ['steps', 'steps'],
    ]);
    expect(blocks[1]!.parent).toBe(0);
  });

  it('finds the credentials fault: credentials() and a deploy step outside withCredentials', () => {
    expect(checkJenkinsCredentials(faulty)).toEqual([
      "AWS_CREDENTIALS = credentials('sesflow-aws-staging') sets AWS_CREDENTIALS_AWS_KEY_ID / AWS_CREDENTIALS_AWS_SECRET, not AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
      'no aws(...) binding to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
      'npm run deploy runs outside withCredentials (line 13)',
    ]);
  });

  it('finds the approval fault: the pipeline-wide timeout and agent cover the wait', () => {
    expect(checkJenkinsApproval(faulty)).toEqual([
      'the pipeline holds an agent for its whole run (top-level agent is not none)',
      'a pipeline-wide timeout also covers the approval wait',
      "stage('Approve prod'): the approval stage has no agent none",
    ]);
  });

  it('finds an approval stage nested in a stage with a timeout and an agent', () => {
    const nested = `pipeline {
      agent none
      stages {
        stage('All') {
          agent any
          options { timeout(time: 1, unit: 'HOURS') }
          stages {
            stage('Approve') {
              agent none
              options { timeout(time: 2, unit: 'DAYS') }
              steps { input message: 'go?' }
            }
          }
        }
      }
    }`;
    expect(checkJenkinsApproval(nested)).toEqual([
      "stage('Approve'): the timeout of stage('All') also covers the approval",
      "stage('Approve'): stage('All') holds an agent during the approval",
    ]);
  });
});
