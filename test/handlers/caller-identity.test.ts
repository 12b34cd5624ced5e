import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ProductApiFixture, TEST_API_KEY_ID, parse, setupProductApi, toChanges } from './product-fixture';
import { auditKey } from '../../functions/product-api/audit-logic';
import { deleteMessages, receive, receiveAtLeast } from '../harness/local-aws';

/**
 * Every change names its caller as API Gateway established it (API key id, IAM principal,
 * Cognito sub or authorizer principalId), in the change event and in the audit object.
 */
describe('caller identity in change events and the audit trail', () => {
  let f: ProductApiFixture;
  beforeAll(async () => { f = await setupProductApi('caller'); });
  afterAll(async () => { await f?.stop(); });

  const body = { name: 'Kettle', price: 30, currency: 'EUR' };
  const roleArn = 'arn:aws:sts::123456789012:assumed-role/catalogue-editor/session-1';

  /** Takes the one change now on the writer queue, and drains the audit queue. */
  async function publishedChange() {
    const [message] = await receiveAtLeast(f.clients.sqs, f.writer.url, 1);
    await deleteMessages(f.clients.sqs, f.writer.url, [message]);
    const audit = await receiveAtLeast(f.clients.sqs, f.audit.url, 1);
    return { change: toChanges([message])[0], auditMessages: audit };
  }

  test('API key (the default): the key id is the caller, in the event and in the audit object', async () => {
    const res = await f.accept({ method: 'POST', body });
    expect(res.statusCode).toBe(202);
    const { change, auditMessages } = await publishedChange();
    expect(change.payload.caller).toEqual({ type: 'apiKey', id: TEST_API_KEY_ID, apiKeyId: TEST_API_KEY_ID });
    expect(change.eventId).toBe(parse(res).eventId);
    // The auditor writes the change as received: the caller is in the audit object.
    const result = await f.auditFn({ Records: auditMessages.map((m) => ({ ...m, messageId: m.MessageId!, body: m.Body!, attributes: { MessageGroupId: 'g' } })) } as any);
    expect(result.batchItemFailures).toEqual([]);
    await deleteMessages(f.clients.sqs, f.audit.url, auditMessages);
    const obj = await f.clients.s3.send(new GetObjectCommand({ Bucket: f.bucketName, Key: auditKey(change) }));
    expect(JSON.parse(await obj.Body!.transformToString()).payload.caller).toEqual(change.payload.caller);
  });

  test('IAM (SigV4): the principal ARN, with the API key id when a key was sent too', async () => {
    const accept = f.acceptFor('iam');
    const res = await accept({ method: 'POST', body, requestContext: { identity: { userArn: roleArn, apiKeyId: 'partnerkey1' } } });
    expect(res.statusCode).toBe(202);
    expect((await publishedChange()).change.payload.caller).toEqual({ type: 'iam', id: roleArn, apiKeyId: 'partnerkey1' });
  });

  test('Cognito user pool: the user\'s sub', async () => {
    const accept = f.acceptFor('cognito');
    const sub = '7d1f3c2a-1111-4a4a-9b9b-0123456789ab';
    const res = await accept({ method: 'POST', body, requestContext: { identity: {}, authorizer: { claims: { sub, email: 'x@example.com' } } } });
    expect(res.statusCode).toBe(202);
    expect((await publishedChange()).change.payload.caller).toEqual({ type: 'cognito', id: sub });
  });

  test('a user-supplied authorizer: its principalId', async () => {
    const accept = f.acceptFor('authorizer');
    const res = await accept({ method: 'POST', body, requestContext: { identity: {}, authorizer: { principalId: 'user|42' } } });
    expect(res.statusCode).toBe(202);
    expect((await publishedChange()).change.payload.caller).toEqual({ type: 'authorizer', id: 'user|42' });
  });

  test('no identity where the authorization must supply one → 401, nothing published', async () => {
    const iam = f.acceptFor('iam');
    // An API key alone does not make an IAM caller; a claimed identity header counts for nothing.
    for (const requestContext of [{}, { identity: { apiKeyId: 'k' } }, { identity: { userArn: '' } }]) {
      const res = await iam({ method: 'POST', body, headers: { 'x-caller': roleArn }, requestContext });
      expect(res.statusCode).toBe(401);
      expect(parse(res).error).toEqual({ code: 'UNAUTHORIZED', message: expect.stringContaining('caller identity'), correlationId: expect.any(String) });
    }
    expect((await f.accept({ method: 'DELETE', productId: '0b7f8c4e-2f7a-4c1e-9a55-3d2c1b0a9f8e', requestContext: {} })).statusCode).toBe(401);
    expect(await receive(f.clients.sqs, f.writer.url, 10, 1)).toEqual([]);
  });

  test('an unknown identity source fails the cold start, naming the variable', () => {
    expect(() => f.acceptFor('anonymous')).toThrow(/CALLER_IDENTITY must be one of apiKey, iam, cognito, authorizer/);
  });
});
