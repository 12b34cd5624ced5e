/**
 * `@aws-lambda-powertools/jmespath/functions` in the handler bundles: Powertools'
 * custom JMESPath functions (powertools_json, …) are never used by dotted field paths.
 */
export class PowertoolsFunctions {}
