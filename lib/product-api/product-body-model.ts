import * as apigw from 'aws-cdk-lib/aws-apigateway';

/**
 * The product body as API Gateway validates it before any Lambda runs: bad bodies are
 * answered 400 at the edge for free. The handler validates again (the source of truth,
 * with messages naming the field); the two rule sets agree.
 */
export const PRODUCT_BODY_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'Product',
  type: apigw.JsonSchemaType.OBJECT,
  additionalProperties: false,
  required: ['name', 'price', 'currency'],
  properties: {
    name: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 200 },
    description: { type: apigw.JsonSchemaType.STRING, maxLength: 2000 },
    price: { type: apigw.JsonSchemaType.NUMBER, minimum: 0, maximum: 1_000_000 },
    currency: { type: apigw.JsonSchemaType.STRING, pattern: '^[A-Z]{3}$' },
  },
};
