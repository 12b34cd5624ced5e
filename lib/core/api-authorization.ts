import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/**
 * Where a caller's identity comes from, by the chosen {@link ApiAuthorization}: the API
 * key's id, the IAM principal (SigV4), the Cognito user's `sub`, or an authorizer's
 * `principalId`. The same strings as ProductApi's `CallerIdentitySource`.
 */
export type ApiIdentitySource = 'apiKey' | 'iam' | 'cognito' | 'authorizer';

/** What an {@link ApiAuthorization} sets on every method of an API. */
export interface ApiMethodAuthorization {
  readonly authorizationType: apigw.AuthorizationType;
  readonly authorizer?: apigw.IAuthorizer;
  readonly authorizationScopes?: string[];
}

/** Options of an authorizer-based {@link ApiAuthorization}. */
export interface ApiAuthorizerOptions {
  /**
   * OAuth scopes a caller's access token must carry (Cognito and JWT authorizers).
   * @default - no scope check (ID tokens, or any access token of the pool)
   */
  readonly scopes?: string[];
}

/**
 * How callers of a library REST API (BuildPipeline's, ProductApi's) prove who they are.
 * API keys stay available for usage plans (`apiKeys`) whatever is chosen. ProductApi records
 * the caller's identity this chooses in every change event and audit object.
 */
export abstract class ApiAuthorization {
  /**
   * API keys only (the default). An API key identifies a usage-plan client for throttling
   * and quotas; it is not authentication: it travels in a header and anyone holding it can
   * call every method. Give each client its own key (`apiKeys`) at least, or choose another
   * authorization.
   */
  public static apiKey(): ApiAuthorization {
    return new FixedApiAuthorization('apiKey', { authorizationType: apigw.AuthorizationType.NONE });
  }

  /**
   * IAM (SigV4): callers sign requests with their AWS credentials and need
   * `execute-api:Invoke` (the construct's `grantInvoke(role)`).
   */
  public static iam(): ApiAuthorization {
    return new FixedApiAuthorization('iam', { authorizationType: apigw.AuthorizationType.IAM });
  }

  /** A Cognito user pool: callers send a token of the pool. */
  public static cognito(userPools: cognito.IUserPool[], options: ApiAuthorizerOptions = {}): ApiAuthorization {
    return new CognitoApiAuthorization(userPools, options);
  }

  /**
   * Any authorizer you build: a Lambda token or request authorizer (e.g. one that checks a
   * JWT), or a Cognito one.
   */
  public static authorizer(authorizer: apigw.IAuthorizer, options: ApiAuthorizerOptions = {}): ApiAuthorization {
    const source: ApiIdentitySource = authorizer.authorizationType === apigw.AuthorizationType.COGNITO ? 'cognito' : 'authorizer';
    return new FixedApiAuthorization(source, {
      authorizationType: authorizer.authorizationType ?? apigw.AuthorizationType.CUSTOM,
      authorizer,
      authorizationScopes: options.scopes,
    });
  }

  /** Where the caller's identity comes from. */
  public abstract readonly identitySource: ApiIdentitySource;

  /** Creates what the methods need (e.g. the Cognito authorizer) under `scope`. */
  public abstract bind(scope: Construct): ApiMethodAuthorization;
}

class FixedApiAuthorization extends ApiAuthorization {
  constructor(public readonly identitySource: ApiIdentitySource, private readonly bound: ApiMethodAuthorization) {
    super();
  }

  public bind(): ApiMethodAuthorization {
    return this.bound;
  }
}

class CognitoApiAuthorization extends ApiAuthorization {
  public readonly identitySource = 'cognito' as const;

  constructor(private readonly userPools: cognito.IUserPool[], private readonly options: ApiAuthorizerOptions) {
    super();
  }

  public bind(scope: Construct): ApiMethodAuthorization {
    return {
      authorizationType: apigw.AuthorizationType.COGNITO,
      authorizer: new apigw.CognitoUserPoolsAuthorizer(scope, 'CognitoAuthorizer', { cognitoUserPools: this.userPools }),
      authorizationScopes: this.options.scopes,
    };
  }
}
