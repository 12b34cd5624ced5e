import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { PRODUCT_TEXT_RULES } from './contract';

/**
 * The product body as API Gateway validates it before any Lambda runs: most bad bodies are
 * answered 400 at the edge for free. The handler validates again and is the authority
 * (its messages name the field and the reason).
 *
 * What the two share and where they differ, on purpose:
 * - `name` and `description` use the contract's patterns, the same strings the handler
 *   tests (control characters, unpaired surrogates, lengths in characters, a blank name).
 *   Lengths live in the patterns rather than in `minLength`/`maxLength`, whose unit (code
 *   points or UTF-16 code units) differs between validators.
 * - `price`: the gateway checks type and range only. The two-decimal rule is the
 *   handler's alone: JSON schema's `multipleOf: 0.01` is computed in binary floating point
 *   by some validators (19.99 / 0.01 = 1998.9999999999998, so 19.99 would be refused), and
 *   a gateway that refuses a valid price is worse than one that lets the handler say no.
 * So every body this model refuses, the handler refuses too; a few it lets through
 * (three-decimal prices) the handler refuses with a 400.
 */
export const PRODUCT_BODY_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'Product',
  type: apigw.JsonSchemaType.OBJECT,
  additionalProperties: false,
  required: ['name', 'price', 'currency'],
  properties: {
    name: { type: apigw.JsonSchemaType.STRING, pattern: PRODUCT_TEXT_RULES.namePattern },
    description: { type: apigw.JsonSchemaType.STRING, pattern: PRODUCT_TEXT_RULES.descriptionPattern },
    price: { type: apigw.JsonSchemaType.NUMBER, minimum: 0, maximum: 1_000_000 },
    currency: { type: apigw.JsonSchemaType.STRING, pattern: '^[A-Z]{3}$' },
  },
};
