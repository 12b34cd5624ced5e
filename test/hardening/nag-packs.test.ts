import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { ENVIRONMENTS, environmentStacks } from './template-walk';
import { BuildPipeline, EnrollmentSaga, PaymentOutbox, ProductApi } from '../../lib';
import { acknowledgementsUnder, nagFindings, unmatchedAcknowledgements } from '../nag/nag-findings';

const NAG_RULE = /^(AwsSolutions|NIST\.800\.53\.R5|PCI\.DSS\.321)-/;

/** Each construct alone, with defaults, as a user drops it in. */
const ALONE: Array<[string, (s: Stack) => void]> = [
  ['ProductApi', (s) => new ProductApi(s, 'Products')],
  ['PaymentOutbox', (s) => new PaymentOutbox(s, 'Payments')],
  ['EnrollmentSaga', (s) => new EnrollmentSaga(s, 'Enrollment', { eventBus: new events.EventBus(s, 'Bus') })],
  ['BuildPipeline', (s) => new BuildPipeline(s, 'Builds')],
  ['BuildPipeline with container builds', (s) => new BuildPipeline(s, 'Builds', { containerBuilds: true })],
];

function alone(create: (s: Stack) => void): Stack {
  const stack = new Stack(new App(), 'Alone', { env: { account: '111111111111', region: 'eu-west-1' } });
  create(stack);
  return stack;
}

describe('cdk-nag AwsSolutions, NIST 800-53 R5 and PCI DSS 3.2.1', () => {
  test.each(ENVIRONMENTS)('%s stack: no unacknowledged finding', (name) => {
    const stacks = environmentStacks(name);
    // As `cdk synth` runs the packs: after synthesis, when references between the two stacks are imports.
    (stacks[0].node.root as App).synth();
    for (const stack of stacks) expect(nagFindings(stack)).toEqual([]);
  });

  test.each(ALONE)('%s alone: no unacknowledged finding', (_, create) => {
    expect(nagFindings(alone(create))).toEqual([]);
  });

  test.each(ALONE)('%s: every acknowledgement matches a finding and gives a reason', (_, create) => {
    const stack = alone(create);
    const acks = acknowledgementsUnder(stack).filter((a) => NAG_RULE.test(a.rule));
    expect(acks.length).toBeGreaterThan(0);
    expect(unmatchedAcknowledgements(stack).filter((a) => NAG_RULE.test(a.rule)).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
    expect(acks.filter((a) => a.reason.trim().length < 40).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
  });
});
