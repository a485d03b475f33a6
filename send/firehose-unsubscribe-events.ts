import { type FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import type { UnsubscribeEventSink } from './unsubscribe';

/** Unsubscribe records to the lake's Firehose stream (the transform normalises them as SES's own Subscription events). */
export class FirehoseUnsubscribeEvents implements UnsubscribeEventSink {
  constructor(
    private readonly firehose: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async publish(record: Record<string, unknown>): Promise<void> {
    await this.firehose.send(
      new PutRecordCommand({
        DeliveryStreamName: this.streamName,
        Record: { Data: Buffer.from(`${JSON.stringify(record)}\n`) },
      }),
    );
  }
}
