import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { asArray, ENVIRONMENTS, environmentResources, Resources, resourcesOf } from './template-walk';
import { BuildPipeline, EnrollmentSaga, PaymentOutbox, ProductApi } from '../../lib';

/** Resource policies a service principal can be let into, and where each keeps its document. */
const POLICY_DOCUMENTS: Record<string, string> = {
  'AWS::KMS::Key': 'KeyPolicy',
  'AWS::SQS::QueuePolicy': 'PolicyDocument',
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::Events::EventBusPolicy': 'Statement',
};

/** The services CONTRIBUTING names: each must be confined to the one resource (or this account's) that uses it. */
const SCOPED_SERVICES = /^(events|sns|s3|cloudwatch|states)\.amazonaws\.com$/;

/** Condition keys that name the resource or account a service acts for. */
const SCOPING_KEYS = ['aws:SourceArn', 'aws:SourceAccount', 'kms:ViaService'];

/**
 * Every Allow statement of a key, queue, topic or bus policy for `events`, `sns`, `s3`,
 * `cloudwatch` or `states` must carry aws:SourceArn / aws:SourceAccount (or, on a key,
 * kms:ViaService), so no other account's resource can make the service act here.
 */
function unscopedServiceStatements(resources: Resources): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const field = POLICY_DOCUMENTS[r.Type];
    if (!field) continue;
    const document = r.Properties?.[field];
    const statements = r.Type === 'AWS::Events::EventBusPolicy' ? asArray(document) : asArray(document?.Statement);
    for (const st of statements as any[]) {
      if (st.Effect !== 'Allow') continue;
      const services = asArray<string>(st.Principal?.Service).filter((p) => typeof p === 'string' && SCOPED_SERVICES.test(p));
      if (services.length === 0) continue;
      const keys = Object.values(st.Condition ?? {}).flatMap((c: any) => Object.keys(c));
      if (!keys.some((k) => SCOPING_KEYS.includes(k))) problems.push(`${id} (${r.Type}) ${st.Sid ?? ''}: ${services.join(', ')} unscoped`);
      // EventBridge's KMS requests carry no aws:SourceArn/aws:SourceAccount: such a condition drops every delivery.
      if (r.Type === 'AWS::KMS::Key' && services.includes('events.amazonaws.com') && keys.some((k) => k.startsWith('aws:Source'))) {
        problems.push(`${id} ${st.Sid ?? ''}: events.amazonaws.com key statement conditioned on aws:Source* (never present)`);
      }
    }
  }
  return problems;
}

function alone(create: (s: Stack) => void): Stack {
  const stack = new Stack(new App(), 'Alone', { env: { account: '111111111111', region: 'eu-west-1' } });
  create(stack);
  return stack;
}

describe('service principals are scoped in key, queue, topic and bus policies', () => {
  test.each(ENVIRONMENTS)('%s stack', (name) => {
    expect(unscopedServiceStatements(environmentResources(name))).toEqual([]);
  });

  test.each([
    ['ProductApi', (s: Stack) => new ProductApi(s, 'Products')],
    ['PaymentOutbox', (s: Stack) => new PaymentOutbox(s, 'Payments')],
    ['EnrollmentSaga', (s: Stack) => new EnrollmentSaga(s, 'Enrollment', { eventBus: new events.EventBus(s, 'Bus') })],
    ['BuildPipeline', (s: Stack) => new BuildPipeline(s, 'Builds', { containerBuilds: true })],
  ])('%s alone', (_, create) => {
    expect(unscopedServiceStatements(resourcesOf(alone(create)))).toEqual([]);
  });
});
