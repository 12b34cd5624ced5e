import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/** The cdk-nag packs every construct is held to (payments live here: NIST 800-53 R5 and PCI DSS 3.2.1 too). */
export const NAG_PACKS: ReadonlyArray<() => NagPack> = [
  () => new AwsSolutionsChecks(),
  () => new NIST80053R5Checks(),
  () => new PCIDSS321Checks(),
];

export interface Finding {
  /** Rule id as acknowledgements name it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  /** Construct path of the violating resource. */
  readonly path: string;
}

/**
 * Every finding of the packs under `scope`. With `ignoreAcknowledgements`, the findings
 * as if nothing were acknowledged (to tell which acknowledgements match something).
 */
export function nagFindings(scope: IConstruct, options: { ignoreAcknowledgements?: boolean } = {}): Finding[] {
  const found: Finding[] = [];
  for (const makePack of NAG_PACKS) {
    const pack = makePack();
    // cdk-nag 3 checks acknowledgements in a private method; replacing it on this one
    // instance reports the acknowledged findings too.
    if (options.ignoreAcknowledgements) (pack as any).isAcknowledged = () => false;
    for (const violation of pack.validateScope(scope).violations) {
      for (const resource of violation.violatingResources) found.push({ rule: violation.ruleName, path: resource.constructPath! });
    }
  }
  return found;
}

export interface Acknowledgement {
  readonly rule: string;
  readonly reason: string;
  /** Where it was made: it covers findings of this construct and everything below it. */
  readonly path: string;
}

/** Every acknowledgement made under `scope` (Validations.of(c).acknowledge metadata). */
export function acknowledgementsUnder(scope: IConstruct): Acknowledgement[] {
  const result: Acknowledgement[] = [];
  for (const c of scope.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      // Stored as { 'Annotation::<rule id>': reason }, one entry per acknowledge() call.
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        result.push({ rule: key.replace(/^annotation::/i, ''), reason, path: c.node.path });
      }
    }
  }
  return result;
}

/** Acknowledgements that cover no finding: stale, or never true. */
export function unmatchedAcknowledgements(scope: IConstruct): Acknowledgement[] {
  const raw = nagFindings(scope, { ignoreAcknowledgements: true });
  return acknowledgementsUnder(scope).filter((ack) =>
    !raw.some((f) => f.rule === ack.rule && (f.path === ack.path || f.path.startsWith(`${ack.path}/`))));
}
