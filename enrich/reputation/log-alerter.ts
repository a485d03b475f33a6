import type { Alerter } from './ports';

/** Locally an alert is one structured log line (the dashboard shows the audit item). */
export class LogAlerter implements Alerter {
  constructor(
    private readonly log: (entry: Record<string, unknown>) => void = (e) => console.warn(JSON.stringify(e)),
  ) {}

  async alert(subject: string, message: string): Promise<void> {
    this.log({ level: 'WARN', message: 'reputation alert', subject, detail: message });
  }
}
