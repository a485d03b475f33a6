import { afterAll, expect } from 'vitest';
import { startContractRecorder, takeContractResults } from './contract-recorder';

// The contract test of the integration tests (vitest setup file): every answer the running APIs give in a test file,
// and every request the pusher sends, is checked against docs/*.openapi.yaml; a file whose exchanges broke a
// document fails with the first problems.
startContractRecorder();

afterAll(async () => {
  const { violations, checked, unchecked } = await takeContractResults();
  if (process.env.SESFLOW_CONTRACT_REPORT) {
    process.stderr.write(`contract: ${checked} exchanges checked, ${unchecked} not kept, ${violations.length} broke\n`);
  }
  expect(violations.slice(0, 10), 'HTTP exchanges that docs/*.openapi.yaml does not allow').toEqual([]);
});
