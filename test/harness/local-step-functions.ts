import { REGION } from './local-aws';
import { AwsJsonError, LocalJsonEndpoint, startJsonEndpoint } from './local-json-endpoint';

/**
 * Step Functions' StartExecution on the wire (JSON 1.0; the endpoint speaks the same
 * shape), with the service's rule that an execution name is taken once per state machine.
 * The executions are not run here: the saga tests run the synthesized definition with
 * aws-local-stepfunctions.
 */
export interface LocalStepFunctions extends LocalJsonEndpoint {
  readonly started: Array<{ name: string; input: any }>;
}

export async function startLocalStepFunctions(): Promise<LocalStepFunctions> {
  const started: Array<{ name: string; input: any }> = [];
  const endpoint = await startJsonEndpoint({
    'AWSStepFunctions.StartExecution': ({ stateMachineArn, name, input }: { stateMachineArn: string; name: string; input: string }) => {
      if (started.some((s) => s.name === name)) throw new AwsJsonError('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
      started.push({ name, input: JSON.parse(input) });
      return { executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`, startDate: Date.now() / 1000 };
    },
  });
  return { ...endpoint, started };
}

export const localStateMachineArn = (name: string) => `arn:aws:states:${REGION}:000000000000:stateMachine:${name}`;
