import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Alerter } from './ports';

/** Pause alerts to the SNS topic (`SESFLOW_ALERT_TOPIC_ARN`) in AWS. */
export class SnsAlerter implements Alerter {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async alert(subject: string, message: string): Promise<void> {
    await this.sns.send(
      new PublishCommand({ TopicArn: this.topicArn, Subject: subject.slice(0, 100), Message: message }),
    );
  }
}
