/**
 * ProductApi's contract: what the construct, its handlers and the tests agree on. It
 * imports nothing, so the handlers' bundles and the construct share one copy of each name.
 */

/** Environment variables the construct sets and the handlers read. */
export const ProductApiEnv = {
  TABLE_NAME: 'PRODUCTS_TABLE_NAME',
  TOPIC_ARN: 'CHANGES_TOPIC_ARN',
  AUDIT_BUCKET_NAME: 'AUDIT_BUCKET_NAME',
  IDEMPOTENCY_TABLE_NAME: 'IDEMPOTENCY_TABLE_NAME',
  /** ARN of the secret whose value keys the HMAC of page tokens (`nextToken`). */
  PAGE_TOKEN_SECRET_ARN: 'PAGE_TOKEN_SECRET_ARN',
  /** Where the accept handler finds the caller's identity: one of {@link CallerIdentitySource}. */
  CALLER_IDENTITY: 'CALLER_IDENTITY',
} as const;

/**
 * Where a caller's identity comes from, by `authorization` of the construct: the API key's
 * id, the IAM principal (SigV4), the Cognito user's `sub`, or an authorizer's `principalId`.
 */
export const CallerIdentitySource = {
  API_KEY: 'apiKey',
  IAM: 'iam',
  COGNITO: 'cognito',
  AUTHORIZER: 'authorizer',
} as const;

export type CallerIdentitySourceType = (typeof CallerIdentitySource)[keyof typeof CallerIdentitySource];

const E = ProductApiEnv;

/** One entry per Lambda handler: its bundle, its Powertools service name, the variables it reads. */
export const ProductApiHandlers = {
  read: { entry: 'product-api/read-products', serviceName: 'product-api-read', environment: [E.TABLE_NAME, E.PAGE_TOKEN_SECRET_ARN] },
  accept: { entry: 'product-api/accept-change', serviceName: 'product-api-accept', environment: [E.TABLE_NAME, E.TOPIC_ARN, E.CALLER_IDENTITY] },
  writer: { entry: 'product-api/apply-change', serviceName: 'product-api-writer', environment: [E.TABLE_NAME, E.IDEMPOTENCY_TABLE_NAME] },
  audit: { entry: 'product-api/audit-change', serviceName: 'product-api-audit', environment: [E.AUDIT_BUCKET_NAME] },
} as const;

/** Event types of the product change events (on the changes topic); match on these, never on literals. */
export const ProductEvents = {
  CREATED: 'ProductCreated',
  UPDATED: 'ProductUpdated',
  DELETED: 'ProductDeleted',
} as const;

export type ProductEventType = (typeof ProductEvents)[keyof typeof ProductEvents];

/** The envelope `source` of every product change event. */
export const PRODUCT_EVENT_SOURCE = 'cdk-event-services.product-api';

/**
 * The `products` table's key schema (from the product lambda plan: PK/SK, GSI1 by
 * price, GSI2 by name). The construct and the handler tests' local tables are built from
 * it, and the handlers take the index names from it. The handlers' key expressions spell
 * the attribute names (`GSI1_PK = :pk`): a rename here fails the handler tests, which run
 * them against tables built from this schema.
 */
export const PRODUCTS_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  priceIndex: { indexName: 'ProductsByPriceIndex', partitionKey: 'GSI1_PK', sortKey: 'GSI1_SK' },
  nameIndex: { indexName: 'ProductsByNameIndex', partitionKey: 'GSI2_PK' },
} as const;

/**
 * The change fan-out: a FIFO topic (ordered per product, deduplicated on the event id,
 * never on content) delivering the raw envelope to one FIFO queue per consumer. The
 * construct and the handler tests' local topic and queues are built from this.
 */
export const CHANGE_FANOUT_DEFINITION = {
  fifo: true,
  contentBasedDeduplication: false,
  rawMessageDelivery: true,
} as const;

// Text rules of a product's `name` and `description`, as regular-expression sources. The
// API Gateway model (JSON-schema `pattern`) and the accept handler test the very same
// strings, so a body the gateway lets through and the handler refuses (or the reverse)
// is a bug in one place, not two rule sets drifting apart.
//
// Written to give one verdict under both regex semantics a validator may use: UTF-16 code
// units (ECMAScript without the `u` flag) and code points (`u` flag, java.util.regex).
// A well-formed surrogate pair is one code point in the second, and matches PAIR in the
// first; a lone surrogate matches nothing in either. Lengths are counted in characters
// (code points) by the `{m,n}` quantifiers in both, so an emoji counts once.
const C0_C1 = '\\u0000-\\u001F\\u007F-\\u009F'; // C0 controls, DEL, C1 controls
const C0_C1_EXCEPT_TAB_LF_CR = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F';
const SURROGATES = '\\uD800-\\uDFFF';
const PAIR = '[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]';
/** What `String.prototype.trim` removes, minus the controls refused anyway (Zs, U+2028/9, U+FEFF). */
const SPACES = ' \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';

/** Limits and patterns of a product's text fields (body of POST and PUT, `?name=` of a list). */
export const PRODUCT_TEXT_RULES = {
  nameMaxLength: 200,
  descriptionMaxLength: 2000,
  /**
   * `name`: 1 to 200 characters, no control character (C0, DEL, C1), no unpaired
   * surrogate, and at least one character that is not a space (the handler stores it trimmed).
   */
  namePattern: `^(?=(?:[^${C0_C1}${SURROGATES}]|${PAIR}){1,200}$)[${SPACES}]*(?:[^${SPACES}${C0_C1}${SURROGATES}]|${PAIR})`,
  /** `description`: up to 2000 characters; tab, line feed and carriage return allowed, no other control, no unpaired surrogate. */
  descriptionPattern: `^(?:[^${C0_C1_EXCEPT_TAB_LF_CR}${SURROGATES}]|${PAIR}){0,2000}$`,
} as const;
