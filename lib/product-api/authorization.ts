import { ApiAuthorization, type ApiAuthorizerOptions, type ApiMethodAuthorization } from '../core/api-authorization';

/**
 * ProductApi's name for {@link ApiAuthorization}, kept so code written for earlier versions
 * still compiles: the same factories (`apiKey()`, `iam()`, `cognito()`, `authorizer()`), the
 * same caller identity recorded in every change event and audit object.
 * @deprecated Use `ApiAuthorization`, shared by every construct with a REST API.
 */
export const ProductApiAuthorization = ApiAuthorization;
/** @deprecated Use `ApiAuthorization`. */
export type ProductApiAuthorization = ApiAuthorization;
/** @deprecated Use `ApiAuthorizerOptions`. */
export type AuthorizerOptions = ApiAuthorizerOptions;
/** @deprecated Use `ApiMethodAuthorization`. */
export type BoundAuthorization = ApiMethodAuthorization;
