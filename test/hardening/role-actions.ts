import { asArray, referencedId, Resources } from './template-walk';

/**
 * The IAM actions each function's role is allowed, by Powertools service name: every
 * statement of every AWS::IAM::Policy attached to the role (managed policies aside).
 */
export function actionsByFunction(resources: Resources): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [, fn] of Object.entries(resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const serviceName = fn.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME;
    const roleId = referencedId(fn.Properties?.Role);
    if (!serviceName || !roleId) continue;
    const actions = new Set<string>();
    for (const policy of Object.values(resources)) {
      if (policy.Type !== 'AWS::IAM::Policy' || !asArray(policy.Properties.Roles).some((r) => referencedId(r) === roleId)) continue;
      for (const statement of asArray<any>(policy.Properties.PolicyDocument.Statement)) {
        if (statement.Effect === 'Allow') for (const action of asArray<string>(statement.Action)) actions.add(action);
      }
    }
    result[serviceName] = [...actions].sort();
  }
  return result;
}
