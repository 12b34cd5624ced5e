import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { CallerIdentitySource, type CallerIdentitySourceType } from './contract';

/** What a {@link ProductApiAuthorization} sets on every method of the API. */
export interface BoundAuthorization {
  readonly authorizationType: apigw.AuthorizationType;
  readonly authorizer?: apigw.IAuthorizer;
  readonly authorizationScopes?: string[];
}

/** Options of an authorizer-based {@link ProductApiAuthorization}. */
export interface AuthorizerOptions {
  /**
   * OAuth scopes a caller's access token must carry (Cognito and JWT authorizers).
   * @default - no scope check (ID tokens, or any access token of the pool)
   */
  readonly scopes?: string[];
}

/**
 * How callers of a {@link ProductApi} prove who they are. Whatever is chosen, the caller's
 * identity as API Gateway established it is recorded in every change event and audit
 * object (`payload.caller`), and API keys stay available for usage plans (`apiKeys`).
 */
export abstract class ProductApiAuthorization {
  /**
   * API keys only (the default). An API key identifies a usage-plan client for throttling
   * and quotas; it is not authentication: it travels in a header, anyone holding it can
   * read, write and delete, and the key id is the only identity the audit records. Give
   * each client its own key (`apiKeys`) at least, or choose another authorization.
   */
  public static apiKey(): ProductApiAuthorization {
    return new FixedAuthorization(CallerIdentitySource.API_KEY, { authorizationType: apigw.AuthorizationType.NONE });
  }

  /**
   * IAM (SigV4): callers sign requests with their AWS credentials and need
   * `execute-api:Invoke` (`productApi.grantInvoke(role)`); the principal's ARN is recorded.
   */
  public static iam(): ProductApiAuthorization {
    return new FixedAuthorization(CallerIdentitySource.IAM, { authorizationType: apigw.AuthorizationType.IAM });
  }

  /** A Cognito user pool: callers send a token of the pool; the user's `sub` is recorded. */
  public static cognito(userPools: cognito.IUserPool[], options: AuthorizerOptions = {}): ProductApiAuthorization {
    return new CognitoAuthorization(userPools, options);
  }

  /**
   * Any authorizer you build (a Lambda token or request authorizer, or a Cognito one): its
   * `principalId` is recorded (a Cognito authorizer's `sub`).
   */
  public static authorizer(authorizer: apigw.IAuthorizer, options: AuthorizerOptions = {}): ProductApiAuthorization {
    const source = authorizer.authorizationType === apigw.AuthorizationType.COGNITO ? CallerIdentitySource.COGNITO : CallerIdentitySource.AUTHORIZER;
    return new FixedAuthorization(source, {
      authorizationType: authorizer.authorizationType ?? apigw.AuthorizationType.CUSTOM,
      authorizer,
      authorizationScopes: options.scopes,
    });
  }

  /** Where the accept handler finds the caller's identity. */
  public abstract readonly identitySource: CallerIdentitySourceType;

  /** Creates what the methods need (e.g. the Cognito authorizer) under `scope`. */
  public abstract bind(scope: Construct): BoundAuthorization;
}

class FixedAuthorization extends ProductApiAuthorization {
  constructor(public readonly identitySource: CallerIdentitySourceType, private readonly bound: BoundAuthorization) {
    super();
  }

  public bind(): BoundAuthorization {
    return this.bound;
  }
}

class CognitoAuthorization extends ProductApiAuthorization {
  public readonly identitySource = CallerIdentitySource.COGNITO;

  constructor(private readonly userPools: cognito.IUserPool[], private readonly options: AuthorizerOptions) {
    super();
  }

  public bind(scope: Construct): BoundAuthorization {
    return {
      authorizationType: apigw.AuthorizationType.COGNITO,
      authorizer: new apigw.CognitoUserPoolsAuthorizer(scope, 'CognitoAuthorizer', { cognitoUserPools: this.userPools }),
      authorizationScopes: this.options.scopes,
    };
  }
}
