import { useFixture } from '../../lib/fixture.test-support';
import { createLocalClients, type LocalClients } from './clients';
import { startFauxqsServer } from './fauxqs';

/**
 * fauxqs (SQS, SNS, S3) for one test file: started before its tests with the AWS SDK clients pointed at it, the
 * clients destroyed and the server stopped after them. Returns a function that reads the clients.
 */
export function useFauxqsClients(): () => LocalClients {
  const get = useFixture(
    async () => {
      const fauxqs = await startFauxqsServer();
      return { fauxqs, clients: createLocalClients({ fauxqs: fauxqs.endpoint }) };
    },
    async ({ fauxqs, clients }) => {
      clients.destroy();
      await fauxqs.stop();
    },
  );
  return () => get().clients;
}
